// Producer against real raftlogd processes: pipelined pushes, redirects, and
// exactly-once across a leader change. Every check ends in the cluster's
// committed log: each event there once, at the index its ack reported.
#include "raftlog/producer.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "push_testing.h"

namespace raftlog::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Takes outcomes until `count` are in (keyed by seq) or the deadline passes.
std::map<uint64_t, Producer::Ack> CollectAcks(Producer& p, size_t count,
                                              std::chrono::milliseconds deadline,
                                              std::map<uint64_t, Producer::Ack> acks = {}) {
  Clock::time_point end = Clock::now() + deadline;
  Producer::Ack ack;
  while (acks.size() < count && Clock::now() < end) {
    if (p.poll_ack(&ack, 100ms)) {
      EXPECT_EQ(acks.count(ack.seq), 0u) << "seq " << ack.seq << " acked twice";
      acks[ack.seq] = ack;
    }
  }
  return acks;
}

std::string Payload(uint64_t i) {
  return "event-" + std::to_string(i);
}

// Every seq 1..count acked ok; the log of node holds each exactly once, at
// the acked index, with its payload.
void ExpectLoggedOnceAtAckedIndex(ProcessCluster& c, core::NodeId node, const std::string& producer,
                                  const std::map<uint64_t, Producer::Ack>& acks, size_t count) {
  ASSERT_TRUE(WaitForEvents(c, node, producer, count, 10s));
  auto logged = EventsOf(c, node, producer);
  ASSERT_EQ(logged.size(), count);
  for (uint64_t seq = 1; seq <= count; ++seq) {
    ASSERT_EQ(logged[seq].size(), 1u) << "seq " << seq << " appended more than once";
    const Producer::Ack& ack = acks.at(seq);
    EXPECT_TRUE(ack.status.ok()) << "seq " << seq << ": " << ack.status.ToString();
    EXPECT_EQ(logged[seq][0].index, ack.index) << "seq " << seq;
    EXPECT_EQ(logged[seq][0].record.payload, Payload(seq));
  }
}

TEST(ProducerTest, AcksEveryEventWithItsOwnIndexWithinTheWindow) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  ProducerOptions o;
  o.endpoints = c.client_endpoints();
  o.window = 64;
  Producer p(o);
  const size_t kEvents = 2000;
  std::map<uint64_t, Producer::Ack> acks;
  Producer::Ack ack;
  for (size_t i = 1; i <= kEvents; ++i) {
    uint64_t seq = 0;
    ASSERT_TRUE(p.push("orders", Payload(i), &seq).ok());
    EXPECT_EQ(seq, i);  // numbered in push order
    EXPECT_LE(p.in_flight(), o.window);
    while (p.poll_ack(&ack, 0ms)) acks[ack.seq] = ack;
  }
  acks = CollectAcks(p, kEvents, 30s, std::move(acks));
  ASSERT_EQ(acks.size(), kEvents);
  // Without faults nothing is retried, and one connection keeps push order:
  // the indexes rise with the seqs (so none is shared).
  core::LogIndex previous = 0;
  for (const auto& [seq, a] : acks) {
    EXPECT_FALSE(a.duplicate) << "seq " << seq;
    EXPECT_GT(a.index, previous) << "seq " << seq;
    previous = a.index;
  }
  EXPECT_TRUE(p.flush(0ms).ok());
  EXPECT_EQ(p.in_flight(), 0u);
  ExpectLoggedOnceAtAckedIndex(c, leader, p.producer_id(), acks, kEvents);
}

// The leader's count of client requests.
uint64_t ClientRequests(ProcessCluster& c, core::NodeId node) {
  wire::NodeStatus st;
  NodeCounters counters;
  if (!c.status(node, &st, &counters).ok()) return 0;
  for (const auto& [name, value] : counters) {
    if (name == "client_requests") return value;
  }
  return 0;
}

