// Checker: Raft's safety properties, checked after every simulated step.
//
// The runtime reports what it sees (log writes, votes on the wire, applied
// entries) through the hooks below and calls after_step() once per step; the
// checker also reads every node through its NodeView (core state, LogView).
// Two runtimes drive it: the core mode's Cluster (cluster.h) and the
// whole-node World (world.h). Checks are incremental, so a step costs about
// O(nodes + new entries). The first violation sticks.
//
// Invariants (names as printed):
//   election-safety       at most one leader per term
//   vote-safety           a node grants at most one candidate a vote per term
//                         (on the wire or on its disk), across restarts
//   log-matching          two logs with an entry of the same index and term
//                         are identical up to it (a compacted prefix counts
//                         by its hash: a snapshot at (index, term) stands for
//                         the entries it covers)
//   leader-completeness   an entry committed in term T is in the log of every
//                         leader of a term above T (or covered by its snapshot)
//   electable-without-commit
//                         no node lacking a committed entry holds a log at
//                         least as up-to-date as a majority's (it could win an
//                         election and overwrite the entry): the predictive
//                         form of leader completeness, true at every instant
//                         in Raft because a majority holds an entry of the
//                         committing term at or past every committed entry
//                         (of the configuration in force in the node's own
//                         log: a candidate counts its votes by it)
//   state-machine-safety  no two nodes commit or apply different entries at
//                         one index; a node applies index after index; no
//                         write or snapshot install removes a committed entry
//                         from a log; a node's application state after
//                         applying through i is the committed prefix's
//                         through i, whether it applied every entry or
//                         started from a snapshot
//   snapshot-safety       a snapshot (taken, or installed from a leader) is
//                         of a committed entry (index, term) and holds the
//                         state of the committed prefix through it
//   read-index-safety     once last_heartbeat_ack() covers a heartbeat()
//                         made at time t, no leader of a higher term was
//                         elected before t (a quorum confirmed leadership
//                         after the call); the ack never goes back in a term;
//                         a ReadState (ok) answering a read_index() made at
//                         time t has an index at or past every index any
//                         node knew committed at t (linearizable reads)
//   config-quorum         a leader's commit index moves onto an entry only
//                         if the nodes whose disks hold it form a quorum of
//                         the configuration in force in that leader's log
//                         (both majorities when joint), as the checker reads
//                         it: the latest config entry of the log, else the
//                         committed configuration at its snapshot's head,
//                         else the bootstrap members
//   config-single-change  a leader appends a config entry only when every
//                         earlier config entry of its log is committed (the
//                         catch-up learners, the joint and the final
//                         configuration go in one after another)
//   proposal-id           the ProposalId a leader returns names the entry: if
//                         an entry of that term is committed at that index,
//                         it is the proposed command
//   commit-monotonic      a node's commit index never goes back in one life,
//                         nor below its durable commit after a restart, nor
//                         below its own snapshot's head
//   core-error            a core stopped itself (status() not ok)
//   runtime-contract      a Ready broke raft.h's contract (a gap in entries...)
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "node_view.h"
#include "raftlog/core/raft.h"
#include "trace.h"

namespace raftlog::sim {

struct Violation {
  std::string invariant;
  std::string detail;
};

// "5/3 'p17'", "6/4 noop".
std::string DescribeEntry(const core::Entry& e);
// "t3 vote=2 commit=7".
std::string DescribeHardState(const core::HardState& hs);

class Checker {
 public:
  // Nodes are added in id order (node i+1 is the i-th added) and outlive
  // the checker. bootstrap: the members the node starts with (empty: it
  // joins); by default every node added is a voter.
  void add_node(const NodeView* node) { nodes_.push_back(node); }
  void add_node(const NodeView* node, const core::ClusterConfig& bootstrap) {
    nodes_.push_back(node);
    bootstrap_.resize(nodes_.size());
    bootstrap_.back() = bootstrap;
  }

  bool failed() const { return !violation_.invariant.empty(); }
  const Violation& violation() const { return violation_; }
  void fail(const std::string& invariant, const std::string& detail);
  void set_now(Time now) { now_ = now; }

