// ReplicatedLog: a Raft node ready to embed. The core (src/core), a
// LogStore (LevelDB by default) and a Transport (ZeroMQ by default),
// assembled with an event loop step and a storage thread. The API follows
// the seed crate (frugalos/raftlog): propose_command, heartbeat,
// local_node, and a stream of events ending in Committed entries.
//
// Threading: one thread drives the object (run_once, the proposals and
// queries); a storage thread it owns makes writes durable, merging whatever
// queued up meanwhile into one synced batch (group commit). The loop never
// waits for the disk, so election timers keep running while it syncs, and
// the leader sends to followers while its own write is in flight.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "raftlog/core/raft.h"
#include "raftlog/log_writer.h"
#include "raftlog/status.h"
#include "raftlog/storage/log_store.h"
#include "raftlog/transport.h"
#include "raftlog/wire/limits.h"

namespace raftlog {

struct ReplicatedLogOptions {
  // The Raft parameters (id, election and heartbeat ticks, windows...).
  // core.applied is overridden by `resume_from_commit`.
  core::Config core;
  // Wall time of one tick.
  std::chrono::milliseconds tick_interval{50};
  // The members to start with when the log and the snapshot hold no
  // configuration yet. Empty only with `join`.
  core::ClusterConfig members;
  // The node knows no members: it waits for a leader to add it (it never
  // stands for election until a configuration names it a voter).
  bool join = false;
  // After a restart, deliver committed entries only from the persisted
  // commit index on (true), or replay them all from the log head (false).
  bool resume_from_commit = true;
  // The largest command propose_command takes. A larger one could not be
  // replicated: every node's peer frames are sized for this (the default,
  // wire::kMaxEntryBytes, is what raftlogd's frames hold).
  size_t max_command_bytes = wire::kMaxEntryBytes;
  // Time and disk from outside (both must outlive the log): nullptr means
  // the steady clock, and a storage thread of the log's own writing to its
  // store. The simulator gives its own, so the same loop runs there.
  Clock* clock = nullptr;
  LogWriter* writer = nullptr;
};

// An entry became committed (and is durable here). Indexes go up by one.
struct Committed {
  core::LogIndex index;
  core::Entry entry;
};

// The application's state is now the snapshot's: this node started from
// it (the first event of a node whose store holds one), or installed its
// leader's (a follower that was behind the leader's log head). Committed
// entries go on from head.index + 1.
struct SnapshotLoaded {
  core::SnapshotHead head;
  std::string snapshot;
};

// A snapshot install_snapshot was given is durable, and the log before it
// compacted.
struct SnapshotInstalled {
  core::SnapshotHead head;
};

// Besides the core's events: ConfigChanged (the configuration in force,
// with its context), TransferAborted, and ReadState (the answer to
// read_index).
using Event = std::variant<core::RoleChanged, core::TermChanged, core::NewLeaderElected,
                           core::ConfigChanged, core::TransferAborted, core::ReadState, Committed,
                           SnapshotLoaded, SnapshotInstalled>;

// This node as the seed crate describes it.
struct LocalNode {
  core::NodeId id;
  core::Role role;
  core::Ballot ballot;
  core::NodeId leader;
};

// Where the local log stands.
struct LocalHistory {
  core::LogIndex head;       // last compacted index (the snapshot's)
  core::LogIndex last;       // last index in the log (appended, maybe not durable)
  core::LogIndex persisted;  // last durable index
  core::LogIndex committed;
  core::LogIndex applied;  // last index delivered as a Committed event
};

class ReplicatedLog {
 public:
  // Loads the hard state from the store and starts as a follower. The store
  // and transport are owned from here on.
  static Status Open(const ReplicatedLogOptions& options, std::unique_ptr<storage::LogStore> store,
                     std::unique_ptr<Transport> transport, std::unique_ptr<ReplicatedLog>* out);
  // Lets the storage thread finish every write it was given, then stops.
  ~ReplicatedLog();

