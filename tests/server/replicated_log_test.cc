// ReplicatedLog end to end in one process: three nodes over an in-process
// transport, each with its storage thread, driven in real (short) time.
#include "raftlog/replicated_log.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <thread>

#include "local_transport.h"
#include "raftlog/storage/memory_log_store.h"

namespace raftlog::testing {
namespace {

using namespace std::chrono_literals;

// Lets a test keep its MemoryLogStore across a ReplicatedLog's lifetime,
// and make its disk slow.
class SharedStore : public storage::ForwardingLogStore {
 public:
  explicit SharedStore(std::shared_ptr<storage::MemoryLogStore> s)
      : ForwardingLogStore(s.get()), s_(std::move(s)) {}
  using LogStore::append;
  Status append(const std::optional<core::HardState>& hs, std::span<const core::Entry> entries,
                bool sync) override {
    if (write_delay_.count() > 0) std::this_thread::sleep_for(write_delay_);  // a slow disk
    return ForwardingLogStore::append(hs, entries, sync);
  }
  std::chrono::milliseconds write_delay_{0};

 private:
  std::shared_ptr<storage::MemoryLogStore> s_;
};

// A disk that carries a write out as soon as it is submitted but reports it
// done only when not held: the widest window between the store and the
// core (a storage thread done with a write the loop has not heard of yet).
class EagerWriter final : public LogWriter {
 public:
  explicit EagerWriter(storage::LogStore* store) : store_(store) {}
  void submit(LogWrite write) override { done_.push_back(CarryOut(store_, write)); }
  void take_done(std::vector<LogWriteDone>* out) override {
    if (held) return;
    for (LogWriteDone& d : done_) out->push_back(std::move(d));
    done_.clear();
  }
  bool held = false;

 private:
  storage::LogStore* store_;
  std::vector<LogWriteDone> done_;
};

// Records every configuration the log hands its transport.
class RecordingTransport final : public Transport {
 public:
  RecordingTransport(std::unique_ptr<Transport> inner,
                     std::shared_ptr<std::vector<core::ClusterConfig>> seen)
      : inner_(std::move(inner)), seen_(std::move(seen)) {}
  void send(const core::Message& m) override { inner_->send(m); }
  Status receive(std::chrono::milliseconds t, std::vector<core::Message>* out) override {
    return inner_->receive(t, out);
  }
  void wake() override { inner_->wake(); }
  void set_members(const core::ClusterConfig& c) override { seen_->push_back(c); }

 private:
  std::unique_ptr<Transport> inner_;
  std::shared_ptr<std::vector<core::ClusterConfig>> seen_;
};

struct TestNode {
  std::shared_ptr<storage::MemoryLogStore> store = std::make_shared<storage::MemoryLogStore>();
  std::chrono::milliseconds write_delay{0};
  std::unique_ptr<EagerWriter> writer;  // if set, in place of the storage thread
  std::unique_ptr<ReplicatedLog> log;
  std::vector<Committed> committed;
  std::vector<SnapshotLoaded> loaded;
  std::vector<SnapshotInstalled> installed;
  std::vector<core::ReadState> reads;
  std::vector<core::ConfigChanged> config_changes;
  std::shared_ptr<std::vector<core::ClusterConfig>> members_seen =
      std::make_shared<std::vector<core::ClusterConfig>>();
  Status stopped;
};

class ThreeNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    for (core::NodeId id = 1; id <= 3; ++id) start(id);
  }

  void start(core::NodeId id, bool join = false) {
    ReplicatedLogOptions o;
    o.core.id = id;
    o.core.election_ticks = 10;
    o.core.heartbeat_ticks = 2;
    o.core.random_seed = id * 31 + restarts_++;
    o.core.snapshot_chunk_bytes = chunk_bytes_;
    o.resume_from_commit = resume_from_commit_;
    o.tick_interval = 5ms;
    if (join) {
      o.join = true;
    } else {
      o.members.voters = {1, 2, 3};
    }
    TestNode& n = nodes_[id];
    n.log.reset();
    n.stopped = Status::Ok();
    if (eager_writers_) {
      n.writer = std::make_unique<EagerWriter>(n.store.get());
      o.writer = n.writer.get();
    }
    auto store = std::make_unique<SharedStore>(n.store);
    store->write_delay_ = n.write_delay;
    auto transport = std::make_unique<RecordingTransport>(net_.join(id), n.members_seen);
    ASSERT_TRUE(ReplicatedLog::Open(o, std::move(store), std::move(transport), &n.log).ok());
  }

