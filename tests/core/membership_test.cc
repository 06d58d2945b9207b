// Membership change (joint consensus with catch-up), learners, leadership
// transfer and ReadIndex, scripted on the hand-driven cluster.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "harness.h"

namespace raftlog::core::testing {
namespace {

ClusterConfig Config(std::vector<NodeId> voters, std::vector<NodeId> learners = {}) {
  ClusterConfig c;
  c.voters = std::move(voters);
  c.learners = std::move(learners);
  return c;
}

std::vector<NodeId> Sorted(std::vector<NodeId> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Ticks every node and delivers every message, round after round, until
// done() or `rounds` rounds have passed.
bool RunUntil(Cluster& c, const std::function<bool()>& done, int rounds = 300) {
  for (int i = 0; i < rounds && !done(); ++i) {
    c.tick_all();
    c.deliver_all();
  }
  return done();
}

bool Applied(Node& n, const std::string& data) {
  return std::any_of(n.applied.begin(), n.applied.end(),
                     [&](const Entry& e) { return e.data == data; });
}

template <typename E>
std::vector<E> EventsOf(const Node& n) {
  std::vector<E> out;
  for (const Event& e : n.events) {
    if (const auto* x = std::get_if<E>(&e)) out.push_back(*x);
  }
  return out;
}

bool InForce(Raft& r, const std::vector<NodeId>& voters, const std::vector<NodeId>& learners) {
  const ClusterConfig& c = r.cluster_config();
  return !c.joint() && Sorted(c.voters) == Sorted(voters) &&
         Sorted(c.learners) == Sorted(learners) && r.commit_index() == r.last_index();
}

TEST(Membership, GrowsThroughCatchUpThenJointThenFinal) {
  Cluster c(3);
  c.add_joining(4);
  c.add_joining(5);
  EXPECT_TRUE(c.raft(4).cluster_config().voters.empty());
  c.elect(1);
  c.propose(1, "before");
  c.deliver_all();

  ProposalId id;
  ASSERT_TRUE(c.raft(1).propose_config(Config({1, 2, 3, 4, 5}), &id).ok());
  EXPECT_GT(id.index, 0u);  // the entry that adds 4 and 5 as learners
  EXPECT_EQ(c.raft(1).config_change().phase, ConfigChange::Phase::kCatchUp);
  EXPECT_EQ(Sorted(c.raft(1).cluster_config().learners), (std::vector<NodeId>{4, 5}));
  EXPECT_EQ(c.raft(1).cluster_config().voters, (std::vector<NodeId>{1, 2, 3}));

  // One change at a time.
  Status busy = c.raft(1).propose_config(Config({1, 2}), nullptr);
  EXPECT_TRUE(busy.IsBusy()) << busy.ToString();
  EXPECT_NE(busy.message().find("already in progress (catch-up phase)"), std::string::npos)
      << busy.ToString();

  for (NodeId n : c.ids()) {
    ASSERT_TRUE(RunUntil(c,
                         [&] {
                           return InForce(c.raft(n), {1, 2, 3, 4, 5}, {});
                         }))
        << "node " << n << ": " << Describe(c.raft(n).cluster_config());
  }
  // The leader went through the joint configuration on the way.
  bool saw_joint = false;
  for (const auto& ev : EventsOf<ConfigChanged>(c.node(1))) saw_joint |= ev.config.joint();
  EXPECT_TRUE(saw_joint);
  EXPECT_TRUE(Applied(c.node(4), "before"));
  EXPECT_EQ(c.raft(1).config_change().phase, ConfigChange::Phase::kNone);

  // The new quorum: 1, 4 and 5 commit without 2 and 3.
  c.isolate(2);
  c.isolate(3);
  c.propose(1, "after");
  ASSERT_TRUE(RunUntil(
      c, [&] { return Applied(c.node(5), "after"); }, 20));
  EXPECT_TRUE(Applied(c.node(1), "after"));

  // A restarted node finds its configuration in its log.
  c.crash(4);
  c.restart(4);
  EXPECT_EQ(Sorted(c.raft(4).cluster_config().voters), (std::vector<NodeId>{1, 2, 3, 4, 5}));
}

TEST(Membership, TakesEffectWhenAppendedAndIsUndoneByTruncation) {
  Cluster c(3);
  c.add_joining(4);
  c.elect(1);
  c.propose(1, "a");
  c.deliver_all();
  // Node 1's write of the change never becomes durable; node 2 receives
  // the change but its answer is lost; node 3 never hears of it.
  c.node(1).auto_persist = false;
  c.cut(2, 1, /*both_ways=*/false);
  c.cut(1, 3);
  c.cut(1, 4);
  ASSERT_TRUE(c.raft(1).propose_config(Config({1, 2, 3}, {4}), nullptr).ok());
  c.deliver_all();
  EXPECT_EQ(c.raft(2).cluster_config().learners, (std::vector<NodeId>{4}));
  EXPECT_LT(c.raft(2).commit_index(), c.raft(2).last_index());

  c.crash(1);
  c.heal();
  c.node(1).auto_persist = true;
  c.restart(1);
  EXPECT_TRUE(c.raft(1).cluster_config().learners.empty());
  c.elect(3);  // node 1 votes for it; node 2's longer log does not
  ASSERT_EQ(c.leader(), 3u);
  c.deliver_all();
  // Node 3's entry replaced the change in node 2's log: the change is gone.
  EXPECT_TRUE(c.raft(2).cluster_config().learners.empty());
  const auto changes = EventsOf<ConfigChanged>(c.node(2));
  ASSERT_GE(changes.size(), 2u);
  EXPECT_TRUE(changes.back().config.learners.empty());
}

TEST(Membership, RemovedLeaderStepsDownAndHandsOver) {
  Cluster c(3);
  c.elect(1);
  c.propose(1, "a");
  c.deliver_all();
  const Term term = c.raft(1).term();
  ASSERT_TRUE(c.raft(1).propose_config(Config({2, 3}), nullptr).ok());
  EXPECT_EQ(c.raft(1).config_change().phase, ConfigChange::Phase::kJoint);
  c.deliver_all();  // joint commits, final goes in and commits, TimeoutNow
  EXPECT_NE(c.raft(1).role(), Role::kLeader);
  const NodeId leader = c.leader();
  ASSERT_TRUE(leader == 2 || leader == 3) << leader;
  EXPECT_EQ(c.raft(leader).term(), term + 1);  // no election timeout was needed
  c.propose(leader, "b");
  c.deliver_all();
  EXPECT_TRUE(Applied(c.node(2), "b") && Applied(c.node(3), "b"));
  EXPECT_FALSE(Applied(c.node(1), "b"));  // no longer sent the log

  // The removed node never stands again.
  RunUntil(
      c, [] { return false; }, 100);
  EXPECT_EQ(c.leader(), leader);
  EXPECT_EQ(c.raft(leader).term(), term + 1);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
}

TEST(Membership, RemovedNodeThatMissedItsRemovalCannotDisrupt) {
  Cluster c(3);
  c.elect(1);
  c.deliver_all();
  c.isolate(3);
  ASSERT_TRUE(c.raft(1).propose_config(Config({1, 2}), nullptr).ok());
  ASSERT_TRUE(RunUntil(
      c,
      [&] {
        return InForce(c.raft(1), {1, 2}, {});
      },
      20));
  const Term term = c.raft(1).term();
  c.heal();
  // Node 3 still thinks it is a voter; it times out and asks for votes
  // again and again. Nodes that hear from their leader ignore it.
  RunUntil(
      c, [] { return false; }, 200);
  EXPECT_EQ(c.leader(), 1u);
  EXPECT_EQ(c.raft(1).term(), term);
}

TEST(Membership, LearnerGetsTheLogButNeitherVotesNorCounts) {
  Cluster c(3);
  c.add_joining(4);
  c.elect(1);
  c.deliver_all();
  ProposalId id;
  ASSERT_TRUE(c.raft(1).propose_config(Config({1, 2, 3}, {4}), &id).ok());
  EXPECT_EQ(c.raft(1).config_change().phase, ConfigChange::Phase::kFinal);  // no joint phase
  ASSERT_TRUE(RunUntil(
      c,
      [&] {
        return InForce(c.raft(4), {1, 2, 3}, {4});
      },
      20));
  c.propose(1, "x");
  ASSERT_TRUE(RunUntil(
      c, [&] { return Applied(c.node(4), "x"); }, 20));

  // Not counted: with 2 and 3 cut off, nothing commits.
  c.isolate(2);
  c.isolate(3);
  c.propose(1, "y");
  RunUntil(
      c, [] { return false; }, 5);
  EXPECT_LT(c.raft(1).commit_index(), c.raft(1).last_index());
  EXPECT_FALSE(Applied(c.node(4), "y"));

  // Never stands, however long it hears nothing.
  c.heal();
  c.isolate(4);
  const Term term = c.raft(4).term();
  c.tick(4, 200);
  EXPECT_EQ(c.raft(4).role(), Role::kFollower);
  EXPECT_EQ(c.raft(4).term(), term);

  // Promoted: it is already a learner, so nothing is appended until it is
  // caught up; then the joint and the final configurations.
  c.heal();
  c.deliver_all();
  ASSERT_TRUE(RunUntil(
      c, [&] { return Applied(c.node(4), "y"); }, 20));
  ASSERT_TRUE(c.raft(1).propose_config(Config({1, 2, 3, 4}), &id).ok());
  for (NodeId n : c.ids()) {
    ASSERT_TRUE(RunUntil(c,
                         [&] {
                           return InForce(c.raft(n), {1, 2, 3, 4}, {});
                         }))
        << "node " << n << ": " << Describe(c.raft(n).cluster_config());
  }
}

TEST(Membership, CatchUpWithoutProgressIsGivenUp) {
  Cluster c(3, [](core::Config& cfg) { cfg.catch_up_ticks = 20; });
  c.add_joining(4);
  c.elect(1);
  c.propose(1, "a");
  c.deliver_all();
  c.isolate(4);
  ASSERT_TRUE(c.raft(1).propose_config(Config({1, 2, 3, 4}), nullptr).ok());
  auto aborted = [&] {
    const auto changes = EventsOf<ConfigChanged>(c.node(1));
    return !changes.empty() && !changes.back().aborted.empty();
  };
  ASSERT_TRUE(RunUntil(c, aborted, 50));
  const std::string why = EventsOf<ConfigChanged>(c.node(1)).back().aborted;
  EXPECT_NE(why.find("node 4 is not caught up"), std::string::npos) << why;
  EXPECT_EQ(c.raft(1).config_change().phase, ConfigChange::Phase::kNone);
  // Node 4 stays a learner; another change may now go in.
  EXPECT_EQ(c.raft(1).cluster_config().learners, (std::vector<NodeId>{4}));
  EXPECT_TRUE(c.raft(1).propose_config(Config({1, 2, 3}), nullptr).ok());
}

TEST(Membership, MalformedTargetsAreRefused) {
  Cluster c(3);
  c.elect(1);
  c.deliver_all();
  EXPECT_TRUE(c.raft(1).propose_config(Config({}), nullptr).IsInvalidInput());
  EXPECT_TRUE(c.raft(1).propose_config(Config({1, 2}, {2}), nullptr).IsInvalidInput());
  EXPECT_TRUE(c.raft(1).propose_config(Config({1, 0}), nullptr).IsInvalidInput());
  ClusterConfig joint = Config({1, 2});
  joint.voters_outgoing = {1, 2, 3};
  EXPECT_TRUE(c.raft(1).propose_config(joint, nullptr).IsInvalidInput());
  EXPECT_EQ(c.raft(2).propose_config(Config({1, 2}), nullptr).code(), Status::Code::kNotLeader);
}

TEST(Transfer, HandsLeadershipOverEvenWithCheckQuorum) {
  Cluster c(3);
  c.elect(1);
  c.propose(1, "a");
  c.deliver_all();
  const Term term = c.raft(1).term();
  // Node 2 falls behind first: it is brought up to date before TimeoutNow.
  c.cut(1, 2);
  c.propose(1, "b");
  c.deliver_all();
  c.heal();
  ASSERT_TRUE(c.raft(1).transfer_leadership(2).ok());
  EXPECT_EQ(c.raft(1).transfer_target(), 2u);
  EXPECT_TRUE(c.raft(1).propose_command("refused", nullptr).IsBusy());
  c.deliver_all();
  EXPECT_EQ(c.leader(), 2u);
  EXPECT_EQ(c.raft(2).term(), term + 1);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).transfer_target(), kNoNode);
  c.propose(2, "c");
  c.deliver_all();
  EXPECT_TRUE(Applied(c.node(1), "c"));
}

TEST(Transfer, GivesUpAfterAnElectionTimeout) {
  Cluster c(3);
  c.elect(1);
  c.deliver_all();
  c.isolate(2);
  ASSERT_TRUE(c.raft(1).transfer_leadership(2).ok());
  ASSERT_TRUE(RunUntil(
      c, [&] { return !EventsOf<TransferAborted>(c.node(1)).empty(); }, 15));
  EXPECT_EQ(EventsOf<TransferAborted>(c.node(1)).front().target, 2u);
  EXPECT_EQ(c.leader(), 1u);
  EXPECT_TRUE(c.raft(1).propose_command("again", nullptr).ok());
}

TEST(Transfer, FollowerAsksForLeadership) {
  Cluster c(3);
  c.elect(1);
  c.deliver_all();
  EXPECT_TRUE(c.raft(3).transfer_leadership(2).IsInvalidInput());  // only for itself
  ASSERT_TRUE(c.raft(3).transfer_leadership(3).ok());
  c.deliver_all();
  EXPECT_EQ(c.leader(), 3u);
}

TEST(Transfer, ToANonVoterIsRefused) {
  Cluster c(3);
  c.add_joining(4);
  c.elect(1);
  c.deliver_all();
  ASSERT_TRUE(c.raft(1).propose_config(Config({1, 2, 3}, {4}), nullptr).ok());
  c.deliver_all();
  EXPECT_TRUE(c.raft(1).transfer_leadership(4).IsInvalidInput());
  EXPECT_TRUE(c.raft(1).transfer_leadership(9).IsInvalidInput());
}

TEST(ReadIndex, LeaderConfirmsWithAHeartbeatRound) {
  Cluster c(3);
  c.elect(1);
  c.propose(1, "a");
  c.deliver_all();
  const LogIndex commit = c.raft(1).commit_index();
  ASSERT_TRUE(c.raft(1).read_index(7).ok());
  c.process();
  EXPECT_TRUE(c.node(1).reads.empty());  // not before a quorum answered
  c.deliver_all();
  ASSERT_EQ(c.node(1).reads.size(), 1u);
  EXPECT_EQ(c.node(1).reads[0], (ReadState{7, commit, true}));
}

TEST(ReadIndex, FollowerAsksTheLeader) {
  Cluster c(3);
  c.elect(1);
  c.propose(1, "a");
  c.deliver_all();
  ASSERT_TRUE(c.raft(2).read_index(8).ok());
  c.deliver_all();
  ASSERT_EQ(c.node(2).reads.size(), 1u);
  EXPECT_EQ(c.node(2).reads[0], (ReadState{8, c.raft(1).commit_index(), true}));
}

TEST(ReadIndex, DeposedLeaderNeverConfirms) {
  Cluster c(3);
  c.elect(1);
  c.deliver_all();
  c.isolate(1);
  ASSERT_TRUE(c.raft(1).read_index(9).ok());
  // It steps down (check-quorum) without a quorum answering: the read fails.
  RunUntil(
      c, [&] { return c.raft(1).role() != Role::kLeader; }, 30);
  ASSERT_EQ(c.node(1).reads.size(), 1u);
  EXPECT_EQ(c.node(1).reads[0], (ReadState{9, 0, false}));
}

TEST(ReadIndex, NewLeaderWaitsForAnEntryOfItsTerm) {
  Cluster c(3);
  c.elect_only(2);  // leads, but its Noop is not committed yet
  ASSERT_EQ(c.raft(2).role(), Role::kLeader);
  ASSERT_TRUE(c.raft(2).read_index(10).ok());
  c.process();
  ASSERT_EQ(c.node(2).reads.size(), 1u);
  EXPECT_FALSE(c.node(2).reads[0].ok);
  EXPECT_EQ(c.raft(3).read_index(11).code(), Status::Code::kNotLeader);  // knows no leader yet
}

}  // namespace
}  // namespace raftlog::core::testing