  // node's runtime takes the write of a Ready: its hard state and entries,
  // must_sync as the Ready said; `told` is the hard state the runtime was
  // told before. Checks raft.h's contract for the write (runtime-contract),
  // that it removes no committed entry, applies the entries to *log (node's
  // log as its runtime was told it) and compares the new tail with every
  // other log. False if the entries do not fit the log.
  bool write_taken(const NodeView& node, const core::HardState& told,
                   const std::optional<core::HardState>& hard_state, bool must_sync,
                   const std::vector<core::Entry>& entries, LogView* log);
  // A Ready is about to replace node's log from entries.front().index on.
  void before_write(const NodeView& node, const std::vector<core::Entry>& entries);
  // node's log changed from index `from` on (a write, or a crash that lost
  // writes): compare it with every other log.
  void log_changed(const NodeView& node, core::LogIndex from);
  // voter granted candidate its vote in term (seen on the wire or made
  // durable in its hard state; `how` says which).
  void vote_granted(core::NodeId voter, core::Term term, core::NodeId candidate, const char* how);
  // node applies e (before its applied() moves to e.index).
  void applied(const NodeView& node, const core::Entry& e);
  // node restarted from its durable state.
  void restarted(const NodeView& node);
  // node holds a snapshot through head, taken of what it applied, or
  // (install) a leader's it is about to install. Its data decodes
  // (decoded) to the state through state_index with state_term and
  // digest (the chain hash of the entries applied, as LogView's prefix
  // hash). Checks that it is the committed prefix's state through a
  // committed entry (snapshot-safety). Call before the node's log changes.
  void snapshot_held(const NodeView& node, const core::SnapshotHead& head, bool decoded,
                     core::LogIndex state_index, core::Term state_term, uint64_t digest,
                     bool install);
  // node's application state after applying through index has digest
  // (state-machine-safety: it is the committed prefix's).
  void state_is(const NodeView& node, core::LogIndex index, uint64_t digest);
  // node leads term: seen in its role by after_step(), or told by a runtime
  // that sees the core's events (a leadership that ends within one loop
  // turn). False if another node led that term (election-safety).
  bool leader_seen(const NodeView& node, core::Term term);
  void after_step();
  // A leader accepted a command and returned id for it.
  void proposal_accepted(const core::ProposalId& id, const std::string& payload);
  // node, leader of term, called heartbeat() now and got seq.
  void heartbeat_sent(const NodeView& node, core::Term term, uint64_t seq);
  // A read_index(ctx) call was taken now (ctx unique in the run), and a
  // Ready of node carried a ReadState.
  void read_asked(uint64_t ctx);
  void read_state(const NodeView& node, const core::ReadState& rs);

  // The configuration in force in log, as the checker reads it: the
  // latest config entry after its head, else the committed configuration
  // at its head, else `bootstrap`.
  core::ClusterConfig config_in(const LogView& log, const core::ClusterConfig& bootstrap) const;
  core::ClusterConfig config_of(const NodeView& node) const {
    return config_in(node.log(), bootstrap(node.id()));
  }
  // The configuration of the committed log's last config entry (or the
  // first node's bootstrap members).
  core::ClusterConfig committed_config() const;
  uint64_t config_entries_committed() const { return committed_configs_.size(); }
  uint64_t reads_checked() const { return reads_checked_; }

  // Committed entries as far as any node knows: [1, committed_index()].
  core::LogIndex committed_index() const { return committed_.size(); }
  const core::Entry* committed(core::LogIndex index) const {
    return index >= 1 && index <= committed_.size() ? &committed_[index - 1].entry : nullptr;
  }
  // How often a leader moved its commit index onto an entry of an earlier
  // term (0 in a correct core; a figure showing the §5.4.2 window is reached).
  uint64_t old_term_commits() const { return old_term_commits_; }
  uint64_t heartbeats_acked() const { return heartbeats_acked_; }
  core::Term max_leader_term() const { return leaders_.empty() ? 0 : leaders_.rbegin()->first; }

