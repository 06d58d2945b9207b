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
#include "server/log.h"
#include "server/snapshotter.h"

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
  explicit Node(storage::MemoryLogStore* disk, uint64_t expiry_ms = 0,
                uint64_t window = wire::kMinProducerWindow)
      : writer_(disk) {
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
    eo.producer_window = window;
    eo.publish_after = log_->local_history().committed;
    events_ = std::make_unique<EventMachine>(log_.get(), &rec_, &rec_, eo);
  }

  // One loop turn; every event goes to the machine unless held (and to
  // the snapshotter, if there is one, which then steps at wall time now_ms_).
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
      if (snaps_) {
        ASSERT_TRUE(snaps_->on_event(ev).ok());
      }
    }
    if (snaps_) snaps_->step(now_ms_);
  }
  void enable_snapshots(const RetentionOptions& o) {
    snaps_ = std::make_unique<Snapshotter>(log_.get(), events_.get(), o);
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
  std::unique_ptr<Snapshotter> snaps_;
  uint64_t now_ms_ = 0;
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

// --- Snapshots --------------------------------------------------------------

constexpr uint64_t kExpiry = 16000;

// What a first life leaves: its log on the disk, and the event layer's
// snapshot as of the last entry.
struct Life {
  core::LogIndex head = 0;
  std::string snapshot;
  core::LogIndex last_event = 0;
  core::LogIndex p2 = 0;  // where p's seq 2 landed
  core::LogIndex repeat = 0;
  core::LogIndex garbage = 0;
};

// The same pushes on every disk it is given (so the same log, index for
// index): p's seqs 1..3 at log time 1000, w's seq 5000, a repeat of p's
// seq 1 and an undecodable entry from a foreign writer, then q every
// second of log time up to 16000 (p is not expired yet: it goes after 17000).
Life FirstLifeWithSnapshot(storage::MemoryLogStore* disk) {
  Life life;
  Node n(disk, kExpiry);
  n.elect();
  n.settle();
  for (uint64_t seq = 1; seq <= 3; ++seq) n.push("a", "p", seq, 1000);
  n.push("a", "w", 5000, 1000);
  n.settle();
  EXPECT_EQ(n.rec_.answers.size(), 4u);
  if (n.rec_.answers.size() > 1) life.p2 = n.rec_.answers[1].result.index;
  core::ProposalId id;
  EXPECT_TRUE(n.log_->propose_command(Record("p", 1), &id).ok());
  life.repeat = id.index;
  EXPECT_TRUE(n.log_->propose_command("not an event record", &id).ok());
  life.garbage = id.index;
  for (uint64_t ms = 2000; ms <= 16000; ms += 1000) {
    n.push("a", "q", ms, ms);
    n.settle();
  }
  EXPECT_EQ(n.events_->applied(), n.log_->local_history().last);
  EXPECT_EQ(n.events_->log_time_ms(), 16000u);
  EXPECT_TRUE(n.events_->producers().known("p"));
  life.head = n.events_->applied();
  life.snapshot = n.events_->snapshot();
  life.last_event = n.events_->last_event_index();
  return life;
}

// Drops the log up to head, as a node that took a snapshot there does
// (the store keeps the metadata; the event layer's bytes are the test's).
void Compact(storage::MemoryLogStore* disk, core::LogIndex head) {
  storage::SnapshotMeta meta;
  meta.last_index = head;
  ASSERT_TRUE(disk->term(head, &meta.last_term).ok());
  meta.config.voters = {1};
  ASSERT_TRUE(disk->save_snapshot(meta).ok());
  ASSERT_TRUE(disk->compact(head).ok());
}

// What a push was answered, as one line to compare.
std::string Said(const Answer& a) {
  if (!a.ok) return std::string(CodeName(a.status.code())) + ": " + a.status.message();
  return "acked " + std::to_string(a.result.index) + "/" + std::to_string(a.result.term) +
         (a.result.duplicate ? " duplicate" : "");
}

TEST(EventMachineSnapshot, ARestoredMachineGoesOnAsOneThatAppliedTheWholeLog) {
  storage::MemoryLogStore full;
  storage::MemoryLogStore compacted;
  const Life a = FirstLifeWithSnapshot(&full);
  const Life b = FirstLifeWithSnapshot(&compacted);
  ASSERT_EQ(a.head, b.head);
  EXPECT_EQ(a.snapshot, b.snapshot) << "two nodes with the same log take the same snapshot";
  Compact(&compacted, b.head);

  // One node replays its whole log, the other has only the snapshot.
  Node replayed(&full, kExpiry);
  Node restored(&compacted, kExpiry);
  ASSERT_TRUE(restored.events_->restore(b.head, b.snapshot).ok());
  EXPECT_EQ(restored.events_->applied(), b.head);
  EXPECT_EQ(restored.events_->last_event_index(), b.last_event);
  EXPECT_EQ(restored.events_->log_time_ms(), 16000u);
  EXPECT_EQ(restored.events_->snapshot(), b.snapshot);
  for (Node* n : {&replayed, &restored}) {
    n->elect();
    n->settle();
  }
  ASSERT_EQ(restored.log_->local_history().head, b.head);
  ASSERT_EQ(replayed.events_->applied(), restored.events_->applied());
  EXPECT_EQ(replayed.events_->snapshot(), restored.events_->snapshot());
  EXPECT_EQ(restored.events_->counters().events_applied,
            replayed.events_->counters().events_applied);

  // The same pushes on both: the same answers, the same stream, and the
  // same state after each.
  struct Push {
    std::string producer;
    uint64_t seq;
    uint64_t at_ms;
  };
  const std::vector<Push> pushes = {
      {"p", 2, 16000},      // a retry of an event only the snapshot holds here
      {"w", 10, 16000},     // below w's window
      {"p", 4, 20000},      // new; log time 20000: w (idle since 1000) expires
      {"w", 4999, 20000},   // a retry the table cannot tell any more
      {"t", 1, 33500},      // log time 33500: q (idle since 16000) expires, p not
      {"q", 16000, 33600},  // refused as w's
      {"p", 2, 33600},      // p is still known: the original again
      {"q", 17001, 33700},  // past what q had: new
      {"new", 1, 33800},
  };
  for (size_t i = 0; i < pushes.size(); ++i) {
    const Push& x = pushes[i];
    for (Node* n : {&replayed, &restored}) {
      n->push("c" + std::to_string(i), x.producer, x.seq, x.at_ms);
      n->settle();
    }
    ASSERT_EQ(replayed.rec_.answers.size(), i + 1);
    ASSERT_EQ(restored.rec_.answers.size(), i + 1);
    EXPECT_EQ(Said(restored.rec_.answers[i]), Said(replayed.rec_.answers[i])) << "push " << i;
    EXPECT_EQ(restored.events_->snapshot(), replayed.events_->snapshot()) << "after push " << i;
  }
  const std::vector<Answer>& said = restored.rec_.answers;
  EXPECT_EQ(Said(said[0]), "acked " + std::to_string(b.p2) + "/1 duplicate");
  EXPECT_NE(said[1].status.message().find("older than the window"), std::string::npos)
      << Said(said[1]);
  EXPECT_TRUE(said[2].ok && !said[2].result.duplicate) << Said(said[2]);
  for (size_t i : {3, 5}) {
    EXPECT_TRUE(said[i].status.IsInvalidInput()) << Said(said[i]);
    EXPECT_NE(said[i].status.message().find("expired"), std::string::npos) << Said(said[i]);
  }
  EXPECT_EQ(Said(said[6]), "acked " + std::to_string(b.p2) + "/1 duplicate");
  EXPECT_TRUE(said[7].ok && !said[7].result.duplicate) << Said(said[7]);
  EXPECT_TRUE(said[8].ok && !said[8].result.duplicate) << Said(said[8]);
  EXPECT_EQ(restored.events_->producers().expired(), 2u);

  // The stream goes on from the snapshot's last event, on both alike.
  ASSERT_FALSE(restored.rec_.published.empty());
  EXPECT_EQ(restored.rec_.published[0].prev, b.last_event);
  EXPECT_EQ(restored.rec_.published[0].seq, 4u);
  ASSERT_EQ(restored.rec_.published.size(), replayed.rec_.published.size());
  for (size_t i = 0; i < restored.rec_.published.size(); ++i) {
    EXPECT_EQ(restored.rec_.published[i].index, replayed.rec_.published[i].index);
    EXPECT_EQ(restored.rec_.published[i].prev, replayed.rec_.published[i].prev);
  }
  wire::FetchResult page;
  EXPECT_TRUE(restored.events_->fetch(b.head, 10, 1 << 20, &page).IsNotFound());
  ASSERT_TRUE(restored.events_->fetch(b.head + 1, 100, 1 << 20, &page).ok());
  EXPECT_FALSE(page.entries.empty());
}

TEST(EventMachineSnapshot, RestoredOverALogStillHeldItSkipsWhatTheSnapshotHasAndFetchHidesTheSame) {
  storage::MemoryLogStore disk;
  const Life life = FirstLifeWithSnapshot(&disk);
  // The log is not compacted: it replays from index 1, and the machine
  // must take nothing up to the snapshot's index a second time.
  Node n(&disk, kExpiry);
  ASSERT_TRUE(n.events_->restore(life.head, life.snapshot).ok());
  n.elect();
  n.settle();
  EXPECT_EQ(n.events_->counters().duplicates_skipped, 1u) << "the repeat, counted once";
  EXPECT_EQ(n.events_->counters().undecodable, 1u);
  n.push("a", "p", 3, 16000);
  ASSERT_EQ(n.rec_.answers.size(), 1u);
  EXPECT_TRUE(n.rec_.answers[0].result.duplicate);
  // The entries that are no events are hidden by what the snapshot says.
  wire::FetchResult page;
  ASSERT_TRUE(n.events_->fetch(1, 1000, 1 << 20, &page).ok());
  ASSERT_GE(page.entries.size(), life.garbage);
  for (const core::Entry& e : page.entries) {
    if (e.index == life.repeat || e.index == life.garbage) {
      EXPECT_EQ(e.type, core::EntryType::kNoop) << e.index;
      EXPECT_TRUE(e.data.empty()) << e.index;
    }
  }
}

TEST(EventMachineSnapshot, RestoreFailsThePushesInFlightAndARetryGetsTheEntryBack) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  n.elect();
  n.settle();
  n.push("a", "p", 1);
  n.turn();  // proposed, not durable
  ASSERT_EQ(n.events_->pending(), 1u);
  const core::LogIndex index = n.log_->local_history().last;
  ASSERT_TRUE(n.events_->restore(n.events_->applied(), n.events_->snapshot()).ok());
  ASSERT_EQ(n.rec_.answers.size(), 1u);
  const Answer& a = n.rec_.answers[0];
  EXPECT_TRUE(a.status.IsNotLeader()) << Said(a);
  EXPECT_NE(a.status.message().find("installed a snapshot"), std::string::npos) << Said(a);
  EXPECT_NE(a.status.message().find("outcome is unknown"), std::string::npos) << Said(a);
  // (Still leading, it waits on the entry as a new leader would.)
  n.push("b", "p", 1);
  n.settle();
  ASSERT_EQ(n.rec_.answers.size(), 2u);
  EXPECT_EQ(Said(n.rec_.answers[1]), "acked " + std::to_string(index) + "/" +
                                         std::to_string(n.log_->local_node().ballot.term) +
                                         " duplicate");
  EXPECT_EQ(n.log_->local_history().last, index) << "the retry was not appended again";
}

