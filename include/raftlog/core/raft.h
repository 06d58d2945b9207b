// Raft: the consensus core as a deterministic state machine.
//
// Inputs: tick(), step(message), propose_command(), heartbeat(),
// start_election(), and on_persisted() once the runtime has made log entries
// durable. Output: take_ready() hands back a batch (Ready) of what to
// persist, what to send, what was committed and what happened. Nothing in
// here reads a clock, sleeps, spawns a thread, touches a socket or a disk, or
// draws randomness it was not given (Config::random_seed), so the same core
// runs in raftlogd and in the seeded simulator (tests/sim).
//
// The runtime loop, for each Ready, in this order:
//   1. send ready.messages (they need nothing persisted; the leader's
//      AppendEntries go out while its own disk write is running);
//   2. persist ready.hard_state and ready.entries in one write, synced if
//      ready.must_sync
//      (ready.entries.front().index may be at or below the stored tail: the
//      store first deletes everything from that index on);
//   3. send ready.messages_after_persist (vote grants, append acks: they
//      promise state that must already be on disk);
//   4. call on_persisted(ready.entries.back().index, .term) if there were
//      entries;
//   5. apply ready.committed in order, and look at ready.events.
// Batches must be persisted in the order they were taken. A runtime may take
// the next Ready before the previous one is persisted, as long as it keeps
// that order (this is how a storage thread pipelines group commits).
//
// Not thread-safe: one thread drives a Raft object.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "raftlog/core/log_reader.h"
#include "raftlog/core/message.h"
#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog::core {

struct Config {
  // This node's id; must be positive.
  NodeId id = kNoNode;
  // A follower that hears no leader for a random number of ticks in
  // [election_ticks, 2 * election_ticks) stands for election. A leader that
  // has not heard from a quorum for election_ticks steps down (check_quorum).
  int election_ticks = 10;
  // A leader sends heartbeats every heartbeat_ticks. Must be < election_ticks.
  int heartbeat_ticks = 1;
  // A pipelined follower that acknowledges nothing for this many ticks while
  // messages are in flight is probed again from its match index (lost
  // messages). 0 means election_ticks / 2.
  int retransmit_ticks = 0;
  // Pre-vote (Raft thesis §9.6): a partitioned node does not bump terms.
  bool pre_vote = true;
  // Leader steps down without a quorum; nodes that heard from a leader within
  // an election timeout ignore vote requests (leader stickiness).
  bool check_quorum = true;
  // One AppendEntries carries at most this many entries and bytes (at least one entry).
  size_t max_entries_per_msg = 4096;
  size_t max_bytes_per_msg = 1 << 20;
  // Pipelining window per follower: AppendEntries in flight, and their bytes.
  size_t max_inflight_msgs = 64;
  size_t max_inflight_bytes = 64 << 20;
  // A leader refuses proposals (Busy) while this many entries are uncommitted.
  size_t max_uncommitted_entries = 1 << 20;
  // Committed entries handed out per Ready, by bytes (at least one entry).
  size_t max_committed_bytes_per_ready = 8 << 20;
  // InstallSnapshot: the data bytes per chunk, and how many bytes a leader
  // may send one follower per tick (0: no limit), so that a catch-up does
  // not starve replication. One chunk per follower is in flight at a time.
  size_t snapshot_chunk_bytes = 1 << 20;
  uint64_t snapshot_bytes_per_tick = 0;
  // Membership change: a voter being added first receives the log as a
  // non-voting member (catch-up) until its match index is within
  // catch_up_lag entries of the leader's last index; only then does the
  // joint configuration go into the log. A catch-up whose new members make
  // no progress for catch_up_ticks (0: 10 * election_ticks) is given up.
  size_t catch_up_lag = 1024;
  int catch_up_ticks = 0;
  // Entries up to this index were applied before a restart; committed
  // entries are delivered from applied + 1 (0: from the log head on).
  LogIndex applied = 0;
  // Seeds the randomized election timeouts. The only randomness the core uses.
  uint64_t random_seed = 1;

  // InvalidInput naming the offending field, or ok.
  Status validate() const;
};

