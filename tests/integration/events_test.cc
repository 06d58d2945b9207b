// The event layer of raftlogd, from the outside: exactly-once push and the
// PUB stream (docs/protocol.md "Op push", "The PUB stream").
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <zmq.hpp>

#include "client/client_internals.h"
#include "process_cluster.h"
#include "raftlog/producer.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"

namespace raftlog::testing {
namespace {

using namespace std::chrono_literals;

// A reply as it came: a Producer reads an ok one straight from the frame.
std::string FrameOf(const wire::ClientReply& reply) {
  std::string frame;
  wire::EncodeReply(reply, &frame);
  return frame;
}

// Pushes (producer, seq) to the leader, following redirects, until the deadline.
Status Push(ProcessCluster& c, const std::string& producer, uint64_t seq,
            const std::string& payload, wire::PushResult* out) {
  auto end = std::chrono::steady_clock::now() + 10s;
  std::string endpoint = c.client_endpoints()[0];
  Status last;
  while (std::chrono::steady_clock::now() < end) {
    wire::ClientReply reply;
    wire::PushArgs args{"orders", payload, producer, seq};
    last = ClientInternals::Call(c.client(), endpoint, wire::kPushOp, wire::EncodePushArgs(args),
                                 &reply);
    if (last.ok()) last = ReplyStatus(reply);
    if (last.ok()) {
      const std::string frame = FrameOf(reply);
      uint64_t id = 0;
      return wire::DecodePushReply(frame.data(), frame.size(), {}, &id, out);
    }
    wire::NotLeaderInfo info;
    if (last.IsNotLeader() && wire::DecodeNotLeaderBody(reply.body, &info).ok() &&
        !info.leader_endpoint.empty()) {
      endpoint = info.leader_endpoint;
    } else {
      ProcessCluster::wait_for([] { return false; }, 20ms);  // an election: wait a moment
      endpoint = c.client_endpoints()[seq % c.size()];
    }
  }
  return last;
}

TEST(Push, ARetriedSequenceNumberGetsTheOriginalIndexEvenAfterALeaderChange) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId leader = 0;
  ASSERT_TRUE(ProcessCluster::wait_for([&] { return (leader = c.agreed_leader()) != 0; }, 10s));

  wire::PushResult first, again;
  ASSERT_TRUE(Push(c, "p1", 1, "a", &first).ok());
  EXPECT_FALSE(first.duplicate);
  ASSERT_TRUE(Push(c, "p1", 1, "a", &again).ok());
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.index, first.index);

  c.signal(leader, SIGKILL);
  ASSERT_TRUE(ProcessCluster::wait_for([&] { return c.agreed_leader() != 0; }, 10s));
  ASSERT_TRUE(Push(c, "p1", 1, "a", &again).ok());
  EXPECT_TRUE(again.duplicate) << "the new leader knows it from the replicated table";
  EXPECT_EQ(again.index, first.index);
  EXPECT_EQ(again.term, first.term);

  wire::PushResult second;
  ASSERT_TRUE(Push(c, "p1", 2, "b", &second).ok());
  EXPECT_FALSE(second.duplicate);
  EXPECT_GT(second.index, first.index);
  // Another producer's seq 1 is its own.
  wire::PushResult other;
  ASSERT_TRUE(Push(c, "p2", 1, "a", &other).ok());
  EXPECT_FALSE(other.duplicate);
}

TEST(Push, RestartedClusterStillKnowsEveryProducer) {
  ProcessCluster c(3);
  c.start_all();
  ASSERT_TRUE(ProcessCluster::wait_for([&] { return c.agreed_leader() != 0; }, 10s));
  // Three producers, their pushes interleaved, each at its own seqs.
  const std::vector<std::string> producers = {"p1", "p2", "p3"};
  std::map<std::pair<std::string, uint64_t>, wire::PushResult> first;
  for (uint64_t round = 0; round < 3; ++round) {
    for (size_t k = 0; k < producers.size(); ++k) {
      uint64_t seq = 10 * (k + 1) + round;
      wire::PushResult r;
      ASSERT_TRUE(Push(c, producers[k], seq, producers[k] + "-" + std::to_string(seq), &r).ok());
      ASSERT_FALSE(r.duplicate);
      first[{producers[k], seq}] = r;
    }
  }
  for (core::NodeId id = 1; id <= 3; ++id) ASSERT_EQ(WEXITSTATUS(c.signal(id, SIGTERM)), 0);
  c.start_all();
  // Every (producer, seq) is known again: a retry gets the original index.
  for (const auto& [key, r] : first) {
    wire::PushResult again;
    ASSERT_TRUE(
        Push(c, key.first, key.second, key.first + "-" + std::to_string(key.second), &again).ok());
    EXPECT_TRUE(again.duplicate) << key.first << " seq " << key.second;
    EXPECT_EQ(again.index, r.index) << key.first << " seq " << key.second;
  }
  // And each producer's next seq is a new event.
  for (size_t k = 0; k < producers.size(); ++k) {
    wire::PushResult next;
    ASSERT_TRUE(Push(c, producers[k], 10 * (k + 1) + 3, "next", &next).ok());
    EXPECT_FALSE(next.duplicate) << producers[k];
  }
}

