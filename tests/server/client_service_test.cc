// The client protocol without a socket: one ReplicatedLog node in memory
// (time and disk in the test's hands), the event layer and the
// ClientService on it, and a channel that keeps every reply frame.
#include "server/client_service.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "node_testing.h"
#include "raftlog/storage/memory_log_store.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"
#include "server/publisher.h"

namespace raftlog::server {
namespace {

using std::chrono::milliseconds;

struct Sent {
  ReplyTo to;
  std::string frame;
};

class Replies final : public ReplyChannel {
 public:
  void send(const ReplyTo& to, std::string_view frame) override {
    sent.push_back({to, std::string(frame)});
  }
  std::vector<Sent> sent;
};

class Node {
 public:
  Node() : writer_(&disk_) {
    ReplicatedLogOptions o;
    o.core.id = 1;
    o.core.election_ticks = 2;
    o.core.heartbeat_ticks = 1;
    o.tick_interval = milliseconds(10);
    o.members.voters = {1};
    o.resume_from_commit = false;
    o.clock = &clock_;
    o.writer = &writer_;
    EXPECT_TRUE(
        ReplicatedLog::Open(o, storage::Borrow(&disk_), std::make_unique<testing::NoPeers>(), &log_)
            .ok());
    ClientServiceOptions co;
    co.client_endpoints[1] = "tcp://node1:7001";
    co.wall_ms = [] { return uint64_t{1234}; };
    clients_ = std::make_unique<ClientService>(std::move(co), log_.get(), &replies_);
    events_ = std::make_unique<EventMachine>(log_.get(), &publisher_, clients_.get(),
                                             EventMachineOptions{});
    clients_->set_events(events_.get());
  }

  // Turns, writes completing at once.
  void settle() {
    for (int i = 0; i < 50; ++i) {
      writer_.release();
      clock_.advance(milliseconds(10));
      ASSERT_TRUE(log_->run_once(milliseconds(0)).ok());
      Event ev;
      while (log_->next_event(&ev)) events_->on_event(ev);
    }
    ASSERT_EQ(log_->local_node().role, core::Role::kLeader);
  }
  void request(const std::string& client, const std::string& frame) {
    ReplyTo to;
    to.client = client;
    clients_->on_request(std::move(to), frame);
  }
  // The last reply, decoded by the general decoder.
  wire::ClientReply last_reply() {
    wire::ClientReply reply;
    EXPECT_FALSE(replies_.sent.empty());
    if (replies_.sent.empty()) return reply;
    const std::string& f = replies_.sent.back().frame;
    EXPECT_TRUE(wire::DecodeReply(f.data(), f.size(), {}, &reply).ok());
    return reply;
  }

