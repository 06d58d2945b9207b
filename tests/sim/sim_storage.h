// SimStorage: one node's simulated disk, as the core sees it (LogReader).
//
// It holds only what a completed write made durable: the hard state and the
// log. Writes the runtime queued but the disk has not finished live in the
// Node, so a crash loses them. No compaction: the log head is always 0.
#pragma once

#include <optional>
#include <vector>

#include "raftlog/core/log_reader.h"
#include "raftlog/core/types.h"

namespace raftlog::sim {

class SimStorage : public core::LogReader {
 public:
  const core::HardState& hard_state() const { return hard_state_; }
  const std::vector<core::Entry>& log() const { return log_; }

  // Makes one write durable: the hard state if set, then the entries (the log
  // is first cut from entries.front().index on). The caller has checked that
  // the entries fit the log (LogView::append). An unsynced write (a hard
  // state that only moves the commit index) may still be lost by a crash,
  // until a synced write follows it.
  void write(const std::optional<core::HardState>& hard_state,
             const std::vector<core::Entry>& entries, bool synced);
  // A crash: whatever was written without a sync since the last sync is lost.
  void lose_unsynced() { hard_state_ = synced_hard_state_; }

  // LogReader.
  core::LogIndex head_index() const override { return 0; }
  core::Term head_term() const override { return 0; }
  core::LogIndex last_index() const override { return log_.size(); }
  Status term(core::LogIndex index, core::Term* term) const override;
  Status entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                 std::vector<core::Entry>* out) const override;

 private:
  core::HardState hard_state_;
  core::HardState synced_hard_state_;
  std::vector<core::Entry> log_;
};

}  // namespace raftlog::sim
