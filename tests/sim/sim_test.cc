// Tests of the simulator's own parts: the pieces the checker trusts must be
// right, and a seed must replay exactly.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "checker.h"
#include "cluster.h"
#include "log_view.h"
#include "network.h"
#include "rng.h"
#include "sim_storage.h"

namespace raftlog::sim {
namespace {

core::Entry Command(core::LogIndex index, core::Term term, std::string data) {
  core::Entry e;
  e.index = index;
  e.term = term;
  e.type = core::EntryType::kCommand;
  e.data = std::move(data);
  return e;
}

TEST(RngTest, SameSeedSameSequenceAndValuesInRange) {
  Rng a(42), b(42);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.between(3, 7);
    EXPECT_EQ(x, b.between(3, 7));
    EXPECT_GE(x, 3u);
    EXPECT_LE(x, 7u);
    seen.insert(x);
  }
  EXPECT_EQ(seen.size(), 5u);  // every value comes up
  EXPECT_NE(Rng(1).next(), Rng(2).next());
}

TEST(LogViewTest, AppendCutsTheTailFromTheFirstNewIndex) {
  LogView log;
  ASSERT_TRUE(log.append({Command(1, 1, "a"), Command(2, 1, "b"), Command(3, 1, "c")}).ok());
  ASSERT_TRUE(log.append({Command(2, 2, "x")}).ok());
  EXPECT_EQ(log.last_index(), 2u);
  EXPECT_EQ(log.at(2)->data, "x");
  EXPECT_FALSE(log.append({Command(4, 2, "gap")}).ok());
  EXPECT_FALSE(log.append({Command(3, 2, "y"), Command(5, 2, "z")}).ok());
}

TEST(LogViewTest, PrefixHashesMatchExactlyWhenPrefixesDo) {
  LogView a, b;
  ASSERT_TRUE(a.append({Command(1, 1, "a"), Command(2, 1, "b")}).ok());
  ASSERT_TRUE(b.append({Command(1, 1, "a"), Command(2, 1, "B")}).ok());
  EXPECT_EQ(a.prefix_hash(1), b.prefix_hash(1));
  EXPECT_NE(a.prefix_hash(2), b.prefix_hash(2));
  EXPECT_EQ(FirstDifference(a, b), 2u);
  b.assign(a.entries());
  EXPECT_EQ(FirstDifference(a, b), 0u);
  EXPECT_EQ(a.prefix_hash(2), b.prefix_hash(2));
}

TEST(SimStorageTest, ReadsWhatWasWrittenAndLosesOnlyUnsyncedHardState) {
  SimStorage disk;
  disk.write(core::HardState{2, 1, 0}, {Command(1, 1, "a"), Command(2, 2, "b")}, true);
  disk.write(core::HardState{2, 1, 2}, {}, false);
  core::Term term = 0;
  ASSERT_TRUE(disk.term(2, &term).ok());
  EXPECT_EQ(term, 2u);
  EXPECT_TRUE(disk.term(3, &term).IsNotFound());
  std::vector<core::Entry> out;
  ASSERT_TRUE(disk.entries(1, 3, 1, &out).ok());
  EXPECT_EQ(out.size(), 1u);  // at least one entry, even over max_bytes
  disk.lose_unsynced();
  EXPECT_EQ(disk.hard_state(), (core::HardState{2, 1, 0}));
  EXPECT_EQ(disk.last_index(), 2u);
}

TEST(NetworkTest, BlockedLinksDropOneWay) {
  Network net(LinkFaults{});
  net.block(1, 2);
  Rng rng(1);
  const char* why = "";
  EXPECT_TRUE(net.route(rng, 1, 2, &why).empty());
  EXPECT_STREQ(why, "partition");
  const std::vector<Time> delays = net.route(rng, 2, 1, &why);
  ASSERT_EQ(delays.size(), 1u);
  EXPECT_GE(delays[0], 1u);
  EXPECT_LE(delays[0], 10u);
}

class CheckerTest : public ::testing::Test {
 protected:
  CheckerTest() {
    for (core::NodeId id = 1; id <= 3; ++id) {
      nodes_.push_back(
          std::make_unique<Node>(id, core::ClusterConfig{{1, 2, 3}, {}, {}}, core::Config{}));
      checker_.add_node(nodes_.back().get());
    }
  }
  std::vector<std::unique_ptr<Node>> nodes_;
  Checker checker_;
};

TEST_F(CheckerTest, SameIndexAndTermWithDifferentPrefixesBreaksLogMatching) {
  ASSERT_TRUE(nodes_[0]->log().append({Command(1, 1, "a"), Command(2, 2, "b")}).ok());
  checker_.log_changed(*nodes_[0], 1);
  ASSERT_TRUE(nodes_[1]->log().append({Command(1, 1, "a"), Command(2, 2, "b")}).ok());
  checker_.log_changed(*nodes_[1], 1);
  EXPECT_FALSE(checker_.failed());
  ASSERT_TRUE(nodes_[2]->log().append({Command(1, 1, "z"), Command(2, 2, "b")}).ok());
  checker_.log_changed(*nodes_[2], 1);
  ASSERT_TRUE(checker_.failed());
  EXPECT_EQ(checker_.violation().invariant, "log-matching");
}

TEST_F(CheckerTest, TwoVotesInOneTermBreakVoteSafety) {
  checker_.vote_granted(1, 5, 2, "on the wire");
  checker_.vote_granted(1, 5, 2, "hard state");
  checker_.vote_granted(1, 6, 3, "on the wire");
  EXPECT_FALSE(checker_.failed());
  checker_.vote_granted(1, 5, 3, "on the wire");
  ASSERT_TRUE(checker_.failed());
  EXPECT_EQ(checker_.violation().invariant, "vote-safety");
}

std::string TraceOf(uint64_t seed) {
  std::ostringstream out;
  Trace trace(0, &out);
  RunOptions options;
  options.seed = seed;
  options.steps = 1500;
  options.trace = &trace;
  const RunResult r = Cluster(options).run();
  out << "ok=" << r.ok << " " << r.violation.detail;
  return out.str();
}

TEST(ClusterTest, ASeedReplaysExactly) {
  const std::string first = TraceOf(7);
  EXPECT_EQ(first, TraceOf(7));
  EXPECT_NE(first, TraceOf(8));
  EXPECT_NE(first.find("recv AppendEntries"), std::string::npos);
}

TEST(ClusterTest, HealthyRunsPassAndElectALeader) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    RunOptions options;
    options.seed = seed;
    options.steps = 1000;
    const RunResult r = Cluster(options).run();
    EXPECT_TRUE(r.ok) << "seed " << seed << ": " << r.violation.invariant << ": "
                      << r.violation.detail;
    EXPECT_GT(r.committed, 0u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace raftlog::sim
