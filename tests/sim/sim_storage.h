// SimStorage: one node's simulated disk, as the core sees it (LogReader).
//
// It holds only what a completed write made durable: the hard state, the
// snapshot (its head and the application's state bytes) and the log after
// it. Writes the runtime queued but the disk has not finished live in the
// Node, so a crash loses them.
//
// Snapshots. compact() saves a snapshot of what the node applied and drops
// the log through it, in one step (a real store writes the snapshot, syncs
// it, then drops the log: a crash in between leaves the old snapshot and
// the whole log, which the simulator need not model separately). A
// leader's snapshot arrives in chunks (receive()) into a temporary place:
// only the last one, once the whole data matches the head's size and
// CRC32C, replaces the snapshot and the whole log at once. A crash loses a
// partial transfer, never the snapshot the store stood on.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "raftlog/core/log_reader.h"
#include "raftlog/core/raft.h"
#include "raftlog/core/types.h"

namespace raftlog::sim {

class SimStorage : public core::LogReader {
 public:
  const core::HardState& hard_state() const { return hard_state_; }
  // The entries after the head.
  const std::vector<core::Entry>& log() const { return log_; }
  // The snapshot the log stands on (index 0 and empty data: none).
  const core::SnapshotHead& snapshot_head() const { return snapshot_; }
  const std::string& snapshot_state() const { return snapshot_data_; }

  // Makes one write durable: the hard state if set, then the entries (the log
  // is first cut from entries.front().index on). The caller has checked that
  // the entries fit the log (LogView::append). An unsynced write (a hard
  // state that only moves the commit index) may still be lost by a crash,
  // until a synced write follows it.
  void write(const std::optional<core::HardState>& hard_state,
             const std::vector<core::Entry>& entries, bool synced);
  // A crash: whatever was written without a sync since the last sync is
  // lost, and so is a snapshot still being received.
  void crash(bool lose_unsynced);

  // Saves `state`, the application's state through head.index (whose
  // size and CRC32C head carries), as the snapshot, and drops the log
  // through head.index. Requires head_index() < head.index <= last_index().
  void compact(const core::SnapshotHead& head, std::string state);

  enum class Received { kMore, kInstalled, kFailed };
  // Writes one chunk of a snapshot being received. A chunk at offset 0
  // starts a transfer afresh; the last one (done) checks the data against
  // the head's size and CRC32C and, if it matches, installs it: the
  // snapshot and the whole log are replaced (the log head is now
  // head.index, with no entry after it). kFailed: it did not match (or
  // the chunks did not follow each other), nothing changed.
  Received receive(const core::SnapshotChunk& chunk);

  // LogReader.
  core::LogIndex head_index() const override { return snapshot_.index; }
  core::Term head_term() const override { return snapshot_.term; }
  core::LogIndex last_index() const override { return snapshot_.index + log_.size(); }
  Status term(core::LogIndex index, core::Term* term) const override;
  Status entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                 std::vector<core::Entry>* out) const override;
  Status snapshot(core::SnapshotHead* out) const override;
  Status snapshot_data(const core::SnapshotHead& snap, uint64_t offset, size_t max,
                       std::string* out) const override;

 private:
  core::HardState hard_state_;
  core::HardState synced_hard_state_;
  core::SnapshotHead snapshot_;
  std::string snapshot_data_;
  std::vector<core::Entry> log_;  // snapshot_.index + 1, ...
  // A snapshot being received: its head and the data so far.
  std::optional<core::SnapshotHead> receiving_;
  std::string received_;
  bool receive_broken_ = false;  // a chunk did not follow the one before
};

}  // namespace raftlog::sim