// A leader elected while it is still applying its log (after a restart,
// applied < commit) must not take a retry of an entry in that gap for a new
// event. One node with a long log and a 10 ms election: it leads long before
// it has replayed the log, and the producer retries its last events at once.
TEST(Push, ARetryToALeaderStillApplyingItsLogIsNotAppendedAgain) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr uint64_t kEvents = 200'000;  // ASan replays about as much slower as it pushes
#else
  constexpr uint64_t kEvents = 1'500'000;
#endif
  constexpr uint64_t kRetried = 100;
  ProcessCluster c(1, ClusterTiming{.tick_ms = 5, .election_ticks = 2, .heartbeat_ticks = 1});
  c.start_all();
  ASSERT_TRUE(ProcessCluster::wait_for([&] { return c.agreed_leader() != 0; }, 10s));
  ProducerOptions opts;
  opts.endpoints = c.client_endpoints();
  opts.producer_id = "replayed";
  opts.window = 1024;
  std::map<uint64_t, core::LogIndex> first;  // the last kRetried seqs' indexes
  {
    Producer p(opts);
    Producer::Ack ack;
    auto collect = [&](std::chrono::milliseconds wait) {
      while (p.poll_ack(&ack, wait)) {
        ASSERT_TRUE(ack.status.ok()) << ack.seq << ": " << ack.status.ToString();
        if (ack.seq > kEvents - kRetried) first[ack.seq] = ack.index;
        wait = 0ms;
      }
    };
    for (uint64_t i = 1; i <= kEvents; ++i) {
      uint64_t seq = 0;
      ASSERT_TRUE(p.push("t", "e", &seq).ok());
      if (p.in_flight() >= opts.window) collect(0ms);
    }
    ASSERT_TRUE(p.flush(60s).ok());
    collect(0ms);
  }
  ASSERT_EQ(first.size(), kRetried);
  wire::NodeStatus before;
  ASSERT_TRUE(c.status(1, &before).ok());

  c.signal(1, SIGKILL);
  c.start(1);
  opts.first_seq = kEvents - kRetried + 1;
  opts.window = kRetried;
  Producer retry(opts);
  for (uint64_t i = 0; i < kRetried; ++i) {
    uint64_t seq = 0;
    ASSERT_TRUE(retry.push("t", "e", &seq).ok());
  }
  ASSERT_TRUE(retry.flush(60s).ok());
  Producer::Ack ack;
  size_t acked = 0;
  while (retry.poll_ack(&ack, 0ms)) {
    ++acked;
    ASSERT_TRUE(ack.status.ok()) << ack.seq << ": " << ack.status.ToString();
    EXPECT_TRUE(ack.duplicate) << "seq " << ack.seq;
    EXPECT_EQ(ack.index, first[ack.seq]) << "seq " << ack.seq;
  }
  EXPECT_EQ(acked, kRetried);
  wire::NodeStatus after;
  NodeCounters counters;
  ASSERT_TRUE(c.status(1, &after, &counters).ok());
  // The restart's leader no-op is the only new entry.
  EXPECT_EQ(after.last_index, before.last_index + 1) << "retries were appended again";
  for (const auto& [name, value] : counters) {
    if (name == "events_duplicates_skipped") {
      EXPECT_EQ(value, 0u);
    }
  }
}

