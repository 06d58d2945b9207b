#include "storage/coding.h"

#include <gtest/gtest.h>

#include "storage/crc32c.h"
#include "test_util.h"

namespace raftlog::storage {
namespace {

using core::Entry;

TEST(CodingTest, EntryKeysSortByIndex) {
  EXPECT_LT(EntryKey(1), EntryKey(2));
  EXPECT_LT(EntryKey(255), EntryKey(256));
  EXPECT_LT(EntryKey(0xFFFFFFFF), EntryKey(0x100000000));
  core::LogIndex index = 0;
  ASSERT_TRUE(ParseEntryKey(EntryKey(0x0102030405060708), &index));
  EXPECT_EQ(index, 0x0102030405060708u);
  EXPECT_FALSE(ParseEntryKey("h", &index));
  EXPECT_FALSE(ParseEntryKey(std::string(kHardStateKey) + "12345678", &index));
}

TEST(CodingTest, EntryRoundTrips) {
  Entry e = testing::MakeEntry(300, 1ull << 40);
  e.type = core::EntryType::kConfig;
  e.config.voters = {1, 2, 1ull << 63};
  e.config.learners = {9};
  e.config.context = std::string("peers\0\x80", 7);
  std::string record;
  EncodeEntry(e, &record);
  Entry back;
  ASSERT_TRUE(DecodeEntry(record, 300, &back).ok());
  EXPECT_EQ(back, e);
}

// A record of format version 1 (before configurations had a context),
// written byte by byte: a store written then still opens.
TEST(CodingTest, VersionOneEntryStillDecodes) {
  std::string record(4, '\0');
  record += '\x01';                          // version
  record += std::string("\x05\x02\x01", 3);  // index 5, term 2, type config
  record += '\x00';                          // no data
  record += std::string("\x02\x01\x02", 3);  // voters [1, 2]
  record += std::string("\x00\x01\x03", 3);  // no outgoing, learners [3]
  const uint32_t crc = Crc32c(record.data() + 4, record.size() - 4);
  for (int i = 0; i < 4; ++i) record[i] = static_cast<char>(crc >> (8 * i));
  Entry back;
  ASSERT_TRUE(DecodeEntry(record, 5, &back).ok());
  EXPECT_EQ(back.type, core::EntryType::kConfig);
  EXPECT_EQ(back.config.voters, (std::vector<core::NodeId>{1, 2}));
  EXPECT_EQ(back.config.learners, (std::vector<core::NodeId>{3}));
  EXPECT_TRUE(back.config.context.empty());
  std::string_view run = record;
  std::string_view one;
  core::LogIndex index = 0;
  ASSERT_TRUE(NextEntryRecord(&run, 5, &one, &index).ok());
  EXPECT_EQ(index, 5u);
  EXPECT_TRUE(run.empty());
}

TEST(CodingTest, EveryFlippedBitOfAnEntryIsCaught) {
  std::string record;
  EncodeEntry(testing::MakeEntry(17, 3), &record);
  for (size_t byte = 0; byte < record.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = record;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      Entry e;
      Status s = DecodeEntry(damaged, 17, &e);
      ASSERT_TRUE(s.IsCorruption()) << "byte " << byte << " bit " << bit;
      EXPECT_EQ(s.message().rfind("entry 17: ", 0), 0u) << s.message();
    }
  }
}

TEST(CodingTest, EntryUnderTheWrongKeyIsCorruption) {
  std::string record;
  EncodeEntry(testing::MakeEntry(17, 3), &record);
  Entry e;
  Status s = DecodeEntry(record, 18, &e);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "entry 18: record holds entry 17");
}

TEST(CodingTest, TruncatedRecordsAreCorruption) {
  std::string record;
  EncodeEntry(testing::MakeEntry(5, 1), &record);
  Entry e;
  for (size_t n = 0; n < record.size(); ++n) {
    EXPECT_TRUE(DecodeEntry(record.substr(0, n), 5, &e).IsCorruption()) << n;
  }
}

TEST(CodingTest, MetadataRecordsRoundTripAndDetectDamage) {
  core::HardState hs{7, 3, 99};
  std::string rec;
  EncodeHardState(hs, &rec);
  core::HardState hs_back;
  ASSERT_TRUE(DecodeHardState(rec, &hs_back).ok());
  EXPECT_EQ(hs_back, hs);
  rec.back() ^= 1;
  Status s = DecodeHardState(rec, &hs_back);
  EXPECT_EQ(s.message(), "hard state: checksum mismatch");

  EncodeLogMeta({100, 4}, &rec);
  LogMeta meta;
  ASSERT_TRUE(DecodeLogMeta(rec, &meta).ok());
  EXPECT_EQ(meta.head_index, 100u);
  EXPECT_EQ(meta.head_term, 4u);

  SnapshotMeta snap;
  snap.last_index = 100;
  snap.last_term = 4;
  snap.config.voters = {1, 2, 3};
  snap.config.voters_outgoing = {1, 2, 4};
  snap.size = 1ull << 40;
  snap.crc = 0xdeadbeef;
  EncodeSnapshotMeta(snap, &rec);
  SnapshotMeta snap_back;
  ASSERT_TRUE(DecodeSnapshotMeta(rec, &snap_back).ok());
  EXPECT_EQ(snap_back, snap);
  rec[6] ^= 0x10;
  EXPECT_EQ(DecodeSnapshotMeta(rec, &snap_back).message(), "snapshot metadata: checksum mismatch");
}

}  // namespace
}  // namespace raftlog::storage