 private:
  struct Commit {
    core::Entry entry;
    // Committed in this term or earlier: the lowest term a node was in when
    // it first saw its commit index cover the entry.
    core::Term term_bound;
    core::NodeId first_seen_by;
    Time first_seen_at;
  };

  const NodeView& node(core::NodeId id) const { return *nodes_[id - 1]; }
  core::LogIndex& commit_seen(core::NodeId id);
  void observe_commits(const NodeView& n);
  void record_commit(const NodeView& n, const core::Entry& e);
  void check_leader_completeness(const NodeView& leader);
  // Whether log holds the committed entries [1, index] (those at or below
  // its head by its snapshot, which snapshot_held() verified).
  bool has_committed_prefix(const LogView& log, core::LogIndex index) const;
  // The first index at which log lacks the committed entry (<= its last
  // index + 1; requires !has_committed_prefix for some index).
  core::LogIndex first_missing_commit(const LogView& log) const;
  void check_electable();
  const core::ClusterConfig& bootstrap(core::NodeId id) const;
  // The committed configuration in force at index (bootstrap if none).
  core::ClusterConfig committed_config_at(core::LogIndex index,
                                          const core::ClusterConfig& bootstrap) const;
  void check_config_quorum(const NodeView& leader);
  void check_config_append(const NodeView& node, const std::vector<core::Entry>& entries);
  // Whether the nodes for which holds(id) form a quorum of c.
  template <class F>
  bool quorum(const core::ClusterConfig& c, F holds) const;
  // A log changed or an entry was committed since check_electable() last ran.
  bool electable_dirty_ = true;

  std::vector<const NodeView*> nodes_;
  // Per node, when given (else every node is a voter): see add_node.
  std::vector<std::optional<core::ClusterConfig>> bootstrap_;
  core::ClusterConfig all_voters_;
  // Committed config entries, ascending.
  std::vector<std::pair<core::LogIndex, core::ClusterConfig>> committed_configs_;
  // Per node: what after_step last saw of it as a leader.
  struct LeaderObs {
    bool valid = false;
    uint64_t incarnation = 0;
    core::Term term = 0;
    core::LogIndex commit = 0;
    core::LogIndex last = 0;
    core::LogIndex head = 0;
    core::ClusterConfig config;
  };
  std::vector<LeaderObs> leader_obs_;
  // Reads asked: ctx -> the committed index when asked, and when.
  std::map<uint64_t, std::pair<core::LogIndex, Time>> reads_;
  uint64_t reads_checked_ = 0;
  Violation violation_;
  Time now_ = 0;

  uint64_t old_term_commits_ = 0;
  // Accepted proposals whose index is not committed yet: index -> (term, payload).
  std::map<core::LogIndex, std::vector<std::pair<core::Term, std::string>>> proposals_;
  void check_proposal(const core::ProposalId& id, const std::string& payload,
                      const core::Entry& committed);
  struct Leader {
    core::NodeId id;
    Time since;  // when first seen leading
  };
  std::map<core::Term, Leader> leaders_;
  struct Heartbeat {
    core::NodeId node;
    uint64_t incarnation;
    core::Term term;
    uint64_t seq;
    Time sent_at;
  };
  std::vector<Heartbeat> heartbeats_;  // awaiting their ack
  uint64_t heartbeats_acked_ = 0;
  // Per node: the term and value of the last last_heartbeat_ack() seen.
  std::vector<std::pair<core::Term, uint64_t>> acks_seen_;
  void check_heartbeats();
  std::map<std::pair<core::NodeId, core::Term>, core::NodeId> votes_;
  std::vector<core::LogIndex> commit_seen_;  // per node, this life
  std::vector<Commit> committed_;
  std::vector<uint64_t> committed_hash_;  // prefix hashes of committed_
  // bound_[i]: the least term_bound over committed entries i+1 and later
  // (committing an entry commits everything before it). Non-decreasing.
  std::vector<core::Term> bound_;
};

}  // namespace raftlog::sim