TEST(Push, BadRequestsAreRejectedAndChangeNothing) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId leader = 0;
  ASSERT_TRUE(ProcessCluster::wait_for([&] { return (leader = c.agreed_leader()) != 0; }, 10s));
  wire::NodeStatus before;
  ASSERT_TRUE(c.status(leader, &before).ok());
  std::vector<wire::Value::Map> bad = {
      {{"payload", wire::Value::Bin("x")}},  // no topic
      {{"topic", wire::Value::Str("_raftlog.heartbeat")}, {"payload", wire::Value::Bin("x")}},
      {{"topic", wire::Value::Str("t")},
       {"payload", wire::Value::Bin("x")},
       {"producer", wire::Value::Str("p")}},  // no seq
      {{"topic", wire::Value::Str("t")},
       {"payload", wire::Value::Bin("x")},
       {"producer", wire::Value::Str("p")},
       {"seq", wire::Value::Uint(0)}},  // seq 0
  };
  for (const auto& args : bad) {
    wire::ClientReply reply;
    ASSERT_TRUE(
        ClientInternals::Call(c.client(), c.client_endpoint(leader), wire::kPushOp, args, &reply)
            .ok());
    EXPECT_EQ(reply.code, wire::kInvalidInput);
  }
  // A push that is not even a well-formed frame (a byte too many) is
  // answered too, addressed to its request, and counted as malformed; the
  // rule breakers above are not.
  std::string frame;
  wire::EncodePushRequest({77, false, "t", "x", "", 0}, &frame);
  frame += '\xc0';
  zmq::context_t ctx(1);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(c.client_endpoint(leader));
  dealer.send(zmq::buffer(frame));
  zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, 5000ms);
  zmq::message_t raw;
  ASSERT_TRUE(dealer.recv(raw, zmq::recv_flags::dontwait));
  wire::ClientReply reply;
  ASSERT_TRUE(wire::DecodeReply(static_cast<const char*>(raw.data()), raw.size(), {}, &reply).ok());
  EXPECT_EQ(reply.request_id, 77u);
  EXPECT_EQ(reply.code, wire::kInvalidInput);
  EXPECT_EQ(wire::Value::MakeMap(reply.body).Find("message")->as_str(),
            "client request: 1 trailing bytes after the message");
  wire::NodeStatus after;
  NodeCounters counters;
  ASSERT_TRUE(c.status(leader, &after, &counters).ok());
  EXPECT_EQ(after.last_index, before.last_index) << "nothing was appended";
  uint64_t malformed = 0;
  for (const auto& [name, value] : counters) {
    if (name == "client_rejected_malformed") malformed = value;
  }
  EXPECT_EQ(malformed, 1u);
}

// One push_batch to node `to`; the reply's results when ok.
Status PushBatch(ProcessCluster& c, core::NodeId to, const wire::PushBatchArgs& args,
                 std::vector<wire::PushResult>* results) {
  wire::ClientReply reply;
  Status s = ClientInternals::Call(c.client(), c.client_endpoint(to), wire::kPushBatchOp,
                                   wire::EncodePushBatchArgs(args), &reply);
  if (s.ok()) s = ReplyStatus(reply);
  if (!s.ok()) return s;
  const std::string frame = FrameOf(reply);
  uint64_t id = 0;
  return wire::DecodePushBatchReply(frame.data(), frame.size(), {}, &id, results);
}

TEST(PushBatch, EachEventOnceWithRetriesAnsweredAndBadBatchesChangingNothing) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId leader = 0;
  ASSERT_TRUE(ProcessCluster::wait_for([&] { return (leader = c.agreed_leader()) != 0; }, 10s));
  std::vector<wire::PushResult> r;
  ASSERT_TRUE(PushBatch(c, leader, {"pb", {{"a", "1", 1}, {"b", "2", 2}, {"a", "3", 3}}}, &r).ok());
  ASSERT_EQ(r.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(r[i].duplicate);
    EXPECT_EQ(r[i].index, r[0].index + i) << "one batch, appended in order";
  }
  const std::vector<wire::PushResult> first = r;

  // A retry overlapping the first: 2 and 3 are the originals; 4 is new, and
  // 4 twice in one batch is one event.
  ASSERT_TRUE(
      PushBatch(c, leader, {"pb", {{"b", "2", 2}, {"a", "3", 3}, {"a", "4", 4}, {"a", "4", 4}}}, &r)
          .ok());
  ASSERT_EQ(r.size(), 4u);
  EXPECT_TRUE(r[0].duplicate);
  EXPECT_EQ(r[0].index, first[1].index);
  EXPECT_TRUE(r[1].duplicate);
  EXPECT_EQ(r[1].index, first[2].index);
  EXPECT_FALSE(r[2].duplicate);
  EXPECT_GT(r[2].index, first[2].index);
  EXPECT_TRUE(r[3].duplicate);
  EXPECT_EQ(r[3].index, r[2].index);

  // Without a producer: no exactly-once, each event its own entry.
  ASSERT_TRUE(PushBatch(c, leader, {"", {{"x", "p", 0}, {"x", "p", 0}}}, &r).ok());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].index, r[0].index + 1);

  // A bad event fails the whole batch, before any of it is appended.
  wire::NodeStatus before;
  ASSERT_TRUE(c.status(leader, &before).ok());
  std::vector<wire::Value::Map> bad = {
      wire::EncodePushBatchArgs({"pb", {{"a", "5", 5}, {"_raftlog.mine", "6", 6}}}),
      wire::EncodePushBatchArgs({"pb", {{"a", "5", 5}, {"a", "6", 0}}}),  // seq 0
      wire::EncodePushBatchArgs({"pb", {}}),                              // no events
      // seq without producer
      {{"events", wire::Value::MakeArray({wire::Value::MakeMap({{"topic", wire::Value::Str("a")},
                                                                {"payload", wire::Value::Bin("5")},
                                                                {"seq", wire::Value::Uint(5)}})})}},
  };
  for (const wire::Value::Map& args : bad) {
    wire::ClientReply reply;
    ASSERT_TRUE(ClientInternals::Call(c.client(), c.client_endpoint(leader), wire::kPushBatchOp,
                                      args, &reply)
                    .ok());
    EXPECT_EQ(reply.code, wire::kInvalidInput);
  }
  // A follower redirects.
  core::NodeId follower = leader % 3 + 1;
  EXPECT_TRUE(PushBatch(c, follower, {"pb", {{"a", "5", 5}}}, &r).IsNotLeader());
  wire::NodeStatus after;
  ASSERT_TRUE(c.status(leader, &after).ok());
  EXPECT_EQ(after.last_index, before.last_index) << "nothing was appended";
}

