// The background deletion of compacted entry keys (see leveldb_log_store.h).
#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include "storage/coding.h"
#include "storage/leveldb_log_store.h"

namespace raftlog::storage {

using core::LogIndex;

void LevelDbLogStore::schedule_cleanup_locked(LogIndex through) {
  if (through > cleanup_through_) cleanup_through_ = through;
  cleanup_cv_.notify_all();
}

void LevelDbLogStore::cleanup_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cleanup_cv_.wait(
        lock, [this] { return stopping_ || (failed_.ok() && cleanup_next_ <= cleanup_through_); });
    if (stopping_) return;
    const LogIndex from = cleanup_next_;
    const LogIndex through = cleanup_through_;
    cleanup_busy_ = true;
    lock.unlock();
    LogIndex next = from;
    // A failure fails the store, which idles the cleaner.
    const bool ok = cleanup_batch(from, through, &next).ok();
    if (ok && next > through) {
      // The whole range is deleted: have LevelDB rewrite the tables that
      // held it now, so the disk space comes back at once, not whenever
      // later writes happen to compact that key range.
      // (Everything below `through` is deleted, by this run or earlier ones.)
      const std::string lo = EntryKey(0), hi = EntryKey(through);
      leveldb::Slice begin(lo), end(hi);
      db_->CompactRange(&begin, &end);
    }
    lock.lock();
    cleanup_busy_ = false;
    cleanup_next_ = next;
    idle_cv_.notify_all();
  }
}

Status LevelDbLogStore::cleanup_batch(LogIndex from, LogIndex through, LogIndex* next) {
  // Iterate rather than delete every index in the range: after a snapshot
  // install the range can be far larger than the keys actually there.
  leveldb::ReadOptions ro;
  ro.fill_cache = false;  // do not evict entries someone may read for keys about to go
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  leveldb::WriteBatch batch;
  size_t n = 0;
  LogIndex index = 0;
  for (it->Seek(EntryKey(from)); it->Valid() && n < cleanup_batch_size_; it->Next()) {
    if (!ParseEntryKey(View(it->key()), &index) || index > through) break;
    batch.Delete(it->key());
    ++n;
  }
  const std::string what = "delete compacted entries from " + std::to_string(from);
  if (!it->status().ok()) return fail(what, it->status().ToString(), it->status().IsCorruption());
  if (n == 0) {
    *next = through + 1;
    return Status::Ok();
  }
  // Not synced: a crash only leaves keys below the head, which the next
  // open finds and deletes again.
  leveldb::Status ls = db_->Write(leveldb::WriteOptions(), &batch);
  if (!ls.ok()) return fail(what, ls.ToString(), ls.IsCorruption());
  *next = n < cleanup_batch_size_ ? through + 1 : index + 1;
  return Status::Ok();
}

void LevelDbLogStore::wait_for_cleanup() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] {
    return stopping_ || !failed_.ok() || (!cleanup_busy_ && cleanup_next_ > cleanup_through_);
  });
}

}  // namespace raftlog::storage
