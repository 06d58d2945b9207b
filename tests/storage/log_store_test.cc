// The LogStore contract (raftlog/storage/log_store.h), checked against both
// stores: the same scenario must give the same answers from memory and LevelDB.
#include <gtest/gtest.h>

#include <memory>

#include "raftlog/storage/leveldb_store.h"
#include "raftlog/storage/memory_log_store.h"
#include "storage/crc32c.h"
#include "test_util.h"

namespace raftlog::storage {
namespace {

using core::Entry;
using core::HardState;
using core::LogIndex;
using core::Term;
using testing::MakeEntries;
using testing::MakeEntry;

enum class Kind { kMemory, kLevelDb };

class LogStoreTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kMemory) {
      memory_ = new MemoryLogStore();
      store_.reset(memory_);
    } else {
      LevelDbOptions options;
      options.env = &env_;
      Status s = OpenLevelDbLogStore(dir_.path(), options, &store_);
      ASSERT_TRUE(s.ok()) << s.message();
    }
  }

  // Makes the next write fail like a full disk.
  void InjectDiskFull() {
    if (memory_ != nullptr) {
      memory_->inject_write_error("injected: No space left on device");
    } else {
      env_.fail_append = true;
    }
  }

  // Reads [lo, hi) with no byte limit, asserting success.
  std::vector<Entry> Read(LogIndex lo, LogIndex hi) {
    std::vector<Entry> out;
    Status s = store_->entries(lo, hi, SIZE_MAX, &out);
    EXPECT_TRUE(s.ok()) << s.message();
    return out;
  }

  Term TermAt(LogIndex index) {
    Term t = 0;
    Status s = store_->term(index, &t);
    EXPECT_TRUE(s.ok()) << s.message();
    return t;
  }

  void Append(const std::vector<Entry>& entries, std::optional<HardState> hs = std::nullopt) {
    Status s = store_->append(hs, entries);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  void SaveSnapshot(LogIndex index, Term term) {
    SnapshotMeta meta;
    meta.last_index = index;
    meta.last_term = term;
    Status s = store_->save_snapshot(meta);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  testing::TempDir dir_;
  testing::FaultEnv env_;
  MemoryLogStore* memory_ = nullptr;
  std::unique_ptr<LogStore> store_;
};

TEST_P(LogStoreTest, NewStoreIsEmpty) {
  EXPECT_EQ(store_->head_index(), 0u);
  EXPECT_EQ(store_->head_term(), 0u);
  EXPECT_EQ(store_->last_index(), 0u);
  EXPECT_EQ(TermAt(0), 0u);
  HardState hs{1, 2, 3};
  ASSERT_TRUE(store_->load_hard_state(&hs).ok());
  EXPECT_EQ(hs, HardState{});
  SnapshotMeta meta;
  EXPECT_TRUE(store_->load_snapshot(&meta).IsNotFound());
  EXPECT_TRUE(store_->status().ok());
}

TEST_P(LogStoreTest, AppendedEntriesAndHardStateReadBackUnchanged) {
  std::vector<Entry> entries = MakeEntries(1, 3, 1);
  entries[0].type = core::EntryType::kNoop;
  entries[0].data.clear();
  entries[1].type = core::EntryType::kConfig;
  entries[1].config.voters = {1, 2, 3};
  entries[1].config.voters_outgoing = {1, 2};
  entries[1].config.learners = {4};
  entries[2].data = std::string("\0\xff binary\n", 10);
  Append(entries, HardState{1, 2, 1});

  EXPECT_EQ(store_->last_index(), 3u);
  EXPECT_EQ(Read(1, 4), entries);
  EXPECT_EQ(TermAt(2), 1u);
  HardState hs;
  ASSERT_TRUE(store_->load_hard_state(&hs).ok());
  EXPECT_EQ(hs, (HardState{1, 2, 1}));
}

TEST_P(LogStoreTest, HardStateAloneIsSavedAndEmptyAppendChangesNothing) {
  Append({}, HardState{5, 3, 0});
  Append({});
  HardState hs;
  ASSERT_TRUE(store_->load_hard_state(&hs).ok());
  EXPECT_EQ(hs, (HardState{5, 3, 0}));
  EXPECT_EQ(store_->last_index(), 0u);
}

TEST_P(LogStoreTest, EntriesStopAtMaxBytesButReturnAtLeastOne) {
  Append(MakeEntries(1, 10, 1, 100));  // byte_size() is 148 each
  std::vector<Entry> out;
  ASSERT_TRUE(store_->entries(1, 11, 450, &out).ok());
  EXPECT_EQ(out.size(), 3u);
  out.clear();
  ASSERT_TRUE(store_->entries(4, 11, 1, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].index, 4u);
  out.clear();
  ASSERT_TRUE(store_->entries(5, 5, 1000, &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST_P(LogStoreTest, AppendBelowTailTruncatesTheConflictingSuffix) {
  Append(MakeEntries(1, 10, 1));
  Append(MakeEntries(6, 7, 2));
  EXPECT_EQ(store_->last_index(), 7u);
  std::vector<Entry> expected = MakeEntries(1, 5, 1);
  for (const Entry& e : MakeEntries(6, 7, 2)) expected.push_back(e);
  EXPECT_EQ(Read(1, 8), expected);
  Term t = 0;
  EXPECT_TRUE(store_->term(8, &t).IsNotFound());
  // The log continues from the new tail.
  Append(MakeEntries(8, 8, 2));
  EXPECT_EQ(TermAt(8), 2u);
}

// The configuration entries above the head, whichever way the log moved
// (the LevelDB store answers from an index of them, and keeps it across a
// reopen).
TEST_P(LogStoreTest, ConfigEntriesFollowAppendsTruncationsAndCompaction) {
  auto config_at = [](LogIndex index, Term term, core::NodeId learner) {
    Entry e = MakeEntry(index, term);
    e.type = core::EntryType::kConfig;
    e.data.clear();
    e.config.voters = {1, 2, 3};
    e.config.learners = {learner};
    e.config.context = "book" + std::to_string(index);
    return e;
  };
  auto configs = [&] {
    std::vector<Entry> out;
    Status s = store_->config_entries(&out);
    EXPECT_TRUE(s.ok()) << s.message();
    std::vector<LogIndex> at;
    for (const Entry& e : out) {
      EXPECT_EQ(e.type, core::EntryType::kConfig);
      EXPECT_EQ(e.config.context, "book" + std::to_string(e.index));
      at.push_back(e.index);
    }
    return at;
  };
  EXPECT_TRUE(configs().empty());
  std::vector<Entry> log = MakeEntries(1, 10, 1);
  log[2] = config_at(3, 1, 4);
  log[6] = config_at(7, 1, 5);
  Append(log);
  EXPECT_EQ(configs(), (std::vector<LogIndex>{3, 7}));
  // A truncation takes the configuration at 7 away; a new one comes at 9.
  std::vector<Entry> tail = MakeEntries(6, 9, 2);
  tail[3] = config_at(9, 2, 6);
  Append(tail);
  EXPECT_EQ(configs(), (std::vector<LogIndex>{3, 9}));
  // Compaction past 3 leaves only 9 above the head.
  SaveSnapshot(5, 1);
  ASSERT_TRUE(store_->compact(5).ok());
  EXPECT_EQ(configs(), (std::vector<LogIndex>{9}));
  if (GetParam() == Kind::kLevelDb) {
    store_.reset();
    LevelDbOptions options;
    options.env = &env_;
    Status s = OpenLevelDbLogStore(dir_.path(), options, &store_);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(configs(), (std::vector<LogIndex>{9}));
  }
}

TEST_P(LogStoreTest, MalformedAppendIsRejectedWithoutFailingTheStore) {
  Append(MakeEntries(1, 5, 2));
  Status gap = store_->append(std::nullopt, MakeEntries(7, 8, 2));
  EXPECT_TRUE(gap.IsInvalidInput());
  EXPECT_NE(gap.message().find("append at 7"), std::string::npos) << gap.message();

  std::vector<Entry> out_of_order = {MakeEntry(6, 2), MakeEntry(8, 2)};
  EXPECT_TRUE(store_->append(std::nullopt, out_of_order).IsInvalidInput());
  std::vector<Entry> falling_terms = {MakeEntry(6, 3), MakeEntry(7, 2)};
  EXPECT_TRUE(store_->append(std::nullopt, falling_terms).IsInvalidInput());
  Status below = store_->append(std::nullopt, MakeEntries(6, 6, 1));
  EXPECT_TRUE(below.IsInvalidInput());
  EXPECT_NE(below.message().find("below term 2 of entry 5"), std::string::npos) << below.message();

  EXPECT_TRUE(store_->status().ok());
  EXPECT_EQ(store_->last_index(), 5u);
  Append(MakeEntries(6, 6, 2));
  EXPECT_EQ(store_->last_index(), 6u);
}

TEST_P(LogStoreTest, ReadsOutsideTheLogAreNotFound) {
  Append(MakeEntries(1, 3, 1));
  Term t = 0;
  Status s = store_->term(4, &t);
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find("entry 4"), std::string::npos) << s.message();
  std::vector<Entry> out;
  EXPECT_TRUE(store_->entries(2, 5, SIZE_MAX, &out).IsNotFound());
  EXPECT_TRUE(out.empty());
}

TEST_P(LogStoreTest, CompactNeedsASnapshotCoveringTheNewHead) {
  Append(MakeEntries(1, 10, 1));
  Status s = store_->compact(5);
  EXPECT_TRUE(s.IsInvalidInput());
  EXPECT_NE(s.message().find("not covered by a snapshot"), std::string::npos) << s.message();
  SaveSnapshot(4, 1);
  EXPECT_TRUE(store_->compact(5).IsInvalidInput());
  EXPECT_EQ(store_->head_index(), 0u);
  EXPECT_TRUE(store_->status().ok());
}

TEST_P(LogStoreTest, CompactDropsThePrefixAndNeverServesIt) {
  Append(MakeEntries(1, 5, 1));
  Append(MakeEntries(6, 10, 2));
  SaveSnapshot(7, 2);
  EXPECT_EQ(store_->head_index(), 0u) << "a snapshot matching the log keeps it";
  ASSERT_TRUE(store_->compact(7).ok());

  EXPECT_EQ(store_->head_index(), 7u);
  EXPECT_EQ(store_->head_term(), 2u);
  EXPECT_EQ(store_->last_index(), 10u);
  EXPECT_EQ(TermAt(7), 2u);
  Term t = 0;
  Status s = store_->term(6, &t);
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find("compacted"), std::string::npos) << s.message();
  std::vector<Entry> out;
  EXPECT_TRUE(store_->entries(7, 9, SIZE_MAX, &out).IsNotFound());
  EXPECT_EQ(Read(8, 11), MakeEntries(8, 10, 2));
  // Appends go on after the tail, never at or below the head.
  EXPECT_TRUE(store_->append(std::nullopt, MakeEntries(7, 7, 2)).IsInvalidInput());
  Append(MakeEntries(8, 12, 3));
  EXPECT_EQ(store_->last_index(), 12u);
}

TEST_P(LogStoreTest, CompactingTheWholeLogLeavesItEmptyAtTheHead) {
  Append(MakeEntries(1, 4, 3));
  SaveSnapshot(4, 3);
  ASSERT_TRUE(store_->compact(4).ok());
  EXPECT_EQ(store_->head_index(), 4u);
  EXPECT_EQ(store_->last_index(), 4u);
  EXPECT_EQ(TermAt(4), 3u);
  Append(MakeEntries(5, 5, 3));
  EXPECT_EQ(Read(5, 6), MakeEntries(5, 5, 3));
}

TEST_P(LogStoreTest, SnapshotBeyondTheLogReplacesIt) {
  Append(MakeEntries(1, 10, 1));
  SnapshotMeta meta;
  meta.last_index = 20;
  meta.last_term = 3;
  meta.config.voters = {1, 2, 3};
  meta.config.learners = {7};
  const std::string data("state\0bytes", 11);
  ASSERT_TRUE(store_->save_snapshot(meta, data).ok());
  meta.size = data.size();
  meta.crc = Crc32c(data.data(), data.size());

  EXPECT_EQ(store_->head_index(), 20u);
  EXPECT_EQ(store_->head_term(), 3u);
  EXPECT_EQ(store_->last_index(), 20u);
  SnapshotMeta loaded;
  ASSERT_TRUE(store_->load_snapshot(&loaded).ok());
  EXPECT_EQ(loaded, meta);
  Append(MakeEntries(21, 22, 3));
  EXPECT_EQ(Read(21, 23), MakeEntries(21, 22, 3));
}

TEST_P(LogStoreTest, SnapshotContradictingTheLogReplacesItsSuffixToo) {
  Append(MakeEntries(1, 10, 1));
  SaveSnapshot(8, 2);  // the log has term 1 at 8: it diverged from the leader
  EXPECT_EQ(store_->head_index(), 8u);
  EXPECT_EQ(store_->last_index(), 8u);
  Term t = 0;
  EXPECT_TRUE(store_->term(9, &t).IsNotFound());
  Append(MakeEntries(9, 9, 2));
  EXPECT_EQ(Read(9, 10), MakeEntries(9, 9, 2));
}

TEST_P(LogStoreTest, OlderSnapshotIsRejected) {
  Append(MakeEntries(1, 10, 1));
  SaveSnapshot(6, 1);
  SnapshotMeta older;
  older.last_index = 5;
  older.last_term = 1;
  Status s = store_->save_snapshot(older);
  EXPECT_TRUE(s.IsInvalidInput());
  EXPECT_NE(s.message().find("older than the saved snapshot at 6"), std::string::npos)
      << s.message();
}

core::SnapshotHead HeadOf(LogIndex index, Term term, std::string_view data) {
  core::SnapshotHead h;
  h.index = index;
  h.term = term;
  h.config.voters = {1, 2, 3};
  h.size = data.size();
  h.crc = Crc32c(data.data(), data.size());
  return h;
}

TEST_P(LogStoreTest, ASnapshotWrittenInPiecesIsServedBackWholeOnceFinished) {
  Append(MakeEntries(1, 10, 1));
  core::SnapshotHead none;
  EXPECT_TRUE(store_->snapshot(&none).IsNotFound());
  const std::string data = "0123456789abcdefghij";
  const core::SnapshotHead head = HeadOf(30, 2, data);
  ASSERT_TRUE(store_->write_snapshot(head, 0, data.substr(0, 8)).ok());
  ASSERT_TRUE(store_->write_snapshot(head, 4, data.substr(4, 8)).ok()) << "a repeat is ignored";
  EXPECT_EQ(store_->write_snapshot(head, 16, data.substr(16)).code(), Status::Code::kInvalidInput)
      << "a gap";
  EXPECT_TRUE(store_->snapshot(&none).IsNotFound()) << "nothing until finished";
  ASSERT_TRUE(store_->write_snapshot(head, 12, data.substr(12)).ok());
  ASSERT_TRUE(store_->finish_snapshot(head, /*replace_log=*/true).ok());
  core::SnapshotHead got;
  ASSERT_TRUE(store_->snapshot(&got).ok());
  EXPECT_EQ(got, head);
  std::string out;
  ASSERT_TRUE(store_->snapshot_data(head, 5, 7, &out).ok());
  EXPECT_EQ(out, data.substr(5, 7));
  ASSERT_TRUE(store_->snapshot_data(head, 0, 1000, &out).ok());
  EXPECT_EQ(out, data);
  EXPECT_EQ(store_->head_index(), 30u);
  EXPECT_EQ(store_->last_index(), 30u);
  core::SnapshotHead other = head;
  other.index = 31;
  EXPECT_TRUE(store_->snapshot_data(other, 0, 10, &out).IsNotFound());
}

TEST_P(LogStoreTest, ASnapshotWhoseDataDoesNotMatchItsCrcIsRefusedAndTheOldOneStays) {
  Append(MakeEntries(1, 10, 1));
  const std::string old_data = "old state";
  SnapshotMeta meta;
  meta.last_index = 5;
  meta.last_term = 1;
  ASSERT_TRUE(store_->save_snapshot(meta, old_data).ok());
  std::string data = "new state!";
  const core::SnapshotHead head = HeadOf(20, 2, data);
  data[3] ^= 1;  // damaged on the way
  ASSERT_TRUE(store_->write_snapshot(head, 0, data).ok());
  EXPECT_TRUE(store_->finish_snapshot(head, true).IsCorruption());
  EXPECT_TRUE(store_->status().ok()) << "a damaged transfer does not fail the store";
  core::SnapshotHead got;
  ASSERT_TRUE(store_->snapshot(&got).ok());
  EXPECT_EQ(got.index, 5u);
  std::string out;
  ASSERT_TRUE(store_->snapshot_data(got, 0, 100, &out).ok());
  EXPECT_EQ(out, old_data);
  EXPECT_EQ(store_->last_index(), 10u) << "the log is untouched";
  EXPECT_EQ(store_->finish_snapshot(head, true).code(), Status::Code::kInvalidInput)
      << "what was written is gone";
}

TEST_P(LogStoreTest, AReceivedSnapshotReplacesEvenALogThatHoldsItsHead) {
  Append(MakeEntries(1, 10, 1));
  const core::SnapshotHead head = HeadOf(6, 1, "s");
  ASSERT_TRUE(store_->write_snapshot(head, 0, "s").ok());
  ASSERT_TRUE(store_->finish_snapshot(head, /*replace_log=*/true).ok());
  EXPECT_EQ(store_->head_index(), 6u);
  EXPECT_EQ(store_->last_index(), 6u);
  // A local one keeps the log.
  Append(MakeEntries(7, 12, 1));
  SnapshotMeta meta;
  meta.last_index = 9;
  meta.last_term = 1;
  ASSERT_TRUE(store_->save_snapshot(meta, "t").ok());
  EXPECT_EQ(store_->head_index(), 6u);
  EXPECT_EQ(store_->last_index(), 12u);
}

TEST_P(LogStoreTest, WriteFailureIsStickyAndDurableDataStaysReadable) {
  Append(MakeEntries(1, 5, 1), HardState{1, 1, 3});
  InjectDiskFull();
  Status s = store_->append(HardState{2, 1, 5}, MakeEntries(6, 8, 2));
  ASSERT_TRUE(s.IsIOError()) << s.message();
  EXPECT_NE(s.message().find("append at 6"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();

  // Nothing of the failed write is served; the failure is remembered.
  EXPECT_EQ(store_->last_index(), 5u);
  HardState hs;
  ASSERT_TRUE(store_->load_hard_state(&hs).ok());
  EXPECT_EQ(hs, (HardState{1, 1, 3}));
  EXPECT_EQ(store_->status().message(), s.message());

  // Even once the disk recovers, no further write is accepted.
  env_.fail_append = false;
  EXPECT_EQ(store_->append(std::nullopt, MakeEntries(6, 6, 2)).message(), s.message());
  EXPECT_EQ(store_->append(HardState{3, 0, 0}, {}).message(), s.message());
  EXPECT_EQ(store_->save_snapshot(SnapshotMeta{}).message(), s.message());
  EXPECT_EQ(store_->compact(1).message(), s.message());
  EXPECT_EQ(Read(1, 6), MakeEntries(1, 5, 1));
}

INSTANTIATE_TEST_SUITE_P(Stores, LogStoreTest, ::testing::Values(Kind::kMemory, Kind::kLevelDb),
                         [](const auto& info) {
                           return info.param == Kind::kMemory ? "Memory" : "LevelDb";
                         });

}  // namespace
}  // namespace raftlog::storage
