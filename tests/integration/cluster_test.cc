// raftlogd clusters as a user runs them: real processes on 127.0.0.1,
// killed, stopped, paused and fed garbage. Timings (election after a leader
// kill, catch-up speed) are printed as figures; assertions are about
// behaviour, with deadlines generous enough for a loaded machine or a
// sanitized build (they catch a cluster that hangs, not a slow one).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <zmq.hpp>

#include "client/client_internals.h"
#include "process_cluster.h"
#include "raftlog/storage/leveldb_store.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/limits.h"
#include "raftlog/wire/peer_codec.h"

namespace raftlog::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Appends count payloads through `threads` concurrent clients; returns the
// acknowledged indexes.
std::vector<core::LogIndex> AppendMany(const ProcessCluster& c, int count, size_t payload_bytes,
                                       int threads, const std::string& tag) {
  std::vector<std::vector<core::LogIndex>> acked(threads);
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ClientOptions o;
      o.endpoints = c.client_endpoints();
      o.request_timeout = 1000ms;
      Client client(o);
      for (int i = t; i < count; i += threads) {
        std::string payload = tag + "-" + std::to_string(i) + "-";
        payload.resize(std::max(payload.size(), payload_bytes), 'x');
        wire::AppendResult r;
        if (client.append(payload, 10s, &r).ok()) acked[t].push_back(r.index);
      }
    });
  }
  for (auto& w : workers) w.join();
  std::vector<core::LogIndex> all;
  for (auto& a : acked) all.insert(all.end(), a.begin(), a.end());
  return all;
}

core::NodeId WaitForLeader(ProcessCluster& c, std::chrono::milliseconds deadline = 10s) {
  core::NodeId leader = 0;
  ProcessCluster::wait_for([&] { return (leader = c.agreed_leader()) != 0; }, deadline);
  return leader;
}

// Waits until node id has committed and durably holds everything through index.
bool WaitForCommit(ProcessCluster& c, core::NodeId id, core::LogIndex index,
                   std::chrono::milliseconds deadline = 20s) {
  return ProcessCluster::wait_for(
      [&] {
        wire::NodeStatus st;
        return c.status(id, &st).ok() && st.applied_index >= index;
      },
      deadline);
}

void ExpectSameLogs(ProcessCluster& c, const std::vector<core::NodeId>& ids,
                    std::vector<core::Entry>* reference = nullptr) {
  std::vector<core::Entry> first;
  ASSERT_TRUE(c.fetch_all(ids[0], &first).ok());
  for (size_t i = 0; i < first.size(); ++i) ASSERT_EQ(first[i].index, i + 1);
  for (size_t k = 1; k < ids.size(); ++k) {
    std::vector<core::Entry> other;
    ASSERT_TRUE(c.fetch_all(ids[k], &other).ok());
    size_t n = std::min(first.size(), other.size());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(other[i], first[i]) << "node " << ids[k] << " index " << i + 1;
    }
  }
  if (reference != nullptr) *reference = first;
}

TEST(Cluster, ThreeNodesElectOneLeaderAndReplicateToAll) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  std::vector<core::LogIndex> acked = AppendMany(c, 200, 64, 4, "e");
  ASSERT_EQ(acked.size(), 200u);
  core::LogIndex last = *std::max_element(acked.begin(), acked.end());
  for (core::NodeId id = 1; id <= 3; ++id) ASSERT_TRUE(WaitForCommit(c, id, last)) << id;
  std::vector<core::Entry> log;
  ExpectSameLogs(c, {1, 2, 3}, &log);
  for (core::LogIndex index : acked) {
    EXPECT_EQ(log[index - 1].type, core::EntryType::kCommand);
  }
  // Each payload appended ("e-<i>-xxx…") is in the log exactly once.
  std::set<int> appended;
  for (const core::Entry& e : log) {
    if (e.type != core::EntryType::kCommand) continue;
    wire::EventRecord r;
    ASSERT_TRUE(wire::DecodeEventRecord(e.data.data(), e.data.size(), {}, &r).ok());
    ASSERT_EQ(r.payload.rfind("e-", 0), 0u) << r.payload;
    EXPECT_TRUE(appended.insert(std::stoi(r.payload.substr(2))).second) << r.payload;
  }
  EXPECT_EQ(appended.size(), 200u);
  EXPECT_EQ(*appended.rbegin(), 199);
}