TEST(Publish, EveryNodePublishesCommittedEventsChainedByPrevIndexAndHeartbeats) {
  ProcessCluster c(3);
  c.start_all();
  ASSERT_TRUE(ProcessCluster::wait_for([&] { return c.agreed_leader() != 0; }, 10s));
  zmq::context_t ctx(1);
  std::vector<std::unique_ptr<zmq::socket_t>> subs;
  for (core::NodeId id = 1; id <= 3; ++id) {
    auto s = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::sub);
    s->set(zmq::sockopt::subscribe, "");
    s->connect(c.pub_endpoint(id));
    subs.push_back(std::move(s));
  }
  // A slow joiner misses what is published before its subscription is in
  // place: wait until each SUB hears a heartbeat.
  auto receive = [&](zmq::socket_t& s, std::string* topic, std::string* body) {
    zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, 3000ms) <= 0) return false;
    zmq::message_t t, b;
    if (!s.recv(t) || !s.recv(b)) return false;
    *topic = t.to_string();
    *body = b.to_string();
    return true;
  };
  std::string topic, body;
  for (auto& s : subs) {
    bool heard = false;
    for (int i = 0; i < 10 && !heard; ++i) {
      heard = receive(*s, &topic, &body) && topic == wire::kHeartbeatTopic;
    }
    ASSERT_TRUE(heard);
  }
  std::vector<wire::PushResult> pushed(5);
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    ASSERT_TRUE(Push(c, "pub-test", seq, "payload-" + std::to_string(seq), &pushed[seq - 1]).ok());
  }
  for (auto& s : subs) {
    std::vector<wire::PublishedEvent> got;
    while (got.size() < 5 && receive(*s, &topic, &body)) {
      if (topic == wire::kHeartbeatTopic) continue;
      EXPECT_EQ(topic, "orders");
      wire::PublishedEvent e;
      ASSERT_TRUE(wire::DecodePublishedEvent(body.data(), body.size(), {}, &e).ok());
      got.push_back(e);
    }
    ASSERT_EQ(got.size(), 5u);
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(got[i].index, pushed[i].index);
      EXPECT_EQ(got[i].payload, "payload-" + std::to_string(i + 1));
      EXPECT_EQ(got[i].producer, "pub-test");
      EXPECT_EQ(got[i].seq, i + 1);
      if (i > 0) {
        EXPECT_EQ(got[i].prev_index, got[i - 1].index) << "the chain has no hole";
      }
    }
    // The next heartbeat names the last event.
    bool seen = false;
    for (int i = 0; i < 10 && !seen; ++i) {
      wire::PublishedHeartbeat hb;
      seen = receive(*s, &topic, &body) && topic == wire::kHeartbeatTopic &&
             wire::DecodePublishedHeartbeat(body.data(), body.size(), {}, &hb).ok() &&
             hb.last_index == pushed[4].index;
    }
    EXPECT_TRUE(seen);
  }
}

}  // namespace
}  // namespace raftlog::testing
