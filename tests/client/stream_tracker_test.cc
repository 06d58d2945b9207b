// The subscription's rules on their own: what the stream and fetch give,
// and what a StreamTracker delivers and asks to fetch.
#include "client/stream_tracker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

namespace raftlog {
namespace {

std::string EventBody(core::LogIndex index, core::LogIndex prev, const std::string& payload) {
  wire::PublishedEventView ev;
  ev.index = index;
  ev.prev_index = prev;
  ev.term = 1;
  ev.payload = payload;
  std::string out;
  wire::EncodePublishedEvent(ev, &out);
  return out;
}

std::string HeartbeatBody(core::LogIndex last) {
  std::string out;
  wire::EncodePublishedHeartbeat({last, last, 1}, &out);
  return out;
}

core::Entry Command(core::LogIndex index, const std::string& topic, const std::string& payload) {
  core::Entry e;
  e.index = index;
  e.term = 1;
  e.type = core::EntryType::kCommand;
  wire::EncodeEventRecord(wire::EventRecordView{topic, "", 0, 1, payload}, &e.data);
  return e;
}

core::Entry Noop(core::LogIndex index) {
  core::Entry e;
  e.index = index;
  e.term = 1;
  e.type = core::EntryType::kNoop;
  return e;
}

std::vector<std::string> Take(StreamTracker& t) {
  std::vector<std::string> out;
  for (ReceivedEvent& e : t.ready()) out.push_back(std::to_string(e.index) + ":" + e.payload);
  t.ready().clear();
  return out;
}

TEST(StreamTracker, ALatestStartTakesTheStreamFromItsFirstMessage) {
  StreamTracker t({});
  EXPECT_FALSE(t.started());
  t.on_message("a", EventBody(5, 3, "e5"));
  t.on_message("a", EventBody(7, 5, "e7"));
  EXPECT_EQ(Take(t), (std::vector<std::string>{"5:e5", "7:e7"}));
  EXPECT_FALSE(t.fetching());
  EXPECT_EQ(t.position(), 7u);
}

TEST(StreamTracker, AMissedEventStartsAFetchThroughTheEventThatShowedIt) {
  StreamTracker t({});
  t.on_message("a", EventBody(5, 3, "e5"));
  t.on_message("a", EventBody(9, 7, "e9"));  // 7 was lost
  EXPECT_EQ(Take(t), std::vector<std::string>{"5:e5"});
  ASSERT_TRUE(t.fetching());
  EXPECT_EQ(t.fetch_from(), 6u);
  EXPECT_EQ(t.stats().gaps, 1u);
  wire::FetchResult page;
  page.entries = {Noop(6), Command(7, "a", "e7"), Command(8, "b", "e8"), Command(9, "a", "e9")};
  ASSERT_TRUE(t.take_page(page).ok());
  EXPECT_FALSE(t.fetching());  // through 9
  EXPECT_EQ(Take(t), (std::vector<std::string>{"7:e7", "8:e8", "9:e9"}));
  t.on_message("a", EventBody(9, 7, "e9"));  // the same again, from another node
  EXPECT_TRUE(Take(t).empty());
  EXPECT_EQ(t.stats().duplicates, 1u);
}

TEST(StreamTracker, AHeartbeatAheadOfTheStreamShowsALostTail) {
  StreamTracker t({});
  t.on_message(wire::kHeartbeatTopic, HeartbeatBody(4));
  EXPECT_TRUE(t.started());
  EXPECT_FALSE(t.fetching());
  t.on_message(wire::kHeartbeatTopic, HeartbeatBody(6));
  ASSERT_TRUE(t.fetching());
  EXPECT_EQ(t.fetch_from(), 5u);
  // A node that has not committed that far yet: ask another.
  wire::FetchResult empty;
  empty.commit_index = 4;
  EXPECT_TRUE(t.take_page(empty).IsBusy());
  EXPECT_TRUE(t.fetching());
}

TEST(StreamTracker, AStartFromAPositionFetchesUntilANodeHasNothingMore) {
  StreamTracker t({"keep"});
  t.start_after(10);
  ASSERT_TRUE(t.fetching());
  EXPECT_EQ(t.fetch_from(), 11u);
  wire::FetchResult page;
  page.entries = {Command(11, "keep.x", "a"), Command(12, "drop", "b")};
  ASSERT_TRUE(t.take_page(page).ok());
  EXPECT_TRUE(t.fetching());                             // no target: until a page comes back empty
  EXPECT_EQ(Take(t), std::vector<std::string>{"11:a"});  // other topics skipped
  EXPECT_EQ(t.position(), 12u);
  ASSERT_TRUE(t.take_page(wire::FetchResult{}).ok());
  EXPECT_FALSE(t.fetching());
}

TEST(StreamTracker, AMisnumberedPageIsRefusedAndAnUndecodableEntryIsCorruption) {
  StreamTracker t({});
  t.start_after(0);
  wire::FetchResult wrong;
  wrong.entries = {Command(2, "a", "x")};
  EXPECT_TRUE(t.take_page(wrong).IsInvalidInput());
  EXPECT_EQ(t.fetch_from(), 1u);  // nothing taken
  wire::FetchResult bad;
  core::Entry e = Command(1, "a", "x");
  e.data = "garbage";
  bad.entries = {e};
  EXPECT_TRUE(t.take_page(bad).IsCorruption());
}

TEST(StreamTracker, ReservedTopicsAndMalformedMessagesAreNotDelivered) {
  StreamTracker t({});
  t.on_message("_raftlog.x", EventBody(3, 0, "r"));
  t.on_message("a", "not msgpack");
  EXPECT_FALSE(t.started());
  t.on_message("a", EventBody(3, 0, "e3"));
  EXPECT_EQ(Take(t), std::vector<std::string>{"3:e3"});
}

}  // namespace
}  // namespace raftlog