  // Drives every node until pred holds or the deadline passes.
  bool pump_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 5s) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      for (auto& [id, n] : nodes_) {
        if (!n.log || !n.stopped.ok()) continue;
        n.stopped = n.log->run_once(1ms);
        Event e;
        while (n.log->next_event(&e)) {
          if (auto* c = std::get_if<Committed>(&e)) n.committed.push_back(*c);
          if (auto* l = std::get_if<SnapshotLoaded>(&e)) {
            // Before any entry after it: the application's state is the snapshot's.
            EXPECT_TRUE(n.committed.empty() || n.committed.back().index <= l->head.index);
            n.loaded.push_back(*l);
          }
          if (auto* i = std::get_if<SnapshotInstalled>(&e)) n.installed.push_back(*i);
          if (auto* r = std::get_if<core::ReadState>(&e)) n.reads.push_back(*r);
          if (auto* c = std::get_if<core::ConfigChanged>(&e)) n.config_changes.push_back(*c);
        }
      }
      if (pred()) return true;
    }
    return pred();
  }

  core::NodeId leader() {
    for (auto& [id, n] : nodes_) {
      if (n.log && n.stopped.ok() && n.log->local_node().role == core::Role::kLeader) return id;
    }
    return 0;
  }

  LocalNetwork net_;
  std::map<core::NodeId, TestNode> nodes_;
  int restarts_ = 0;
  size_t chunk_bytes_ = 1 << 20;
  bool resume_from_commit_ = true;
  bool eager_writers_ = false;
};

// The application of the snapshot tests: its state is every committed
// command, in order, one per line.
std::string StateOf(const std::vector<Committed>& committed, core::LogIndex through) {
  std::string state;
  for (const Committed& c : committed) {
    if (c.index <= through && c.entry.type == core::EntryType::kCommand)
      state += c.entry.data + "\n";
  }
  return state;
}

// The state a node holds: its last snapshot's, then what it applied after.
std::string StateOf(const TestNode& n) {
  std::string state;
  core::LogIndex from = 0;
  if (!n.loaded.empty()) {
    state = n.loaded.back().snapshot;
    from = n.loaded.back().head.index;
  }
  for (const Committed& c : n.committed) {
    if (c.index > from && c.entry.type == core::EntryType::kCommand) state += c.entry.data + "\n";
  }
  return state;
}

class Snapshots : public ThreeNodes {
 protected:
  void SetUp() override {
    chunk_bytes_ = 16;  // many chunks per transfer
    // A restart delivers what the log holds after the snapshot (raftlogd's
    // way): the snapshot decides where that starts.
    resume_from_commit_ = false;
    ThreeNodes::SetUp();
  }
  // Proposes n commands on the leader and waits until every running node
  // has applied them.
  core::LogIndex propose(core::NodeId l, int n, const std::string& prefix) {
    core::ProposalId id;
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(nodes_[l].log->propose_command(prefix + std::to_string(i), &id).ok());
    }
    EXPECT_TRUE(pump_until([&] {
      for (auto& [nid, node] : nodes_) {
        if (node.log && node.log->local_history().applied < id.index) return false;
      }
      return true;
    }));
    return id.index;
  }
};