TEST(Cluster, KilledLeaderIsReplacedAndRejoinsAsAFollowerThatCatchesUp) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId old_leader = WaitForLeader(c);
  ASSERT_NE(old_leader, 0u);
  ASSERT_EQ(AppendMany(c, 20, 64, 2, "before").size(), 20u);

  auto killed_at = Clock::now();
  c.signal(old_leader, SIGKILL);
  core::NodeId new_leader = 0;
  // How fast is a figure, not a pass mark (a loaded machine or a sanitizer
  // slows it): the deadline is only there to fail a cluster that never
  // elects.
  bool elected =
      ProcessCluster::wait_for([&] { return (new_leader = c.agreed_leader()) != 0; }, 30s);
  double election_ms = MillisSince(killed_at);
  ASSERT_TRUE(elected) << "no new leader within 30 s";
  EXPECT_NE(new_leader, old_leader);
  std::printf(
      "[ figure ] new leader %llu elected %.0f ms after SIGKILL of leader %llu "
      "(election timeout %lld..%lld ms)\n",
      static_cast<unsigned long long>(new_leader), election_ms,
      static_cast<unsigned long long>(old_leader),
      static_cast<long long>(c.timing().max_election_timeout().count() / 2),
      static_cast<long long>(c.timing().max_election_timeout().count()));

  // While it is down, the log grows by 4,000 entries of 1 KiB.
  std::vector<core::LogIndex> acked = AppendMany(c, 4000, 1024, 8, "during");
  ASSERT_EQ(acked.size(), 4000u);
  core::LogIndex last = *std::max_element(acked.begin(), acked.end());

  auto restarted_at = Clock::now();
  c.start(old_leader);
  wire::NodeStatus up;
  ASSERT_TRUE(ProcessCluster::wait_for([&] { return c.status(old_leader, &up).ok(); }, 10s));
  double start_ms = MillisSince(restarted_at);
  auto serving_at = Clock::now();
  core::LogIndex had = up.applied_index;
  ASSERT_TRUE(WaitForCommit(c, old_leader, last, 30s));
  double catchup_ms = MillisSince(serving_at);
  double mib = (last - had) * 1024.0 / (1 << 20);
  std::printf(
      "[ figure ] restarted node: serving after %.0f ms, then caught up %llu entries "
      "(%.1f MiB) in %.0f ms: %.0f entries/s, %.1f MiB/s (the leader's reconnect "
      "back-off included)\n",
      start_ms, static_cast<unsigned long long>(last - had), mib, catchup_ms,
      (last - had) / (catchup_ms / 1000), mib / (catchup_ms / 1000));

  wire::NodeStatus st;
  ASSERT_TRUE(c.status(old_leader, &st).ok());
  EXPECT_EQ(st.role, core::Role::kFollower);
  EXPECT_EQ(st.leader, new_leader);
  ExpectSameLogs(c, {1, 2, 3});
}

