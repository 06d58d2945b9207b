// Tests of the simulator's own parts: the pieces the checker trusts must be
// right, and a seed must replay exactly.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "checker.h"
#include "cluster.h"
#include "log_view.h"
#include "network.h"
#include "node.h"
#include "rng.h"
#include "sim_storage.h"
#include "storage/crc32c.h"

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
  disk.crash(/*lose_unsynced=*/true);
  EXPECT_EQ(disk.hard_state(), (core::HardState{2, 1, 0}));
  EXPECT_EQ(disk.last_index(), 2u);
}

TEST(LogViewTest, ACompactedPrefixKeepsItsHashAndRefusesWritesBelowTheHead) {
  LogView full, compacted;
  const std::vector<core::Entry> log = {Command(1, 1, "a"), Command(2, 1, "b"), Command(3, 2, "c")};
  full.assign(log);
  compacted.assign(log);
  compacted.compact(2);
  EXPECT_EQ(compacted.head_index(), 2u);
  EXPECT_EQ(compacted.term_at(2), 1u);
  EXPECT_EQ(compacted.at(2), nullptr);
  EXPECT_EQ(compacted.prefix_hash(2), full.prefix_hash(2));
  EXPECT_EQ(compacted.prefix_hash(3), full.prefix_hash(3));
  EXPECT_EQ(FirstDifference(full, compacted), 0u);  // the same entries, one compacted
  EXPECT_FALSE(compacted.append({Command(2, 3, "x")}).ok());
  ASSERT_TRUE(compacted.append({Command(3, 3, "y")}).ok());
  LogView restored;
  restored.reset(2, 1, full.prefix_hash(2), {Command(3, 3, "y")});
  EXPECT_EQ(FirstDifference(compacted, restored), 0u);
}

// A snapshot of `n` bytes, with its head's size and CRC32C.
std::pair<core::SnapshotHead, std::string> Snapshot(core::LogIndex index, core::Term term,
                                                    size_t n) {
  std::string data(n, 'x');
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>('a' + i % 26);
  core::SnapshotHead head;
  head.index = index;
  head.term = term;
  head.size = data.size();
  head.crc = storage::Crc32c(data.data(), data.size());
  return {head, data};
}

TEST(SimStorageTest, ASnapshotInstallsOnlyWhenItsLastChunkChecksOut) {
  SimStorage disk;
  disk.write(core::HardState{1, 1, 3}, {Command(1, 1, "a"), Command(2, 1, "b")}, true);
  const auto snap = Snapshot(9, 2, 40);
  core::SnapshotHead head = snap.first;
  const std::string& data = snap.second;
  auto chunk = [&](uint64_t off, size_t n, bool done, const std::string& bytes = "") {
    return core::SnapshotChunk{head, off, bytes.empty() ? data.substr(off, n) : bytes, done};
  };
  EXPECT_EQ(disk.receive(chunk(0, 16, false)), SimStorage::Received::kMore);
  EXPECT_EQ(disk.last_index(), 2u);  // nothing changes before the last chunk
  // A damaged last chunk: refused, the old log stays.
  std::string bad = data.substr(16);
  bad[0] ^= 1;
  EXPECT_EQ(disk.receive(chunk(16, 24, true, bad)), SimStorage::Received::kFailed);
  EXPECT_EQ(disk.last_index(), 2u);
  EXPECT_TRUE(disk.snapshot(&head).IsNotFound());
  // A crash loses a partial transfer: the next chunk does not follow.
  EXPECT_EQ(disk.receive(chunk(0, 16, false)), SimStorage::Received::kMore);
  disk.crash(false);
  EXPECT_EQ(disk.receive(chunk(16, 24, true)), SimStorage::Received::kFailed);
  // From the start, whole: the log is replaced.
  EXPECT_EQ(disk.receive(chunk(0, 16, false)), SimStorage::Received::kMore);
  EXPECT_EQ(disk.receive(chunk(16, 24, true)), SimStorage::Received::kInstalled);
  EXPECT_EQ(disk.head_index(), 9u);
  EXPECT_EQ(disk.last_index(), 9u);
  core::Term term = 0;
  ASSERT_TRUE(disk.term(9, &term).ok());
  EXPECT_EQ(term, 2u);
  EXPECT_TRUE(disk.term(2, &term).IsNotFound());
  std::string out;
  ASSERT_TRUE(disk.snapshot_data(head, 30, 100, &out).ok());
  EXPECT_EQ(out, data.substr(30));
}

TEST(SimStorageTest, CompactionDropsThePrefixAndKeepsTheTail) {
  SimStorage disk;
  disk.write(core::HardState{1, 1, 3}, {Command(1, 1, "a"), Command(2, 1, "b"), Command(3, 1, "c")},
             true);
  auto [head, data] = Snapshot(2, 1, 10);
  disk.compact(head, data);
  EXPECT_EQ(disk.head_index(), 2u);
  EXPECT_EQ(disk.last_index(), 3u);
  std::vector<core::Entry> out;
  ASSERT_TRUE(disk.entries(3, 4, 100, &out).ok());
  EXPECT_EQ(out.at(0).data, "c");
  EXPECT_TRUE(disk.entries(2, 4, 100, &out).IsNotFound());
  core::SnapshotHead other = head;
  other.index = 1;
  EXPECT_TRUE(disk.snapshot_data(other, 0, 10, &out.emplace_back().data).IsNotFound());
}

TEST(AppStateTest, TheSnapshotDataDecodesToTheSameStateAsTheLogsPrefix) {
  AppState state;
  LogView log;
  const std::vector<core::Entry> entries = {Command(1, 1, "a"), Command(2, 1, "b"),
                                            Command(3, 2, "c")};
  log.assign(entries);
  for (const core::Entry& e : entries) state.apply(e);
  EXPECT_EQ(state.digest(), log.prefix_hash(3));
  uint64_t digest = 0;
  const std::string data = state.encode(2, 1, &digest);
  EXPECT_EQ(digest, log.prefix_hash(2));
  AppState restored;
  core::Term term = 0;
  ASSERT_TRUE(AppState::Decode(data, &restored, &term));
  EXPECT_EQ(restored.applied(), 2u);
  EXPECT_EQ(term, 1u);
  EXPECT_EQ(restored.digest(), log.prefix_hash(2));
  EXPECT_FALSE(AppState::Decode(data.substr(1), &restored, &term));
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
