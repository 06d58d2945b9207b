// Node: one simulated server, the runtime around a core::Raft.
//
// It owns the durable disk (SimStorage), the queue of writes the disk has not
// finished yet, and the log as the runtime has been told it (LogView, for
// the checker). The Cluster drives it: it takes the core's Ready batches and
// follows the loop order documented in raftlog/core/raft.h.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "log_view.h"
#include "node_view.h"
#include "raftlog/core/raft.h"
#include "sim_storage.h"
#include "trace.h"

namespace raftlog::sim {

// What one Ready leaves to do once its write is durable (steps 2-5 of the
// loop). Writes complete in the order they were taken.
struct PendingWrite {
  std::optional<core::HardState> hard_state;
  bool must_sync = false;
  std::vector<core::Entry> entries;
  std::vector<core::Message> after_persist;
  std::vector<core::Entry> committed;
  Time done_at = 0;

  bool touches_disk() const { return hard_state.has_value() || !entries.empty(); }
};

class Node final : public NodeView {
 public:
  Node(core::NodeId id, core::ClusterConfig members, core::Config base)
      : id_(id), members_(std::move(members)), base_(base) {}

  core::NodeId id() const override { return id_; }
  bool up() const override { return raft_ != nullptr; }
  // Bumped by every crash, so timers and disk completions of an earlier life are ignored.
  uint64_t incarnation() const override { return incarnation_; }

  core::Raft& raft() { return *raft_; }
  const core::Raft& raft() const { return *raft_; }
  const SimStorage& storage() const { return storage_; }
  const LogView& log() const override { return log_; }
  LogView& log() { return log_; }
  std::deque<PendingWrite>& pending() { return pending_; }
  const std::deque<PendingWrite>& pending() const { return pending_; }
  bool has_unpersisted_state() const;

  // The last index applied in this life (Ready::committed, in order).
  core::LogIndex applied() const override { return applied_; }
  void set_applied(core::LogIndex index) { applied_ = index; }

  // NodeView: the rest, read from the core and the disk.
  core::LogIndex durable_commit() const override { return storage_.hard_state().commit; }
  bool ok() const override { return raft_->status().ok(); }
  Status status() const override { return raft_->status(); }
  core::Term term() const override { return raft_->term(); }
  core::Role role() const override { return raft_->role(); }
  core::LogIndex commit_index() const override { return raft_->commit_index(); }
  uint64_t last_heartbeat_ack() const override { return raft_->last_heartbeat_ack(); }

  // Builds a fresh core from the durable state, with applied = 0 (so
  // committed entries are delivered again from the start).
  void start(uint64_t random_seed);
  // The hard state as the runtime has been told it (durable or not).
  const core::HardState& written_hard_state() const { return written_hard_state_; }
  void set_written_hard_state(const core::HardState& hs) { written_hard_state_ = hs; }

  // Stops the core. Pending writes are lost (the caller may first complete
  // some with persist_front: they reached the disk but the runtime was never
  // told), and so is a hard state written without a sync since the last
  // sync. Returns the first index at which the log changed (0: it did not).
  core::LogIndex crash(bool lose_unsynced);
  // Completes the oldest pending write and returns it.
  PendingWrite persist_front();

 private:
  core::NodeId id_;
  core::ClusterConfig members_;
  core::Config base_;
  uint64_t incarnation_ = 0;
  SimStorage storage_;
  std::unique_ptr<core::Raft> raft_;
  std::deque<PendingWrite> pending_;
  LogView log_;
  core::HardState written_hard_state_;
  core::LogIndex applied_ = 0;
};

}  // namespace raftlog::sim