TEST(EventMachineSnapshot, ASnapshotOfAnotherWindowExpiryOrIndexIsRefusedAndChangesNothing) {
  storage::MemoryLogStore disk;
  const Life life = FirstLifeWithSnapshot(&disk);
  storage::MemoryLogStore other;
  Node wide(&other, kExpiry, 2048);
  Status s = wide.events_->restore(life.head, life.snapshot);
  EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
  EXPECT_NE(s.message().find("producer-window 1024, this node runs with 2048"), std::string::npos)
      << s.message();
  Node never(&other, 0);
  s = never.events_->restore(life.head, life.snapshot);
  EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
  EXPECT_NE(s.message().find("expiry of 16000 ms, this node runs with 0 ms"), std::string::npos)
      << s.message();
  s = never.events_->restore(life.head + 1, life.snapshot);
  EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
  EXPECT_NE(s.message().find("of index " + std::to_string(life.head) + ", not of index " +
                             std::to_string(life.head + 1)),
            std::string::npos)
      << s.message();
  EXPECT_EQ(never.events_->applied(), 0u);

  Node behind(&disk, kExpiry);
  behind.elect();
  behind.settle();
  ASSERT_GT(behind.events_->applied(), life.head);
  s = behind.events_->restore(life.head, life.snapshot);
  EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
  EXPECT_NE(s.message().find("does not go back"), std::string::npos) << s.message();
}

