// LogStore: where a node keeps its Raft log, hard state and snapshot,
// durably. The runtime carries out each Ready's "persist" output
// with one append() call, and hands the store to the core as its LogReader.
//
// Rules every implementation follows (tests/storage checks both):
// - The log is one contiguous run of indexes head_index()+1 .. last_index()
//   with non-decreasing terms. Entries at or below the head are gone
//   (compacted); they are never served even if bytes of them remain.
// - Every write is durable when it returns ok (LevelDB: one synced
//   WriteBatch), and all-or-nothing: after a crash either all of it or none
//   of it is there.
// - After a write fails, the store is failed: every later write returns
//   that same error (status() too), so nothing is acknowledged that was not
//   persisted. Reads of what was durable before keep working.
// - Reads verify checksums; a damaged entry is a Corruption error naming its
//   index and is never returned.
//
// Thread safety: the LogReader methods, load_*() and status() may be called
// from any thread while one other thread writes (append, write_snapshot,
// finish_snapshot, compact). Writes are serialized by the store, but the core's ordering rule
// (persist Readys in the order taken) is the caller's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "raftlog/core/log_reader.h"
#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog::storage {

// What describes the snapshot the log stands on, besides its data (the
// application's state bytes): the last entry it covers, the cluster
// configuration as of that entry, and the size and CRC32C of the data.
struct SnapshotMeta {
  core::LogIndex last_index = 0;
  core::Term last_term = 0;
  core::ClusterConfig config;
  uint64_t size = 0;
  uint32_t crc = 0;
  bool operator==(const SnapshotMeta&) const = default;

  core::SnapshotHead head() const { return {last_index, last_term, config, size, crc}; }
  static SnapshotMeta Of(const core::SnapshotHead& h) {
    return {h.index, h.term, h.config, h.size, h.crc};
  }
};

class LogStore : public core::LogReader {
 public:
  // The hard state last written; all zero for a new store.
  virtual Status load_hard_state(core::HardState* hard_state) const = 0;

  // The snapshot metadata last saved; NotFound if none was ever saved.
  virtual Status load_snapshot(SnapshotMeta* meta) const = 0;

  // Persists a Ready in one atomic write: hard_state if set, then entries,
  // which must be contiguous with non-decreasing terms, start at
  // head_index()+1 .. last_index()+1 and not have a term below their
  // predecessor's. Entries from entries.front().index on are replaced
  // (truncation of a conflicting suffix). Nothing to write is ok.
  // InvalidInput for a malformed batch (nothing is written; the store does
  // not fail); IOError (sticky) when the disk fails.
  // sync: durable when this returns (one fsync). Without it the write
  // survives a process crash but may be lost with the machine: for writes
  // that only move the commit index (core::Ready::must_sync false), which a
  // restarted node relearns from the leader. A later synced write makes an
  // earlier unsynced one durable too.
  virtual Status append(const std::optional<core::HardState>& hard_state,
                        std::span<const core::Entry> entries, bool sync) = 0;
  Status append(const std::optional<core::HardState>& hard_state,
                std::span<const core::Entry> entries) {
    return append(hard_state, entries, /*sync=*/true);
  }

  // --- Snapshots: the store keeps one, its data and its meta ---
  // core::LogReader::snapshot() is its head (NotFound when there is none);
  // snapshot_data() reads its data.
  //
  // Writes a piece of `head`'s data at offset, to a temporary place. Pieces
  // come in order; a repeated piece (offset below what is written) is
  // ignored; a piece of another snapshot abandons the one being written.
  // InvalidInput for a gap or for data past head.size (nothing written).
  virtual Status write_snapshot(const core::SnapshotHead& head, uint64_t offset,
                                std::string_view data) = 0;
  // The whole of head's data is written: checks its size and CRC32C
  // (Corruption, and what was written dropped, when they do not match),
  // makes it durable and makes it the store's snapshot, in one step a crash
  // cannot split: after it the old snapshot or the new one is there, whole.
  // Then the log:
  // - replace_log (a follower installing its leader's snapshot, Raft §7):
  //   the log is replaced; head_index() becomes head.index, no entries.
  // - otherwise (a snapshot of this node's own applied log): if the log
  //   holds head.index with head.term it is kept (compact() drops the
  //   prefix after); if not, it is replaced as above.
  // The older snapshot's data is deleted. InvalidInput if head is older
  // than the saved snapshot or behind the log head.
  virtual Status finish_snapshot(const core::SnapshotHead& head, bool replace_log) = 0;
  // write_snapshot + finish_snapshot of a snapshot whose data is at hand
  // (meta's size and crc are set from data).
  Status save_snapshot(const SnapshotMeta& meta, std::string_view data = {},
                       bool replace_log = false);

  // Drops the log prefix up to new_head: head_index() becomes new_head, its
  // term head_term(). Requires head_index() <= new_head <= min(last_index(),
  // the saved snapshot's last_index): only entries a snapshot covers may go.
  // Returns once the new head is durable; LevelDB deletes the old keys in
  // the background, in small batches, so appends are not held up.
  virtual Status compact(core::LogIndex new_head) = 0;

  // Ok, or the write error that failed this store.
  virtual Status status() const = 0;
};

// A LogStore that forwards every call to *target, which the caller keeps
// and which must outlive it. A test overrides what it wants to change (a
// slow disk: append).
class ForwardingLogStore : public LogStore {
 public:
  explicit ForwardingLogStore(LogStore* target) : target_(target) {}
  core::LogIndex head_index() const override;
  core::Term head_term() const override;
  core::LogIndex last_index() const override;
  Status term(core::LogIndex index, core::Term* term) const override;
  Status entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                 std::vector<core::Entry>* out) const override;
  Status config_entries(std::vector<core::Entry>* out) const override;
  Status snapshot(core::SnapshotHead* out) const override;
  Status snapshot_data(const core::SnapshotHead& snap, uint64_t offset, size_t max,
                       std::string* out) const override;
  Status load_hard_state(core::HardState* hard_state) const override;
  Status load_snapshot(SnapshotMeta* meta) const override;
  using LogStore::append;
  Status append(const std::optional<core::HardState>& hard_state,
                std::span<const core::Entry> entries, bool sync) override;
  Status write_snapshot(const core::SnapshotHead& head, uint64_t offset,
                        std::string_view data) override;
  Status finish_snapshot(const core::SnapshotHead& head, bool replace_log) override;
  Status compact(core::LogIndex new_head) override;
  Status status() const override;

 private:
  LogStore* target_;
};

// A ForwardingLogStore to *store: how a test or the simulator keeps a
// node's disk across restarts of the ReplicatedLog that owns the returned
// store.
std::unique_ptr<LogStore> Borrow(LogStore* store);

}  // namespace raftlog::storage
