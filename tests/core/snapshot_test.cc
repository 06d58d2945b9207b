// Snapshots in the core: a leader whose log was compacted sends a follower
// that needs the compacted entries its snapshot, in chunks, then the log
// after it (Raft §7).
#include <gtest/gtest.h>

#include "harness.h"

namespace raftlog::core::testing {
namespace {

size_t Count(const std::vector<Message>& ms, MessageType type) {
  size_t n = 0;
  for (const Message& m : ms) n += m.type() == type ? 1 : 0;
  return n;
}

// Leader 1 commits 20 events while node 3 is down, then snapshots and
// compacts; 5 more follow. Returns the snapshot's index.
LogIndex CompactWhileNodeThreeIsDown(Cluster& c) {
  c.elect(1);
  for (int i = 0; i < 5; ++i) c.propose(1, "a" + std::to_string(i));
  c.deliver_all();
  c.crash(3);
  for (int i = 0; i < 15; ++i) c.propose(1, "b" + std::to_string(i));
  c.deliver_all();
  c.snapshot(1);
  const LogIndex head = c.node(1).log.head_index();
  for (int i = 0; i < 5; ++i) c.propose(1, "c" + std::to_string(i));
  c.deliver_all();
  return head;
}

TEST(Snapshot, AFollowerBehindTheHeadGetsTheSnapshotThenTheLog) {
  Cluster c(3, [](Config& cfg) { cfg.snapshot_chunk_bytes = 16; });
  const LogIndex head = CompactWhileNodeThreeIsDown(c);
  EXPECT_EQ(head, 21u);  // the leader's Noop and 20 events
  c.delivered.clear();
  c.restart(3);
  // The leader finds node 3 behind when its messages to it time out.
  for (int i = 0; i < 20 && c.node(3).snapshots_installed == 0; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.node(3).snapshots_installed, 1);
  // In chunks of 16 bytes: one InstallSnapshot message each.
  const size_t size = c.node(1).log.snapshot_bytes().size();
  EXPECT_GT(size, 64u);
  EXPECT_EQ(Count(c.delivered, MessageType::kInstallSnapshot), (size + 15) / 16);
  EXPECT_EQ(c.node(3).log.head_index(), head);
  EXPECT_EQ(c.raft(3).last_index(), c.raft(1).last_index());
  EXPECT_EQ(c.raft(3).commit_index(), c.raft(1).commit_index());
  EXPECT_EQ(c.state(3), c.state(1));  // the same state, snapshot and log after it
  EXPECT_TRUE(c.raft(1).status().ok());
}

TEST(Snapshot, ALostChunkIsSentAgainAfterTheRetransmitTimeout) {
  Cluster c(3, [](Config& cfg) {
    cfg.snapshot_chunk_bytes = 32;
    cfg.retransmit_ticks = 3;
  });
  CompactWhileNodeThreeIsDown(c);
  c.restart(3);
  // Time passes until the first chunk is out; it is lost.
  size_t lost = 0;
  for (int i = 0; i < 20 && lost == 0; ++i) {
    c.tick(1);
    while (c.deliver_if([&](const Message& m) {
      if (m.type() != MessageType::kInstallSnapshot) return true;
      ++lost;
      return false;
    }) > 0) {
    }
  }
  c.drop_all();
  ASSERT_GE(lost, 1u);
  EXPECT_EQ(c.node(3).snapshots_installed, 0);
  for (int i = 0; i < 20 && c.node(3).snapshots_installed == 0; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.node(3).snapshots_installed, 1);
  EXPECT_EQ(c.state(3), c.state(1));
}

TEST(Snapshot, ASnapshotThatFailsItsChecksumIsSentAgainFromTheStart) {
  Cluster c(3, [](Config& cfg) { cfg.snapshot_chunk_bytes = 64; });
  CompactWhileNodeThreeIsDown(c);
  c.node(3).corrupt_next_snapshot = true;
  c.restart(3);
  for (int i = 0; i < 30 && c.node(3).snapshots_installed == 0; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.node(3).snapshots_failed, 1);
  EXPECT_EQ(c.node(3).snapshots_installed, 1);
  EXPECT_EQ(c.state(3), c.state(1));
}

TEST(Snapshot, TheThrottleSendsOneChunkPerTick) {
  Cluster c(3, [](Config& cfg) {
    cfg.snapshot_chunk_bytes = 8;
    cfg.snapshot_bytes_per_tick = 8;
  });
  CompactWhileNodeThreeIsDown(c);
  const size_t size = c.node(1).log.snapshot_bytes().size();
  c.restart(3);
  c.delivered.clear();
  int ticks = 0;
  for (; ticks < 500 && c.node(3).snapshots_installed == 0; ++ticks) {
    c.tick_all();
    c.deliver_all();
  }
  ASSERT_EQ(c.node(3).snapshots_installed, 1);
  const size_t chunks = Count(c.delivered, MessageType::kInstallSnapshot);
  EXPECT_GE(chunks, (size + 7) / 8);
  // At most one chunk of 8 bytes per tick, plus the one sent when the
  // transfer began.
  EXPECT_LE(chunks, static_cast<size_t>(ticks) + 1);
  EXPECT_GE(static_cast<size_t>(ticks) + 1, (size + 7) / 8);
  EXPECT_EQ(c.state(3), c.state(1));
}

TEST(Snapshot, ARestartedLeaderStartsFromItsSnapshotAndKeepsServing) {
  Cluster c(3);
  c.elect(1);
  for (int i = 0; i < 10; ++i) c.propose(1, "x" + std::to_string(i));
  c.deliver_all();
  for (NodeId id : {1, 2, 3}) c.snapshot(id);
  const std::string before = c.state(1);
  for (NodeId id : {1, 2, 3}) c.crash(id);
  for (NodeId id : {1, 2, 3}) c.restart(id);
  EXPECT_EQ(c.state(1), before);  // the snapshot, and nothing replayed under it
  EXPECT_EQ(c.raft(1).applied_index(), c.node(1).log.head_index());
  c.elect(2);
  c.propose(2, "after");
  c.deliver_all();
  // The new leader's Noop (empty data), then the event.
  for (NodeId id : {1, 2, 3}) EXPECT_EQ(c.state(id), before + ";after;") << "node " << id;
}

// Found by the simulator: the leader's heartbeats to a probing follower
// are anchored at its match index, which compaction moved below the log
// head. The leader sends the term there as 0 and the follower refuses
// every one; a lost probe (here at the head, after the follower lost
// entries in a crash) was only sent again after a heartbeat was
// acknowledged, so the follower never got the snapshot.
TEST(Snapshot, AProbeLostWhileTheLogIsCompactedPastTheMatchIsSentAgain) {
  Cluster c(3, [](Config& cfg) {
    cfg.retransmit_ticks = 3;
    cfg.max_entries_per_msg = 1;
  });
  c.elect(1);
  for (int i = 0; i < 5; ++i) c.propose(1, "a" + std::to_string(i));
  c.deliver_all();
  // Node 3 takes 15 more but a crash loses them before they are durable.
  c.node(3).auto_persist = false;
  for (int i = 0; i < 15; ++i) c.propose(1, "b" + std::to_string(i));
  c.deliver_all();
  c.crash(3);
  c.snapshot(1);
  c.propose(1, "lost");  // to node 3 while it is down
  c.deliver_all();
  c.node(3).auto_persist = true;
  c.restart(3);
  // Node 3 refuses the next entry; the leader probes at its head, and that
  // probe is lost.
  c.propose(1, "refused");
  c.deliver_if([](const Message& m) { return m.to == 3; });
  c.cut(1, 3, /*both_ways=*/false);
  c.deliver_all();
  c.heal();
  for (int i = 0; i < 40 && c.node(3).snapshots_installed == 0; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.node(3).snapshots_installed, 1);
  EXPECT_EQ(c.state(3), c.state(1));
}

// Found by the simulator: a runtime that takes the next Ready before the
// last chunk's write is done (raft.h allows it) applies that Ready's
// committed entries after the install. The core handed out entries below
// the snapshot there, taking the installed state back.
TEST(Snapshot, NothingIsDeliveredWhileASnapshotIsBeingInstalled) {
  Cluster c(3, [](Config& cfg) {
    cfg.retransmit_ticks = 3;
    cfg.max_entries_per_msg = 2;
    cfg.max_inflight_msgs = 1;
  });
  c.elect(1);
  for (int i = 0; i < 5; ++i) c.propose(1, "a" + std::to_string(i));
  c.deliver_all();
  c.crash(3);
  for (int i = 0; i < 15; ++i) c.propose(1, "b" + std::to_string(i));
  c.deliver_all();
  Node& n3 = c.node(3);
  n3.auto_persist = false;
  c.restart(3);
  // Node 3 takes two entries and the commit index over them (held: not
  // yet durable, so not yet acknowledged).
  const LogIndex before = c.raft(3).last_index();
  for (int i = 0; i < 20 && c.raft(3).last_index() == before; ++i) {
    c.tick(1);
    c.deliver_all();
  }
  ASSERT_GT(c.raft(3).last_index(), before);
  ASSERT_GT(c.raft(3).commit_index(), before);
  // The leader compacts past them; the unacknowledged entries time out and
  // node 3 is sent the snapshot, whose last chunk it hands out.
  c.snapshot(1);
  auto chunk_held = [&] {
    return !n3.held.empty() && !n3.held.back().snapshot_chunks.empty() &&
           n3.held.back().snapshot_chunks.back().done;
  };
  for (int i = 0; i < 20 && !chunk_held(); ++i) {
    c.tick(1);
    c.deliver_all();
  }
  ASSERT_TRUE(chunk_held());
  // The writes before the chunk complete; the next Ready is taken while the
  // chunk's write is still out.
  Ready chunk_write = std::move(n3.held.back());
  n3.held.pop_back();
  c.persist_held(3);
  for (const Ready& r : n3.held) EXPECT_TRUE(r.committed.empty()) << "delivered while installing";
  n3.held.insert(n3.held.begin(), std::move(chunk_write));
  n3.auto_persist = true;
  c.persist_held(3);
  EXPECT_EQ(n3.snapshots_installed, 1);
  for (int i = 0; i < 20; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.state(3), c.state(1));
}

// A follower whose match the leader compacted past: heartbeats are anchored
// where both logs agree, not at a term the leader no longer has (read as 0,
// the follower refused it, and the leader, taking a refusal at the match for
// a stale one, never heard from it again: found by the whole-node simulator).
TEST(Snapshot, HeartbeatsToAFollowerBehindTheHeadNameNoTermThatIsGone) {
  Cluster c(3, [](Config& cfg) { cfg.snapshot_chunk_bytes = 16; });
  c.elect(1);
  for (int i = 0; i < 5; ++i) c.propose(1, "a" + std::to_string(i));
  c.deliver_all();  // node 3 holds and has committed the leader's first 6 entries
  c.cut(1, 3);
  for (int i = 0; i < 15; ++i) c.propose(1, "b" + std::to_string(i));
  c.deliver_all();
  c.snapshot(1);
  ASSERT_GT(c.node(1).log.head_index(), c.raft(3).last_index());
  c.heal();
  c.delivered.clear();
  for (int i = 0; i < 40 && c.node(3).snapshots_installed == 0; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  for (const Message& m : c.delivered) {
    if (m.type() != MessageType::kAppendEntries || m.to != 3) continue;
    const auto& ae = std::get<AppendEntries>(m.body);
    EXPECT_FALSE(ae.prev_log_index > 0 && ae.prev_log_term == 0)
        << "an AppendEntries anchored at " << ae.prev_log_index << " with no term";
  }
  EXPECT_EQ(c.node(3).snapshots_installed, 1);
  EXPECT_EQ(c.state(3), c.state(1));
}

// A runtime writes a received snapshot on its storage thread: the store may
// hold the snapshot in place of the log before the core hears it is
// installed. A vote request in that window must not read the log's old tail
// from the store (it is gone there): the core keeps the tail's term itself.
TEST(Snapshot, AVoteRequestWhileTheStoreAlreadyHoldsTheSnapshotIsAnswered) {
  Cluster c(3);
  c.elect(1);
  for (int i = 0; i < 5; ++i) c.propose(1, "a" + std::to_string(i));
  c.deliver_all();  // node 3 applied everything: its core released its entries
  c.cut(1, 3);
  for (int i = 0; i < 15; ++i) c.propose(1, "b" + std::to_string(i));
  c.deliver_all();
  c.snapshot(1);
  c.heal();
  Node& n3 = c.node(3);
  n3.auto_persist = false;
  const SnapshotChunk* done = nullptr;
  for (int i = 0; i < 40 && done == nullptr; ++i) {
    c.tick_all();
    c.deliver_all();
    for (const Ready& r : n3.held) {
      for (const SnapshotChunk& ch : r.snapshot_chunks) {
        if (ch.done && ch.offset == 0) done = &ch;
      }
    }
  }
  ASSERT_NE(done, nullptr) << "node 3 received the whole snapshot in one chunk";
  // The store has replaced the log; the core has not been told yet. And
  // the leader went silent long enough for node 3 to hear a vote request.
  const LogIndex old_last = c.raft(3).last_index();
  n3.log.install(done->snapshot, done->data);
  c.isolate(1);
  c.tick(3, 25);
  RequestVote rv;
  rv.last_log_index = old_last + 100;
  rv.last_log_term = c.raft(3).term() + 1;
  rv.pre_vote = true;
  const Status s = c.raft(3).step(Message{2, 3, c.raft(3).term() + 1, rv});
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(c.raft(3).status().ok()) << c.raft(3).status().ToString();
}

TEST(Snapshot, CompactionPastWhatWasAppliedIsRefused) {
  Cluster c(1);
  c.elect(1);
  c.propose(1, "a");
  EXPECT_TRUE(c.raft(1).on_log_compacted(c.raft(1).last_index() + 1, 1).IsInvalidInput());
  EXPECT_TRUE(c.raft(1).on_log_compacted(1, 99).IsInvalidInput());  // wrong term
}

}  // namespace
}  // namespace raftlog::core::testing