TEST(EventMachineSnapshot, CutOrDamagedSnapshotsAreRefusedAndNeverCrash) {
  storage::MemoryLogStore disk;
  const Life life = FirstLifeWithSnapshot(&disk);
  const std::string& bytes = life.snapshot;
  storage::MemoryLogStore other;
  Node n(&other, kExpiry);
  const std::string empty = n.events_->snapshot();
  for (size_t size = 0; size < bytes.size(); ++size) {
    Status s = n.events_->restore(life.head, std::string_view(bytes).substr(0, size));
    ASSERT_TRUE(s.IsCorruption()) << size << ": " << s.ToString();
    ASSERT_EQ(n.events_->snapshot(), empty) << size;
  }
  Status s = n.events_->restore(life.head, bytes + 'x');
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // Every byte flipped a few ways: refused with a reason or (a number
  // changed) taken. Never a crash (the ASan build runs this too). Quiet:
  // each restore taken says so in the log.
  SetLogLevel(LogLevel::kWarn);
  size_t refused = 0;
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (unsigned char mask : {0x01, 0x10, 0x80, 0xff}) {
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ mask);
      s = n.events_->restore(life.head, damaged);
      if (s.ok()) {
        // Taken: the machine holds what the bytes say, and says it again.
        ASSERT_TRUE(n.events_->restore(life.head, n.events_->snapshot()).ok()) << at;
        continue;
      }
      ++refused;
      ASSERT_TRUE(s.IsCorruption() || s.IsInvalidInput() || s.code() == Status::Code::kNotSupported)
          << at << ": " << s.ToString();
    }
  }
  SetLogLevel(LogLevel::kInfo);
  EXPECT_GT(refused, bytes.size());
  ASSERT_TRUE(n.events_->restore(life.head, bytes).ok());
  EXPECT_EQ(n.events_->snapshot(), bytes);
}

