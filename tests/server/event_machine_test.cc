// The event layer on its own: one ReplicatedLog node in memory (time and
// disk in the test's hands), an EventMachine on it, and recorders for what
// it publishes and answers.
#include "server/event_machine.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "node_testing.h"
#include "raftlog/storage/memory_log_store.h"
#include "raftlog/wire/event_ops.h"

namespace raftlog::server {
namespace {

using std::chrono::milliseconds;

using testing::HeldWriter;
using testing::NoPeers;
using testing::TestClock;

struct Answer {
  std::string client;
  bool ok;
  wire::PushResult result;
  Status status;
};

struct Published {
  core::LogIndex index;
  core::LogIndex prev;
  std::string producer;
  uint64_t seq;
};

class Recorder final : public AckSink, public EventSink {
 public:
  void acked(const ReplyTo& to, const wire::PushResult& r) override {
    answers.push_back({to.client, true, r, Status::Ok()});
  }
  void failed(const ReplyTo& to, const Status& s) override {
    answers.push_back({to.client, false, {}, s});
  }
  void publish(std::string_view, const wire::PublishedEventView& ev) override {
    published.push_back({ev.index, ev.prev_index, std::string(ev.producer), ev.seq});
  }
  std::vector<Answer> answers;
  std::vector<Published> published;
};

std::string Record(const std::string& producer, uint64_t seq, const std::string& payload = "x") {
  std::string out;
  wire::EncodeEventRecord(wire::EventRecordView{"t", producer, seq, 1, payload}, &out);
  return out;
}

// One node; `deliver` decides whether the log's events reach the machine.
class Node {
 public:
  explicit Node(storage::MemoryLogStore* disk, uint64_t expiry_ms = 0) : writer_(disk) {
    ReplicatedLogOptions o;
    o.core.id = 1;
    o.core.election_ticks = 2;
    o.core.heartbeat_ticks = 1;
    o.core.max_committed_bytes_per_ready = 1;  // one entry per Ready: a slow replay
    o.tick_interval = milliseconds(10);
    o.members.voters = {1};
    o.resume_from_commit = false;
    o.clock = &clock_;
    o.writer = &writer_;
    EXPECT_TRUE(
        ReplicatedLog::Open(o, storage::Borrow(disk), std::make_unique<NoPeers>(), &log_).ok());
    EventMachineOptions eo;
    eo.producer_expiry_ms = expiry_ms;
    eo.publish_after = log_->local_history().committed;
    events_ = std::make_unique<EventMachine>(log_.get(), &rec_, &rec_, eo);
  }

  // One loop turn; every event goes to the machine unless held.
  void turn(bool hold_committed = false) {
    clock_.advance(milliseconds(10));
    ASSERT_TRUE(log_->run_once(milliseconds(0)).ok());
    Event ev;
    while (log_->next_event(&ev)) {
      if (hold_committed && std::holds_alternative<Committed>(ev)) {
        held_.push_back(ev);
        continue;
      }
      events_->on_event(ev);
    }
  }
  void release_held() {
    for (const Event& ev : held_) events_->on_event(ev);
    held_.clear();
  }
  // Turns (writes completing at once) until this node leads.
  void elect(bool hold_committed = false) {
    for (int i = 0; i < 50 && log_->local_node().role != core::Role::kLeader; ++i) {
      writer_.release();
      turn(hold_committed);
    }
    ASSERT_EQ(log_->local_node().role, core::Role::kLeader);
  }
  void settle() {
    for (int i = 0; i < 50; ++i) {
      writer_.release();
      turn();
    }
  }
  // A push stamped at log time `at_ms`.
  void push(const std::string& client, const std::string& producer, uint64_t seq,
            uint64_t at_ms = 1) {
    ReplyTo to;
    to.client = client;
    events_->push(to, "t", "x", producer, seq, at_ms);
  }

