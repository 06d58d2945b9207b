// LogStore: where a node keeps its Raft log, hard state and snapshot
// metadata, durably. The runtime carries out each Ready's "persist" output
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
// from any thread while one other thread writes (append, save_snapshot,
// compact). Writes are serialized by the store, but the core's ordering rule
// (persist Readys in the order taken) is the caller's.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "raftlog/core/log_reader.h"
#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog::storage {

// What describes a snapshot besides its (application-owned) data: the last
// entry it covers, the cluster configuration as of that entry, and the
// exactly-once producer table (producer id -> last sequence number applied).
struct SnapshotMeta {
  core::LogIndex last_index = 0;
  core::Term last_term = 0;
  core::ClusterConfig config;
  std::map<std::string, uint64_t> producers;
  bool operator==(const SnapshotMeta&) const = default;
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

  // Saves snapshot metadata (synced). If the log holds meta.last_index with
  // meta.last_term, the log is kept (compact() may drop the prefix later);
  // otherwise the snapshot replaces the whole log (Raft §7: a follower
  // installing a leader's snapshot) and head_index() becomes meta.last_index.
  // InvalidInput if meta is older than the saved snapshot or the log head.
  virtual Status save_snapshot(const SnapshotMeta& meta) = 0;

  // Drops the log prefix up to new_head: head_index() becomes new_head, its
  // term head_term(). Requires head_index() <= new_head <= min(last_index(),
  // the saved snapshot's last_index): only entries a snapshot covers may go.
  // Returns once the new head is durable; LevelDB deletes the old keys in
  // the background, in small batches, so appends are not held up.
  virtual Status compact(core::LogIndex new_head) = 0;

  // Ok, or the write error that failed this store.
  virtual Status status() const = 0;
};

// A LogStore that forwards every call to *store, which the caller keeps and
// which must outlive it: how a test or the simulator keeps a node's disk
// across restarts of the ReplicatedLog that owns the returned store.
std::unique_ptr<LogStore> Borrow(LogStore* store);

}  // namespace raftlog::storage