TEST_F(Snapshots, InstallSnapshotIsCheckedThenCompactsAndAFollowerBehindLoadsIt) {
  ASSERT_TRUE(pump_until([&] { return leader() != 0; }));
  const core::NodeId l = leader();
  const core::NodeId f = l == 1 ? 2 : 1;
  nodes_[f].log.reset();  // down while the others go on and compact
  const core::LogIndex last = propose(l, 50, "a");
  TestNode& ln = nodes_[l];
  const core::LogIndex applied = ln.log->local_history().applied;
  ASSERT_GE(applied, last);

  EXPECT_EQ(ln.log->install_snapshot(applied + 1, "x").code(), Status::Code::kInvalidInput)
      << "above the applied index";
  EXPECT_EQ(ln.log->install_snapshot(0, "x").code(), Status::Code::kInvalidInput)
      << "not above the head";
  EXPECT_EQ(ln.log->compact(applied).code(), Status::Code::kInvalidInput)
      << "no snapshot covers it";
  const std::string state = StateOf(ln.committed, applied);
  ASSERT_TRUE(ln.log->install_snapshot(applied, state).ok());
  EXPECT_TRUE(ln.log->is_snapshot_installing());
  EXPECT_TRUE(ln.log->install_snapshot(applied, state).IsBusy()) << "one at a time";
  ASSERT_TRUE(pump_until([&] { return !ln.installed.empty(); }));
  EXPECT_FALSE(ln.log->is_snapshot_installing());
  EXPECT_EQ(ln.installed[0].head.index, applied);
  EXPECT_EQ(ln.log->local_history().head, applied);
  core::SnapshotHead head;
  ASSERT_TRUE(ln.log->last_snapshot(&head).ok());
  EXPECT_EQ(head.index, applied);
  EXPECT_EQ(head.size, state.size());
  EXPECT_EQ(head.config.voters, (std::vector<core::NodeId>{1, 2, 3}));

  // The follower comes back behind the head: the snapshot (in 16-byte
  // chunks), then the log from the head on.
  start(f);
  const core::LogIndex more = propose(l, 10, "b");
  TestNode& fn = nodes_[f];
  ASSERT_FALSE(fn.loaded.empty());
  EXPECT_EQ(fn.loaded.back().head.index, applied);
  EXPECT_EQ(fn.loaded.back().snapshot, state);
  EXPECT_EQ(fn.log->local_history().head, applied);
  ASSERT_FALSE(fn.committed.empty());
  EXPECT_EQ(fn.committed.front().index, applied + 1) << "the log goes on from the head";
  EXPECT_EQ(StateOf(fn), StateOf(ln.committed, more));

  // A restart starts from the snapshot and delivers nothing it covers.
  fn.committed.clear();
  fn.loaded.clear();
  start(f);
  ASSERT_TRUE(pump_until([&] { return !fn.loaded.empty() && !fn.committed.empty(); }));
  EXPECT_EQ(fn.loaded.front().snapshot, state);
  EXPECT_GT(fn.committed.front().index, applied);
  EXPECT_EQ(StateOf(fn), StateOf(ln.committed, more));
}

TEST_F(Snapshots, SaveKeepsTheLogAndCompactGoesNoFurtherThanTheSnapshot) {
  ASSERT_TRUE(pump_until([&] { return leader() != 0; }));
  const core::NodeId l = leader();
  TestNode& ln = nodes_[l];
  const core::LogIndex first = propose(l, 20, "a");
  const std::string state = StateOf(ln.committed, first);
  ASSERT_TRUE(ln.log->save_snapshot(first, state).ok());
  ASSERT_TRUE(pump_until([&] { return !ln.installed.empty(); }));
  EXPECT_EQ(ln.log->local_history().head, 0u) << "the log keeps its entries";
  const core::LogIndex second = propose(l, 20, "b");
  EXPECT_EQ(ln.log->compact(second).code(), Status::Code::kInvalidInput);
  ASSERT_TRUE(ln.log->compact(first - 5).ok());
  ASSERT_TRUE(pump_until([&] { return !ln.log->is_snapshot_installing(); }));
  EXPECT_EQ(ln.log->local_history().head, first - 5);
  std::vector<core::Entry> entries;
  ASSERT_TRUE(ln.log->committed_entries(first - 4, second + 1, SIZE_MAX, &entries).ok());
  EXPECT_EQ(entries.front().index, first - 4);
  // A restart loads the snapshot and goes on after it, not after the head.
  ln.committed.clear();
  ln.loaded.clear();
  start(l);
  ASSERT_TRUE(pump_until([&] { return !ln.loaded.empty() && !ln.committed.empty(); }));
  EXPECT_EQ(ln.loaded.front().head.index, first);
  EXPECT_EQ(ln.committed.front().index, first + 1);
}

class SnapshotsOnEagerDisks : public Snapshots {
 protected:
  void SetUp() override {
    eager_writers_ = true;
    Snapshots::SetUp();
  }
};