// docs/snapshots.md, "A node whose data directory is lost": stopped, wiped,
// a new leader elected, then started: it comes back through the leader's
// snapshot and the log after it.
TEST(Cluster, AFollowerWhoseDataDirectoryWasWipedRejoinsByTheDocumentedProcedure) {
  ProcessCluster c(3, {}, {"--snapshot-every", "500", "--retain-entries", "100"});
  c.start_all();
  const core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  const core::NodeId wiped = leader == 1 ? 2 : 1;
  ASSERT_EQ(AppendMany(c, 3000, 64, 8, "before").size(), 3000u);
  wire::NodeStatus before;
  ASSERT_TRUE(c.status(leader, &before).ok());
  ASSERT_GT(before.head_index, 0u) << "the log compacted";

  // 1. Stop it and wipe its data directory.
  c.signal(wiped, SIGTERM);
  std::filesystem::remove_all(c.data_dir(wiped));
  // 2. A new leader, in a term the wiped node never saw.
  c.signal(leader, SIGTERM);
  c.start(leader);
  core::NodeId next = 0;
  wire::NodeStatus st;
  ASSERT_TRUE(ProcessCluster::wait_for(
      [&] {
        next = c.agreed_leader();
        return next != 0 && c.status(next, &st).ok() && st.term > before.term;
      },
      30s));
  // 3. Start it.
  c.start(wiped);
  const std::vector<core::LogIndex> more = AppendMany(c, 20, 64, 2, "after");
  ASSERT_EQ(more.size(), 20u);
  const core::LogIndex last = *std::max_element(more.begin(), more.end());
  ASSERT_TRUE(WaitForCommit(c, wiped, last, 30s));
  wire::NodeStatus back;
  ASSERT_TRUE(c.status(wiped, &back).ok());
  EXPECT_GT(back.head_index, 0u) << "it came back through a snapshot";
  EXPECT_NE(c.log_text(wiped).find("snapshot loaded"), std::string::npos);
  EXPECT_EQ(back.role, core::Role::kFollower);
  // What it holds from its new head on is the others'.
  wire::FetchArgs args;
  args.from = back.head_index + 1;
  args.max_count = 100000;
  wire::FetchResult a, b;
  ASSERT_TRUE(c.client().fetch(c.client_endpoint(wiped), args, &a).ok());
  ASSERT_TRUE(c.client().fetch(c.client_endpoint(next), args, &b).ok());
  ASSERT_FALSE(a.entries.empty());
  const size_t n = std::min(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(a.entries[i], b.entries[i]);
}

TEST(Cluster, FullRestartKeepsTermVoteAndEveryCommittedEntry) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  std::vector<core::LogIndex> acked = AppendMany(c, 300, 128, 4, "r");
  ASSERT_EQ(acked.size(), 300u);
  core::LogIndex last = *std::max_element(acked.begin(), acked.end());
  for (core::NodeId id = 1; id <= 3; ++id) ASSERT_TRUE(WaitForCommit(c, id, last));
  std::vector<core::Entry> before;
  ExpectSameLogs(c, {1, 2, 3}, &before);
  // Each node's ballot as it reports it (a node that stood in the same
  // term as the winner keeps its vote for itself).
  std::map<core::NodeId, core::Ballot> ballots;
  for (core::NodeId id = 1; id <= 3; ++id) {
    wire::ClientReply reply;
    ASSERT_TRUE(
        ClientInternals::Call(c.client(), c.client_endpoint(id), wire::kStatusOp, {}, &reply).ok());
    wire::NodeStatus st;
    ASSERT_TRUE(wire::DecodeStatusBody(reply.body, &st).ok());
    ballots[id].term = st.term;
    for (const auto& [k, v] : reply.body) {
      if (k == "voted_for") ballots[id].voted_for = v.as_uint();
    }
    EXPECT_NE(ballots[id].voted_for, 0u) << "node " << id << " voted in its term";
  }

  for (core::NodeId id = 1; id <= 3; ++id) {
    int status = c.signal(id, SIGTERM);
    ASSERT_TRUE(WIFEXITED(status)) << "node " << id;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "SIGTERM is a clean shutdown";
  }
  // What is on disk: the term and vote each node last reported.
  for (core::NodeId id = 1; id <= 3; ++id) {
    std::unique_ptr<storage::LogStore> store;
    ASSERT_TRUE(storage::OpenLevelDbLogStore(c.data_dir(id), {}, &store).ok());
    core::HardState hs;
    ASSERT_TRUE(store->load_hard_state(&hs).ok());
    EXPECT_EQ(hs.term, ballots[id].term) << "node " << id;
    EXPECT_EQ(hs.voted_for, ballots[id].voted_for) << "node " << id;
    EXPECT_GE(store->last_index(), last);
  }

  c.start_all();
  ASSERT_NE(WaitForLeader(c), 0u);
  for (core::NodeId id = 1; id <= 3; ++id) {
    wire::NodeStatus st;
    ASSERT_TRUE(c.status(id, &st).ok());
    EXPECT_GE(st.term, ballots[id].term) << "terms never go back";
  }
  // A fresh entry commits, and with it everything before it everywhere.
  ASSERT_EQ(AppendMany(c, 1, 16, 1, "after").size(), 1u);
  std::vector<core::Entry> after;
  for (core::NodeId id = 1; id <= 3; ++id) {
    ASSERT_TRUE(WaitForCommit(c, id, last + 1));
    ASSERT_TRUE(c.fetch_all(id, &after).ok());
    ASSERT_GE(after.size(), before.size());
    for (size_t i = 0; i < before.size(); ++i) ASSERT_EQ(after[i], before[i]) << "index " << i + 1;
  }
}

