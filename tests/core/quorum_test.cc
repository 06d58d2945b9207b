#include "core/quorum.h"

#include <gtest/gtest.h>

#include "core/progress.h"

namespace raftlog::core {
namespace {

TEST(Quorum, MajorityValueOfThreeAndFour) {
  ClusterConfig three{{1, 2, 3}, {}, {}};
  std::map<NodeId, uint64_t> match{{1, 5}, {2, 3}, {3, 1}};
  EXPECT_EQ(QuorumValue(three, [&](NodeId id) { return match[id]; }), 3u);
  ClusterConfig four{{1, 2, 3, 4}, {}, {}};
  match[4] = 2;
  EXPECT_EQ(QuorumValue(four, [&](NodeId id) { return match[id]; }), 2u);
}

TEST(Quorum, JointNeedsBothMajorities) {
  ClusterConfig joint{{1, 2, 3}, {3, 4, 5}, {}};
  std::map<NodeId, uint64_t> match{{1, 9}, {2, 9}, {3, 2}, {4, 1}, {5, 1}};
  EXPECT_EQ(QuorumValue(joint, [&](NodeId id) { return match[id]; }), 1u);
}

TEST(Quorum, LearnersNeverCount) {
  ClusterConfig c{{1, 2, 3}, {}, {4, 5}};
  std::map<NodeId, bool> votes{{1, true}, {4, true}, {5, true}};
  EXPECT_EQ(TallyVotes(c, votes), VoteResult::kPending);
  votes[2] = true;
  EXPECT_EQ(TallyVotes(c, votes), VoteResult::kWon);
}

TEST(Quorum, LostOnceAMajorityRejects) {
  ClusterConfig c{{1, 2, 3, 4, 5}, {}, {}};
  std::map<NodeId, bool> votes{{1, true}, {2, false}, {3, false}};
  EXPECT_EQ(TallyVotes(c, votes), VoteResult::kPending);
  votes[4] = false;
  EXPECT_EQ(TallyVotes(c, votes), VoteResult::kLost);
}

TEST(Progress, ProbeIgnoresStaleRejectionsAndNeverGoesBelowMatch) {
  Progress pr;
  pr.match = 3;
  pr.become_probe(10);
  EXPECT_FALSE(pr.maybe_decrease(7, 2)) << "not the probe that is out (9)";
  EXPECT_TRUE(pr.maybe_decrease(9, 1));
  EXPECT_EQ(pr.next, 4u) << "never below match + 1";
}

TEST(Progress, InflightsFreeOnAcknowledgement) {
  Progress pr;
  pr.become_replicate();
  for (LogIndex i = 1; i <= 4; ++i) pr.inflights.add(i, 10);
  EXPECT_TRUE(pr.paused(4, 1000));
  EXPECT_TRUE(pr.maybe_update(2));
  EXPECT_EQ(pr.inflights.count(), 2u);
  EXPECT_FALSE(pr.paused(4, 1000));
  EXPECT_TRUE(pr.paused(4, 20)) << "bounded by bytes too";
}

}  // namespace
}  // namespace raftlog::core