  // One turn of the loop: waits up to max_wait (less if a tick is due) for
  // messages or finished writes, then steps, ticks, persists and sends.
  // An error (storage failure, corrupted log) means the node has stopped.
  Status run_once(std::chrono::milliseconds max_wait);
  // How long a loop that waits for input itself (on its own poller) may
  // wait before the next run_once is due: 0 when work is queued, else until
  // the next tick, at most max_wait. Such a loop calls run_once(0) after it.
  std::chrono::milliseconds next_wait(std::chrono::milliseconds max_wait) const;

  // Pops the next event; false when there is none.
  bool next_event(Event* event);

  // InvalidInput for a command over options.max_command_bytes; NotLeader
  // (with a hint) when this node does not lead.
  Status propose_command(std::string command, core::ProposalId* id);
  // Membership change (core::Raft::propose_config): the crate's form keeps
  // the context of the configuration in force; the other sets it.
  Status propose_config(const std::vector<core::NodeId>& voters,
                        const std::vector<core::NodeId>& learners, core::ProposalId* id);
  Status propose_config(const core::ClusterConfig& target, core::ProposalId* id);
  core::ConfigChange config_change() const;
  // Leadership transfer and ReadIndex (core::Raft::transfer_leadership,
  // read_index); the read's answer comes as a ReadState event.
  Status transfer_leadership(core::NodeId target);
  core::NodeId transfer_target() const;
  Status read_index(uint64_t ctx);
  Status heartbeat(uint64_t* seq);
  uint64_t last_heartbeat_ack() const;
  // Compaction driven by the application, as in the seed crate: `snapshot`
  // is the application's state as of entry new_head (which it has seen as
  // a Committed event). The storage thread saves it (as the store's
  // snapshot, with the head's term and the cluster configuration) and then
  // drops the log up to new_head; SnapshotInstalled follows once all of it
  // is durable. A follower behind the new head is sent the snapshot.
  // Busy while an install is in progress (one at a time); InvalidInput if
  // new_head is not above the log head or is above the applied index.
  Status install_snapshot(core::LogIndex new_head, std::string snapshot);
  // The same without the compaction: the log keeps its entries (a service
  // that retains more of its log than its snapshots cover; SnapshotInstalled
  // once durable).
  Status save_snapshot(core::LogIndex new_head, std::string snapshot);
  // Drops the log up to new_head, which the store's snapshot must cover
  // (InvalidInput otherwise); Busy like install_snapshot. A follower that
  // needs a dropped entry is sent the snapshot.
  Status compact(core::LogIndex new_head);
  // A snapshot (or compaction) given to the calls above, or one received
  // from the leader, is being written.
  bool is_snapshot_installing() const;
  // The store's snapshot; NotFound when there is none.
  Status last_snapshot(core::SnapshotHead* head) const;
  // The seed crate's start_election: a follower that knows a live leader
  // asks it to hand leadership over (a transfer to this node); otherwise
  // this node stands now.
  Status start_election();

  LocalNode local_node() const;
  LocalHistory local_history() const;
  const core::ClusterConfig& cluster_config() const;
  std::vector<core::PeerProgress> progress() const;
  // Entries [lo, hi) of the local log as it stands, durable or not (see
  // core::Raft::entries); for reading the uncommitted suffix.
  Status entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                 std::vector<core::Entry>* out) const;
  // Ok, or the error that stopped this node.
  Status status() const;

  // Committed entries [lo, hi) that are durable here, from the store (at
  // most max_bytes, but at least one entry): what a node may serve to
  // readers. Stops early at the commit or durable index, whichever is lower.
  Status committed_entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                           std::vector<core::Entry>* out) const;

  ReplicatedLog(const ReplicatedLog&) = delete;
  ReplicatedLog& operator=(const ReplicatedLog&) = delete;

 private:
  class Impl;
  explicit ReplicatedLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftlog
