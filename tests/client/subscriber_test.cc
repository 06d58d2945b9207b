// Subscriber against fake nodes: an XPUB socket the test publishes on (an
// XPUB, not a PUB, so that the test can wait until the subscription has
// arrived instead of sleeping), and a ROUTER on a thread serving `fetch`
// from a log the test fills. Every scenario is deterministic: messages from
// one socket arrive in order, nothing is dropped unless the test skips it.
#include "raftlog/subscriber.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

namespace raftlog {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string TopicOf(core::LogIndex i) {
  return i % 2 == 0 ? "orders.eu" : "orders.us";
}

// A node as a subscriber sees it: a PUB stream and a fetch server.
class FakeNode {
 public:
  FakeNode() : context_(1), pub_(context_, zmq::socket_type::xpub) {
    pub_.set(zmq::sockopt::xpub_verbose, 1);  // report every subscriber's subscription
    pub_.set(zmq::sockopt::linger, 0);
    pub_.bind("tcp://127.0.0.1:*");
    pub_endpoint_ = pub_.get(zmq::sockopt::last_endpoint);
    zmq::socket_t router(context_, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.bind("tcp://127.0.0.1:*");
    client_endpoint_ = router.get(zmq::sockopt::last_endpoint);
    server_ = std::thread([this, r = std::move(router)]() mutable { serve(r); });
  }
  ~FakeNode() {
    stop_ = true;
    server_.join();
  }

  const std::string& pub_endpoint() const { return pub_endpoint_; }
  const std::string& client_endpoint() const { return client_endpoint_; }

  // The committed log that fetch serves.
  void commit_event(core::LogIndex index, const std::string& topic, core::Term term = 1) {
    std::string data;
    wire::EncodeEventRecord({topic, "p", index, 1000 + index, "payload " + std::to_string(index)},
                            &data);
    std::lock_guard<std::mutex> lock(mu_);
    log_[index] = core::Entry{index, term, core::EntryType::kCommand, data, {}};
  }
  void commit_noop(core::LogIndex index) {
    std::lock_guard<std::mutex> lock(mu_);
    log_[index] = core::Entry{index, 1, core::EntryType::kNoop, "", {}};
  }
  void compact_through(core::LogIndex head) {
    std::lock_guard<std::mutex> lock(mu_);
    head_ = head;
    log_.erase(log_.begin(), log_.upper_bound(head));
  }
  std::vector<core::LogIndex> fetches() {
    std::lock_guard<std::mutex> lock(mu_);
    return fetch_froms_;
  }

  // Waits until a subscriber's subscription reached the publisher.
  bool wait_for_subscriber(std::chrono::milliseconds deadline) {
    zmq::pollitem_t item{pub_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, deadline) == 0) return false;
    zmq::message_t m;
    return pub_.recv(m).has_value() && m.size() >= 1 && m.data<char>()[0] == 1;
  }

  // Publishes the committed event at index as raftlogd does.
  void publish(core::LogIndex index, core::LogIndex prev_index) {
    core::Entry e;
    {
      std::lock_guard<std::mutex> lock(mu_);
      e = log_.at(index);
    }
    wire::EventRecord rec;
    ASSERT_TRUE(wire::DecodeEventRecord(e.data.data(), e.data.size(), {}, &rec).ok());
    std::string frame;
    wire::EncodePublishedEvent(
        {index, e.term, rec.timestamp_ms, rec.payload, rec.producer, rec.seq, prev_index}, &frame);
    send(rec.topic, frame);
  }
  void publish_heartbeat(core::LogIndex last_index) {
    std::string frame;
    wire::EncodePublishedHeartbeat({last_index, last_index, 1}, &frame);
    send(wire::kHeartbeatTopic, frame);
  }
  void send(const std::string& topic, const std::string& frame) {
    pub_.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    pub_.send(zmq::buffer(frame), zmq::send_flags::none);
  }

