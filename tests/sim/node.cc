#include "node.h"

namespace raftlog::sim {

bool Node::has_unpersisted_state() const {
  for (const PendingWrite& w : pending_) {
    if (w.touches_disk()) return true;
  }
  return false;
}

void Node::start(uint64_t random_seed) {
  core::Config config = base_;
  config.id = id_;
  config.applied = 0;
  config.random_seed = random_seed;
  raft_ = std::make_unique<core::Raft>(config, &storage_, storage_.hard_state(), members_);
  written_hard_state_ = storage_.hard_state();
  applied_ = 0;
}

core::LogIndex Node::crash(bool lose_unsynced) {
  raft_.reset();
  ++incarnation_;
  pending_.clear();
  if (lose_unsynced) storage_.lose_unsynced();
  LogView durable;
  durable.assign(storage_.log());
  const core::LogIndex changed = FirstDifference(log_, durable);
  log_ = std::move(durable);
  written_hard_state_ = storage_.hard_state();
  applied_ = 0;
  return changed;
}

PendingWrite Node::persist_front() {
  PendingWrite w = std::move(pending_.front());
  pending_.pop_front();
  storage_.write(w.hard_state, w.entries, w.must_sync || !w.entries.empty());
  return w;
}

}  // namespace raftlog::sim
