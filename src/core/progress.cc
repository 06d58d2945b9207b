#include "core/progress.h"

#include <algorithm>

namespace raftlog::core {

void Inflights::add(LogIndex last, size_t bytes) {
  queue_.emplace_back(last, bytes);
  bytes_ += bytes;
}

void Inflights::free_to(LogIndex index) {
  while (!queue_.empty() && queue_.front().first <= index) {
    bytes_ -= queue_.front().second;
    queue_.pop_front();
  }
}

void Inflights::reset() {
  queue_.clear();
  bytes_ = 0;
}

bool Inflights::full(size_t max_msgs, size_t max_bytes) const {
  return queue_.size() >= max_msgs || bytes_ >= max_bytes;
}

void Progress::become_probe(LogIndex new_next) {
  state = State::kProbe;
  next = std::max(new_next, match + 1);
  probe_sent = false;
  ticks_since_ack = 0;
  inflights.reset();
}

void Progress::become_replicate() {
  state = State::kReplicate;
  next = match + 1;
  probe_sent = false;
  ticks_since_ack = 0;
  inflights.reset();
}

void Progress::become_snapshot(const SnapshotHead& head) {
  state = State::kSnapshot;
  snapshot = head;
  snapshot_offset = 0;
  chunk_sent = false;
  probe_sent = false;
  ticks_since_ack = 0;
  inflights.reset();
}

bool Progress::maybe_update(LogIndex index) {
  if (index <= match) return false;
  match = index;
  next = std::max(next, index + 1);
  inflights.free_to(index);
  return true;
}

bool Progress::maybe_decrease(LogIndex rejected, LogIndex probe_hint) {
  if (state == State::kReplicate) {
    // A rejection at or below what the follower already matched is stale.
    if (rejected <= match) return false;
  } else if (rejected != next - 1) {
    // Probing: only the answer to the probe that is out counts.
    return false;
  }
  become_probe(std::min(rejected, probe_hint + 1));
  return true;
}

bool Progress::paused(size_t max_msgs, size_t max_bytes) const {
  if (state == State::kProbe) return probe_sent;
  if (state == State::kSnapshot) return chunk_sent;
  return inflights.full(max_msgs, max_bytes);
}

}  // namespace raftlog::core
