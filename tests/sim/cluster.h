// Cluster: one whole simulated run. N nodes, a network, disks and a clock in
// one process, every random choice drawn from one seed, so a seed replays
// exactly.
//
// A run has two phases. Chaos: for `steps` steps messages are lost,
// duplicated, delayed and reordered, partitions come and go, nodes crash and
// restart, and proposals arrive at random nodes. Then the network heals,
// crashed nodes restart and crashes stop, and liveness is required: a leader
// within a bounded number of ticks, then every new proposal committed on
// every node within a bounded number of ticks. A step is one event: a
// message delivered, a node's tick, a disk write completing, a crash, a
// restart, a partition change or a proposal. The Checker runs after each.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "checker.h"
#include "network.h"
#include "node.h"
#include "rng.h"
#include "scenario.h"
#include "trace.h"

namespace raftlog::sim {

struct RunOptions {
  uint64_t seed = 1;
  std::vector<int> sizes = {3, 5, 7};  // the cluster size is drawn from these
  uint64_t steps = 5000;               // chaos steps before the network heals
  Trace* trace = nullptr;              // nullptr: no trace
};

struct RunResult {
  bool ok = true;
  Violation violation;  // when !ok
  std::string scenario;
  uint64_t steps = 0;  // steps taken in all
  Time time = 0;       // simulated time at the end
  // Figures for the run's summary line.
  uint64_t crashes = 0;
  uint64_t partitions = 0;
  uint64_t proposals_accepted = 0;
  uint64_t snapshots_taken = 0;      // local snapshots (and compactions)
  uint64_t snapshots_installed = 0;  // a leader's snapshot installed by a follower
  uint64_t snapshots_failed = 0;     // ... refused by the store's CRC32C check
  core::LogIndex committed = 0;
  core::Term max_term = 0;
  uint64_t old_term_commits = 0;  // see Checker::old_term_commits()
  uint64_t heartbeats_acked = 0;  // heartbeat() rounds a quorum confirmed
  // Membership: changes a leader took (propose_config ok) and refused
  // (Busy, NotLeader...), config entries committed, transfers asked (by a
  // leader or a follower, taken) and given up (TransferAborted), nodes
  // retired at healing (members of no configuration any more).
  uint64_t config_changes = 0;
  uint64_t config_refused = 0;
  uint64_t config_committed = 0;
  uint64_t transfers = 0;
  uint64_t transfers_aborted = 0;
  uint64_t retired = 0;
  // read_index() calls taken, and the ReadStates (ok) checked against them.
  uint64_t reads = 0;
  uint64_t reads_checked = 0;
  Time leader_after_heal = 0;  // ticks from healing to a leader
  Time max_commit_ticks = 0;   // worst commit latency of a proposal after healing, in ticks
  Time max_apply_ticks = 0;    // ... and until every node applied it
  // The largest share of a liveness bound any wait used, in percent.
  uint64_t worst_bound_percent = 0;
};

// Liveness bounds after healing, in ticks. A leader must appear within
// kLeaderBaseTicks (20 election timeouts) plus 10 election round trips (a
// vote request and its grant each wait for a disk write: with a disk as slow
// as the election timeout, split votes are common). A proposal must commit within
// kCommitBaseTicks plus the time to drain the leader's uncommitted backlog
// through its replication window at the scenario's slowest round trip (with
// batch=1, inflight=1 and a slow disk that is one entry per several ticks),
// and be applied everywhere within that plus the time to ship the whole log
// the same way (a node back from a long crash may start from nothing).
constexpr Time kLeaderBaseTicks = 200;
constexpr Time kCommitBaseTicks = 100;
// Proposals made after healing whose commit is awaited.
constexpr int kLivenessProposals = 5;

class Cluster {
 public:
  explicit Cluster(const RunOptions& options);
  RunResult run();

 private:
  enum class Kind {
    kDeliver,
    kTick,
    kDiskDone,
    kCrash,
    kRestart,
    kPartition,
    kPropose,
    kSnapshot,
    kClient,
    kChange
  };
  struct Event {
    Event(Kind k, core::NodeId n = core::kNoNode, uint64_t inc = 0, core::Message m = {},
          const char* why = "")
        : kind(k), node(n), incarnation(inc), message(std::move(m)), why(why) {}
    Kind kind;
    core::NodeId node = core::kNoNode;
    uint64_t incarnation = 0;
    core::Message message;
    const char* why;  // for the trace: why a targeted crash was scheduled
  };
  // A proposal made after healing, followed until every node applied it.
  struct ClientProposal {
    std::string payload;
    Time first_try = 0;
    Time commit_bound = 0;  // ticks after first_try
    Time apply_bound = 0;
    bool proposed = false;
    core::ProposalId id;
    bool committed = false;
    bool done = false;
  };

  Node& node(core::NodeId id) { return *nodes_[id - 1]; }
  void schedule(Time delay, Event e);
  void step();
  bool tracing() const { return options_.trace != nullptr && options_.trace->on(); }
  // Formats only when tracing; guard costly arguments with tracing().
  template <class... Args>
  void trace(const Args&... args) {
    if (tracing()) options_.trace->add(now_, Cat(args...));
  }

  // The runtime: Ready batches, in raft.h's order.
  void drain(Node& n);
  void send(const core::Message& m);
  // A write reached the disk.
  // (An install is checked, and the runtime's log replaced, here.)
  void persisted(Node& n, const PendingWrite& w);
  // Loop steps 3-5 for a write that is durable.
  void complete_write(Node& n, PendingWrite w);

  void on_deliver(Event& e);
  void on_tick(Event& e);
  void on_disk_done(Event& e);
  void on_crash(Event& e);
  void crash(Node& victim, const char* why);
  void on_restart(core::NodeId id);
  void on_partition();
  void on_propose();
  void on_snapshot();
  void on_client();
  void on_change();
  void read(Node& n);
  // Whether the leader was asked for a transfer or a change it has not
  // finished: liveness allows it one more election.
  bool change_in_flight(Node& leader) const;
  Time leader_bound_ticks() const;
  // Ticks to ship `entries` entries to a follower at the slowest round trip.
  Time shipping_ticks(uint64_t entries) const;
  // Ticks to send the largest snapshot any node holds, a chunk a round trip
  // (and no faster than the throttle).
  Time snapshot_ticks() const;

  void start_partition();
  void heal();
  void retire_removed();
  // The up node that leads the highest term any up node is in, if any.
  Node* current_leader();
  void propose(Node& n, const std::string& payload, core::ProposalId* id, bool* accepted);

  RunOptions options_;
  Rng rng_;
  Scenario scenario_;
  Network network_;
  std::vector<std::unique_ptr<Node>> nodes_;
  Checker checker_;

  Time now_ = 0;
  uint64_t next_seq_ = 0;
  std::map<std::pair<Time, uint64_t>, Event> queue_;
  uint64_t proposal_seq_ = 0;
  uint64_t read_seq_ = 0;
  uint64_t config_seq_ = 0;
  Time last_transfer_at_ = 0;
  std::vector<bool> retired_;    // per node: taken out for good at healing
  Time extra_commit_ticks_ = 0;  // see change_in_flight

  bool healed_ = false;
  Time healed_at_ = 0;
  Time leader_at_ = 0;  // when a leader first appeared after healing (0: not yet)
  std::vector<ClientProposal> client_;
  bool finished_ = false;
  RunResult result_;
};

}  // namespace raftlog::sim
