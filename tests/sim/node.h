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
#include <string>
#include <vector>

#include "log_view.h"
#include "node_view.h"
#include "raftlog/core/raft.h"
#include "sim_storage.h"
#include "trace.h"

namespace raftlog::sim {

// The simulated application: the EntryHash of every entry applied, in
// order. Its digest, the chain hash of that list, is what LogView's prefix
// hash is of the same entries, so the checker compares a node's state with
// the committed prefix in O(1). Its encoding is a snapshot's data: a
// deterministic function of the entries applied, eight bytes an entry, so
// a snapshot grows with the log and takes many chunks to send.
class AppState {
 public:
  core::LogIndex applied() const { return hashes_.size(); }
  uint64_t digest() const { return digest_; }
  void apply(const core::Entry& e);
  // The state as of index (<= applied(), whose entry has term): the
  // snapshot data. *digest: its digest.
  std::string encode(core::LogIndex index, core::Term term, uint64_t* digest) const;
  // Decodes a snapshot's data; false if it is not one. *term: the term of
  // its last entry.
  static bool Decode(const std::string& data, AppState* out, core::Term* term);

 private:
  std::vector<uint64_t> hashes_;  // entry 1, 2, ...
  uint64_t digest_ = 0;
};

// What one Ready leaves to do once its write is durable (steps 2-5 of the
// loop). Writes complete in the order they were taken.
struct PendingWrite {
  std::optional<core::HardState> hard_state;
  bool must_sync = false;
  std::vector<core::Entry> entries;
  std::vector<core::SnapshotChunk> snapshot_chunks;  // written after the entries
  std::vector<core::Message> after_persist;
  std::vector<core::Entry> committed;
  Time done_at = 0;
  // Set when the write completes: the snapshot its last chunk installed,
  // or failed to (its data did not match its head).
  std::optional<core::SnapshotHead> installed;
  std::optional<core::SnapshotHead> failed;

  bool touches_disk() const {
    return hard_state.has_value() || !entries.empty() || !snapshot_chunks.empty();
  }
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

  // The last index applied in this life (Ready::committed, in order), or
  // the snapshot this life started from or installed.
  core::LogIndex applied() const override { return app_.applied(); }
  const AppState& app() const { return app_; }
  void apply(const core::Entry& e) { app_.apply(e); }

  // NodeView: the rest, read from the core and the disk.
  core::LogIndex durable_commit() const override { return storage_.hard_state().commit; }
  bool durably_holds(core::LogIndex index, core::Term term) const override {
    if (index <= storage_.head_index()) return true;
    return index <= storage_.last_index() &&
           storage_.log()[index - storage_.head_index() - 1].term == term;
  }
  bool ok() const override { return raft_->status().ok(); }
  Status status() const override { return raft_->status(); }
  core::Term term() const override { return raft_->term(); }
  core::Role role() const override { return raft_->role(); }
  core::LogIndex commit_index() const override { return raft_->commit_index(); }
  uint64_t last_heartbeat_ack() const override { return raft_->last_heartbeat_ack(); }

  // Builds a fresh core from the durable state, with applied = 0 (so
  // committed entries are delivered again from the log head on; the
  // application starts from the snapshot).
  void start(uint64_t random_seed);
  // Snapshots the application as of index (head_index < index <=
  // applied()), saves it and compacts the disk and the runtime's log
  // through it, then tells the core (Raft::on_log_compacted).
  Status take_snapshot(core::LogIndex index, core::SnapshotHead* head);
  // The snapshot the disk holds, decoded (false: its data is no state).
  bool stored_state(AppState* state, core::Term* term) const;
  // The disk installed a leader's snapshot (PendingWrite::installed): the
  // runtime's log becomes its head alone (digest: the state's).
  void install_log(const core::SnapshotHead& head, uint64_t digest);
  // ... and the application takes its state (after the entries the same
  // write delivered were applied).
  void install_state(AppState state) { app_ = std::move(state); }
  // The bootstrap members this node starts with (empty: a node that joins).
  const core::ClusterConfig& bootstrap() const { return members_; }
  // The hard state as the runtime has been told it (durable or not).
  const core::HardState& written_hard_state() const { return written_hard_state_; }
  void set_written_hard_state(const core::HardState& hs) { written_hard_state_ = hs; }

  // Stops the core. Pending writes are lost (the caller may first complete
  // some with persist_front: they reached the disk but the runtime was never
  // told), and so is a hard state written without a sync since the last
  // sync. Returns the first index at which the log changed (0: it did not).
  core::LogIndex crash(bool lose_unsynced);
  // Completes the oldest pending write and returns it (with installed or
  // failed set if it ended a snapshot transfer).
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
  AppState app_;
};

}  // namespace raftlog::sim
