// LogWriter: the disk side of a ReplicatedLog. The log hands it one write
// per Ready and never waits; it carries them out in order and reports each
// one done, in order. ReplicatedLog's own (a storage thread with group
// commit) is used unless another is given; the simulator gives one whose
// writes complete when the simulated disk says so. A writer given from
// outside wakes nobody: its owner calls run_once() when a write completes.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/core/message.h"
#include "raftlog/core/raft.h"
#include "raftlog/core/types.h"
#include "raftlog/status.h"
#include "raftlog/storage/log_store.h"

namespace raftlog {

// A snapshot of this node's own applied log (ReplicatedLog::install_snapshot
// and save_snapshot), to become the store's snapshot.
struct LocalSnapshot {
  core::SnapshotHead head;
  std::string data;
};

struct LogWrite {
  std::optional<core::HardState> hard_state;
  std::vector<core::Entry> entries;
  std::vector<core::Message> after_persist;  // to send once durable
  bool sync = true;                          // core::Ready::must_sync
  // After the entries, in order: pieces of a leader's snapshot (the last
  // one, done, installs it in place of the log); a local snapshot; then
  // dropping the log up to compact_to (index and its term).
  std::vector<core::SnapshotChunk> snapshot_chunks;
  std::optional<LocalSnapshot> local_snapshot;
  std::optional<std::pair<core::LogIndex, core::Term>> compact_to;

  bool has_snapshot_work() const {
    return !snapshot_chunks.empty() || local_snapshot.has_value() || compact_to.has_value();
  }
};

// What became of a leader's snapshot whose last piece a write carried (or
// whose piece it could not write).
struct SnapshotWritten {
  core::SnapshotHead head;
  // Ok: installed. Otherwise why not: the data did not match its size and
  // CRC (Corruption), a piece did not fit (InvalidInput). A disk failure is
  // LogWriteDone::status.
  Status status;
};

struct LogWriteDone {
  Status status;
  // The last entry made durable, when the write carried entries.
  std::optional<std::pair<core::LogIndex, core::Term>> last_entry;
  std::vector<core::Message> after_persist;
  std::optional<SnapshotWritten> received;
  // Set when the write carried a local snapshot or a compaction: ok, or
  // why the store refused it.
  std::optional<Status> local;
};

// Folds `next` into `into` as one write, in order: what a storage thread does
// with the writes that queued up behind the one on the disk (group commit).
// A later write may rewrite the tail of an earlier one (a truncation); the
// result is synced if either was to be. Only while CanMergeInto(into): a
// write that carries snapshot work ends a merged batch, since what follows
// it must find the store as the snapshot left it.
void MergeLogWrites(LogWrite& into, LogWrite& next);
inline bool CanMergeInto(const LogWrite& into) {
  return !into.has_snapshot_work();
}

// Carries out one write on `store`, in the order LogWrite gives: what every
// LogWriter does with a (merged) write once it is the disk's turn.
LogWriteDone CarryOut(storage::LogStore* store, LogWrite& write);

class LogWriter {
 public:
  virtual ~LogWriter() = default;
  // Queues a write. Called from the log's loop thread only.
  virtual void submit(LogWrite write) = 0;
  // Moves the writes finished since the last call, oldest first, into *out
  // (one LogWriteDone per submitted write). Loop thread only.
  virtual void take_done(std::vector<LogWriteDone>* out) = 0;
};

// Where a ReplicatedLog's time comes from: the steady clock unless another
// is given (the simulator's).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
};

}  // namespace raftlog
