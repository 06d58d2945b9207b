// Progress: the leader's view of one follower's log, and the pipelining
// window of AppendEntries in flight to it.
//
// A follower is probed (one AppendEntries at a time, walking next back on
// rejections) until one is accepted; then it is replicated to (next moves
// ahead optimistically as messages leave, bounded by the Inflights window).
#pragma once

#include <cstddef>
#include <deque>

#include "raftlog/core/types.h"

namespace raftlog::core {

// The AppendEntries in flight to one follower: for each, its last index and
// its bytes. Acknowledging index i frees every message ending at or before i.
class Inflights {
 public:
  void add(LogIndex last, size_t bytes);
  void free_to(LogIndex index);
  void reset();
  bool full(size_t max_msgs, size_t max_bytes) const;
  size_t count() const { return queue_.size(); }
  bool empty() const { return queue_.empty(); }

 private:
  std::deque<std::pair<LogIndex, size_t>> queue_;
  size_t bytes_ = 0;
};

struct Progress {
  // kSnapshot: the follower needs entries at or below the log head; it is
  // sent `snapshot`, a chunk at a time.
  enum class State { kProbe, kReplicate, kSnapshot };

  LogIndex match = 0;  // highest index known to be in the follower's durable log
  LogIndex next = 1;   // next index to send
  State state = State::kProbe;
  bool probe_sent = false;     // kProbe: a probe is out; wait for its answer, or a heartbeat's
                               // after a retransmit timeout
  bool recent_active = false;  // heard from since the last check-quorum round
  int ticks_since_ack = 0;     // kReplicate: ticks without progress while messages are in
                               // flight; kProbe: ticks since the probe went out
  uint64_t acked_seq = 0;      // highest heartbeat sequence number it echoed this term
  LogIndex commit_sent = 0;    // commit index the last AppendEntries let it learn
  Inflights inflights;
  // kSnapshot: what is being sent, how much the follower has taken, whether
  // a chunk is out (ticks_since_ack counts how long), and the bytes it may
  // still be sent this tick (Config::snapshot_bytes_per_tick).
  SnapshotHead snapshot;
  uint64_t snapshot_offset = 0;
  bool chunk_sent = false;
  int64_t snapshot_credit = 0;

  void become_probe(LogIndex new_next);
  void become_replicate();
  void become_snapshot(const SnapshotHead& head);
  // A successful reply matched through index; false if it told nothing new.
  bool maybe_update(LogIndex index);
  // A rejection of the AppendEntries whose prev_log_index was `rejected`;
  // probe_hint is the leader-side index to try next. False if stale.
  bool maybe_decrease(LogIndex rejected, LogIndex probe_hint);
  // Whether send_append may send now.
  bool paused(size_t max_msgs, size_t max_bytes) const;
};

}  // namespace raftlog::core
