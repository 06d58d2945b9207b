// Subscriber against real raftlogd processes (ProcessCluster): what a
// subscriber receives is exactly the committed Command entries of the log,
// in order, whatever the stream lost — a leader killed mid-stream, a
// subscriber too slow for the high-water marks, a broker in between.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <set>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "process_cluster.h"
#include "raftlog/subscriber.h"
#include "raftlog/wire/event_ops.h"

extern char** environ;

namespace raftlog::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Appends count payloads (of at least pad bytes) one after another through
// the cluster's leader; returns how many were acknowledged.
int AppendMany(const ProcessCluster& c, int count, const std::string& tag, size_t pad = 0) {
  ClientOptions o;
  o.endpoints = c.client_endpoints();
  o.request_timeout = 1000ms;
  Client client(o);
  int acked = 0;
  for (int i = 0; i < count; ++i) {
    wire::AppendResult r;
    std::string payload = tag + std::to_string(i);
    payload.resize(std::max(pad, payload.size()), '.');
    if (client.append(payload, 5s, &r).ok()) ++acked;
  }
  return acked;
}

// The indexes of the Command entries node id holds, from 1 on.
std::vector<core::LogIndex> CommandIndexes(ProcessCluster& c, core::NodeId id) {
  std::vector<core::Entry> entries;
  EXPECT_TRUE(c.fetch_all(id, &entries).ok());
  std::vector<core::LogIndex> out;
  for (const core::Entry& e : entries) {
    if (e.type == core::EntryType::kCommand) out.push_back(e.index);
  }
  return out;
}

// Reads until the subscriber has delivered through index `through`, or
// the deadline passes.
std::vector<core::LogIndex> ReadThrough(Subscriber& sub, core::LogIndex through,
                                        std::chrono::milliseconds deadline) {
  std::vector<core::LogIndex> got;
  auto end = Clock::now() + deadline;
  while ((got.empty() || got.back() < through) && Clock::now() < end) {
    ReceivedEvent e;
    Status s = sub.next(&e, 100ms);
    if (s.ok()) {
      got.push_back(e.index);
    } else if (!s.IsBusy()) {
      ADD_FAILURE() << s.ToString();
      break;
    }
  }
  return got;
}

SubscriberOptions FromStart(const ProcessCluster& c) {
  SubscriberOptions o;
  o.pub_endpoints = c.pub_endpoints();
  o.client_endpoints = c.client_endpoints();
  o.start = SubscriberOptions::Start::kFrom;
  o.from = 1;
  o.fetch_timeout = 500ms;
  return o;
}

// The leader all running nodes agree on, waiting up to 10 s for one; 0 if none.
core::NodeId WaitForLeader(ProcessCluster& c) {
  core::NodeId leader = 0;
  ProcessCluster::wait_for([&] { return (leader = c.agreed_leader()) != 0; }, 10s);
  return leader;
}

TEST(SubscriberClusterTest, EveryCommittedEventOnceInOrderThoughTheLeaderIsKilled) {
  ProcessCluster c(3);
  c.start_all();
  ASSERT_NE(WaitForLeader(c), 0u);
  std::unique_ptr<Subscriber> sub;
  ASSERT_TRUE(Subscriber::Open(FromStart(c), &sub).ok());

  ASSERT_EQ(AppendMany(c, 100, "before-"), 100);
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  c.signal(leader, SIGKILL);
  ASSERT_NE(WaitForLeader(c), 0u);
  AppendMany(c, 100, "after-");  // an append in flight at the kill may fail; the log decides

  core::NodeId survivor = WaitForLeader(c);
  ASSERT_NE(survivor, 0u);
  std::vector<core::LogIndex> want = CommandIndexes(c, survivor);
  ASSERT_GE(want.size(), 199u);
  EXPECT_EQ(ReadThrough(*sub, want.back(), 20s), want);
  // And nothing twice: an entry appended after all that is the very next
  // event delivered (a duplicate would come first; a hang fails the
  // deadline). Both surviving nodes publish it: the subscriber then counts
  // the second copy as a duplicate, and delivers nothing more meanwhile.
  ClientOptions co;
  co.endpoints = c.client_endpoints();
  Client client(co);
  const uint64_t duplicates = sub->stats().duplicates;
  wire::AppendResult marker;
  ASSERT_TRUE(client.append("marker", 10s, &marker).ok());
  EXPECT_EQ(ReadThrough(*sub, marker.index, 20s), std::vector<core::LogIndex>{marker.index});
  ReceivedEvent e;
  bool delivered = false;
  EXPECT_TRUE(ProcessCluster::wait_for(
      [&] {
        delivered = delivered || sub->next(&e, 10ms).ok();
        return delivered || sub->stats().duplicates > duplicates;
      },
      20s))
      << "the other copy of the marker never arrived";
  EXPECT_FALSE(delivered) << "delivered after the marker: index " << e.index;
}