// --- Snapshotter: when snapshots are taken and how far the log goes ---

// Pushes n events from one producer, stamped at log times at_ms(i), and
// settles: every one committed, applied and snapshotted as due.
void PushMany(Node& n, uint64_t count, const std::function<uint64_t(uint64_t)>& at_ms) {
  for (uint64_t i = 1; i <= count; ++i) {
    n.push("c", "p", i, at_ms(i));
    if (i % 64 != 0 && i != count) continue;
    // Applied one entry per Ready: turns until every push is answered.
    for (int turns = 0; turns < 1000 && n.events_->pending() > 0; ++turns) {
      n.writer_.release();
      n.turn();
    }
    ASSERT_EQ(n.events_->pending(), 0u);
  }
  n.settle();
}

TEST(Snapshotter, SnapshotsEveryNEntriesAndKeepsAtLeastTheRetainedOnes) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  RetentionOptions o;
  o.snapshot_every = 500;
  o.retain_entries = 1000;
  n.enable_snapshots(o);
  n.elect();
  PushMany(n, 6000, [](uint64_t) { return 1; });
  const LocalHistory h = n.log_->local_history();
  EXPECT_GE(n.snaps_->counters().snapshots, 10u);
  EXPECT_GE(n.snaps_->counters().compactions, 1u);
  EXPECT_GE(h.applied - h.head, 1000u) << "never fewer than retain-entries kept";
  // Compaction goes in steps of at least 1024 entries, up to the snapshot.
  EXPECT_LE(h.applied - h.head, 1000u + 1024u + 500u);
  core::SnapshotHead snap;
  ASSERT_TRUE(n.log_->last_snapshot(&snap).ok());
  EXPECT_GE(snap.index, h.head);
  EXPECT_EQ(disk.head_index(), h.head);
}

