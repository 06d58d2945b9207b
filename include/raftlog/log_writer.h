// LogWriter: the disk side of a ReplicatedLog. The log hands it one write
// per Ready and never waits; it carries them out in order and reports each
// one done, in order. ReplicatedLog's own (a storage thread with group
// commit) is used unless another is given; the simulator gives one whose
// writes complete when the simulated disk says so. A writer given from
// outside wakes nobody: its owner calls run_once() when a write completes.
#pragma once

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "raftlog/core/message.h"
#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog {

struct LogWrite {
  std::optional<core::HardState> hard_state;
  std::vector<core::Entry> entries;
  std::vector<core::Message> after_persist;  // to send once durable
  bool sync = true;                          // core::Ready::must_sync
};

struct LogWriteDone {
  Status status;
  // The last entry made durable, when the write carried entries.
  std::optional<std::pair<core::LogIndex, core::Term>> last_entry;
  std::vector<core::Message> after_persist;
};

// Folds `next` into `into` as one write, in order: what a storage thread does
// with the writes that queued up behind the one on the disk (group commit).
// A later write may rewrite the tail of an earlier one (a truncation); the
// result is synced if either was to be.
void MergeLogWrites(LogWrite& into, LogWrite& next);

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