// The core reads the entries it released from memory back from the store:
// the store must not drop them before the core knows its new log head. A
// leader whose disk compacted at once but had not reported it read a
// dropped entry for a follower coming back, and stopped ("entry N:
// compacted"), found by the whole-node simulator.
TEST_F(SnapshotsOnEagerDisks, TheStoreDropsEntriesOnlyOnceTheCoreStopsReadingThem) {
  ASSERT_TRUE(pump_until([&] { return leader() != 0; }));
  const core::NodeId l = leader();
  const core::NodeId f = l == 1 ? 2 : 1;
  nodes_[f].log.reset();  // down while the others go on
  TestNode& ln = nodes_[l];
  const core::LogIndex last = propose(l, 50, "a");
  const core::LogIndex applied = ln.log->local_history().applied;
  ASSERT_GE(applied, last);

  ln.writer->held = true;  // the snapshot is written, not yet reported
  ASSERT_TRUE(ln.log->install_snapshot(applied, StateOf(ln.committed, applied)).ok());
  nodes_[f].committed.clear();
  start(f);  // behind: the leader reads its log to catch it up
  EXPECT_FALSE(pump_until([&] { return !ln.stopped.ok(); }, 300ms)) << ln.stopped.ToString();
  EXPECT_EQ(ln.log->local_history().head, 0u) << "not compacted before the save is reported";

  ln.writer->held = false;
  ASSERT_TRUE(pump_until([&] { return !ln.installed.empty(); }));
  EXPECT_EQ(ln.log->local_history().head, applied);
  const core::LogIndex more = propose(l, 10, "b");
  EXPECT_TRUE(ln.stopped.ok()) << ln.stopped.ToString();
  EXPECT_EQ(StateOf(nodes_[f]), StateOf(ln.committed, more));

  // A compaction alone (after save_snapshot) goes the same way.
  ASSERT_TRUE(ln.log->save_snapshot(more, StateOf(ln.committed, more)).ok());
  ASSERT_TRUE(pump_until([&] { return ln.installed.size() == 2; }));
  nodes_[f].log.reset();
  const core::LogIndex third = propose(l, 20, "c");
  ln.writer->held = true;
  ASSERT_TRUE(ln.log->compact(more).ok());
  nodes_[f].committed.clear();
  nodes_[f].loaded.clear();
  start(f);
  EXPECT_FALSE(pump_until([&] { return !ln.stopped.ok(); }, 300ms)) << ln.stopped.ToString();
  ln.writer->held = false;
  ASSERT_TRUE(pump_until([&] { return !ln.log->is_snapshot_installing(); }));
  EXPECT_EQ(ln.log->local_history().head, more);
  const core::LogIndex fourth = propose(l, 5, "d");
  ASSERT_GT(fourth, third);
  EXPECT_TRUE(ln.stopped.ok()) << ln.stopped.ToString();
  EXPECT_EQ(StateOf(nodes_[f]), StateOf(ln.committed, fourth));
}

