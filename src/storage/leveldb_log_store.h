// LevelDbLogStore: the LogStore on LevelDB (layout in coding.h and
// docs/storage.md). Private to src/storage and its tests; users open one
// with OpenLevelDbLogStore().
//
// What lives where:
// - head index/term: the 'm' key, written (synced) whenever the head moves,
//   so open reads one key instead of scanning the log.
// - last index/term: found at open by one reverse Seek to the highest entry
//   key (LevelDB's index makes that a lookup, not a scan), then kept in
//   memory. Keeping it in a metadata key too would add a second source of
//   truth that an append would have to keep in step; the entry keys are it.
// - compacted keys are deleted by a background thread in batches of
//   cleanup_batch keys; keys at or below the head are never read, and any
//   still there after a crash are deleted after the next open.
#pragma once

#include <leveldb/slice.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "raftlog/storage/leveldb_store.h"
#include "raftlog/storage/log_store.h"
#include "raftlog/storage/snapshot_files.h"
#include "storage/log_rules.h"

namespace leveldb {
class Cache;
class DB;
class WriteBatch;
}  // namespace leveldb

namespace raftlog::storage {

inline leveldb::Slice ToSlice(std::string_view s) {
  return {s.data(), s.size()};
}
inline std::string_view View(const leveldb::Slice& s) {
  return {s.data(), s.size()};
}

class LevelDbLogStore final : public LogStore {
 public:
  static Status Open(const std::string& path, const LevelDbOptions& options,
                     std::unique_ptr<LevelDbLogStore>* store);
  // Stops the cleaner between two batches; what it left is cleaned after
  // the next open.
  ~LevelDbLogStore() override;
  LevelDbLogStore(const LevelDbLogStore&) = delete;
  LevelDbLogStore& operator=(const LevelDbLogStore&) = delete;

  core::LogIndex head_index() const override;
  core::Term head_term() const override;
  core::LogIndex last_index() const override;
  Status term(core::LogIndex index, core::Term* term) const override;
  Status entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                 std::vector<core::Entry>* out) const override;
  // From the configuration keys: no scan of the log.
  Status config_entries(std::vector<core::Entry>* out) const override;

  Status snapshot(core::SnapshotHead* out) const override;
  Status snapshot_data(const core::SnapshotHead& snap, uint64_t offset, size_t max,
                       std::string* out) const override;

  Status load_hard_state(core::HardState* hard_state) const override;
  Status load_snapshot(SnapshotMeta* meta) const override;
  using LogStore::append;
  Status append(const std::optional<core::HardState>& hard_state,
                std::span<const core::Entry> entries, bool sync) override;
  Status write_snapshot(const core::SnapshotHead& head, uint64_t offset,
                        std::string_view data) override;
  Status finish_snapshot(const core::SnapshotHead& head, bool replace_log) override;
  Status compact(core::LogIndex new_head) override;
  Status status() const override;

  // Blocks until every key at or below the head is deleted (or the store
  // failed). For tests and orderly shutdowns.
  void wait_for_cleanup();

 private:
  LevelDbLogStore() = default;
  Status load();  // reads metadata at open
  // Opens the snapshot files and keeps only the saved snapshot's.
  Status load_snapshot_files(const std::string& dir);
  // Saves meta as the snapshot (and the log head when the log is replaced).
  Status save_snapshot_meta(const SnapshotMeta& meta, bool replace_log);

  // Reads the stored entry at index, whatever the bounds say.
  Status read_entry(core::LogIndex index, core::Entry* entry) const;
  // Adds to batch what replaces the log from index `from` on: the runs
  // holding any such entry are deleted, and the part of the first of them
  // below `from` is written back under its own last index.
  Status truncate_from(core::LogIndex from, leveldb::WriteBatch* batch);
  Status read_term(core::LogIndex index, core::Term* term) const;
  LogBounds bounds() const;

  // One synced write; on failure fails the store with "what: leveldb: ...".
  Status write(const std::string& what, leveldb::WriteBatch* batch, bool sync = true);
  Status fail(const std::string& what, const std::string& leveldb_error, bool corruption);
  // Fails the store with s (a snapshot file's I/O error) unless it failed already.
  Status fail_io(const Status& s);
  void schedule_cleanup_locked(core::LogIndex through);
  void cleanup_loop();
  // Deletes up to cleanup_batch entry keys in [from, through]; *next is
  // where the next batch starts.
  Status cleanup_batch(core::LogIndex from, core::LogIndex through, core::LogIndex* next);

  size_t cleanup_batch_size_ = 1000;
  size_t max_run_bytes_ = 16 << 10;
  std::unique_ptr<leveldb::Cache> cache_;  // outlives db_
  std::unique_ptr<leveldb::DB> db_;

  std::mutex write_mu_;  // one writer at a time; held across the synced write
  // The snapshots' data (docs/storage.md, "Snapshot files"): written under
  // write_mu_, read by the loop (a leader sending it) under snap_mu_.
  mutable std::mutex snap_mu_;
  std::unique_ptr<SnapshotFiles> files_;
  std::string scratch_;  // record encoding buffer, guarded by write_mu_

  mutable std::mutex mu_;  // guards everything below
  LogBounds bounds_;
  core::HardState hard_state_;
  std::optional<SnapshotMeta> snapshot_;
  Status failed_;
  core::LogIndex cleanup_next_ = 1;     // lowest entry key that may still exist
  core::LogIndex cleanup_through_ = 0;  // entry keys up to here are to go
  bool cleanup_busy_ = false;
  bool stopping_ = false;
  std::condition_variable cleanup_cv_;  // work for the cleaner, or stop
  std::condition_variable idle_cv_;     // the cleaner made progress
  std::thread cleaner_;
};

}  // namespace raftlog::storage