TEST(ProducerTest, AStreamGoesOutInBatchesAndASingleEventAtOnce) {
  // Elections after 2-4 s of silence: the leader is paused below, briefly,
  // and must still lead when it resumes.
  ClusterTiming timing;
  timing.election_ticks = 100;
  ProcessCluster c(3, timing);
  c.start_all();
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  for (size_t max_batch : {size_t{256}, size_t{1}}) {
    ProducerOptions o;
    o.endpoints = {c.client_endpoint(leader)};
    o.window = 256;
    o.max_requests = 2;
    o.max_batch = max_batch;
    o.request_timeout = 60s;  // no resend while the leader is paused
    Producer p(o);
    // One event, nothing else in flight: it goes out at once, alone.
    uint64_t seq = 0;
    ASSERT_TRUE(p.push("orders", Payload(1), &seq).ok());
    auto acks = CollectAcks(p, 1, 10s);
    ASSERT_EQ(acks.size(), 1u);
    wire::NodeStatus st;
    ASSERT_TRUE(c.status(leader, &st).ok());
    const core::Term term = st.term;
    const uint64_t before = ClientRequests(c, leader);
    // The leader paused, the first two pushes go out as two requests that
    // stay unanswered, and every push after them is held back behind them
    // (max_requests 2), however fast or slow this machine is.
    c.signal(leader, SIGSTOP);
    const size_t kEvents = 1 + o.window;
    for (size_t i = 2; i <= kEvents; ++i) {
      ASSERT_TRUE(p.push("orders", Payload(i), &seq, 0ms).ok()) << "the window has room";
    }
    EXPECT_EQ(p.in_flight(), kEvents - 1);
    c.signal(leader, SIGCONT);
    acks = CollectAcks(p, kEvents, 30s, std::move(acks));
    ASSERT_EQ(acks.size(), kEvents);
    const uint64_t requests = ClientRequests(c, leader) - before - 1;  // less this status call
    ASSERT_TRUE(c.status(leader, &st).ok());
    ASSERT_EQ(st.term, term) << "the pause cost the leadership: the request count means nothing";
    const size_t held = kEvents - 1 - 2;
    if (max_batch > 1) {
      EXPECT_LE(requests, 2 + (held + max_batch - 1) / max_batch)
          << "the two sent at once, then the held-back events together";
    } else {
      EXPECT_EQ(requests, kEvents - 1) << "max_batch 1: one request per event";
    }
    ExpectLoggedOnceAtAckedIndex(c, leader, p.producer_id(), acks, kEvents);
  }
}

TEST(ProducerTest, FollowsTheRedirectFromAFollower) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  core::NodeId follower = leader % 3 + 1;
  ProducerOptions o;
  o.endpoints = {c.client_endpoint(follower)};  // the only endpoint it knows
  Producer p(o);
  const size_t kEvents = 10;
  for (size_t i = 1; i <= kEvents; ++i) {
    uint64_t seq = 0;
    ASSERT_TRUE(p.push("orders", Payload(i), &seq).ok());
  }
  auto acks = CollectAcks(p, kEvents, 10s);
  ASSERT_EQ(acks.size(), kEvents);
  ExpectLoggedOnceAtAckedIndex(c, leader, p.producer_id(), acks, kEvents);
}

TEST(ProducerTest, RetryAfterALeaderChangeReturnsTheOriginalIndex) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId old_leader = WaitForLeader(c);
  ASSERT_NE(old_leader, 0u);
  ProducerOptions o;
  o.endpoints = c.client_endpoints();
  o.producer_id = "retrying-producer";
  o.request_timeout = 500ms;
  const size_t kEvents = 20;
  std::map<uint64_t, Producer::Ack> first;
  {
    Producer p(o);
    for (size_t i = 1; i <= kEvents; ++i) {
      uint64_t seq = 0;
      ASSERT_TRUE(p.push("orders", Payload(i), &seq).ok());
    }
    first = CollectAcks(p, kEvents, 10s);
    ASSERT_EQ(first.size(), kEvents);
  }

  c.signal(old_leader, SIGKILL);
  core::NodeId new_leader = WaitForLeader(c);
  ASSERT_NE(new_leader, 0u);
  ASSERT_NE(new_leader, old_leader);

  // The same producer, as if restarted after not hearing its acks: the same
  // (producer, seq) pushed again, now to another leader.
  Producer again(o);
  for (size_t i = 1; i <= kEvents; ++i) {
    uint64_t seq = 0;
    ASSERT_TRUE(again.push("orders", Payload(i), &seq).ok());
  }
  auto second = CollectAcks(again, kEvents, 10s);
  ASSERT_EQ(second.size(), kEvents);
  core::LogIndex highest = 0;
  for (uint64_t seq = 1; seq <= kEvents; ++seq) {
    EXPECT_TRUE(second[seq].status.ok()) << second[seq].status.ToString();
    EXPECT_TRUE(second[seq].duplicate) << "seq " << seq;
    EXPECT_EQ(second[seq].index, first[seq].index) << "seq " << seq;
    highest = std::max(highest, first[seq].index);
  }
  // A new number is a new event.
  uint64_t seq = 0;
  ASSERT_TRUE(again.push("orders", Payload(kEvents + 1), &seq).ok());
  ASSERT_EQ(seq, kEvents + 1);
  second = CollectAcks(again, kEvents + 1, 10s, std::move(second));
  ASSERT_EQ(second.count(seq), 1u);
  EXPECT_FALSE(second[seq].duplicate);
  EXPECT_GT(second[seq].index, highest);
  ExpectLoggedOnceAtAckedIndex(c, new_leader, o.producer_id, second, kEvents + 1);
}

