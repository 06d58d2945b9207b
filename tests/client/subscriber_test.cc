// Subscriber against fake nodes (fake_node.h). Every scenario is
// deterministic: messages from one socket arrive in order, and nothing is
// dropped unless the test skips it.
#include "raftlog/subscriber.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fake_node.h"

namespace raftlog {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string TopicOf(core::LogIndex i) {
  return i % 2 == 0 ? "orders.eu" : "orders.us";
}

using testing::FakeNode;

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
std::vector<ReceivedEvent> Read(Subscriber& sub, size_t count,
                                std::chrono::milliseconds deadline = 5s) {
  std::vector<ReceivedEvent> out;
  auto end = Clock::now() + deadline;
  while (out.size() < count && Clock::now() < end) {
    ReceivedEvent e;
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

std::vector<core::LogIndex> Indexes(const std::vector<ReceivedEvent>& events) {
  std::vector<core::LogIndex> out;
  out.reserve(events.size());
  for (const ReceivedEvent& e : events) out.push_back(e.index);
  return out;
}

std::vector<core::LogIndex> Range(core::LogIndex first, core::LogIndex last) {
  std::vector<core::LogIndex> out;
  for (core::LogIndex i = first; i <= last; ++i) out.push_back(i);
  return out;
}

// Nothing more was to come after index `last`: a marker event committed
// and published (by each of `nodes`) after everything else is the very next
// event delivered. A duplicate or a stray event would come before it; a hung
// subscriber delivers nothing and fails the deadline. (Heartbeats naming
// the marker follow while it has not arrived, in case a subscription that
// was not yet in place missed it: then it comes by fetch.)
void ExpectNextIsMarker(Subscriber& sub, const std::vector<FakeNode*>& nodes, core::LogIndex last,
                        const std::string& topic = "orders.eu") {
  for (FakeNode* n : nodes) {
    n->commit_payload(last + 1, topic, "marker");
    n->publish(last + 1, last);
  }
  ReceivedEvent e;
  Status s;
  for (auto end = Clock::now() + 10s; Clock::now() < end;) {
    s = sub.next(&e, 100ms);
    if (!s.IsBusy()) break;
    for (FakeNode* n : nodes) n->publish_heartbeat(last + 1);
  }
  ASSERT_TRUE(s.ok()) << "the marker never arrived: " << s.ToString();
  EXPECT_EQ(e.index, last + 1) << "delivered before the marker: " << e.payload;
  EXPECT_EQ(e.payload, "marker");
}

TEST(SubscriberTest, FetchesTheEventsTheLiveStreamSkipped) {
  FakeNode node;
  for (core::LogIndex i = 1; i <= 10; ++i) node.commit_event(i, TopicOf(i));
  auto sub = Open(OptionsFor({&node}));  // from the latest: the first live message
  ASSERT_TRUE(node.wait_for_subscriber(5s));
  for (core::LogIndex i : {1, 2, 3, 7, 8, 9, 10}) node.publish(i, i - 1);

  std::vector<ReceivedEvent> got = Read(*sub, 10);
  EXPECT_EQ(Indexes(got), Range(1, 10));
  EXPECT_EQ(node.fetches(), std::vector<core::LogIndex>{4});  // one fetch, at the gap
  EXPECT_EQ(got[4].topic, TopicOf(5));
  EXPECT_EQ(got[4].payload, "payload 5");
  EXPECT_EQ(got[4].producer, "p");
  EXPECT_EQ(got[4].seq, 5u);
  EXPECT_EQ(got[4].timestamp_ms, 1005u);
  ExpectNextIsMarker(*sub, {&node}, 10);
  // Everything published before the marker has been read by now.
  EXPECT_EQ(sub->stats().gaps, 1u);
  EXPECT_EQ(sub->stats().live_events, 4u);  // 1..3 and the marker; 7..10 came with the fetch
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
  ExpectNextIsMarker(*sub, {&a, &b}, 5);
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
  ExpectNextIsMarker(*sub, {&node}, 5);
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
  std::vector<ReceivedEvent> got = Read(*sub, 3);
  EXPECT_EQ(Indexes(got), (std::vector<core::LogIndex>{1, 5, 7}));
  EXPECT_EQ(node.fetches(), std::vector<core::LogIndex>{3});
  EXPECT_EQ(sub->position(), 7u);
  ExpectNextIsMarker(*sub, {&node}, 7, "orders.us");
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
  ExpectNextIsMarker(*sub, {&node}, 7);
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
  ReceivedEvent e;
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
  std::vector<ReceivedEvent> got = Read(*first, 8);
  EXPECT_EQ(contents(), "7");  // written when the 8th was asked for
  ASSERT_TRUE(first->close().ok());
  EXPECT_EQ(contents(), "8");
  first.reset();

  o.from = 100;  // ignored: the file exists
  auto second = Open(o);
  for (const ReceivedEvent& e : Read(*second, 12)) got.push_back(e);
  EXPECT_EQ(Indexes(got), Range(1, 20));
  ExpectNextIsMarker(*second, {&node}, 20);
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
  ReceivedEvent e;
  Status s = sub->next(&e, 300ms);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  for (core::LogIndex i = 1; i <= 3; ++i) node.commit_event(i, TopicOf(i));
  EXPECT_EQ(Indexes(Read(*sub, 3)), Range(1, 3));
}

}  // namespace
}  // namespace raftlog