TEST(Cluster, PausedFollowerCatchesUpWithoutDisturbingTheLeader) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  wire::NodeStatus before;
  ASSERT_TRUE(c.status(leader, &before).ok());
  core::NodeId follower = leader == 1 ? 2 : 1;

  c.signal(follower, SIGSTOP);
  auto paused_at = Clock::now();
  std::vector<core::LogIndex> acked = AppendMany(c, 300, 256, 4, "p");
  EXPECT_EQ(acked.size(), 300u) << "the other two keep committing";
  // Stay paused for several election timeouts in all.
  while (Clock::now() - paused_at < 4 * c.timing().max_election_timeout()) {
    std::this_thread::sleep_for(10ms);
  }
  c.signal(follower, SIGCONT);
  core::LogIndex last = *std::max_element(acked.begin(), acked.end());
  ASSERT_TRUE(WaitForCommit(c, follower, last));

  wire::NodeStatus after;
  ASSERT_TRUE(c.status(leader, &after).ok());
  EXPECT_EQ(after.role, core::Role::kLeader);
  EXPECT_EQ(after.term, before.term) << "pre-vote: the returning follower disturbed no one";
  ExpectSameLogs(c, {1, 2, 3});
}

TEST(Cluster, GarbageAndOversizedFramesAreCountedAndHarmless) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  core::NodeId target = leader == 1 ? 2 : 1;
  core::NodeId known_peer = 6 - leader - target;  // the third node's id

  zmq::context_t ctx(1);
  auto dealer = [&](const std::string& endpoint) {
    auto s = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 0);
    s->connect(endpoint);
    return s;
  };
  const char kGarbage[] = "\xc1\xff garbage \x00\x01";  // 0xc1 is never valid msgpack
  std::string garbage(kGarbage, sizeof(kGarbage) - 1);
  // A pre-vote that would change nothing even if it were taken.
  auto pre_vote = [](core::NodeId from, core::NodeId to) {
    core::Message m;
    m.from = from;
    m.to = to;
    m.term = 1;
    m.body = core::RequestVote{0, 0, true, false};
    return wire::EncodeMessage(m);
  };
  // One byte over the frame limit (raftlogd's default).
  std::string oversized(wire::DecodeLimits().max_frame_bytes + 1, 'x');
  // Peer socket: garbage, a stranger's message, one for another node, an
  // oversized frame.
  auto p1 = dealer(c.peer_endpoint(target));
  p1->send(zmq::buffer(garbage));
  auto p2 = dealer(c.peer_endpoint(target));
  p2->send(zmq::buffer(pre_vote(99, target)));
  auto p3 = dealer(c.peer_endpoint(target));
  p3->send(zmq::buffer(pre_vote(known_peer, 99)));
  auto p4 = dealer(c.peer_endpoint(target));
  p4->send(zmq::buffer(oversized));
  // Client socket: garbage gets an error reply; an oversized frame is cut off.
  auto c1 = dealer(c.client_endpoint(target));
  c1->send(zmq::buffer(garbage));
  auto c2 = dealer(c.client_endpoint(target));
  c2->send(zmq::buffer(oversized));

  zmq::pollitem_t item{c1->handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, 5000ms);
  ASSERT_TRUE(item.revents & ZMQ_POLLIN) << "garbage on the client socket gets a reply";
  zmq::message_t reply;
  ASSERT_TRUE(c1->recv(reply));
  wire::ClientReply decoded;
  ASSERT_TRUE(
      wire::DecodeReply(static_cast<const char*>(reply.data()), reply.size(), {}, &decoded).ok());
  EXPECT_EQ(decoded.code, wire::kInvalidInput);

  NodeCounters counters;
  auto counter = [&](const char* name) -> uint64_t {
    for (const auto& [k, v] : counters) {
      if (k == name) return v;
    }
    return 0;
  };
  wire::NodeStatus st;
  bool counted = ProcessCluster::wait_for(
      [&] {
        return c.status(target, &st, &counters).ok() && counter("peer_dropped_malformed") >= 1 &&
               counter("peer_dropped_unknown_sender") >= 1 &&
               counter("peer_dropped_misaddressed") >= 1 &&
               counter("peer_connections_closed") >= 1 && counter("client_rejected_malformed") >= 1;
      },
      10s);
  EXPECT_TRUE(counted) << "malformed=" << counter("peer_dropped_malformed")
                       << " unknown_sender=" << counter("peer_dropped_unknown_sender")
                       << " misaddressed=" << counter("peer_dropped_misaddressed")
                       << " closed=" << counter("peer_connections_closed")
                       << " client_malformed=" << counter("client_rejected_malformed");
  EXPECT_NE(c.log_text(target).find("unknown sender 99"), std::string::npos);
  EXPECT_NE(c.log_text(target).find("addressed to node 99"), std::string::npos);
  EXPECT_NE(c.log_text(target).find("client socket: rejected a request"), std::string::npos);

  // Still serving: the same leader, and new entries commit on the target.
  std::vector<core::LogIndex> acked = AppendMany(c, 10, 64, 1, "after-garbage");
  ASSERT_EQ(acked.size(), 10u);
  EXPECT_TRUE(WaitForCommit(c, target, *std::max_element(acked.begin(), acked.end())));
  EXPECT_EQ(c.agreed_leader(), leader);
}