 private:
  void serve(zmq::socket_t& router) {
    while (!stop_) {
      zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, 10ms) == 0) continue;
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(router, std::back_inserter(frames))) continue;
      wire::ClientRequest request;
      if (frames.size() != 2 ||
          !wire::DecodeRequest(frames[1].data<char>(), frames[1].size(), {}, &request).ok()) {
        continue;
      }
      std::string reply;
      wire::EncodeReply(answer(request), &reply);
      router.send(frames[0], zmq::send_flags::sndmore);
      router.send(zmq::buffer(reply), zmq::send_flags::none);
    }
  }

  wire::ClientReply answer(const wire::ClientRequest& request) {
    wire::FetchArgs args;
    if (request.op != wire::kFetchOp || !wire::DecodeFetchArgs(request.args, &args).ok()) {
      return wire::ErrorReply(request.request_id, Status::InvalidInput("fetch only"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    fetch_froms_.push_back(args.from);
    if (args.from <= head_) {
      wire::ClientReply r = wire::ErrorReply(request.request_id, Status::NotFound("compacted"));
      r.body.emplace_back("earliest", wire::Value::Uint(head_ + 1));
      return r;
    }
    wire::FetchResult result;
    result.head_index = head_;
    result.commit_index = log_.empty() ? head_ : log_.rbegin()->first;
    for (core::LogIndex i = args.from; log_.count(i) && result.entries.size() < args.max_count;
         ++i) {
      result.entries.push_back(log_.at(i));
    }
    wire::ClientReply r;
    r.request_id = request.request_id;
    r.body = wire::EncodeFetchResult(result);
    return r;
  }

  zmq::context_t context_;
  zmq::socket_t pub_;
  std::string pub_endpoint_, client_endpoint_;
  std::thread server_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<core::LogIndex, core::Entry> log_;  // guarded by mu_
  core::LogIndex head_ = 0;                    // guarded by mu_
  std::vector<core::LogIndex> fetch_froms_;    // guarded by mu_
};

SubscriberOptions OptionsFor(const std::vector<FakeNode*>& nodes) {
  SubscriberOptions o;
  for (FakeNode* n : nodes) {
    o.pub_endpoints.push_back(n->pub_endpoint());
    o.client_endpoints.push_back(n->client_endpoint());
  }
  o.fetch_timeout = 500ms;
  return o;
}

std::unique_ptr<Subscriber> Open(SubscriberOptions o) {
  std::unique_ptr<Subscriber> sub;
  Status s = Subscriber::Open(std::move(o), &sub);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return sub;
}

// Reads until count events arrived or the deadline passed.
std::vector<Event> Read(Subscriber& sub, size_t count, std::chrono::milliseconds deadline = 5s) {
  std::vector<Event> out;
  auto end = Clock::now() + deadline;
  while (out.size() < count && Clock::now() < end) {
    Event e;
    Status s = sub.next(&e, 50ms);
    if (s.ok()) {
      out.push_back(e);
    } else if (!s.IsBusy()) {
      ADD_FAILURE() << s.ToString();
      break;
    }
  }
  return out;
}

std::vector<core::LogIndex> Indexes(const std::vector<Event>& events) {
  std::vector<core::LogIndex> out;
  out.reserve(events.size());
  for (const Event& e : events) out.push_back(e.index);
  return out;
}

std::vector<core::LogIndex> Range(core::LogIndex first, core::LogIndex last) {
  std::vector<core::LogIndex> out;
  for (core::LogIndex i = first; i <= last; ++i) out.push_back(i);
  return out;
}

// No further event within a moment: nothing delivered twice.
void ExpectQuiet(Subscriber& sub) {
  Event e;
  Status s = sub.next(&e, 200ms);
  EXPECT_TRUE(s.IsBusy()) << "unexpected: " << s.ToString() << " index " << e.index;
}

TEST(SubscriberTest, FetchesTheEventsTheLiveStreamSkipped) {
  FakeNode node;
  for (core::LogIndex i = 1; i <= 10; ++i) node.commit_event(i, TopicOf(i));
  auto sub = Open(OptionsFor({&node}));  // from the latest: the first live message
  ASSERT_TRUE(node.wait_for_subscriber(5s));
  for (core::LogIndex i : {1, 2, 3, 7, 8, 9, 10}) node.publish(i, i - 1);

  std::vector<Event> got = Read(*sub, 10);
  EXPECT_EQ(Indexes(got), Range(1, 10));
  EXPECT_EQ(node.fetches(), std::vector<core::LogIndex>{4});  // one fetch, at the gap
  EXPECT_EQ(got[4].topic, TopicOf(5));
  EXPECT_EQ(got[4].payload, "payload 5");
  EXPECT_EQ(got[4].producer, "p");
  EXPECT_EQ(got[4].seq, 5u);
  EXPECT_EQ(got[4].timestamp_ms, 1005u);
  ExpectQuiet(*sub);
  EXPECT_EQ(sub->stats().gaps, 1u);
  EXPECT_EQ(sub->stats().live_events, 3u);  // 1..3; 7..10 came with the fetch
  EXPECT_EQ(sub->stats().duplicates, 3u);   // 8..10 live, after the fetch
}

TEST(SubscriberTest, DropsTheSameEventFromASecondNode) {
  FakeNode a, b;
  for (FakeNode* n : {&a, &b}) {
    for (core::LogIndex i = 1; i <= 5; ++i) n->commit_event(i, TopicOf(i));
  }
  auto sub = Open(OptionsFor({&a, &b}));
  ASSERT_TRUE(a.wait_for_subscriber(5s));
  ASSERT_TRUE(b.wait_for_subscriber(5s));
  for (core::LogIndex i = 1; i <= 5; ++i) {
    a.publish(i, i - 1);
    b.publish(i, i - 1);
  }
  EXPECT_EQ(Indexes(Read(*sub, 5)), Range(1, 5));
  ExpectQuiet(*sub);
  EXPECT_TRUE(a.fetches().empty());  // duplicates are no gap
  EXPECT_TRUE(b.fetches().empty());
}

TEST(SubscriberTest, AHeartbeatRevealsALostTail) {
  FakeNode node;
  for (core::LogIndex i = 1; i <= 5; ++i) node.commit_event(i, TopicOf(i));
  auto sub = Open(OptionsFor({&node}));
  ASSERT_TRUE(node.wait_for_subscriber(5s));
  node.publish(1, 0);
  node.publish(2, 1);
  node.publish_heartbeat(5);  // 3..5 were published, and lost
  EXPECT_EQ(Indexes(Read(*sub, 5)), Range(1, 5));
  EXPECT_EQ(node.fetches(), std::vector<core::LogIndex>{3});
  ExpectQuiet(*sub);
}

TEST(SubscriberTest, DeliversOnlyTheTopicsAskedForButSeesGapsInAllOfThem) {
  FakeNode node;
  node.commit_event(1, "orders.eu");
  node.commit_event(2, "users");
  node.commit_noop(3);  // a new leader's entry: in fetched pages, never published
  node.commit_event(4, "users");
  node.commit_event(5, "orders.us");
  node.commit_event(6, "ordersx");
  node.commit_event(7, "orders.eu");
  SubscriberOptions o = OptionsFor({&node});
  o.topics = {"orders.", "nobody"};
  auto sub = Open(o);
  ASSERT_TRUE(node.wait_for_subscriber(5s));
  node.publish(1, 0);
  node.publish(2, 1);
  node.send("_raftlog.other", "not for users");
  node.publish(5, 4);  // 4 (users) was lost: fetch 3.., skip it and the Noop
  node.publish(6, 5);
  node.publish(7, 6);
  std::vector<Event> got = Read(*sub, 3);
  EXPECT_EQ(Indexes(got), (std::vector<core::LogIndex>{1, 5, 7}));
  EXPECT_EQ(node.fetches(), std::vector<core::LogIndex>{3});
  ExpectQuiet(*sub);
  EXPECT_EQ(sub->position(), 7u);
}

TEST(SubscriberTest, StartsAtAnIndexByFetching) {
  FakeNode node;
  node.commit_noop(1);
  for (core::LogIndex i = 2; i <= 6; ++i) node.commit_event(i, TopicOf(i));
  SubscriberOptions o = OptionsFor({&node});
  o.start = SubscriberOptions::Start::kFrom;
  o.from = 4;
  o.fetch_max_count = 2;  // several pages
  auto sub = Open(o);
  EXPECT_EQ(Indexes(Read(*sub, 3)), Range(4, 6));
  // Then live: 7 follows on from 6, and 6 again is a duplicate.
  ASSERT_TRUE(node.wait_for_subscriber(5s));
  node.commit_event(7, TopicOf(7));
  node.publish(6, 5);
  node.publish(7, 6);
  EXPECT_EQ(Indexes(Read(*sub, 1)), Range(7, 7));
  ExpectQuiet(*sub);
}

TEST(SubscriberTest, ACompactedRangeIsAnErrorNamingTheEarliestIndexHeld) {
  FakeNode a, b;
  for (core::LogIndex i = 1; i <= 200; ++i) {
    a.commit_event(i, TopicOf(i));
    b.commit_event(i, TopicOf(i));
  }
  a.compact_through(99);
  b.compact_through(49);  // b holds more: name its earliest
  SubscriberOptions o = OptionsFor({&a, &b});
  o.start = SubscriberOptions::Start::kFrom;
  o.from = 5;
  auto sub = Open(o);
  Event e;
  Status s = sub->next(&e, 2s);
  ASSERT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(s.message(), "index 5 was compacted; the earliest index held is 50");
  EXPECT_TRUE(sub->next(&e, 10ms).IsNotFound());  // and it stays so
}

TEST(SubscriberTest, ACompactedNodeIsSkippedWhenAnotherHoldsTheRange) {
  FakeNode a, b;
  for (core::LogIndex i = 1; i <= 10; ++i) {
    a.commit_event(i, TopicOf(i));
    b.commit_event(i, TopicOf(i));
  }
  a.compact_through(8);
  SubscriberOptions o = OptionsFor({&a, &b});
  o.start = SubscriberOptions::Start::kFrom;
  o.from = 1;
  auto sub = Open(o);
  EXPECT_EQ(Indexes(Read(*sub, 10)), Range(1, 10));
}

class PositionFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raftlog-sub-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return dir_ + "/position"; }
  std::string contents() const {
    std::ifstream in(path());
    std::string s;
    std::getline(in, s);
    return s;
  }
  std::string dir_;
};

