// ProducerTable: the exactly-once state, derived from committed event
// records in log order (every node derives the same one). For each producer
// it remembers where each of its last `window` sequence numbers landed, so
// a retried push can be answered with the original index. docs/protocol.md,
// "Op push".
//
// Bounded: a producer costs its name, a fixed part and one 24-byte slot per
// remembered number, at most 2 * window slots (the numbers that slid out of
// the window are dropped in bulk once they are half of what is held). The
// window must be the same on every node: it decides which entries the
// applier takes as repeats.
//
// Producers expire: one that has recorded nothing for `expiry_ms` of log
// time is forgotten. Log time is what the caller passes with each record
// and to expire(): raftlogd uses the largest event timestamp applied so
// far, so every node forgets the same producers at the same index. The
// name of a forgotten producer is kept for kForgottenFor more expiry_ms, so
// that a retry from it is told apart from a new producer's first push
// (lost_outcome): a retry is answered rightly (or refused) up to
// (1 + kForgottenFor) * expiry_ms after the producer's last record; a later
// one is taken as a new producer's.
//
// Snapshots: encode() writes the table's whole state (the live slots of
// each producer, the forgotten names, the expiry scan's next time), and
// Decode() rebuilds a table that answers and expires exactly as this one
// would. docs/snapshots.md has the format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog::server {

class ProducerTable {
 public:
  static constexpr uint64_t kForgottenFor = 4;
  enum class Found { kNew, kSeen, kTooOld };
  struct Where {
    core::LogIndex index = 0;
    core::Term term = 0;
  };

  // window: the numbers remembered per producer (wire::kMinProducerWindow
  // up to wire::kMaxProducerWindow; options.cc checks raftlogd's).
  // expiry_ms: 0 never expires a producer.
  explicit ProducerTable(uint64_t window, uint64_t expiry_ms = 0);

  // Has (producer, seq) been applied? kSeen fills *where; kTooOld means it
  // is below the window and cannot be told.
  Found find(std::string_view producer, uint64_t seq, Where* where) const;
  // Records an applied event at log time now_ms. False (and no change) if
  // (producer, seq) was already recorded or is below the window: the entry
  // is a repeat.
  bool record(std::string_view producer, uint64_t seq, Where where, uint64_t now_ms = 0);
  // Whether the table holds state for producer (it recorded something and
  // has not expired).
  bool known(std::string_view producer) const { return producers_.count(producer) > 0; }
  // True when a push of (producer, seq) that find() calls new may be a
  // retry the table cannot answer any more: the producer expired (lately),
  // and seq is at most the highest number it had before (which may have
  // been committed then).
  bool lost_outcome(std::string_view producer, uint64_t seq) const;
  // Forgets producers idle for more than expiry_ms at log time now_ms.
  // Scans the table at most every expiry_ms / 16 of log time, so a
  // producer goes between expiry_ms and 17/16 of it after its last record.
  // Returns how many it forgot.
  size_t expire(uint64_t now_ms);

  uint64_t window() const { return window_; }
  size_t producers() const { return producers_.size(); }
  uint64_t expired() const { return expired_; }
  // Slots held in all (live and not yet dropped), for the status counters.
  size_t slots() const { return slots_; }
  size_t forgotten() const { return forgotten_.size(); }
  // Heap bytes of the slots, a lower bound of the table's memory (each
  // producer adds its name and the hash map's node, about 100 bytes).
  size_t slot_bytes() const { return slots_ * sizeof(Slot); }

  // --- Snapshots (docs/snapshots.md, "The producer table") ---
  // The version encode() writes; Decode() reads only this one.
  static constexpr uint64_t kSnapshotVersion = 1;
  // Appends the table's state to *out. Deterministic: tables that hold the
  // same state encode to the same bytes, whatever order their producers
  // came in (they go by name) and whatever slots they have yet to drop
  // (only the live ones are kept), so snapshots of two nodes compare.
  void encode(std::string* out) const;
  // Replaces *out with the table `bytes` encode, for a node whose options
  // are window and expiry_ms. Those decide which entries are repeats and
  // when producers expire, so they must be the ones the table was encoded
  // with: the encoding carries both, and another value of either is
  // refused (InvalidInput, naming both). Bytes that are no such table
  // (cut short, a length past what the bytes hold, producers out of order,
  // a slot outside the window...) give Corruption, an unknown version
  // NotSupported; *out is then unchanged.
  static Status Decode(std::string_view bytes, uint64_t window, uint64_t expiry_ms,
                       ProducerTable* out);

 private:
  struct Slot {
    uint64_t seq;
    core::LogIndex index;
    core::Term term;
  };
  struct Producer {
    uint64_t max_seq = 0;
    uint64_t last_ms = 0;  // log time of its last record
    uint64_t floor = 0;    // back after an expiry: its highest seq before (0: none)
    // Ascending seq; slots before `first` have slid out of the window.
    std::vector<Slot> slots;
    size_t first = 0;
    // The first live slot whose seq is >= seq.
    std::vector<Slot>::const_iterator lower_bound(uint64_t seq) const;
  };
  bool below_window(uint64_t seq, uint64_t max_seq) const {
    return max_seq > window_ && seq <= max_seq - window_;
  }
  // Looked up by a view (of a frame or a record) without building a string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  uint64_t window_;
  uint64_t expiry_ms_;
  uint64_t next_scan_ms_ = 0;
  uint64_t expired_ = 0;
  size_t slots_ = 0;
  // Producers forgotten lately, and the log time they were forgotten at.
  std::unordered_map<std::string, Producer, Hash, std::equal_to<>> producers_;
  struct Forgotten {
    uint64_t at_ms;    // log time it was forgotten at
    uint64_t max_seq;  // the highest seq it had
  };
  std::unordered_map<std::string, Forgotten, Hash, std::equal_to<>> forgotten_;
};

}  // namespace raftlog::server