TEST(SubscriberClusterTest, ASlowSubscriberReceivesEverythingThroughFetch) {
  // Tiny queues on both sides: most of the stream is dropped while the
  // subscriber does not read. (Big events, and many: the kernel's loopback
  // TCP buffers hold megabytes that no high-water mark counts, about 100
  // events of 32 KiB seen in one run; 1,000 keeps "most" true whatever they
  // hold.)
  ProcessCluster c(3, {}, {"--pub-hwm=5"});
  c.start_all();
  ASSERT_NE(WaitForLeader(c), 0u);
  SubscriberOptions o = FromStart(c);
  o.rcvhwm = 5;
  o.fetch_max_count = 50;  // several fetches
  std::unique_ptr<Subscriber> sub;
  ASSERT_TRUE(Subscriber::Open(o, &sub).ok());
  ReceivedEvent e;
  (void)sub->next(&e, 200ms);  // the start: fetches what is there (at most a Noop)

  ASSERT_EQ(AppendMany(c, 1000, "slow-", 32 << 10), 1000);
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  std::vector<core::LogIndex> want = CommandIndexes(c, leader);
  ASSERT_EQ(want.size(), 1000u);
  std::vector<core::LogIndex> got = ReadThrough(*sub, want.back(), 20s);
  EXPECT_EQ(got, want);
  EXPECT_GE(sub->stats().gaps, 1u);
  EXPECT_GE(sub->stats().fetched_entries, 800u);
}

// raftlog-broker between the nodes and the subscriber, stopped by SIGTERM.
class Broker {
 public:
  Broker(const std::string& xsub, const std::string& xpub) {
    std::vector<std::string> args = {RAFTLOG_BROKER_PATH, "--xsub", xsub, "--xpub", xpub};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, RAFTLOG_BROKER_PATH, nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
  }
  ~Broker() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool running() const { return pid_ > 0; }
  // SIGTERM, and the exit status once it has exited.
  int terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

// Waits (up to 10 s) for a heartbeat of each of nodes 1..n on endpoint.
bool HeartbeatsFromEveryNode(const std::string& endpoint, core::NodeId n) {
  zmq::context_t context(1);
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, wire::kHeartbeatTopic);
  sub.connect(endpoint);
  std::set<core::NodeId> seen;
  auto end = Clock::now() + 10s;
  while (seen.size() < n && Clock::now() < end) {
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, 100ms) == 0) continue;
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(sub, std::back_inserter(frames)) || frames.size() != 2) continue;
    wire::PublishedHeartbeat hb;
    if (wire::DecodePublishedHeartbeat(frames[1].data<char>(), frames[1].size(), {}, &hb).ok()) {
      seen.insert(hb.node);
    }
  }
  return seen.size() == n;
}

TEST(SubscriberClusterTest, ThroughABrokerEveryNodesStreamArrivesOnce) {
  std::string xsub = "tcp://127.0.0.1:" + std::to_string(FreePort());
  std::string xpub = "tcp://127.0.0.1:" + std::to_string(FreePort());
  Broker broker(xsub, xpub);
  ASSERT_TRUE(broker.running());
  ProcessCluster c(3, {}, {"--pub-connect=" + xsub});
  c.start_all();
  ASSERT_NE(WaitForLeader(c), 0u);
  SubscriberOptions o = FromStart(c);
  o.pub_endpoints = {xpub};
  std::unique_ptr<Subscriber> sub;
  ASSERT_TRUE(Subscriber::Open(o, &sub).ok());
  // Before pushing: every node's stream reaches the broker, and the broker
  // forwards to this subscriber (so that no event comes by fetch alone).
  ASSERT_TRUE(HeartbeatsFromEveryNode(xpub, 3));
  ReceivedEvent e;
  ASSERT_TRUE(ProcessCluster::wait_for(
      [&] {
        (void)sub->next(&e, 10ms);
        return sub->stats().heartbeats > 0;
      },
      5s));

  ASSERT_EQ(AppendMany(c, 50, "brokered-"), 50);
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  std::vector<core::LogIndex> want = CommandIndexes(c, leader);
  EXPECT_EQ(ReadThrough(*sub, want.back(), 10s), want);
  // Three nodes published each event: the broker carried them all, and the
  // subscriber kept one of each.
  EXPECT_TRUE(ProcessCluster::wait_for(
      [&] {
        (void)sub->next(&e, 10ms);
        return sub->stats().live_events + sub->stats().duplicates == 3 * want.size();
      },
      5s))
      << sub->stats().live_events << " live, " << sub->stats().duplicates << " duplicates";
  int status = broker.terminate();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace raftlog::testing