TEST(Daemon, BadConfigurationIsAClearErrorAndANonZeroExit) {
  auto run = [](const std::string& args, std::string* output) {
    std::string cmd = std::string(RAFTLOGD_PATH) + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    output->clear();
    while (size_t n = fread(buf, 1, sizeof(buf), p)) output->append(buf, n);
    return WEXITSTATUS(pclose(p));
  };
  std::string out;
  EXPECT_EQ(run("--no-such-option", &out), 2);
  EXPECT_NE(out.find("no-such-option"), std::string::npos) << out;
  EXPECT_EQ(run("--id 1 --data-dir /tmp/x", &out), 2);
  EXPECT_NE(out.find("peer"), std::string::npos) << out;
  EXPECT_EQ(run("--id 1 --data-dir /tmp/x --peer 1=tcp://127.0.0.1:1,tcp://127.0.0.1:2 "
                "--tick-ms banana",
                &out),
            2);
  EXPECT_NE(out.find("tick-ms"), std::string::npos) << out;
  EXPECT_EQ(run("--id 4 --data-dir /tmp/x --peer 1=tcp://127.0.0.1:1,tcp://127.0.0.1:2", &out), 2);
  EXPECT_NE(out.find("not in the peer list"), std::string::npos) << out;
  EXPECT_EQ(run("--help", &out), 0);
  for (const char* option : {"--id", "--peer", "--data-dir", "--tick-ms", "--election-ticks",
                             "--max-frame-bytes", "--log-level"}) {
    EXPECT_NE(out.find(option), std::string::npos) << option;
  }
}

}  // namespace
}  // namespace raftlog::testing