// A follower's own install_snapshot is written but not yet reported when
// the last chunk of its leader's snapshot goes to the disk: the leader's
// snapshot replaces the log, and the follower's compaction, which used to
// follow it, was refused behind it (or read the replaced log) and stopped
// the node. Found by the whole-node simulator.
TEST_F(SnapshotsOnEagerDisks, ALeadersSnapshotInstalledMeanwhileTakesTheOwnCompactionsPlace) {
  // One chunk: it reaches the follower's disk though the follower's earlier
  // writes are not reported yet (a chunk is acknowledged once durable).
  chunk_bytes_ = 1 << 20;
  for (core::NodeId id = 1; id <= 3; ++id) start(id);
  ASSERT_TRUE(pump_until([&] { return leader() != 0; }));
  const core::NodeId l = leader();
  const core::NodeId f = l == 1 ? 2 : 1;
  TestNode& ln = nodes_[l];
  TestNode& fn = nodes_[f];
  const core::LogIndex first = propose(l, 10, "a");
  fn.log.reset();  // down while the others go on and compact
  for (core::NodeId other : {1, 2, 3}) {
    if (other != f) net_.cut(f, other);  // and what is sent to it is lost
  }
  const core::LogIndex second = propose(l, 30, "b");
  ASSERT_TRUE(ln.log->install_snapshot(second, StateOf(ln.committed, second)).ok());
  ASSERT_TRUE(pump_until([&] { return !ln.installed.empty(); }));

  net_.heal();
  fn.committed.clear();
  start(f);  // replays its own log, then needs the leader's snapshot
  ASSERT_TRUE(pump_until([&] { return fn.log->local_history().applied >= first; }));
  fn.writer->held = true;
  const core::LogIndex own = fn.log->local_history().applied;
  ASSERT_TRUE(fn.log->install_snapshot(own, StateOf(fn.committed, own)).ok());
  // The transfer goes on (a chunk is answered at once) until the last one.
  ASSERT_TRUE(pump_until([&] { return fn.store->head_index() >= second; }))
      << "the leader's snapshot did not reach the follower's disk";
  fn.writer->held = false;
  ASSERT_TRUE(pump_until([&] { return !fn.loaded.empty() || !fn.stopped.ok(); }))
      << "head " << fn.log->local_history().head << " applied " << fn.log->local_history().applied
      << " last " << fn.log->local_history().last << " own " << own << " second " << second
      << " installing " << fn.log->is_snapshot_installing() << " role "
      << core::RoleName(fn.log->local_node().role) << " leader " << l << " "
      << fn.stopped.ToString();
  EXPECT_TRUE(fn.stopped.ok()) << fn.stopped.ToString();
  const core::LogIndex more = propose(l, 5, "c");
  EXPECT_TRUE(fn.stopped.ok()) << fn.stopped.ToString();
  EXPECT_EQ(fn.loaded.back().head.index, second);
  EXPECT_EQ(StateOf(fn), StateOf(ln.committed, more));
}

TEST_F(ThreeNodes, ElectALeaderAndCommitProposalsEverywhereInOrder) {
  ASSERT_TRUE(pump_until([&] { return leader() != 0; }));
  core::NodeId l = leader();
  std::vector<core::ProposalId> ids;
  for (int i = 0; i < 100; ++i) {
    core::ProposalId id;
    ASSERT_TRUE(nodes_[l].log->propose_command("cmd" + std::to_string(i), &id).ok());
    ids.push_back(id);
  }
  ASSERT_TRUE(pump_until([&] {
    for (auto& [id, n] : nodes_) {
      if (n.committed.empty() || n.committed.back().index < ids.back().index) return false;
    }
    return true;
  }));
  for (auto& [id, n] : nodes_) {
    for (size_t i = 0; i < n.committed.size(); ++i) {
      EXPECT_EQ(n.committed[i].index, i + 1) << "node " << id;
    }
    const core::Entry& last = n.committed[ids.back().index - 1].entry;
    EXPECT_EQ(last.data, "cmd99");
    EXPECT_EQ(last.term, ids.back().term);
  }
}

TEST_F(ThreeNodes, ProposalOnAFollowerIsNotLeaderWithAHint) {
  ASSERT_TRUE(pump_until([&] {
    core::NodeId l = leader();
    if (l == 0) return false;
    for (auto& [id, n] : nodes_) {
      if (n.log->local_node().leader != l) return false;
    }
    return true;
  }));
  core::NodeId l = leader();
  core::NodeId f = l == 1 ? 2 : 1;
  Status s = nodes_[f].log->propose_command("x", nullptr);
  EXPECT_TRUE(s.IsNotLeader());
  EXPECT_EQ(s.leader_hint(), l);
}

TEST_F(ThreeNodes, AWriteErrorStopsTheNodeAndNothingUnpersistedIsAcknowledged) {
  ASSERT_TRUE(pump_until([&] { return leader() != 0; }));
  core::NodeId l = leader();
  ASSERT_TRUE(pump_until([&] { return nodes_[l].committed.size() >= 1; }));
  size_t before = nodes_[l].committed.size();
  nodes_[l].store->inject_write_error("No space left on device");
  ASSERT_TRUE(nodes_[l].log->propose_command("lost?", nullptr).ok());
  ASSERT_TRUE(pump_until([&] { return !nodes_[l].stopped.ok(); }));
  EXPECT_TRUE(nodes_[l].stopped.IsIOError());
  EXPECT_NE(nodes_[l].stopped.message().find("No space"), std::string::npos);
  EXPECT_EQ(nodes_[l].committed.size(), before) << "the failed write delivered nothing";
  EXPECT_TRUE(nodes_[l].log->propose_command("more", nullptr).IsIOError());
  // The others carry on with a new leader.
  ASSERT_TRUE(pump_until([&] { return leader() != 0 && leader() != l; }));
}