TEST(Snapshotter, WithNoRetentionLimitTheLogKeepsEverything) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  RetentionOptions o;
  o.snapshot_every = 500;
  n.enable_snapshots(o);
  n.elect();
  PushMany(n, 3000, [](uint64_t) { return 1; });
  EXPECT_GE(n.snaps_->counters().snapshots, 5u);
  EXPECT_EQ(n.log_->local_history().head, 0u);
  EXPECT_EQ(n.snaps_->counters().compactions, 0u);
}

TEST(Snapshotter, RetainBytesKeepsAtMostThatMuchOfTheLog) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  RetentionOptions o;
  o.snapshot_every = 1000;
  o.retain_bytes = 64 << 10;
  n.enable_snapshots(o);
  n.elect();
  PushMany(n, 8000, [](uint64_t) { return 1; });
  const LocalHistory h = n.log_->local_history();
  ASSERT_GT(h.head, 0u);
  std::vector<core::Entry> kept;
  ASSERT_TRUE(n.log_->committed_entries(h.head + 1, h.applied + 1, SIZE_MAX, &kept).ok());
  uint64_t bytes = 0;
  for (const core::Entry& e : kept) bytes += e.byte_size();
  EXPECT_LE(bytes, o.retain_bytes);
  // ...and not far less: up to a mark (1 MiB or 1024 entries) plus what
  // came after the last snapshot, which cannot go yet.
  const uint64_t entry = kept.back().byte_size();
  EXPECT_GE(bytes + (Snapshotter::kMarkEntries + o.snapshot_every) * entry, o.retain_bytes);
}

TEST(Snapshotter, RetainAgeDropsEntriesOlderThanTheAgeByLogTime) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  RetentionOptions o;
  o.snapshot_every = 1000;
  o.retain_age_ms = 1000 * 1000;  // 1000 s
  n.enable_snapshots(o);
  n.elect();
  // Event i at i seconds; the wall clock at 4000 s: events up to 3000 s
  // are older than the age.
  n.now_ms_ = 4000 * 1000;
  PushMany(n, 4000, [](uint64_t i) { return i * 1000; });
  const core::LogIndex head = n.log_->local_history().head;
  ASSERT_GT(head, 0u);
  std::vector<core::Entry> first;
  ASSERT_TRUE(n.log_->committed_entries(head + 1, head + 2, SIZE_MAX, &first).ok());
  wire::EventRecordView record;
  ASSERT_TRUE(
      wire::DecodeEventRecord(first[0].data.data(), first[0].data.size(), {}, &record).ok());
  // Nothing newer than the age went (event i is entry i + 1: the leader's
  // noop is first), and the log was cut to within a mark of it.
  EXPECT_LE(head, 3000u + 1);
  EXPECT_GE(head + Snapshotter::kMarkEntries + o.snapshot_every, 3000u + 1);
  EXPECT_LE(record.timestamp_ms, (3000u + 1) * 1000);
}