// Events, in the seed crate's vocabulary. Committed entries come in
// Ready::committed, not as events.
struct RoleChanged {
  Role role;
};
struct TermChanged {
  Ballot ballot;
};
struct NewLeaderElected {
  NodeId leader;
  Term term;
};
// The configuration in force changed: an entry carrying it was appended or
// truncated away, a snapshot brought it, or a change was given up (config
// is then unchanged and `aborted` says why). A configuration takes effect
// when it is in the log, committed or not (thesis §4.1).
struct ConfigChanged {
  ClusterConfig config;
  LogIndex index = 0;  // the entry (or snapshot) it comes from; 0: the bootstrap members
  std::string aborted;
};
// A leadership transfer ended without this node handing over (the target
// did not take over within an election timeout, or it left the cluster).
struct TransferAborted {
  NodeId target;
  std::string reason;
};
using Event =
    std::variant<RoleChanged, TermChanged, NewLeaderElected, ConfigChanged, TransferAborted>;
std::string Describe(const Event& e);

// A piece of a snapshot this follower is receiving from its leader, to be
// written after the Ready's entries (raftlog::storage::SnapshotFiles): the
// data goes at offset; on the last piece (done) the whole is checked and
// installed (see Raft::on_snapshot_installed).
struct SnapshotChunk {
  SnapshotHead snapshot;
  uint64_t offset = 0;
  std::string data;
  bool done = false;
  bool operator==(const SnapshotChunk&) const = default;
};

// A read index (thesis §6.4) for the read identified by ctx: once this
// node has applied through index, it may answer the read with what it
// holds, and the answer is linearizable. ok false: the leader could not
// confirm one (it stepped down, or has not committed an entry of its term
// yet); ask again.
struct ReadState {
  uint64_t ctx = 0;
  LogIndex index = 0;
  bool ok = false;
  bool operator==(const ReadState&) const = default;
};

// A membership change in progress, as the leader sees it.
struct ConfigChange {
  enum class Phase : uint8_t {
    kNone,     // nothing in progress
    kCatchUp,  // new voters receive the log, not voting yet
    kJoint,    // the joint configuration is in the log; the final one follows its commit
    kFinal,    // the final configuration is in the log, not committed yet
  };
  Phase phase = Phase::kNone;
  ClusterConfig target;  // kCatchUp: the configuration asked for
  // kCatchUp: each new voter and how many entries it is behind the leader.
  std::vector<std::pair<NodeId, LogIndex>> behind;
};
const char* PhaseName(ConfigChange::Phase phase);

struct Ready {
  std::optional<HardState> hard_state;  // persist when set
  // The write must be synced: it carries entries or a new term or vote. A
  // hard state whose only change is the commit index may be written lazily
  // (losing it on a crash only means re-delivering some committed entries).
  bool must_sync = false;
  std::vector<Entry> entries;                   // persist (contiguous, ascending)
  std::vector<Message> messages;                // send now
  std::vector<Message> messages_after_persist;  // send once the above is durable
  std::vector<Entry> committed;                 // apply, in order
  std::vector<Event> events;
  std::vector<SnapshotChunk> snapshot_chunks;  // persist after entries, in order
  std::vector<ReadState> read_states;          // answers to read_index()

  bool empty() const {
    return !hard_state && entries.empty() && messages.empty() && messages_after_persist.empty() &&
           committed.empty() && events.empty() && snapshot_chunks.empty() && read_states.empty();
  }
};

// What the leader knows of one member's log (for status displays).
struct PeerProgress {
  NodeId id = kNoNode;
  LogIndex match = 0;
  LogIndex next = 0;
  bool replicating = false;  // pipelining (true) or probing (false)
  bool recent_active = false;
  size_t inflight = 0;
};

class Raft {
 public:
  // Starts as a follower from persisted state: hard_state as last saved and
  // the durable log behind `log`, which must outlive this object. The
  // configuration in force is the latest one in the log, else the
  // snapshot's, else `members` (the bootstrap list; empty for a node that
  // joins an existing cluster and waits to be added). Check status()
  // afterwards.
  Raft(const Config& config, const LogReader* log, const HardState& hard_state,
       const ClusterConfig& members);
  ~Raft();
  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // Ok, or the error that stopped this node (a failed storage read, an
  // inconsistency). A stopped node ignores all input.
  Status status() const;

  // Advances logical time by one tick.
  void tick();

  // Handles one message from a peer. InvalidInput if the message is not
  // addressed to this node or claims to come from it. Any sender is heard
  // (a node whose configuration is behind must still follow a new member
  // that leads); replies from non-members are ignored.
  Status step(const Message& m);