TEST(ProducerTest, EveryEventOnceWhenTheLeaderDiesMidStream) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId old_leader = WaitForLeader(c);
  ASSERT_NE(old_leader, 0u);
  ProducerOptions o;
  o.endpoints = c.client_endpoints();
  o.request_timeout = 500ms;
  o.window = 256;  // the pushes while the leader is paused fit
  Producer p(o);
  const size_t kEvents = 300, kBeforePause = 100, kWhilePaused = 50;
  std::map<uint64_t, Producer::Ack> acks;
  uint64_t seq = 0;
  for (size_t i = 1; i <= kBeforePause; ++i) ASSERT_TRUE(p.push("orders", Payload(i), &seq).ok());
  // Once it has acked something, the leader is paused: what is pushed from
  // then on is in flight for certain when it is killed.
  acks = CollectAcks(p, 1, 10s);
  ASSERT_FALSE(acks.empty());
  c.signal(old_leader, SIGSTOP);
  for (size_t i = kBeforePause + 1; i <= kBeforePause + kWhilePaused; ++i) {
    ASSERT_TRUE(p.push("orders", Payload(i), &seq).ok());
  }
  EXPECT_GE(p.in_flight(), kWhilePaused);
  c.signal(old_leader, SIGKILL);
  for (size_t i = kBeforePause + kWhilePaused + 1; i <= kEvents; ++i) {
    ASSERT_TRUE(p.push("orders", Payload(i), &seq).ok());
  }
  acks = CollectAcks(p, kEvents, 30s, std::move(acks));
  ASSERT_EQ(acks.size(), kEvents) << p.flush(0ms).ToString();
  core::NodeId new_leader = WaitForLeader(c);
  ASSERT_NE(new_leader, 0u);
  ExpectLoggedOnceAtAckedIndex(c, new_leader, p.producer_id(), acks, kEvents);
}

TEST(ProducerTest, RejectsABadTopicWithoutUsingASeq) {
  ProducerOptions o;
  o.endpoints = {"tcp://127.0.0.1:1"};
  Producer p(o);
  uint64_t seq = 0;
  EXPECT_TRUE(p.push("_raftlog.mine", "x", &seq).IsInvalidInput());
  EXPECT_TRUE(p.push("", "x", &seq).IsInvalidInput());
  EXPECT_EQ(p.next_seq(), 1u);
  EXPECT_EQ(p.in_flight(), 0u);
}

TEST(ProducerTest, RefusesAWindowLargerThanEveryNodeRemembers) {
  ProducerOptions o;
  o.endpoints = {"tcp://127.0.0.1:1"};
  o.window = wire::kMinProducerWindow + 1;
  Producer p(o);
  uint64_t seq = 0;
  Status s = p.push("orders", "x", &seq);
  EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
  EXPECT_NE(s.message().find("window 1025"), std::string::npos) << s.ToString();
  EXPECT_EQ(p.in_flight(), 0u);
}

TEST(ProducerTest, FlushNamesTheUnackedWhenNoNodeAnswers) {
  ProducerOptions o;
  o.endpoints = {"tcp://127.0.0.1:" + std::to_string(FreePort())};  // nobody listens
  o.window = 2;
  Producer p(o);
  uint64_t seq = 0;
  ASSERT_TRUE(p.push("orders", "a", &seq).ok());
  ASSERT_TRUE(p.push("orders", "b", &seq).ok());
  // The window is full and stays so: push gives up after max_wait.
  EXPECT_TRUE(p.push("orders", "c", &seq, 50ms).IsBusy());
  Status s = p.flush(300ms);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("2 events unacked"), std::string::npos) << s.ToString();
  ASSERT_EQ(p.unacked().size(), 2u);
  EXPECT_EQ(p.unacked()[0].seq, 1u);
  EXPECT_FALSE(p.unacked()[0].last_error.ok());
}