TEST(Snapshotter, ARequestIsAnsweredOnceTheSnapshotIsDurable) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  RetentionOptions o;
  o.snapshot_every = 0;  // only when asked
  n.enable_snapshots(o);
  n.elect();
  PushMany(n, 10, [](uint64_t) { return 1; });
  std::vector<std::pair<Status, core::SnapshotHead>> answers;
  auto record = [&](const Status& s, const core::SnapshotHead& h) { answers.push_back({s, h}); };
  n.snaps_->request(record);
  n.turn();  // saved to the writer, not durable
  EXPECT_TRUE(answers.empty());
  n.writer_.release();
  n.turn();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].first.ok());
  EXPECT_EQ(answers[0].second.index, n.log_->local_history().applied);
  EXPECT_EQ(answers[0].second.size, n.events_->snapshot().size());
  // Nothing applied since: the same one, at once.
  n.snaps_->request(record);
  n.turn();
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].second, answers[0].second);
  EXPECT_EQ(n.snaps_->counters().snapshots, 1u);
}

TEST(Snapshotter, AnAskedForSnapshotCompactsAsFarAsRetentionAllowsAtOnce) {
  storage::MemoryLogStore disk;
  Node n(&disk);
  RetentionOptions o;
  o.snapshot_every = 0;
  o.retain_entries = 100;
  n.enable_snapshots(o);
  n.elect();
  PushMany(n, 600, [](uint64_t) { return 1; });
  EXPECT_EQ(n.log_->local_history().head, 0u);
  bool answered = false;
  n.snaps_->request([&](const Status& s, const core::SnapshotHead&) { answered = s.ok(); });
  n.settle();
  ASSERT_TRUE(answered);
  // 500 entries to drop is less than the usual step (1024), but asked for.
  const LocalHistory h = n.log_->local_history();
  EXPECT_EQ(h.head, h.applied - 100);
}

TEST(Snapshotter, ARestartedNodeLearnsTheSizesOfTheEntriesItKeptBeforeItsSnapshot) {
  storage::MemoryLogStore disk;
  {
    Node n(&disk);
    RetentionOptions o;
    o.snapshot_every = 2500;  // no limit: nothing compacts
    n.enable_snapshots(o);
    n.elect();
    PushMany(n, 3000, [](uint64_t) { return 1; });
    ASSERT_EQ(n.log_->local_history().head, 0u);
  }
  Node again(&disk);
  RetentionOptions o;
  o.retain_bytes = 10 << 10;
  again.enable_snapshots(o);
  // The snapshot (at 2501) is the first event; then what it holds before it.
  again.turn();
  ASSERT_TRUE(again.snaps_->learn().ok());
  ASSERT_EQ(again.log_->local_history().head, 0u) << "a start compacts nothing";
  const core::LogIndex target = again.snaps_->compaction_target(0);
  EXPECT_GE(target, 2501u - Snapshotter::kMarkEntries) << "cut at a mark near the snapshot";
  EXPECT_LE(target, 2501u);
}

TEST(Snapshotter, ANodeRestartedFromItsSnapshotAnswersRetriesItCompactedAway) {
  storage::MemoryLogStore disk;
  {
    Node n(&disk);
    RetentionOptions o;
    o.snapshot_every = 500;
    o.retain_entries = 100;
    n.enable_snapshots(o);
    n.elect();
    PushMany(n, 3000, [](uint64_t) { return 1; });
    ASSERT_GT(n.log_->local_history().head, 1500u);
  }
  Node again(&disk);
  again.enable_snapshots(RetentionOptions{});
  again.elect();
  again.settle();
  // The restarted node's table is the snapshot's (the log it covers is not
  // applied again): the answer to a retry within the window comes from it.
  ASSERT_EQ(again.events_->applied(), again.log_->local_history().applied);
  again.push("retry", "p", 2999);
  again.settle();
  ASSERT_FALSE(again.rec_.answers.empty());
  const Answer& a = again.rec_.answers.back();
  ASSERT_TRUE(a.ok) << a.status.ToString();
  EXPECT_TRUE(a.result.duplicate);
  EXPECT_EQ(a.result.index, 3000u);  // the noop is entry 1
}

}  // namespace
}  // namespace raftlog::server