TEST_F(ThreeNodes, RestartKeepsTermVoteAndLog) {
  ASSERT_TRUE(pump_until([&] { return leader() != 0; }));
  core::NodeId l = leader();
  core::ProposalId id;
  ASSERT_TRUE(nodes_[l].log->propose_command("durable", &id).ok());
  ASSERT_TRUE(pump_until([&] {
    for (auto& [nid, n] : nodes_) {
      if (n.committed.size() < id.index) return false;
    }
    return true;
  }));
  core::NodeId f = l == 1 ? 2 : 1;
  LocalNode before = nodes_[f].log->local_node();
  start(f);  // a fresh ReplicatedLog on the same store
  LocalNode after = nodes_[f].log->local_node();
  EXPECT_EQ(after.ballot, before.ballot);
  EXPECT_EQ(nodes_[f].log->local_history().last, id.index);
  EXPECT_EQ(nodes_[f].log->local_history().committed, id.index);
}

TEST_F(ThreeNodes, AFollowersSlowDiskDoesNotMakeItStandForElection) {
  ASSERT_TRUE(pump_until([&] { return leader() != 0; }));
  core::NodeId l = leader();
  core::NodeId f = l == 1 ? 2 : 1;
  core::Term term = nodes_[l].log->local_node().ballot.term;
  // Every write of the follower now takes three election timeouts (at most
  // 2 * 10 ticks of 5 ms), while the leader keeps sending heartbeats.
  nodes_[f].write_delay = 300ms;
  start(f);
  // Proposed one at a time, each once the one before has reached the slow
  // follower: at least five slow writes, 1.5 s in all, on its storage thread.
  // Through all of them it must stay a follower of the same leader in the
  // same term; that it applied the last proposal shows it was not stuck.
  std::string stood;
  auto watch = [&] {
    const LocalNode fn = nodes_[f].log->local_node();
    if (stood.empty() && (fn.role != core::Role::kFollower || fn.ballot.term != term)) {
      stood = "the slow node became " + std::string(core::RoleName(fn.role)) + " in term " +
              std::to_string(fn.ballot.term);
    }
    if (stood.empty() && leader() != l) stood = "the leader changed";
  };
  for (int i = 0; i < 5; ++i) {
    core::ProposalId id;
    ASSERT_TRUE(nodes_[l].log->propose_command("slow-" + std::to_string(i), &id).ok());
    ASSERT_TRUE(pump_until(
        [&] {
          watch();
          return !stood.empty() ||
                 (!nodes_[f].committed.empty() && nodes_[f].committed.back().index >= id.index);
        },
        30s))
        << "the slow follower never applied proposal " << i;
    ASSERT_TRUE(stood.empty()) << stood;
  }
  EXPECT_EQ(nodes_[f].committed.back().entry.data, "slow-4");
}

}  // namespace
}  // namespace raftlog::testing