TEST(ProducerTest, AnEventNotAckedWithinGiveUpAfterFailsAsOutcomeUnknown) {
  // A node that takes requests and never answers: every attempt times out.
  zmq::context_t context(1);
  zmq::socket_t silent(context, zmq::socket_type::router);
  silent.set(zmq::sockopt::linger, 0);
  silent.bind("tcp://127.0.0.1:*");
  ProducerOptions o;
  o.endpoints = {silent.get(zmq::sockopt::last_endpoint)};
  o.request_timeout = 100ms;
  o.give_up_after = 400ms;
  Producer p(o);
  uint64_t seq = 0;
  const Clock::time_point start = Clock::now();
  ASSERT_TRUE(p.push("orders", "a", &seq).ok());
  Producer::Ack ack;
  ASSERT_TRUE(p.poll_ack(&ack, 10s));
  EXPECT_GE(Clock::now() - start, 400ms);
  EXPECT_EQ(ack.seq, seq);
  EXPECT_EQ(ack.index, 0u);
  EXPECT_TRUE(ack.status.IsIOError()) << ack.status.ToString();
  EXPECT_NE(ack.status.message().find("outcome is unknown"), std::string::npos)
      << ack.status.ToString();
  EXPECT_NE(ack.status.message().find("no reply"), std::string::npos) << ack.status.ToString();
  EXPECT_EQ(p.in_flight(), 0u);
}

TEST(ProducerTest, TheWindowBoundsTheSpanOfSeqsInFlightNotOnlyTheirCount) {
  // A node that acks every push but seq 1's: seq 1 stays in flight (and is
  // retried) while the later ones are acked. New pushes must stop `window`
  // numbers after it, or a late retry of seq 1 could fall below the numbers
  // the cluster remembers and fail with its outcome unknown.
  zmq::context_t context(1);
  zmq::socket_t node(context, zmq::socket_type::router);
  node.set(zmq::sockopt::linger, 0);
  node.bind("tcp://127.0.0.1:*");
  const std::string endpoint = node.get(zmq::sockopt::last_endpoint);
  std::atomic<bool> stop{false};
  std::atomic<bool> got_first{false};
  std::thread server([&] {
    core::LogIndex index = 0;
    while (!stop) {
      zmq::pollitem_t item{node.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      if ((item.revents & ZMQ_POLLIN) == 0) continue;
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(node, std::back_inserter(frames))) continue;
      wire::PushRequestView push;
      const auto* data = static_cast<const char*>(frames.back().data());
      if (!wire::DecodePushRequest(data, frames.back().size(), {}, &push).ok()) continue;
      if (push.seq == 1) {  // never answered
        got_first = true;
        continue;
      }
      std::string reply;
      wire::EncodePushReply(push.request_id, wire::PushResult{++index, 1, false}, true, &reply);
      node.send(frames[0], zmq::send_flags::sndmore);
      node.send(zmq::buffer(reply));
    }
  });
  ProducerOptions o;
  o.endpoints = {endpoint};
  o.window = 4;
  o.request_timeout = 10s;  // seq 1 stays in flight for the whole test
  Producer p(o);
  uint64_t seq = 0;
  // Seq 1 alone first (pushes waiting for a connection would go out
  // together, as one push_batch), then 2..4 on the live connection.
  ASSERT_TRUE(p.push("orders", "x", &seq, 2s).ok());
  Producer::Ack none;
  for (int i = 0; i < 250 && !got_first; ++i) p.poll_ack(&none, 20ms);
  ASSERT_TRUE(got_first);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(p.push("orders", "x", &seq, 2s).ok());
  // 2..4 get acked; seq 1 does not.
  std::map<uint64_t, Producer::Ack> acks = CollectAcks(p, 3, 5s);
  EXPECT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks.count(1), 0u);
  EXPECT_EQ(p.in_flight(), 1u);
  // One event in flight, but seq 5 would be 4 numbers past it: the window is full.
  Status s = p.push("orders", "y", &seq, 200ms);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_EQ(p.next_seq(), 5u);
  stop = true;
  server.join();
}

TEST(ProducerTest, RefusesANegativeGiveUpAfter) {
  ProducerOptions o;
  o.endpoints = {"tcp://127.0.0.1:1"};
  o.give_up_after = -1ms;
  Producer p(o);
  uint64_t seq = 0;
  EXPECT_TRUE(p.push("orders", "x", &seq).IsInvalidInput());
}

}  // namespace
}  // namespace raftlog::testing
