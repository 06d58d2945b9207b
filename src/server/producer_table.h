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
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "raftlog/core/types.h"

namespace raftlog::server {

class ProducerTable {
 public:
  enum class Found { kNew, kSeen, kTooOld };
  struct Where {
    core::LogIndex index = 0;
    core::Term term = 0;
  };

  // window: the numbers remembered per producer (wire::kMinProducerWindow
  // up to wire::kMaxProducerWindow; options.cc checks raftlogd's).
  explicit ProducerTable(uint64_t window);

  // Has (producer, seq) been applied? kSeen fills *where; kTooOld means it
  // is below the window and cannot be told.
  Found find(std::string_view producer, uint64_t seq, Where* where) const;
  // Records an applied event. False (and no change) if (producer, seq) was
  // already recorded or is below the window: the entry is a repeat.
  bool record(std::string_view producer, uint64_t seq, Where where);

  uint64_t window() const { return window_; }
  size_t producers() const { return producers_.size(); }
  // Slots held in all (live and not yet dropped), for the status counters.
  size_t slots() const { return slots_; }
  // Heap bytes of the slots, a lower bound of the table's memory (each
  // producer adds its name and the hash map's node, about 100 bytes).
  size_t slot_bytes() const { return slots_ * sizeof(Slot); }

 private:
  struct Slot {
    uint64_t seq;
    core::LogIndex index;
    core::Term term;
  };
  struct Producer {
    uint64_t max_seq = 0;
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
  size_t slots_ = 0;
  std::unordered_map<std::string, Producer, Hash, std::equal_to<>> producers_;
};

}  // namespace raftlog::server
