// What only the LevelDB store has to prove: state survives a reopen, opening
// reads metadata rather than the log, damage on disk is refused with the
// entry's index, compacted keys really go, and readers may run beside the writer.
#include "storage/leveldb_log_store.h"

#include <gtest/gtest.h>
#include <leveldb/db.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "storage/coding.h"
#include "storage/crc32c.h"
#include "test_util.h"

namespace raftlog::storage {
namespace {

using core::Entry;
using core::HardState;
using core::LogIndex;
using core::Term;
using testing::MakeEntries;

class LevelDbLogStoreTest : public ::testing::Test {
 protected:
  void Open(LevelDbOptions options = {}) {
    store_.reset();
    Status s = LevelDbLogStore::Open(dir_.path(), options, &store_);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  void Append(const std::vector<Entry>& entries, std::optional<HardState> hs = std::nullopt) {
    Status s = store_->append(hs, entries);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  void SnapshotAndCompact(LogIndex index) {
    SnapshotMeta meta;
    meta.last_index = index;
    Status s = store_->term(index, &meta.last_term);
    ASSERT_TRUE(s.ok()) << s.message();
    s = store_->save_snapshot(meta);
    ASSERT_TRUE(s.ok()) << s.message();
    s = store_->compact(index);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  // The entry indexes whose keys are in the database (store closed).
  std::vector<LogIndex> RawEntryKeys() {
    std::unique_ptr<leveldb::DB> db = OpenRaw();
    std::vector<LogIndex> keys;
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator({}));
    LogIndex index = 0;
    for (it->Seek(EntryKey(0)); it->Valid() && ParseEntryKey(View(it->key()), &index); it->Next())
      keys.push_back(index);
    return keys;
  }

  std::unique_ptr<leveldb::DB> OpenRaw() {
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(leveldb::Options(), dir_.path(), &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::unique_ptr<leveldb::DB>(db);
  }

  // Files of the database whose name ends in suffix.
  std::vector<std::string> Files(const std::string& suffix) {
    std::vector<std::string> out;
    for (const auto& f : std::filesystem::directory_iterator(dir_.path())) {
      const std::string p = f.path().string();
      if (p.size() >= suffix.size() &&
          p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(p);
    }
    return out;
  }

  // Flips one byte inside the first occurrence of marker in any file with
  // suffix. False if the marker is in none.
  bool FlipByteIn(const std::string& suffix, const std::string& marker) {
    for (const std::string& path : Files(suffix)) {
      std::string bytes;
      {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
      }
      size_t at = bytes.find(marker);
      if (at == std::string::npos) continue;
      bytes[at + marker.size() - 1] ^= 0x20;
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      return true;
    }
    return false;
  }

  testing::TempDir dir_;
  testing::FaultEnv fault_env_;  // envs outlive the store that uses them
  testing::CountingEnv counting_env_;
  std::unique_ptr<LevelDbLogStore> store_;
};

TEST_F(LevelDbLogStoreTest, ReopenRestoresLogHardStateAndSnapshot) {
  Open();
  Append(MakeEntries(1, 50, 1), HardState{1, 2, 10});
  Append(MakeEntries(51, 60, 2), HardState{2, 3, 55});
  SnapshotAndCompact(20);
  Append(MakeEntries(58, 70, 3));  // truncates 58..60 of term 2
  Open();

  EXPECT_EQ(store_->head_index(), 20u);
  EXPECT_EQ(store_->head_term(), 1u);
  EXPECT_EQ(store_->last_index(), 70u);
  HardState hs;
  ASSERT_TRUE(store_->load_hard_state(&hs).ok());
  EXPECT_EQ(hs, (HardState{2, 3, 55}));
  SnapshotMeta snap;
  ASSERT_TRUE(store_->load_snapshot(&snap).ok());
  EXPECT_EQ(snap.last_index, 20u);
  std::vector<Entry> out;
  ASSERT_TRUE(store_->entries(21, 71, SIZE_MAX, &out).ok());
  std::vector<Entry> expected = MakeEntries(21, 50, 1);
  for (const Entry& e : MakeEntries(51, 57, 2)) expected.push_back(e);
  for (const Entry& e : MakeEntries(58, 70, 3)) expected.push_back(e);
  EXPECT_EQ(out, expected);
}

TEST_F(LevelDbLogStoreTest, AnUnsyncedCommitIndexWriteCostsNoSyncAndIsKept) {
  LevelDbOptions options;
  options.env = &fault_env_;
  Open(options);
  Append(MakeEntries(1, 10, 1), HardState{1, 2, 0});
  const int before = fault_env_.syncs;
  ASSERT_TRUE(store_->append(HardState{1, 2, 10}, {}, /*sync=*/false).ok());
  EXPECT_EQ(fault_env_.syncs - before, 0) << "only the commit index moved";
  Append(MakeEntries(11, 12, 1));
  EXPECT_EQ(fault_env_.syncs - before, 1) << "the next synced write covers both";
  Open(options);
  HardState hs;
  ASSERT_TRUE(store_->load_hard_state(&hs).ok());
  EXPECT_EQ(hs, (HardState{1, 2, 10}));
  EXPECT_EQ(store_->last_index(), 12u);
}

TEST_F(LevelDbLogStoreTest, AppendWithTruncationAndHardStateIsOneSync) {
  LevelDbOptions options;
  options.env = &fault_env_;
  Open(options);
  Append(MakeEntries(1, 10, 1));
  const int before = fault_env_.syncs;
  Append(MakeEntries(6, 300, 2), HardState{2, 1, 5});
  EXPECT_EQ(fault_env_.syncs - before, 1);
  Open(options);
  EXPECT_EQ(store_->last_index(), 300u);
  Term t = 0;
  ASSERT_TRUE(store_->term(6, &t).ok());
  EXPECT_EQ(t, 2u);
}

TEST_F(LevelDbLogStoreTest, ReopenAfterASnapshotReplacedTheLogFindsNoOldEntries) {
  Open();
  Append(MakeEntries(1, 30, 1));
  SnapshotMeta meta;
  meta.last_index = 10;
  meta.last_term = 2;  // contradicts the log: it is replaced
  ASSERT_TRUE(store_->save_snapshot(meta).ok());
  Open();
  EXPECT_EQ(store_->head_index(), 10u);
  EXPECT_EQ(store_->last_index(), 10u);
  EXPECT_EQ(store_->head_term(), 2u);
}

TEST_F(LevelDbLogStoreTest, OpeningALargeLogReadsMetadataNotEntries) {
  LevelDbOptions options;
  options.write_buffer_size = 1 << 20;  // push the log into table files
  Open(options);
  for (LogIndex i = 1; i <= 20000; i += 500) Append(MakeEntries(i, i + 499, 1, 1000));
  store_.reset();
  uint64_t table_bytes = 0;
  for (const std::string& f : Files(".ldb")) table_bytes += std::filesystem::file_size(f);
  ASSERT_GT(table_bytes, 10u << 20);

  options.env = &counting_env_;
  Open(options);
  EXPECT_EQ(store_->last_index(), 20000u);
  const uint64_t read = counting_env_.table_bytes_read;
  EXPECT_LT(read, table_bytes / 50) << "open read " << read << " of " << table_bytes << " bytes";
}

TEST_F(LevelDbLogStoreTest, FlippedByteInATableFileIsRefusedNamingTheEntry) {
  Open();
  // Runs of 16 KiB (LevelDbOptions::max_run_bytes) hold about 32 of these,
  // 1-32, 33-64, 65-96 and 97-100. The open reads the first and the last
  // two; the damage goes into the second.
  Append(MakeEntries(1, 100, 1, 500));
  Open();  // recovery moves the write-ahead log into a table file
  store_.reset();
  ASSERT_TRUE(FlipByteIn(".ldb", testing::Payload(50, 1, 500).substr(0, 20)));
  Open();

  Term t = 0;
  Status s = store_->term(50, &t);
  EXPECT_TRUE(s.IsCorruption()) << s.message();
  EXPECT_EQ(s.message().rfind("entry 50: ", 0), 0u) << s.message();
  std::vector<Entry> out;
  s = store_->entries(25, 55, SIZE_MAX, &out);
  EXPECT_TRUE(s.IsCorruption()) << s.message();
  EXPECT_NE(s.message().find("checksum mismatch"), std::string::npos) << s.message();
  EXPECT_TRUE(out.empty()) << "nothing of a damaged range is handed out";
  // The rest of the log, in other blocks, is still served.
  ASSERT_TRUE(store_->entries(1, 33, SIZE_MAX, &out).ok());
  EXPECT_EQ(out, MakeEntries(1, 32, 1, 500));
  out.clear();
  ASSERT_TRUE(store_->entries(65, 101, SIZE_MAX, &out).ok());
  EXPECT_EQ(out, MakeEntries(65, 100, 1, 500));
}

TEST_F(LevelDbLogStoreTest, FlippedByteInTheWriteAheadLogStopsTheOpen) {
  Open();
  Append(MakeEntries(1, 40, 1, 500));
  store_.reset();
  ASSERT_TRUE(FlipByteIn(".log", testing::Payload(17, 1, 500).substr(0, 20)));
  std::unique_ptr<LevelDbLogStore> store;
  Status s = LevelDbLogStore::Open(dir_.path(), {}, &store);
  EXPECT_TRUE(s.IsCorruption()) << s.message();
  EXPECT_NE(s.message().find(dir_.path()), std::string::npos) << s.message();
}

TEST_F(LevelDbLogStoreTest, RecordWithABadChecksumIsRefusedNamingTheEntry) {
  Open();
  Append(MakeEntries(1, 30, 1));
  store_.reset();
  {
    // Damage that LevelDB's own block checksums cannot see: a record
    // rewritten with one payload byte changed.
    // Entries 1-30 are one run, under the key of its last entry.
    std::unique_ptr<leveldb::DB> db = OpenRaw();
    std::string value;
    ASSERT_TRUE(db->Get({}, EntryKey(30), &value).ok());
    const size_t at = value.find(testing::Payload(17, 1));
    ASSERT_NE(at, std::string::npos);
    value[at + 3] ^= 0x01;
    ASSERT_TRUE(db->Put({}, EntryKey(30), value).ok());
  }
  Open();
  Term t = 0;
  Status s = store_->term(17, &t);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "entry 17: checksum mismatch");
  std::vector<Entry> out;
  s = store_->entries(15, 20, SIZE_MAX, &out);
  EXPECT_EQ(s.message(), "entry 17: checksum mismatch");
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(store_->entries(18, 31, SIZE_MAX, &out).ok());
  EXPECT_EQ(out.size(), 13u);
}

TEST_F(LevelDbLogStoreTest, DamagedLogMetadataStopsTheOpen) {
  Open();
  Append(MakeEntries(1, 10, 1));
  SnapshotAndCompact(5);
  store_.reset();
  {
    std::unique_ptr<leveldb::DB> db = OpenRaw();
    std::string value;
    ASSERT_TRUE(db->Get({}, std::string(kLogMetaKey), &value).ok());
    value.back() ^= 0x01;
    ASSERT_TRUE(db->Put({}, std::string(kLogMetaKey), value).ok());
  }
  std::unique_ptr<LevelDbLogStore> store;
  Status s = LevelDbLogStore::Open(dir_.path(), {}, &store);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "log metadata: checksum mismatch");
}

TEST_F(LevelDbLogStoreTest, CompactedKeysAreDeletedInBatchesInTheBackground) {
  LevelDbOptions options;
  options.cleanup_batch = 100;
  options.max_run_bytes = 1;  // a key per entry: many keys to delete
  Open(options);
  for (LogIndex i = 1; i <= 5000; i += 1000) Append(MakeEntries(i, i + 999, 1));
  SnapshotAndCompact(4000);
  store_->wait_for_cleanup();
  store_.reset();
  std::vector<LogIndex> keys = RawEntryKeys();
  ASSERT_EQ(keys.size(), 1000u);
  EXPECT_EQ(keys.front(), 4001u);
}

TEST_F(LevelDbLogStoreTest, KeysLeftBelowTheHeadAreNeverServedAndGoAfterReopen) {
  LevelDbOptions options;
  options.max_run_bytes = 1;  // a key per entry, as a store written before runs has
  Open(options);
  Append(MakeEntries(1, 100, 1));
  SnapshotAndCompact(50);
  store_->wait_for_cleanup();
  store_.reset();
  {
    // What a crash in the middle of a cleanup leaves behind.
    std::unique_ptr<leveldb::DB> db = OpenRaw();
    std::string record;
    for (const Entry& e : MakeEntries(10, 20, 1)) {
      EncodeEntry(e, &record);
      ASSERT_TRUE(db->Put({}, EntryKey(e.index), record).ok());
    }
  }
  Open();
  EXPECT_EQ(store_->head_index(), 50u);
  Term t = 0;
  EXPECT_TRUE(store_->term(15, &t).IsNotFound());
  std::vector<Entry> out;
  EXPECT_TRUE(store_->entries(15, 60, SIZE_MAX, &out).IsNotFound());
  EXPECT_TRUE(out.empty());
  store_->wait_for_cleanup();
  store_.reset();
  std::vector<LogIndex> keys = RawEntryKeys();
  ASSERT_FALSE(keys.empty());
  EXPECT_EQ(keys.front(), 51u);
}

TEST_F(LevelDbLogStoreTest, SyncFailureIsStickyAndSurvivesReopenWithDurableData) {
  testing::FaultEnv& env = fault_env_;
  LevelDbOptions options;
  options.env = &env;
  Open(options);
  Append(MakeEntries(1, 10, 1));
  env.fail_sync = true;
  Status s = store_->append(std::nullopt, MakeEntries(11, 12, 1));
  ASSERT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find("append at 11: leveldb: IO error"), std::string::npos) << s.message();
  EXPECT_EQ(store_->last_index(), 10u);
  env.fail_sync = false;
  EXPECT_EQ(store_->append(std::nullopt, MakeEntries(11, 11, 1)).message(), s.message());
  EXPECT_EQ(store_->status().message(), s.message());
  Open();  // the operator fixed the disk and restarted
  EXPECT_GE(store_->last_index(), 10u);
  std::vector<Entry> out;
  ASSERT_TRUE(store_->entries(1, 11, SIZE_MAX, &out).ok());
  EXPECT_EQ(out, MakeEntries(1, 10, 1));
}

// a followed by b.
std::vector<Entry> Concat(std::vector<Entry> a, const std::vector<Entry>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(LevelDbLogStoreTest, AnAppendIsStoredAsRunsOfEntriesUnderTheirLastIndex) {
  LevelDbOptions options;
  options.max_run_bytes = 300;  // about 8 of these entries per run
  Open(options);
  Append(MakeEntries(1, 20, 1, 30));
  Append(MakeEntries(21, 21, 1, 30));
  std::vector<Entry> out;
  ASSERT_TRUE(store_->entries(1, 22, SIZE_MAX, &out).ok());
  EXPECT_EQ(out, MakeEntries(1, 21, 1, 30));
  // A read may start and stop inside a run, and max_bytes cuts inside one.
  out.clear();
  ASSERT_TRUE(store_->entries(5, 14, SIZE_MAX, &out).ok());
  EXPECT_EQ(out, MakeEntries(5, 13, 1, 30));
  out.clear();
  ASSERT_TRUE(store_->entries(5, 22, 3 * testing::MakeEntry(5, 1, 30).byte_size(), &out).ok());
  EXPECT_EQ(out, MakeEntries(5, 7, 1, 30));
  store_.reset();
  std::vector<LogIndex> keys = RawEntryKeys();
  ASSERT_GE(keys.size(), 3u);
  EXPECT_LT(keys.size(), 10u);
  EXPECT_EQ(keys.back(), 21u);
}

TEST_F(LevelDbLogStoreTest, AConflictingAppendReplacesTheLogFromInsideARun) {
  LevelDbOptions options;
  options.max_run_bytes = 300;
  Open(options);
  Append(MakeEntries(1, 40, 1, 30));
  // From entry 13 on, replaced: the run holding 13 keeps 12 and before.
  Append(MakeEntries(13, 15, 2, 30));
  const std::vector<Entry> want = Concat(MakeEntries(1, 12, 1, 30), MakeEntries(13, 15, 2, 30));
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(store_->last_index(), 15u);
    std::vector<Entry> out;
    ASSERT_TRUE(store_->entries(1, 16, SIZE_MAX, &out).ok());
    EXPECT_EQ(out, want);
    Term t = 0;
    ASSERT_TRUE(store_->term(12, &t).ok());
    EXPECT_EQ(t, 1u);
    ASSERT_TRUE(store_->term(13, &t).ok());
    EXPECT_EQ(t, 2u);
    EXPECT_TRUE(store_->term(16, &t).IsNotFound());
    Open(options);  // and the same after a reopen
  }
  store_.reset();
  std::vector<LogIndex> keys = RawEntryKeys();
  ASSERT_FALSE(keys.empty());
  EXPECT_EQ(keys.back(), 15u) << "no key of the replaced suffix is left";
}

TEST_F(LevelDbLogStoreTest, EntriesStoredOnePerKeyAreReadBesideRuns) {
  {
    // What a store written before runs holds: one record per key.
    Open();
    store_.reset();
    std::unique_ptr<leveldb::DB> db = OpenRaw();
    std::string record;
    for (const Entry& e : MakeEntries(1, 10, 1)) {
      EncodeEntry(e, &record);
      ASSERT_TRUE(db->Put({}, EntryKey(e.index), record).ok());
    }
  }
  Open();
  EXPECT_EQ(store_->last_index(), 10u);
  Append(MakeEntries(11, 20, 1));
  Append(MakeEntries(6, 8, 2));  // replaces single-entry keys 6-20
  std::vector<Entry> out;
  ASSERT_TRUE(store_->entries(1, 9, SIZE_MAX, &out).ok());
  EXPECT_EQ(out, Concat(MakeEntries(1, 5, 1), MakeEntries(6, 8, 2)));
  EXPECT_EQ(store_->last_index(), 8u);
}

TEST_F(LevelDbLogStoreTest, ReadersRunBesideTheWriter) {
  LevelDbOptions options;
  options.write_buffer_size = 256 << 10;  // memtable switches while reading
  options.cleanup_batch = 50;
  Open(options);
  Append(MakeEntries(1, 1, 1));
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::atomic<int> reads{0};              // reads that returned both entries
  std::atomic<LogIndex> read_through{0};  // the highest last index read
  std::thread reader([&] {
    while (!done) {
      LogIndex head = store_->head_index(), last = store_->last_index();
      if (last <= head + 1) continue;
      std::vector<Entry> out;
      Status s = store_->entries(last - 1, last + 1, SIZE_MAX, &out);
      // The head may overtake lo meanwhile: then NotFound is the answer.
      if (s.IsNotFound() && store_->head_index() >= last - 1) continue;
      if (!s.ok() || out.size() != 2 || out[0].data != testing::Payload(last - 1, 1, 200)) {
        ADD_FAILURE() << "read [" << last - 1 << ", " << last + 1 << "): " << s.message();
        ++errors;
      } else {
        ++reads;
        if (last > read_through) read_through = last;
      }
      if (errors > 5) return;
    }
  });
  // Before each compaction the writer waits (with a deadline) until the
  // reader has read what it appended: reads interleave with the appends and
  // the compactions all along, however the threads are scheduled.
  bool reader_kept_up = true;
  for (LogIndex i = 2; i <= 3000; i += 10) {
    Append(MakeEntries(i, i + 9, 1, 200));
    if (i % 500 == 2) {
      const LogIndex appended = i + 9;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (reader_kept_up && read_through < appended && errors == 0 &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      if (read_through < appended) reader_kept_up = false;
      SnapshotAndCompact(i > 101 ? i - 100 : 1);
    }
  }
  done = true;
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_TRUE(reader_kept_up) << "the reader read through " << read_through.load();
  EXPECT_GE(reads.load(), 6) << "a read before each of the 6 compactions, at least";
}

}  // namespace
}  // namespace raftlog::storage

namespace raftlog::storage {
namespace {

TEST_F(LevelDbLogStoreTest, TheSnapshotsDataSurvivesAReopenAndOnlyTheMetasFileIsKept) {
  Open();
  Append(MakeEntries(1, 50, 1));
  SnapshotMeta first;
  first.last_index = 20;
  first.last_term = 1;
  ASSERT_TRUE(store_->save_snapshot(first, "state at 20").ok());
  SnapshotMeta second;
  second.last_index = 30;
  second.last_term = 1;
  ASSERT_TRUE(store_->save_snapshot(second, "state at 30").ok());
  const std::string snaps = dir_.path() + "/snapshots";
  auto files = [&] {
    std::vector<std::string> names;
    for (const auto& f : std::filesystem::directory_iterator(snaps)) {
      names.push_back(f.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  ASSERT_EQ(files().size(), 1u) << "the older snapshot's file is deleted";
  // A crash after a newer file was renamed into place but before its meta
  // was saved: the file is an orphan, and goes at the next open.
  std::unique_ptr<SnapshotFiles> raw;
  ASSERT_TRUE(SnapshotFiles::Open(snaps, &raw).ok());
  const std::string orphan = "state at 40";
  ASSERT_TRUE(raw->begin({40, 1, orphan.size(), Crc32c(orphan.data(), orphan.size())}).ok());
  ASSERT_TRUE(raw->append(0, orphan).ok());
  ASSERT_TRUE(raw->finish().ok());
  raw.reset();
  ASSERT_EQ(files().size(), 2u);
  Open();
  EXPECT_EQ(files().size(), 1u);
  core::SnapshotHead head;
  ASSERT_TRUE(store_->snapshot(&head).ok());
  EXPECT_EQ(head.index, 30u);
  std::string data;
  ASSERT_TRUE(store_->snapshot_data(head, 0, 100, &data).ok());
  EXPECT_EQ(data, "state at 30");
}

TEST_F(LevelDbLogStoreTest, AMissingSnapshotFileStopsTheOpen) {
  Open();
  Append(MakeEntries(1, 10, 1));
  SnapshotMeta meta;
  meta.last_index = 5;
  meta.last_term = 1;
  ASSERT_TRUE(store_->save_snapshot(meta, "state").ok());
  store_.reset();
  for (const auto& f : std::filesystem::directory_iterator(dir_.path() + "/snapshots")) {
    std::filesystem::remove(f.path());
  }
  std::unique_ptr<LevelDbLogStore> again;
  Status s = LevelDbLogStore::Open(dir_.path(), {}, &again);
  EXPECT_TRUE(s.IsCorruption()) << s.message();
  EXPECT_NE(s.message().find("no data file"), std::string::npos) << s.message();
}

TEST_F(LevelDbLogStoreTest, CompactionGivesTheDiskSpaceBack) {
  // A small memtable, so that the entries reach table files long before
  // they are deleted, as in any log larger than a few memtables.
  LevelDbOptions options;
  options.write_buffer_size = 1 << 20;
  Open(options);
  for (LogIndex i = 1; i <= 20000; i += 1000) Append(MakeEntries(i, i + 999, 1, 1000));
  auto bytes_on_disk = [&] {
    uint64_t total = 0;
    for (const auto& f : std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (f.is_regular_file()) total += f.file_size();
    }
    return total;
  };
  const uint64_t before = bytes_on_disk();
  SnapshotMeta meta;
  meta.last_index = 19990;
  meta.last_term = 1;
  ASSERT_TRUE(store_->save_snapshot(meta, "s").ok());
  ASSERT_TRUE(store_->compact(19990).ok());
  store_->wait_for_cleanup();
  const uint64_t after = bytes_on_disk();
  EXPECT_GT(before, 20000u * 1000u);
  std::string listing;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_.path())) {
    if (f.is_regular_file())
      listing += f.path().filename().string() + " " + std::to_string(f.file_size()) + "\n";
  }
  EXPECT_LT(after, before / 4) << before << " bytes before, " << after << " after\n" << listing;
}

}  // namespace
}  // namespace raftlog::storage
