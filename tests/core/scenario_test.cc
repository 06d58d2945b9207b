// The textbook cases, as stories. Each test sets the stage, plays the
// scenario step by step, and asserts the Raft rule it illustrates.
#include <gtest/gtest.h>

#include "harness.h"

namespace raftlog::core::testing {
namespace {

// Raft paper, figure 7: a leader of term 8 meets followers whose logs are
// short (a, b, e), long with stale entries (c, d), or divergent (f). Whatever
// they hold, AppendEntries' consistency check brings every log to the
// leader's, and the conflict hint takes a few round trips, not one per index.
TEST(Figure7, EveryFollowerLogConvergesToTheLeaders) {
  std::vector<std::vector<Term>> logs = {
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6},        // the leader-to-be
      {1, 1, 1, 4, 4, 5, 5, 6, 6},           // (a) missing one entry
      {1, 1, 1, 4},                          // (b) missing many
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},     // (c) one extra uncommitted entry
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},  // (d) two extra entries of term 7
      {1, 1, 1, 4, 4, 4, 4},                 // (e) missing, and extra term-4 entries
      {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},     // (f) a leader of terms 2 and 3 that failed
  };
  Cluster c(logs, {7, 7, 7, 7, 7, 7, 7});

  // (a), (b), (e) and (f) vote for it; (c) and (d) hold more up-to-date logs.
  c.elect(1);
  ASSERT_EQ(c.leader(), 1u);
  EXPECT_EQ(c.raft(1).term(), 8u);

  c.deliver_all();
  std::vector<Term> expected = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8};  // + the leader's Noop
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.node(id).log.terms(), expected) << "node " << id;
    EXPECT_EQ(c.raft(id).commit_index(), 11u) << "node " << id;
  }

  // Divergent (f) needed few rejections: one per differing term, not per index.
  int rejections_from_f = 0;
  for (const Message& m : c.delivered) {
    const auto* r = std::get_if<AppendEntriesReply>(&m.body);
    if (m.from == 7 && r != nullptr && !r->success) ++rejections_from_f;
  }
  EXPECT_LE(rejections_from_f, 3);
}