  storage::MemoryLogStore disk_;
  testing::TestClock clock_;
  testing::HeldWriter writer_;
  std::unique_ptr<ReplicatedLog> log_;
  Replies replies_;
  Publisher publisher_{nullptr};
  std::unique_ptr<ClientService> clients_;
  std::unique_ptr<EventMachine> events_;
};

std::string Push(uint64_t request_id, const std::string& producer, uint64_t seq,
                 const std::string& payload) {
  wire::PushRequestView push;
  push.request_id = request_id;
  push.topic = "t";
  push.payload = payload;
  push.producer = producer;
  push.seq = seq;
  std::string frame;
  wire::EncodePushRequest(push, &frame);
  return frame;
}

std::string Request(uint64_t request_id, const std::string& op, wire::Value::Map args) {
  wire::ClientRequest request{request_id, op, std::move(args)};
  std::string frame;
  wire::EncodeRequest(request, &frame);
  return frame;
}

std::string ReplyMessage(const wire::ClientReply& reply) {
  for (const auto& [k, v] : reply.body) {
    if (k == "message") return v.as_str();
  }
  return "";
}

TEST(ClientService, APushIsAnsweredToItsClientOnceCommittedAndFetchReturnsIt) {
  Node n;
  n.settle();
  n.request("producer-a", Push(7, "p", 1, "hello"));
  EXPECT_TRUE(n.replies_.sent.empty());  // not committed yet
  n.settle();
  ASSERT_EQ(n.replies_.sent.size(), 1u);
  EXPECT_EQ(n.replies_.sent[0].to.client, "producer-a");
  uint64_t request_id = 0;
  wire::PushResult result;
  const std::string& f = n.replies_.sent[0].frame;
  ASSERT_TRUE(wire::DecodePushReply(f.data(), f.size(), {}, &request_id, &result).ok());
  EXPECT_EQ(request_id, 7u);
  EXPECT_EQ(result.index, n.log_->local_history().committed);

  wire::FetchArgs args;
  args.from = result.index;
  n.request("reader", Request(8, wire::kFetchOp, wire::EncodeFetchArgs(args)));
  wire::ClientReply reply = n.last_reply();
  ASSERT_EQ(reply.code, wire::kOk);
  wire::FetchResult page;
  ASSERT_TRUE(wire::DecodeFetchResult(reply.body, &page).ok());
  ASSERT_EQ(page.entries.size(), 1u);
  wire::EventRecord rec;
  const core::Entry& e = page.entries[0];
  ASSERT_TRUE(wire::DecodeEventRecord(e.data.data(), e.data.size(), {}, &rec).ok());
  EXPECT_EQ(rec.payload, "hello");
  EXPECT_EQ(rec.timestamp_ms, 1234u);  // the service's wall clock stamps the event
}

TEST(ClientService, APushBatchGetsOneReplyWithEveryEventsIndex) {
  Node n;
  n.settle();
  std::vector<wire::PushEventView> events = {{"t", "a", 1}, {"t", "b", 2}, {"u", "c", 3}};
  std::string frame;
  wire::EncodePushBatchRequest(9, "p", events, &frame);
  n.request("producer-a", frame);
  n.settle();
  ASSERT_EQ(n.replies_.sent.size(), 1u);
  uint64_t request_id = 0;
  std::vector<wire::PushResult> results;
  const std::string& f = n.replies_.sent[0].frame;
  ASSERT_TRUE(wire::DecodePushBatchReply(f.data(), f.size(), {}, &request_id, &results).ok());
  EXPECT_EQ(request_id, 9u);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[1].index, results[0].index + 1);
  EXPECT_EQ(results[2].index, results[1].index + 1);
}

TEST(ClientService, APushBeforeAnyLeaderIsKnownIsRefusedAsNotLeader) {
  Node n;  // no turn yet: no leader
  n.request("producer-a", Push(3, "p", 1, "x"));
  wire::ClientReply reply = n.last_reply();
  EXPECT_EQ(reply.request_id, 3u);
  EXPECT_EQ(reply.code, wire::kNotLeader);
}

TEST(ClientService, MalformedAndUnknownRequestsGetAReasonAndAreCounted) {
  Node n;
  n.settle();
  n.request("c", "\xc1 not msgpack");
  wire::ClientReply reply = n.last_reply();
  EXPECT_EQ(reply.code, wire::kInvalidInput);
  EXPECT_EQ(n.clients_->counters().rejected_malformed, 1u);

  n.request("c", Request(4, "frobnicate", {}));
  reply = n.last_reply();
  EXPECT_EQ(reply.request_id, 4u);
  EXPECT_EQ(reply.code, wire::kInvalidInput);
  ASSERT_TRUE(ReplyMessage(reply).find("unknown op 'frobnicate'") != std::string::npos)
      << ReplyMessage(reply);

  ReplyTo to;
  to.client = "c";
  n.clients_->on_misshapen(to, 3);
  reply = n.last_reply();
  EXPECT_EQ(reply.code, wire::kInvalidInput);
  EXPECT_NE(ReplyMessage(reply).find("got 3"), std::string::npos) << ReplyMessage(reply);
  EXPECT_EQ(n.clients_->counters().rejected_malformed, 2u);
  EXPECT_EQ(n.clients_->counters().requests, 3u);
}

TEST(ClientService, StatusCarriesTheExtraCounters) {
  Node n;
  n.settle();
  n.clients_->set_extra_counters([] { return wire::Value::Map{{"x", wire::Value::Uint(5)}}; });
  n.request("c", Request(2, wire::kStatusOp, {}));
  wire::ClientReply reply = n.last_reply();
  ASSERT_EQ(reply.code, wire::kOk);
  bool found = false;
  for (const auto& [k, v] : reply.body) {
    if (k != "counters") continue;
    for (const auto& [ck, cv] : v.as_map()) {
      if (ck == "x") found = cv.as_uint() == 5;
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace raftlog::server
