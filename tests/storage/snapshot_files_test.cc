// SnapshotFiles: snapshots written in pieces, checked, and never seen half
// written.
#include "raftlog/storage/snapshot_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/crc32c.h"
#include "test_util.h"

namespace raftlog::storage {
namespace {

using testing::TempDir;

std::string Data(size_t n, char seed) {
  std::string d(n, '\0');
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<char>(seed + i * 7);
  return d;
}

SnapshotInfo InfoOf(core::LogIndex index, core::Term term, const std::string& data) {
  return SnapshotInfo{index, term, data.size(), Crc32c(data.data(), data.size())};
}

// Writes data as `info` in pieces of `piece` bytes.
Status WriteInPieces(SnapshotFiles& f, const SnapshotInfo& info, const std::string& data,
                     size_t piece) {
  Status s = f.begin(info);
  for (size_t off = 0; s.ok() && off < data.size(); off += piece) {
    s = f.append(off, std::string_view(data).substr(off, piece));
  }
  return s.ok() ? f.finish() : s;
}

TEST(SnapshotFiles, AWrittenSnapshotReadsBackAfterReopening) {
  TempDir dir;
  const std::string data = Data(100000, 3);
  const SnapshotInfo info = InfoOf(500, 4, data);
  {
    std::unique_ptr<SnapshotFiles> f;
    ASSERT_TRUE(SnapshotFiles::Open(dir.path() + "/snap", &f).ok());
    SnapshotInfo none;
    EXPECT_TRUE(f->latest(&none).IsNotFound());
    ASSERT_TRUE(WriteInPieces(*f, info, data, 4096).ok());
  }
  std::unique_ptr<SnapshotFiles> f;
  ASSERT_TRUE(SnapshotFiles::Open(dir.path() + "/snap", &f).ok());
  SnapshotInfo got;
  ASSERT_TRUE(f->latest(&got).ok());
  EXPECT_EQ(got, info);
  std::string back;
  ASSERT_TRUE(f->load(got, &back).ok());
  EXPECT_EQ(back, data);
  std::string piece;
  ASSERT_TRUE(f->read(got, 99990, 1000, &piece).ok());
  EXPECT_EQ(piece, data.substr(99990));
  ASSERT_TRUE(f->read(got, 100000, 1000, &piece).ok());
  EXPECT_TRUE(piece.empty());
}

TEST(SnapshotFiles, PiecesMustComeInOrderAndARepeatedOneIsHarmless) {
  TempDir dir;
  std::unique_ptr<SnapshotFiles> f;
  ASSERT_TRUE(SnapshotFiles::Open(dir.path(), &f).ok());
  const std::string data = Data(30, 1);
  ASSERT_TRUE(f->begin(InfoOf(9, 2, data)).ok());
  ASSERT_TRUE(f->append(0, data.substr(0, 10)).ok());
  EXPECT_TRUE(f->append(20, data.substr(20)).IsInvalidInput());  // a gap
  EXPECT_TRUE(f->append(0, data.substr(0, 10)).ok());            // sent again
  EXPECT_TRUE(f->append(5, data.substr(5, 10)).ok());            // overlapping
  EXPECT_EQ(f->written(), 15u);
  EXPECT_TRUE(f->append(15, data.substr(15) + "x").IsInvalidInput());  // past the size
  ASSERT_TRUE(f->append(15, data.substr(15)).ok());
  ASSERT_TRUE(f->finish().ok());
  std::string back;
  ASSERT_TRUE(f->load(f->snapshots().back(), &back).ok());
  EXPECT_EQ(back, data);
}

TEST(SnapshotFiles, DataThatIsNotWhatWasAnnouncedIsRefusedAndLeavesNothing) {
  TempDir dir;
  std::unique_ptr<SnapshotFiles> f;
  ASSERT_TRUE(SnapshotFiles::Open(dir.path(), &f).ok());
  const std::string data = Data(64, 5);
  SnapshotInfo info = InfoOf(12, 3, data);
  std::string damaged = data;
  damaged[10] ^= 1;
  ASSERT_TRUE(f->begin(info).ok());
  ASSERT_TRUE(f->append(0, damaged).ok());
  Status s = f->finish();
  EXPECT_TRUE(s.IsCorruption()) << s.message();
  ASSERT_TRUE(f->begin(info).ok());
  ASSERT_TRUE(f->append(0, data.substr(0, 63)).ok());
  EXPECT_TRUE(f->finish().IsCorruption());  // short
  SnapshotInfo none;
  EXPECT_TRUE(f->latest(&none).IsNotFound());
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(SnapshotFiles, AWriteACrashInterruptedIsGoneAtTheNextOpenAndTheOldOneStays) {
  TempDir dir;
  const std::string old_data = Data(1000, 7);
  const std::string new_data = Data(2000, 9);
  {
    std::unique_ptr<SnapshotFiles> f;
    ASSERT_TRUE(SnapshotFiles::Open(dir.path(), &f).ok());
    ASSERT_TRUE(WriteInPieces(*f, InfoOf(100, 1, old_data), old_data, 300).ok());
    ASSERT_TRUE(f->begin(InfoOf(200, 2, new_data)).ok());
    ASSERT_TRUE(f->append(0, new_data.substr(0, 700)).ok());
    // The process dies here: simulate it by copying the half-written file
    // aside before the destructor abandons it.
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      if (e.path().extension() == ".tmp") {
        std::filesystem::copy_file(e.path(), e.path().string() + ".kept");
      }
    }
  }
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() == ".kept") {
      std::filesystem::rename(e.path(), e.path().parent_path() / e.path().stem());
    }
  }
  std::unique_ptr<SnapshotFiles> f;
  ASSERT_TRUE(SnapshotFiles::Open(dir.path(), &f).ok());
  SnapshotInfo got;
  ASSERT_TRUE(f->latest(&got).ok());
  EXPECT_EQ(got.index, 100u);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_NE(e.path().extension(), ".tmp") << e.path();
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST(SnapshotFiles, ADamagedFileIsNamedAndNeverOffered) {
  TempDir dir;
  const std::string a = Data(500, 1);
  const std::string b = Data(500, 2);
  std::string b_path;
  {
    std::unique_ptr<SnapshotFiles> f;
    ASSERT_TRUE(SnapshotFiles::Open(dir.path(), &f).ok());
    ASSERT_TRUE(WriteInPieces(*f, InfoOf(10, 1, a), a, 500).ok());
    ASSERT_TRUE(WriteInPieces(*f, InfoOf(20, 1, b), b, 500).ok());
    b_path = f->path_of(InfoOf(20, 1, b));
  }
  std::filesystem::resize_file(b_path, 300);  // a torn copy, say
  std::unique_ptr<SnapshotFiles> f;
  ASSERT_TRUE(SnapshotFiles::Open(dir.path(), &f).ok());
  SnapshotInfo got;
  ASSERT_TRUE(f->latest(&got).ok());
  EXPECT_EQ(got.index, 10u);
  ASSERT_EQ(f->damaged().size(), 1u);
  EXPECT_NE(f->damaged()[0].find("length"), std::string::npos) << f->damaged()[0];

  // A flipped data byte passes the header checks but not load().
  {
    std::fstream io(f->path_of(got), std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(SnapshotFiles::kHeaderBytes + 7);
    io.put('\xff');
  }
  std::string back;
  EXPECT_TRUE(f->load(got, &back).IsCorruption());
}

TEST(SnapshotFiles, OlderSnapshotsAreRemovedOnRequest) {
  TempDir dir;
  std::unique_ptr<SnapshotFiles> f;
  ASSERT_TRUE(SnapshotFiles::Open(dir.path(), &f).ok());
  for (core::LogIndex i : {30, 10, 20}) {
    const std::string d = Data(10 + i, static_cast<char>(i));
    ASSERT_TRUE(WriteInPieces(*f, InfoOf(i, 1, d), d, 7).ok());
  }
  ASSERT_EQ(f->snapshots().size(), 3u);
  EXPECT_EQ(f->snapshots().front().index, 10u);  // ascending
  ASSERT_TRUE(f->remove_below(30).ok());
  ASSERT_EQ(f->snapshots().size(), 1u);
  EXPECT_EQ(f->snapshots()[0].index, 30u);
  std::string back;
  EXPECT_TRUE(f->read(InfoOf(10, 1, Data(20, 10)), 0, 10, &back).IsNotFound());
}

}  // namespace
}  // namespace raftlog::storage