  TestClock clock_;
  HeldWriter writer_;
  std::unique_ptr<ReplicatedLog> log_;
  Recorder rec_;
  std::unique_ptr<EventMachine> events_;
  std::vector<Event> held_;
};

TEST(EventMachine, APushIsAckedOnlyOnceItsEntryCommitsAndARetryGetsTheSameIndex) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  n.elect();
  n.settle();
  n.push("a", "p", 1);
  n.turn();  // proposed, not durable
  EXPECT_TRUE(n.rec_.answers.empty());
  n.push("b", "p", 1);  // a retry while the first is in flight: waits for it
  EXPECT_TRUE(n.rec_.answers.empty());
  n.settle();
  ASSERT_EQ(n.rec_.answers.size(), 2u);
  EXPECT_TRUE(n.rec_.answers[0].ok);
  EXPECT_FALSE(n.rec_.answers[0].result.duplicate);
  EXPECT_TRUE(n.rec_.answers[1].ok);
  EXPECT_TRUE(n.rec_.answers[1].result.duplicate);
  EXPECT_EQ(n.rec_.answers[0].result.index, n.rec_.answers[1].result.index);
  n.push("c", "p", 1);  // a retry after the commit: answered at once
  ASSERT_EQ(n.rec_.answers.size(), 3u);
  EXPECT_TRUE(n.rec_.answers[2].result.duplicate);
  EXPECT_EQ(n.rec_.answers[2].result.index, n.rec_.answers[0].result.index);
  EXPECT_EQ(n.log_->local_history().last, n.rec_.answers[0].result.index);  // appended once
}

TEST(EventMachine, ARepeatedOrUndecodableEntryIsNoEventForApplyPublishAndFetchAlike) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  n.elect();
  n.settle();
  // A foreign writer puts a repeat and garbage in the log.
  core::ProposalId id;
  ASSERT_TRUE(n.log_->propose_command(Record("p", 7), &id).ok());
  const core::LogIndex first = id.index;
  ASSERT_TRUE(n.log_->propose_command(Record("p", 7), &id).ok());
  const core::LogIndex repeat = id.index;
  ASSERT_TRUE(n.log_->propose_command("not an event record", &id).ok());
  const core::LogIndex garbage = id.index;
  ASSERT_TRUE(n.log_->propose_command(Record("q", 1), &id).ok());
  const core::LogIndex last = id.index;
  n.settle();

  ASSERT_EQ(n.rec_.published.size(), 2u);
  EXPECT_EQ(n.rec_.published[0].index, first);
  EXPECT_EQ(n.rec_.published[1].index, last);
  EXPECT_EQ(n.rec_.published[1].prev, first);  // the chain skips what is no event
  EXPECT_EQ(n.events_->counters().duplicates_skipped, 1u);
  EXPECT_EQ(n.events_->counters().undecodable, 1u);

  wire::FetchResult page;
  ASSERT_TRUE(n.events_->fetch(first, 100, 1 << 20, &page).ok());
  ASSERT_EQ(page.entries.size(), last - first + 1);
  for (const core::Entry& e : page.entries) {
    const bool event = e.index == first || e.index == last;
    EXPECT_EQ(e.type == core::EntryType::kCommand, event) << "index " << e.index;
    if (e.index == repeat || e.index == garbage) {
      EXPECT_TRUE(e.data.empty());
    }
  }
}

// A first life of the node on `disk`: pushes p's seqs 1..last and returns
// where seq 1 was acked.
core::LogIndex FirstLife(storage::MemoryLogStore* disk, uint64_t last) {
  Node n(disk);
  n.elect();
  n.settle();
  for (uint64_t seq = 1; seq <= last; ++seq) {
    n.push("a", "p", seq);
    n.settle();
  }
  EXPECT_EQ(n.rec_.answers.size(), last);
  return n.rec_.answers.empty() ? 0 : n.rec_.answers[0].result.index;
}

TEST(EventMachine, ARestartedNodeRebuildsItsTableButPublishesOnlyWhatCommitsAfterwards) {
  storage::MemoryLogStore disk;
  const core::LogIndex acked = FirstLife(&disk, 2);
  Node again(&disk);
  again.elect();
  again.settle();
  EXPECT_TRUE(again.rec_.published.empty());  // published in the first life
  EXPECT_EQ(again.events_->producers().producers(), 1u);
  again.push("b", "p", 1);  // the table knows the original
  ASSERT_EQ(again.rec_.answers.size(), 1u);
  EXPECT_TRUE(again.rec_.answers[0].result.duplicate);
  EXPECT_EQ(again.rec_.answers[0].result.index, acked);
  again.push("c", "p", 3);
  again.settle();
  ASSERT_EQ(again.rec_.published.size(), 1u);
  EXPECT_EQ(again.rec_.published[0].seq, 3u);
}

TEST(EventMachine, ALeaderStillApplyingItsLogAnswersBusyThenTheOriginal) {
  storage::MemoryLogStore disk;
  const core::LogIndex acked = FirstLife(&disk, 1);
  Node again(&disk);
  again.elect(/*hold_committed=*/true);  // leads before it has applied anything
  ASSERT_LT(again.events_->applied(), acked);
  again.push("b", "p", 1);
  ASSERT_EQ(again.rec_.answers.size(), 1u);
  EXPECT_TRUE(again.rec_.answers[0].status.IsBusy()) << again.rec_.answers[0].status.ToString();
  again.release_held();
  again.settle();
  again.push("c", "p", 1);
  ASSERT_EQ(again.rec_.answers.size(), 2u);
  EXPECT_TRUE(again.rec_.answers[1].ok);
  EXPECT_EQ(again.rec_.answers[1].result.index, acked);
}