// Raft paper, figure 8: an entry from an earlier term on a majority is NOT
// committed by counting replicas; only the leader's own-term entries are.
// Otherwise a later leader could overwrite it.
TEST(Figure8, EarlierTermEntryOnAMajorityIsNotCommittedByCounting) {
  // After (b): S1 led term 2 and got index 2 to S2; S5 led term 3 and
  // wrote its own index 2. S1 now wins term 4 with the votes of S2, S3 and
  // S4 (S5's log, ending in term 3, is more up to date and refuses).
  Cluster c({{1, 2}, {1, 2}, {1}, {1}, {1, 3}}, {3, 3, 3, 3, 3},
            [](Config& cfg) { cfg.max_entries_per_msg = 1; });
  c.elect_only(1);
  ASSERT_EQ(c.leader(), 1u);
  ASSERT_EQ(c.raft(1).term(), 4u);

  // (c): S1 appended its Noop (index 3, term 4). It reaches S2 but not S3:
  // S3 only gets index 2. S4 and S5 hear nothing.
  c.cut(1, 4);
  c.isolate(5);
  auto s3_would_get_index_3 = [&](const Message& m) {
    const auto* ae = std::get_if<AppendEntries>(&m.body);
    return m.to == 3 && ae != nullptr && !ae->entries.empty() && ae->entries.back().index >= 3 &&
           c.raft(3).last_index() >= 2;
  };
  while (c.deliver_if([&](const Message& m) { return !s3_would_get_index_3(m); }) > 0) {
  }
  ASSERT_EQ(c.node(2).log.terms(), (std::vector<Term>{1, 2, 4}));
  ASSERT_EQ(c.node(3).log.terms(), (std::vector<Term>{1, 2}));
  // Index 2 (term 2) is on S1, S2 and S3, a majority of five, and S1 knows
  // it; yet it is not committed: its term is not the leader's.
  EXPECT_EQ(c.raft(1).progress()[2].match, 2u) << "S3 acknowledged index 2";
  EXPECT_LT(c.raft(1).commit_index(), 2u);

  // (d): S1 crashes. Without S2 (cut off), S5 wins term 5 with S3 and S4,
  // whose logs end before its term-3 entry...
  c.crash(1);
  c.drop_all();
  c.heal();
  c.isolate(2);
  for (int i = 0; i < 200 && c.leader() != 5; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  ASSERT_EQ(c.leader(), 5u);
  // ...and overwrites index 2 everywhere, S2's copy included.
  c.heal();
  c.crash(1);
  for (int i = 0; i < 5; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  Term t5 = c.raft(5).term();
  for (NodeId id : {2, 3, 4, 5}) {
    EXPECT_EQ(c.node(id).log.terms(), (std::vector<Term>{1, 3, t5})) << "node " << id;
  }
  // Had S1 committed index 2 in (c), this overwrite would have lost a
  // committed entry; no node ever delivered it.
  for (NodeId id : {2, 3, 4, 5}) {
    for (const Entry& e : c.node(id).applied) EXPECT_NE(e.term, 2u) << "node " << id;
  }
}

// Figure 8 (e), the other ending: once the leader's own term-4 entry is on
// a majority, it and the earlier-term entry before it commit together.
TEST(Figure8, EarlierTermEntryCommitsWithTheLeadersOwnEntry) {
  Cluster c({{1, 2}, {1, 2}, {1}, {1}, {1, 3}}, {3, 3, 3, 3, 3});
  c.elect(1);
  ASSERT_EQ(c.leader(), 1u);
  c.isolate(5);
  c.deliver_all();
  EXPECT_EQ(c.raft(1).commit_index(), 3u);
  EXPECT_EQ(c.node(3).log.terms(), (std::vector<Term>{1, 2, 4}));
}

// Two candidates split the vote: nobody wins that term; randomized timeouts
// make one of them stand first next time, and it wins.
TEST(SplitVote, NoLeaderInTheSplitTermThenOneEmerges) {
  Cluster c(4, [](Config& cfg) { cfg.pre_vote = false; });
  ASSERT_TRUE(c.raft(1).start_election().ok());
  ASSERT_TRUE(c.raft(2).start_election().ok());
  c.process();
  // Node 3 hears node 1 first, node 4 hears node 2 first: 2 votes each.
  c.deliver_if(
      [](const Message& m) { return (m.from == 1 && m.to == 3) || (m.from == 2 && m.to == 4); });
  c.deliver_if([](const Message& m) { return m.type() == MessageType::kRequestVote; });
  c.deliver_all();
  EXPECT_EQ(c.leader(), 0u) << "nobody may win a split term";
  EXPECT_EQ(c.raft(1).term(), 1u);
  EXPECT_EQ(c.raft(2).term(), 1u);

  for (int i = 0; i < 100 && c.leader() == 0; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  NodeId leader = c.leader();
  ASSERT_NE(leader, 0u);
  EXPECT_GE(c.raft(leader).term(), 2u);
  for (NodeId id : c.ids()) EXPECT_EQ(c.raft(id).leader(), leader) << "node " << id;
}

// An old leader cut off by a partition keeps accepting proposals it cannot
// commit; check-quorum makes it step down; when it returns, its uncommitted
// entries give way to the new leader's log.
TEST(OldLeader, ReturnsFromAPartitionAndItsUncommittedEntriesAreReplaced) {
  Cluster c(5);
  c.elect(1);
  ASSERT_EQ(c.leader(), 1u);
  c.propose(1, "committed-before");
  c.deliver_all();
  ASSERT_EQ(c.raft(1).commit_index(), 2u);

  c.isolate(1);
  c.propose(1, "lost-in-partition");
  c.deliver_all();
  EXPECT_EQ(c.raft(1).commit_index(), 2u) << "no quorum, no commit";

  // The majority side elects a new leader.
  for (int i = 0; i < 100 && (c.leader() == 0 || c.leader() == 1); ++i) {
    c.tick_all();
    c.deliver_all();
  }
  NodeId new_leader = c.leader();
  ASSERT_NE(new_leader, 0u);
  ASSERT_NE(new_leader, 1u);
  // Within an election timeout, check-quorum steps the cut-off leader down.
  for (int i = 0; i < 10 && c.raft(1).role() == Role::kLeader; ++i) c.tick(1);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  c.propose(new_leader, "after-partition");
  c.deliver_all();

  c.heal();
  for (int i = 0; i < 5; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.node(id).log.all(), c.node(new_leader).log.all()) << "node " << id;
    for (const Entry& e : c.node(id).log.all()) EXPECT_NE(e.data, "lost-in-partition");
  }
  EXPECT_EQ(c.raft(1).leader(), new_leader);
}

// A follower that holds extra entries no leader committed (it followed a
// leader that failed) has them truncated and replaced.
TEST(ExtraEntries, FollowerTruncatesUncommittedSuffix) {
  // Node 3 holds entries of term 2 from a leader that reached nobody else.
  Cluster c({{1, 1}, {1, 1}, {1, 1, 2, 2, 2}}, {2, 2, 2});
  c.elect(1);  // node 2 votes; node 3 refuses (its log is more up to date)
  ASSERT_EQ(c.leader(), 1u);
  c.propose(1, "x");
  c.deliver_all();
  std::vector<Term> expected = {1, 1, 3, 3};
  EXPECT_EQ(c.node(3).log.terms(), expected);
  EXPECT_EQ(c.raft(3).commit_index(), 4u);
}

// A follower cut off for many election timeouts only pre-votes: its term
// stays put, and when it returns the healthy leader keeps its term and role.
TEST(PreVote, IsolatedFollowerDoesNotDisturbAHealthyLeader) {
  Cluster c(3);
  c.elect(1);
  ASSERT_EQ(c.leader(), 1u);
  Term term = c.raft(1).term();

  c.isolate(3);
  for (int i = 0; i < 100; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.raft(3).term(), term) << "pre-votes never bump the term";
  EXPECT_EQ(c.leader(), 1u);

  c.heal();
  for (int i = 0; i < 30; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.leader(), 1u);
  EXPECT_EQ(c.raft(1).term(), term);
  EXPECT_EQ(c.raft(3).leader(), 1u);
  EXPECT_EQ(c.raft(3).role(), Role::kFollower);
}

// The same story without pre-vote, for contrast: the returning node's
// inflated term deposes the leader.
TEST(PreVote, WithoutItAReturningFollowerDeposesTheLeader) {
  Cluster c(3, [](Config& cfg) {
    cfg.pre_vote = false;
    cfg.check_quorum = false;
  });
  c.elect(1);
  ASSERT_EQ(c.leader(), 1u);
  Term term = c.raft(1).term();
  c.isolate(3);
  for (int i = 0; i < 100; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_GT(c.raft(3).term(), term);
  c.heal();
  c.tick_all();
  c.deliver_all();
  EXPECT_GT(c.raft(1).term(), term) << "the leader saw a higher term and stepped down";
}

}  // namespace
}  // namespace raftlog::core::testing