namespace raftlog::testing {
namespace {

TEST(ReplicatedLogOpen, NoMembersIsRefusedUnlessJoining) {
  ReplicatedLogOptions o;
  o.core.id = 4;
  LocalNetwork net;
  std::unique_ptr<ReplicatedLog> log;
  Status s = ReplicatedLog::Open(o, std::make_unique<storage::MemoryLogStore>(), net.join(4), &log);
  EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
  o.join = true;
  s = ReplicatedLog::Open(o, std::make_unique<storage::MemoryLogStore>(), net.join(4), &log);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(log->cluster_config().voters.empty());
}

TEST_F(ThreeNodes, AJoiningNodeIsAddedAndItsTransportLearnsTheConfiguration) {
  start(4, /*join=*/true);
  ASSERT_TRUE(pump_until([&] { return leader() != 0; }));
  const core::NodeId l = leader();
  ASSERT_EQ(nodes_[4].members_seen->size(), 1u);  // at open: nobody
  EXPECT_TRUE(nodes_[4].members_seen->front().voters.empty());
  core::ClusterConfig target;
  target.voters = {1, 2, 3, 4};
  target.context = "address book";
  Status s;
  // The leader takes a change once it committed an entry of its term.
  ASSERT_TRUE(pump_until([&] {
    s = nodes_[l].log->propose_config(target, nullptr);
    return !s.IsBusy();
  }));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(nodes_[l].log->propose_config({1, 2}, {}, nullptr).IsBusy());
  auto in_force = [&](core::NodeId id) {
    const core::ClusterConfig& c = nodes_[id].log->cluster_config();
    return !c.joint() && c.voters.size() == 4 &&
           nodes_[id].log->config_change().phase == core::ConfigChange::Phase::kNone;
  };
  ASSERT_TRUE(pump_until([&] { return in_force(l) && in_force(4); }));
  EXPECT_EQ(nodes_[4].log->cluster_config().context, "address book");
  ASSERT_FALSE(nodes_[4].members_seen->empty());
  EXPECT_EQ(nodes_[4].members_seen->back().context, "address book");
  EXPECT_EQ(nodes_[4].members_seen->back().voters.size(), 4u);
  ASSERT_FALSE(nodes_[l].config_changes.empty());
  // The crate's form keeps the context in force.
  ASSERT_TRUE(nodes_[l].log->propose_config({1, 2, 3, 4}, {}, nullptr).ok());
  ASSERT_TRUE(pump_until([&] { return in_force(l); }));
  EXPECT_EQ(nodes_[l].log->cluster_config().context, "address book");
}

TEST_F(ThreeNodes, StartElectionOnAFollowerTakesLeadershipOver) {
  ASSERT_TRUE(pump_until([&] {
    const core::NodeId l = leader();
    return l != 0 && nodes_[l == 1 ? 2 : 1].log->local_node().leader == l;
  }));
  const core::NodeId f = leader() == 1 ? 2 : 1;
  ASSERT_TRUE(nodes_[f].log->start_election().ok());
  ASSERT_TRUE(pump_until([&] { return leader() == f; }));
}

TEST_F(ThreeNodes, ReadIndexIsAnsweredAsAnEvent) {
  ASSERT_TRUE(pump_until([&] {
    const core::NodeId l = leader();
    return l != 0 && nodes_[l == 1 ? 2 : 1].log->local_node().leader == l;
  }));
  const core::NodeId l = leader();
  const core::NodeId f = l == 1 ? 2 : 1;
  core::ProposalId id;
  ASSERT_TRUE(pump_until([&] { return nodes_[l].log->propose_command("x", &id).ok(); }));
  ASSERT_TRUE(pump_until([&] { return nodes_[l].log->local_history().committed >= id.index; }));
  ASSERT_TRUE(nodes_[f].log->read_index(42).ok());
  ASSERT_TRUE(pump_until([&] { return !nodes_[f].reads.empty(); }));
  EXPECT_EQ(nodes_[f].reads[0].ctx, 42u);
  EXPECT_TRUE(nodes_[f].reads[0].ok);
  EXPECT_GE(nodes_[f].reads[0].index, id.index);
}

TEST_F(Snapshots, ASnapshotCarriesTheConfigurationAsOfItsIndex) {
  ASSERT_TRUE(pump_until([&] { return leader() != 0; }));
  const core::NodeId l = leader();
  const core::LogIndex before = propose(l, 3, "a");
  core::ClusterConfig target;
  target.voters = {1, 2, 3};
  target.learners = {9};
  Status s;
  ASSERT_TRUE(pump_until([&] {
    s = nodes_[l].log->propose_config(target, nullptr);
    return !s.IsBusy();
  }));
  ASSERT_TRUE(s.ok()) << s.ToString();
  propose(l, 1, "b");
  EXPECT_EQ(nodes_[l].log->cluster_config().learners, std::vector<core::NodeId>{9});
  ASSERT_TRUE(nodes_[l].log->save_snapshot(before, StateOf(nodes_[l].committed, before)).ok());
  ASSERT_TRUE(pump_until([&] { return !nodes_[l].installed.empty(); }));
  core::SnapshotHead head;
  ASSERT_TRUE(nodes_[l].log->last_snapshot(&head).ok());
  EXPECT_EQ(head.index, before);
  EXPECT_TRUE(head.config.learners.empty());  // the change came after it
}

}  // namespace
}  // namespace raftlog::testing
