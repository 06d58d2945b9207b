// SnapshotFiles: a node's snapshots on disk, one file each, in one
// directory. A snapshot here is the application's state bytes as of a log
// index (and that entry's term); the LogStore keeps the rest of what
// describes it (SnapshotMeta: the configuration, the log head).
//
// A snapshot is written in order, in pieces (a local one in one go, one
// received from a leader chunk by chunk), to a temporary file; finish()
// checks the size and the CRC32C of the whole, syncs it and renames it into
// place, so a crash at any point leaves either no new snapshot or the
// whole one, never a part (an interrupted write's temporary file is removed
// at the next Open). Reading checks each file's header; load() checks the
// CRC of the data as well.
//
// File: <dir>/snap-<index>-<term>.snap, index and term zero-padded to 20
// digits (names sort by index). A 40-byte header, then the data:
//   "RLSNAP01" | index u64 | term u64 | size u64 | crc32c(data) u32 |
//   crc32c(the 36 bytes before) u32, numbers little-endian.
//
// Not thread-safe: one thread uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog::storage {

struct SnapshotInfo {
  core::LogIndex index = 0;
  core::Term term = 0;
  uint64_t size = 0;  // bytes of data
  uint32_t crc = 0;   // CRC32C of the data
  bool operator==(const SnapshotInfo&) const = default;
};

class SnapshotFiles {
 public:
  static constexpr size_t kHeaderBytes = 40;

  // Creates dir if missing, removes what interrupted writes left, and reads
  // the headers of the snapshots there. A file whose header is damaged or
  // whose length disagrees with it is left alone and never offered
  // (damaged() names it). IOError if the directory cannot be used.
  static Status Open(const std::string& dir, std::unique_ptr<SnapshotFiles>* out);
  ~SnapshotFiles();
  SnapshotFiles(const SnapshotFiles&) = delete;
  SnapshotFiles& operator=(const SnapshotFiles&) = delete;

  // --- Writing one snapshot ---
  // Starts writing `info` (its size and crc as the finished data must have
  // them). A write still unfinished is abandoned. InvalidInput for index 0.
  Status begin(const SnapshotInfo& info);
  // Data at `offset`, which must be written() (pieces come in order; a
  // repeated piece, offset < written(), is ignored: ok). InvalidInput for a
  // gap or for data past info.size; nothing is written then.
  Status append(uint64_t offset, std::string_view data);
  bool writing() const { return writing_; }
  const SnapshotInfo& writing_info() const { return pending_; }
  uint64_t written() const { return written_; }
  // Checks size and CRC, syncs, renames into place and syncs the directory.
  // Corruption (and the temporary file removed) if the data is not what
  // begin() announced; InvalidInput if nothing is being written.
  Status finish();
  // Drops the write in progress, if any.
  void abandon();

  // --- Reading ---
  // The complete snapshot with the highest index; NotFound if none.
  Status latest(SnapshotInfo* info) const;
  // Every complete snapshot, ascending by index.
  const std::vector<SnapshotInfo>& snapshots() const { return complete_; }
  // Up to max bytes of snap's data from offset (fewer at its end). NotFound
  // if it is not a complete snapshot here.
  Status read(const SnapshotInfo& snap, uint64_t offset, size_t max, std::string* out) const;
  // The whole data, CRC checked: Corruption if it does not match.
  Status load(const SnapshotInfo& snap, std::string* data) const;
  // Deletes one complete snapshot.
  Status remove(const SnapshotInfo& snap);
  // Deletes the complete snapshots with an index below keep.
  Status remove_below(core::LogIndex keep);
  // Files that look like snapshots but cannot be read, with why.
  const std::vector<std::string>& damaged() const { return damaged_; }

  const std::string& dir() const { return dir_; }
  std::string path_of(const SnapshotInfo& snap) const;

 private:
  explicit SnapshotFiles(std::string dir) : dir_(std::move(dir)) {}
  Status scan();

  std::string dir_;
  std::vector<SnapshotInfo> complete_;
  std::vector<std::string> damaged_;
  bool writing_ = false;
  SnapshotInfo pending_;
  int fd_ = -1;
  uint64_t written_ = 0;
  uint32_t crc_so_far_ = 0;
};

}  // namespace raftlog::storage