TEST_F(PositionFileTest, ARestartResumesWithNoGapAndNoDuplicate) {
  FakeNode node;
  for (core::LogIndex i = 1; i <= 20; ++i) node.commit_event(i, TopicOf(i));
  SubscriberOptions o = OptionsFor({&node});
  o.start = SubscriberOptions::Start::kPositionFile;
  o.from = 1;  // no file yet: start at 1
  o.position_file = path();
  o.position_interval = 0ms;  // write on every call
  o.fetch_max_count = 3;

  auto first = Open(o);
  std::vector<Event> got = Read(*first, 8);
  EXPECT_EQ(contents(), "7");  // written when the 8th was asked for
  ASSERT_TRUE(first->close().ok());
  EXPECT_EQ(contents(), "8");
  first.reset();

  o.from = 100;  // ignored: the file exists
  auto second = Open(o);
  for (const Event& e : Read(*second, 12)) got.push_back(e);
  EXPECT_EQ(Indexes(got), Range(1, 20));
  ExpectQuiet(*second);
}

TEST_F(PositionFileTest, ABadFileIsRejectedAtOpen) {
  FakeNode node;
  std::ofstream(path()) << "twelve\n";
  SubscriberOptions o = OptionsFor({&node});
  o.start = SubscriberOptions::Start::kPositionFile;
  o.position_file = path();
  std::unique_ptr<Subscriber> sub;
  Status s = Subscriber::Open(o, &sub);
  EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
}

TEST(SubscriberTest, NoNodeAnsweringAFetchIsATimeoutNotAnError) {
  FakeNode node;  // its log is empty: it has not committed what is asked for
  SubscriberOptions o = OptionsFor({&node});
  auto sub = Open(o);
  ASSERT_TRUE(node.wait_for_subscriber(5s));
  node.publish_heartbeat(0);  // the start: nothing published yet
  node.publish_heartbeat(3);  // 1..3 exist somewhere, not on this node yet
  Event e;
  Status s = sub->next(&e, 300ms);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  for (core::LogIndex i = 1; i <= 3; ++i) node.commit_event(i, TopicOf(i));
  EXPECT_EQ(Indexes(Read(*sub, 3)), Range(1, 3));
}

}  // namespace
}  // namespace raftlog