  // Leader only: appends a command. NotLeader (with the leader hint) or Busy.
  Status propose_command(std::string data, ProposalId* id);

  // Leader only: changes the membership to target.voters and
  // target.learners (target.voters_outgoing must be empty), carrying
  // target.context. Voters that are not voters yet catch up first (the
  // leader adds them to the log as learners, if they are not, and waits);
  // then the joint configuration (old and new voters) goes in; once it
  // commits, the leader appends the final one. A change of learners only
  // goes in at once. *id is the first entry appended (index 0 when the
  // change waits for learners to catch up before appending anything).
  // InvalidInput for a malformed target, NotLeader, Busy while another
  // change or a leadership transfer is in progress.
  Status propose_config(const ClusterConfig& target, ProposalId* id);
  // The change in progress (phase kNone on other roles).
  ConfigChange config_change() const;
  // The configuration in force as of index (for a snapshot taken there):
  // the latest one the log holds at or below it. head_index() <= index <=
  // last_index().
  ClusterConfig config_at(LogIndex index) const;

  // Leadership transfer to `target`, a voter (thesis §3.10). On the leader:
  // it stops taking proposals (Busy), brings target's log up to date and
  // sends it TimeoutNow; target stands at once, and its vote requests are
  // answered even by nodes that hear from this leader. Given up (event
  // TransferAborted) after an election timeout. On a follower, target must
  // be this node: it asks its leader to hand over (NotLeader if it knows
  // none). InvalidInput for a target that is not a voter.
  Status transfer_leadership(NodeId target);
  // The transfer in progress (kNoNode: none).
  NodeId transfer_target() const;

  // ReadIndex: asks for a linearizable read point for the read `ctx`; the
  // answer comes as a ReadState in a later Ready (on a follower, once the
  // leader answered; none if the message is lost: the caller times out).
  // NotLeader when there is no known leader.
  Status read_index(uint64_t ctx);

  // Leader only: broadcasts a heartbeat round now and returns its sequence
  // number. Once last_heartbeat_ack() >= it, a quorum confirmed this node
  // was still leader after the call (the basis of ReadIndex).
  Status heartbeat(uint64_t* seq);
  // The highest heartbeat sequence number a quorum has acknowledged in this
  // term; 0 on non-leaders. Never decreases within a term.
  uint64_t last_heartbeat_ack() const;

  // Stands for election now (a follower or candidate that is a voter).
  // With check_quorum, a live leader is not deposed this way: its
  // followers ignore the vote requests (use transfer_leadership).
  Status start_election();

  bool has_ready() const;
  Ready take_ready();

  // The runtime has made the log durable through index, whose entry has
  // term. Stale notifications (a later truncation replaced the entry) are
  // ignored.
  void on_persisted(LogIndex index, Term term);

  // Snapshots. The runtime takes a snapshot of what it applied, saves it
  // and drops the log up to it; then it tells the core the new log head
  // (index <= applied_index(), an entry this log holds with that term),
  // and a follower that needs an entry at or below the head is sent the
  // snapshot (LogReader::snapshot) instead.
  Status on_log_compacted(LogIndex head_index, Term head_term);
  // A follower: the snapshot whose last chunk (done) a Ready carried is
  // checked, durable, and has replaced this node's log and state (the log
  // head is now snapshot.index; the application holds the snapshot's
  // state). Committed entries go on from snapshot.index + 1.
  void on_snapshot_installed(const SnapshotHead& snapshot);
  // ... or it could not be installed (its data did not match its size and
  // CRC): the transfer starts over.
  void on_snapshot_failed(const SnapshotHead& snapshot);

  NodeId id() const;
  Role role() const;
  Term term() const;
  NodeId voted_for() const;
  NodeId leader() const;  // kNoNode when unknown
  LogIndex commit_index() const;
  LogIndex applied_index() const;  // the last index handed out in Ready::committed
  LogIndex last_index() const;
  Term last_term() const;
  LogIndex persisted_index() const;
  const ClusterConfig& cluster_config() const;
  // Entries [lo, hi) of this node's log as it stands (durable or not), up to
  // max_bytes (at least one). InvalidInput outside head_index < lo <= hi <=
  // last_index + 1; the read error of a damaged store.
  Status entries(LogIndex lo, LogIndex hi, size_t max_bytes, std::vector<Entry>* out) const;
  // The leader's view of every member (empty on other roles).
  std::vector<PeerProgress> progress() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftlog::core