TEST(EventMachine, PushesInFlightFailWithNotLeaderWhenTheLeadershipIsLost) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  n.elect();
  n.settle();
  n.push("a", "p", 1);
  n.push("b", "", 0);
  n.turn();
  ASSERT_TRUE(n.rec_.answers.empty());
  n.events_->on_event(core::RoleChanged{core::Role::kFollower});
  ASSERT_EQ(n.rec_.answers.size(), 2u);
  for (const Answer& a : n.rec_.answers) EXPECT_TRUE(a.status.IsNotLeader()) << a.status.ToString();
  EXPECT_EQ(n.events_->pending(), 0u);
}

TEST(EventMachine, ANewLeaderWaitsForTheUncommittedEventsItInheritedInsteadOfAppendingThemAgain) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  n.elect();
  n.settle();
  n.push("a", "p", 5);
  n.turn();  // in the log, not durable, so not committed
  const core::LogIndex index = n.log_->local_history().last;
  // As if a leader change had happened in between: the machine forgets its
  // waiters, then takes the leadership again over a log holding the entry.
  n.events_->on_event(core::RoleChanged{core::Role::kFollower});
  n.events_->on_event(core::RoleChanged{core::Role::kLeader});
  EXPECT_EQ(n.events_->pending(), 1u);
  n.push("b", "p", 5);
  n.settle();
  EXPECT_EQ(n.log_->local_history().last, index) << "the retry was appended";
  ASSERT_EQ(n.rec_.answers.size(), 2u);  // a's NotLeader, then b's ack
  EXPECT_TRUE(n.rec_.answers[0].status.IsNotLeader());
  EXPECT_TRUE(n.rec_.answers[1].ok);
  EXPECT_EQ(n.rec_.answers[1].result.index, index);
  EXPECT_TRUE(n.rec_.answers[1].result.duplicate);
}

TEST(EventMachine, ASeqAnExpiredProducerHadIsRefusedNotAppendedAgain) {
  storage::MemoryLogStore disk;
  Node n(&disk, /*expiry_ms=*/16000);
  n.elect();
  n.settle();
  n.push("a", "p", 1, /*at_ms=*/1000);
  n.settle();
  ASSERT_EQ(n.rec_.answers.size(), 1u);
  // Another producer moves log time past p's expiry.
  for (uint64_t ms = 2000; ms <= 20000; ms += 1000) {
    n.push("b", "q", ms, ms);
    n.settle();
  }
  ASSERT_FALSE(n.events_->producers().known("p"));
  const core::LogIndex last = n.log_->local_history().last;
  const size_t answered = n.rec_.answers.size();
  n.push("c", "p", 1, 21000);  // a retry, as far as anyone can tell
  ASSERT_EQ(n.rec_.answers.size(), answered + 1);
  const Answer& a = n.rec_.answers.back();
  EXPECT_TRUE(a.status.IsInvalidInput()) << a.status.ToString();
  EXPECT_NE(a.status.message().find("expired"), std::string::npos) << a.status.message();
  n.settle();
  EXPECT_EQ(n.log_->local_history().last, last);  // nothing appended
  // The producer going on with its numbering is taken, and so is a new one.
  n.push("d", "p", 2, 21000);
  n.push("e", "new", 1, 21000);
  n.settle();
  ASSERT_EQ(n.rec_.answers.size(), answered + 3);
  EXPECT_TRUE(n.rec_.answers[answered + 1].ok);
  EXPECT_TRUE(n.rec_.answers[answered + 2].ok);
  EXPECT_GT(n.rec_.answers[answered + 1].result.index, last);
}

TEST(EventMachine, ASeqBelowTheWindowIsRefusedWithTheReason) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  n.elect();
  n.settle();
  n.push("a", "p", 5000);
  n.settle();
  EXPECT_TRUE(n.events_->check_not_too_old("p", 4000).ok());
  Status s = n.events_->check_not_too_old("p", 10);
  EXPECT_TRUE(s.IsInvalidInput());
  EXPECT_NE(s.message().find("older than the window"), std::string::npos) << s.message();
  n.push("b", "p", 10);
  ASSERT_EQ(n.rec_.answers.size(), 2u);
  EXPECT_TRUE(n.rec_.answers[1].status.IsInvalidInput());
}

}  // namespace
}  // namespace raftlog::server
