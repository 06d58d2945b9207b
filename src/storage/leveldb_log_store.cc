#include "storage/leveldb_log_store.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include "storage/coding.h"

namespace raftlog::storage {

using core::Entry;
using core::LogIndex;
using core::Term;

namespace {

leveldb::ReadOptions Verified() {
  leveldb::ReadOptions o;
  o.verify_checksums = true;
  return o;
}

Status FromLevelDb(const std::string& what, const leveldb::Status& s) {
  std::string msg = what + ": leveldb: " + s.ToString();
  return s.IsCorruption() ? Status::Corruption(std::move(msg)) : Status::IOError(std::move(msg));
}

// Reads one metadata key; *found is false if it is absent.
Status GetKey(leveldb::DB* db, std::string_view key, std::string* value, bool* found) {
  leveldb::Status s = db->Get(Verified(), ToSlice(key), value);
  *found = s.ok();
  if (s.ok() || s.IsNotFound()) return Status::Ok();
  return FromLevelDb("read key '" + std::string(key) + "'", s);
}

}  // namespace

Status OpenLevelDbLogStore(const std::string& path, const LevelDbOptions& options,
                           std::unique_ptr<LogStore>* store) {
  std::unique_ptr<LevelDbLogStore> s;
  Status status = LevelDbLogStore::Open(path, options, &s);
  if (status.ok()) *store = std::move(s);
  return status;
}

Status LevelDbLogStore::Open(const std::string& path, const LevelDbOptions& options,
                             std::unique_ptr<LevelDbLogStore>* store) {
  std::unique_ptr<LevelDbLogStore> st(new LevelDbLogStore());
  st->cleanup_batch_size_ = options.cleanup_batch > 0 ? options.cleanup_batch : 1;
  st->max_run_bytes_ = options.max_run_bytes;
  st->cache_.reset(leveldb::NewLRUCache(options.block_cache_bytes));

  leveldb::Options o;
  o.create_if_missing = options.create_if_missing;
  o.paranoid_checks = true;  // a damaged WAL or table stops the open instead of losing data
  o.write_buffer_size = options.write_buffer_size;
  o.block_cache = st->cache_.get();
  o.compression = options.compress ? leveldb::kSnappyCompression : leveldb::kNoCompression;
  o.max_open_files = options.max_open_files;
  if (options.env != nullptr) o.env = options.env;

  leveldb::DB* db = nullptr;
  leveldb::Status ls = leveldb::DB::Open(o, path, &db);
  if (!ls.ok()) {
    std::string msg = "open " + path + ": leveldb: " + ls.ToString();
    if (ls.IsCorruption()) return Status::Corruption(std::move(msg));
    if (ls.IsInvalidArgument()) return Status::NotFound(std::move(msg));  // missing, no create
    return Status::IOError(std::move(msg));
  }
  st->db_.reset(db);
  Status s = st->load();
  if (s.ok()) s = st->load_snapshot_files(path + "/snapshots");
  if (!s.ok()) return s;
  st->cleaner_ = std::thread([p = st.get()] { p->cleanup_loop(); });
  *store = std::move(st);
  return Status::Ok();
}

Status LevelDbLogStore::load() {
  std::string value;
  bool found = false;
  LogMeta meta;
  Status s = GetKey(db_.get(), kLogMetaKey, &value, &found);
  if (s.ok() && found) s = DecodeLogMeta(value, &meta);
  if (!s.ok()) return s;
  s = GetKey(db_.get(), kHardStateKey, &value, &found);
  if (s.ok() && found) s = DecodeHardState(value, &hard_state_);
  if (!s.ok()) return s;
  s = GetKey(db_.get(), kSnapshotKey, &value, &found);
  if (s.ok() && found) {
    snapshot_.emplace();
    s = DecodeSnapshotMeta(value, &*snapshot_);
  }
  if (!s.ok()) return s;

  bounds_.head_index = meta.head_index;
  bounds_.head_term = meta.head_term;
  bounds_.snapshot_index = snapshot_ ? snapshot_->last_index : 0;
  if (bounds_.head_index > bounds_.snapshot_index) {
    return Status::InconsistentState("log head " + std::to_string(bounds_.head_index) +
                                     " is beyond the saved snapshot at " +
                                     std::to_string(bounds_.snapshot_index));
  }

  // The tail: the highest entry key, found with one Seek past the entry space.
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Verified()));
  it->Seek(std::string(1, static_cast<char>(kEntryPrefix + 1)));
  if (it->Valid()) {
    it->Prev();
  } else {
    it->SeekToLast();
  }
  LogIndex index = 0;
  bounds_.last_index = bounds_.head_index;
  bounds_.last_term = bounds_.head_term;
  if (it->Valid() && ParseEntryKey(View(it->key()), &index) && index > bounds_.head_index) {
    // The last run's last record is the log's last entry.
    std::string_view run = View(it->value()), record, last_record;
    LogIndex record_index = 0;
    while (!run.empty()) {
      s = NextEntryRecord(&run, index, &record, &record_index);
      if (!s.ok()) return s;
      last_record = record;
    }
    Entry last;
    s = DecodeEntry(last_record, index, &last);
    if (!s.ok()) return s;
    bounds_.last_index = index;
    bounds_.last_term = last.term;
  }
  // Keys left below the head by a cleanup that a crash interrupted.
  it->Seek(EntryKey(0));
  if (it->Valid() && ParseEntryKey(View(it->key()), &index) && index <= bounds_.head_index) {
    cleanup_next_ = index;
  } else {
    cleanup_next_ = bounds_.head_index + 1;
  }
  cleanup_through_ = bounds_.head_index;
  if (!it->status().ok()) return FromLevelDb("open: find the log tail", it->status());
  return Status::Ok();
}

LevelDbLogStore::~LevelDbLogStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cleanup_cv_.notify_all();
  if (cleaner_.joinable()) cleaner_.join();
}

LogBounds LevelDbLogStore::bounds() const {
  std::lock_guard lock(mu_);
  return bounds_;
}

LogIndex LevelDbLogStore::head_index() const {
  return bounds().head_index;
}
Term LevelDbLogStore::head_term() const {
  return bounds().head_term;
}
LogIndex LevelDbLogStore::last_index() const {
  return bounds().last_index;
}

namespace {

// Finds entry `index` in a run (keyed by key_index, its last index).
Status FindInRun(std::string_view run, LogIndex key_index, LogIndex index, Entry* entry) {
  while (!run.empty()) {
    std::string_view record;
    LogIndex record_index = 0;
    Status s = NextEntryRecord(&run, key_index, &record, &record_index);
    if (!s.ok()) return s;
    if (record_index == index) return DecodeEntry(record, index, entry);
    if (record_index > index) break;
  }
  return Status::Corruption(EntryContext(index) + ": missing from the log");
}

}  // namespace

Status LevelDbLogStore::read_entry(LogIndex index, Entry* entry) const {
  // The run holding index is the first whose key (its last index) is >= index.
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Verified()));
  it->Seek(EntryKey(index));
  LogIndex key_index = 0;
  if (!it->Valid() || !ParseEntryKey(View(it->key()), &key_index)) {
    return it->status().ok() ? Status::Corruption(EntryContext(index) + ": missing from the log")
                             : FromLevelDb(EntryContext(index), it->status());
  }
  return FindInRun(View(it->value()), key_index, index, entry);
}

Status LevelDbLogStore::read_term(LogIndex index, Term* term) const {
  Entry e;
  Status s = read_entry(index, &e);
  if (s.ok()) *term = e.term;
  return s;
}

Status LevelDbLogStore::term(LogIndex index, Term* term) const {
  LogBounds b = bounds();
  Status s = CheckTermRead(b, index);
  if (!s.ok() || b.known_term(index, term)) return s;
  Term t = 0;
  s = read_term(index, &t);
  // A compaction that moved the head past index while we read wins: its key
  // may be gone already, and entries below the head are never served.
  b = bounds();
  if (index <= b.head_index) {
    s = CheckTermRead(b, index);
    t = b.head_term;
  }
  if (s.ok()) *term = t;
  return s;
}

Status LevelDbLogStore::entries(LogIndex lo, LogIndex hi, size_t max_bytes,
                                std::vector<Entry>* out) const {
  Status s = CheckEntriesRead(bounds(), lo, hi);
  if (!s.ok() || lo == hi) return s;
  const size_t old_size = out->size();
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Verified()));
  it->Seek(EntryKey(lo));
  size_t bytes = 0;
  LogIndex i = lo;
  bool full = false;
  // LevelDB's iterator steps over a block it cannot read and keeps the
  // error: report that rather than the gap it leaves.
  auto missing = [&it](LogIndex index) {
    return it->status().ok() ? Status::Corruption(EntryContext(index) + ": missing from the log")
                             : FromLevelDb(EntryContext(index), it->status());
  };
  while (s.ok() && !full && i < hi) {
    LogIndex key_index = 0;
    if (!it->Valid() || !ParseEntryKey(View(it->key()), &key_index)) {
      s = missing(i);
      break;
    }
    // This run holds entries up to key_index; those before i are skipped.
    std::string_view run = View(it->value());
    while (s.ok() && i < hi && i <= key_index) {
      std::string_view record;
      LogIndex record_index = 0;
      if (run.empty()) {
        s = missing(i);
        break;
      }
      s = NextEntryRecord(&run, key_index, &record, &record_index);
      if (!s.ok() || record_index < i) continue;
      if (record_index != i) {
        s = missing(i);
        break;
      }
      Entry e;
      s = DecodeEntry(record, i, &e);
      if (!s.ok()) break;
      bytes += e.byte_size();
      if (i > lo && bytes > max_bytes) {
        full = true;
        break;
      }
      out->push_back(std::move(e));
      ++i;
    }
    it->Next();
  }
  if (lo <= head_index()) s = CheckEntriesRead(bounds(), lo, hi);  // compacted meanwhile
  if (!s.ok()) out->resize(old_size);  // a damaged entry is never handed out
  return s;
}

Status LevelDbLogStore::load_hard_state(core::HardState* hard_state) const {
  std::lock_guard lock(mu_);
  *hard_state = hard_state_;
  return Status::Ok();
}

Status LevelDbLogStore::load_snapshot(SnapshotMeta* meta) const {
  std::lock_guard lock(mu_);
  if (!snapshot_) return Status::NotFound("no snapshot saved");
  *meta = *snapshot_;
  return Status::Ok();
}

Status LevelDbLogStore::status() const {
  std::lock_guard lock(mu_);
  return failed_;
}

Status LevelDbLogStore::fail(const std::string& what, const std::string& leveldb_error,
                             bool corruption) {
  std::string msg = what + ": leveldb: " + leveldb_error;
  Status s = corruption ? Status::Corruption(std::move(msg)) : Status::IOError(std::move(msg));
  std::lock_guard lock(mu_);
  if (failed_.ok()) failed_ = s;  // the first failure is the one to report
  return failed_;
}

Status LevelDbLogStore::fail_io(const Status& s) {
  std::lock_guard lock(mu_);
  if (failed_.ok()) failed_ = s;
  return failed_;
}

Status LevelDbLogStore::write(const std::string& what, leveldb::WriteBatch* batch, bool sync) {
  leveldb::WriteOptions o;
  o.sync = sync;
  leveldb::Status ls = db_->Write(o, batch);
  if (ls.ok()) return Status::Ok();
  return fail(what, ls.ToString(), ls.IsCorruption());
}

Status LevelDbLogStore::append(const std::optional<core::HardState>& hard_state,
                               std::span<const Entry> entries, bool sync) {
  std::lock_guard writer(write_mu_);
  LogBounds b;
  {
    std::lock_guard lock(mu_);
    if (!failed_.ok()) return failed_;
    b = bounds_;
  }
  if (!hard_state && entries.empty()) return Status::Ok();
  leveldb::WriteBatch batch;
  if (hard_state) {
    EncodeHardState(*hard_state, &scratch_);
    batch.Put(ToSlice(kHardStateKey), scratch_);
  }
  if (!entries.empty()) {
    Status s = CheckAppend(b, entries, [this](LogIndex i, Term* t) { return read_term(i, t); });
    if (!s.ok()) return s;
    // Entries from front().index on are replaced.
    if (entries.front().index <= b.last_index) {
      s = truncate_from(entries.front().index, &batch);
      if (!s.ok()) return s;
    }
    // Runs of entries, one key each (LevelDbOptions::max_run_bytes).
    scratch_.clear();
    for (const Entry& e : entries) {
      if (e.type == core::EntryType::kConfig) batch.Put(ConfigKey(e.index), leveldb::Slice());
      AppendEntryRecord(e, &scratch_);
      if (scratch_.size() >= max_run_bytes_ || e.index == entries.back().index) {
        batch.Put(EntryKey(e.index), scratch_);
        scratch_.clear();
      }
    }
  }
  const LogIndex at = entries.empty() ? b.last_index + 1 : entries.front().index;
  Status s = write("append at " + std::to_string(at), &batch, sync);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  if (hard_state) hard_state_ = *hard_state;
  if (!entries.empty()) {
    bounds_.last_index = entries.back().index;
    bounds_.last_term = entries.back().term;
  }
  return Status::Ok();
}

Status LevelDbLogStore::truncate_from(LogIndex from, leveldb::WriteBatch* batch) {
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Verified()));
  bool first = true;
  LogIndex key_index = 0;
  for (it->Seek(EntryKey(from)); it->Valid() && ParseEntryKey(View(it->key()), &key_index);
       it->Next()) {
    if (first) {
      first = false;
      std::string kept;
      LogIndex kept_last = 0;
      std::string_view run = View(it->value()), record;
      LogIndex record_index = 0;
      while (!run.empty()) {
        Status s = NextEntryRecord(&run, key_index, &record, &record_index);
        if (!s.ok()) return s;
        if (record_index >= from) break;
        kept.append(record);
        kept_last = record_index;
      }
      if (!kept.empty()) batch->Put(EntryKey(kept_last), kept);
    }
    batch->Delete(it->key());
  }
  if (!it->status().ok()) {
    return FromLevelDb("append at " + std::to_string(from) + ": read the replaced suffix",
                       it->status());
  }
  for (it->Seek(ConfigKey(from)); it->Valid() && ParseConfigKey(View(it->key()), &key_index);
       it->Next()) {
    batch->Delete(it->key());
  }
  if (!it->status().ok()) {
    return FromLevelDb("append at " + std::to_string(from) + ": read the replaced configurations",
                       it->status());
  }
  return Status::Ok();
}

Status LevelDbLogStore::config_entries(std::vector<Entry>* out) const {
  const LogBounds b = bounds();
  std::vector<LogIndex> found;
  {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Verified()));
    LogIndex index = 0;
    // Keys at or below the head are left over from compacted log: skipped.
    for (it->Seek(ConfigKey(b.head_index + 1));
         it->Valid() && ParseConfigKey(View(it->key()), &index) && index <= b.last_index;
         it->Next()) {
      found.push_back(index);
    }
    if (!it->status().ok()) return FromLevelDb("read the configuration keys", it->status());
  }
  for (LogIndex index : found) {
    Entry e;
    Status s = read_entry(index, &e);
    if (!s.ok()) return s;
    if (e.type != core::EntryType::kConfig) {
      return Status::Corruption("entry " + std::to_string(index) +
                                " is indexed as a configuration but is not one (type " +
                                std::to_string(static_cast<int>(e.type)) + ")");
    }
    out->push_back(std::move(e));
  }
  return Status::Ok();
}

Status LevelDbLogStore::load_snapshot_files(const std::string& dir) {
  Status s = SnapshotFiles::Open(dir, &files_);
  if (!s.ok()) return s;
  // finish_snapshot renames the new file into place, then saves the meta,
  // then deletes the old file: a crash between leaves a file the meta does
  // not name (newer: the install did not happen; older: it did). Only the
  // meta's own is the snapshot.
  const SnapshotInfo want = snapshot_ ? SnapshotInfo{snapshot_->last_index, snapshot_->last_term,
                                                     snapshot_->size, snapshot_->crc}
                                      : SnapshotInfo{};
  bool have = false;
  for (const SnapshotInfo& f : std::vector<SnapshotInfo>(files_->snapshots())) {
    if (f == want) {
      have = true;
      continue;
    }
    s = files_->remove(f);
    if (!s.ok()) return s;
  }
  if (snapshot_ && !have) {
    return Status::Corruption("the snapshot at " + std::to_string(snapshot_->last_index) +
                              " has no data file in " + dir);
  }
  return Status::Ok();
}

Status LevelDbLogStore::snapshot(core::SnapshotHead* out) const {
  std::lock_guard lock(mu_);
  if (!snapshot_) return Status::NotFound("no snapshot saved");
  *out = snapshot_->head();
  return Status::Ok();
}

Status LevelDbLogStore::snapshot_data(const core::SnapshotHead& snap, uint64_t offset, size_t max,
                                      std::string* out) const {
  {
    std::lock_guard lock(mu_);
    if (!snapshot_ || snapshot_->head() != snap) {
      return Status::NotFound("snapshot " + std::to_string(snap.index) + " is not the store's");
    }
  }
  std::lock_guard lock(snap_mu_);
  return files_->read({snap.index, snap.term, snap.size, snap.crc}, offset, max, out);
}

Status LevelDbLogStore::write_snapshot(const core::SnapshotHead& head, uint64_t offset,
                                       std::string_view data) {
  std::lock_guard writer(write_mu_);
  Status s = status();
  if (!s.ok()) return s;
  std::lock_guard lock(snap_mu_);
  const SnapshotInfo info{head.index, head.term, head.size, head.crc};
  if (!files_->writing() || files_->writing_info() != info) {
    if (offset != 0) {
      return Status::InvalidInput("snapshot " + std::to_string(head.index) + " data at " +
                                  std::to_string(offset) + ": nothing of it is written (a gap)");
    }
    s = files_->begin(info);
    if (!s.ok()) return s.code() == Status::Code::kIOError ? fail_io(s) : s;
  }
  s = files_->append(offset, data);
  return s.code() == Status::Code::kIOError ? fail_io(s) : s;
}

Status LevelDbLogStore::finish_snapshot(const core::SnapshotHead& head, bool replace_log) {
  std::lock_guard writer(write_mu_);
  Status s = status();
  if (!s.ok()) return s;
  const SnapshotInfo info{head.index, head.term, head.size, head.crc};
  {
    std::lock_guard lock(snap_mu_);
    if (!files_->writing() || files_->writing_info() != info) {
      return Status::InvalidInput("snapshot " + std::to_string(head.index) +
                                  ": no data was written for it");
    }
    s = files_->finish();  // Corruption (size, CRC): the write is dropped
    if (s.code() == Status::Code::kIOError) return fail_io(s);
    if (!s.ok()) return s;
  }
  s = save_snapshot_meta(SnapshotMeta::Of(head), replace_log);
  std::lock_guard lock(snap_mu_);
  if (!s.ok()) {
    // Not the store's snapshot: its file goes (an error here fails the
    // store already; InvalidInput left the old snapshot in place).
    (void)files_->remove(info);
    return s;
  }
  s = files_->remove_below(head.index);
  return s.ok() ? s : fail_io(s);
}

Status LevelDbLogStore::save_snapshot_meta(const SnapshotMeta& meta, bool replace_log) {
  LogBounds b;
  {
    std::lock_guard lock(mu_);
    if (!failed_.ok()) return failed_;
    b = bounds_;
  }
  bool keep_log = false;
  Status s = CheckSnapshot(
      b, meta, [this](LogIndex i, Term* t) { return read_term(i, t); }, replace_log, &keep_log);
  if (!s.ok()) return s;
  leveldb::WriteBatch batch;
  EncodeSnapshotMeta(meta, &scratch_);
  batch.Put(ToSlice(kSnapshotKey), scratch_);
  if (!keep_log) {
    // The snapshot replaces the log. Entries above its index go now, in this
    // batch (the tail is found from the highest key at open); those below
    // are compacted ones, left to the cleaner.
    EncodeLogMeta({meta.last_index, meta.last_term}, &scratch_);
    batch.Put(ToSlice(kLogMetaKey), scratch_);
    if (b.last_index > meta.last_index) {
      s = truncate_from(meta.last_index + 1, &batch);
      if (!s.ok()) return s;
    }
  }
  s = write("save snapshot at " + std::to_string(meta.last_index), &batch);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  snapshot_ = meta;
  bounds_.snapshot_index = meta.last_index;
  if (!keep_log) {
    bounds_.head_index = bounds_.last_index = meta.last_index;
    bounds_.head_term = bounds_.last_term = meta.last_term;
    schedule_cleanup_locked(meta.last_index);
  }
  return Status::Ok();
}

Status LevelDbLogStore::compact(LogIndex new_head) {
  std::lock_guard writer(write_mu_);
  LogBounds b;
  {
    std::lock_guard lock(mu_);
    if (!failed_.ok()) return failed_;
    b = bounds_;
  }
  Status s = CheckCompact(b, new_head);
  if (!s.ok() || new_head == b.head_index) return s;
  Term head_term = 0;
  if (!b.known_term(new_head, &head_term)) {
    s = read_term(new_head, &head_term);
    if (!s.ok()) return s;
  }
  // Only the head moves here; the keys below it go in the background.
  leveldb::WriteBatch batch;
  EncodeLogMeta({new_head, head_term}, &scratch_);
  batch.Put(ToSlice(kLogMetaKey), scratch_);
  s = write("compact to " + std::to_string(new_head), &batch);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  bounds_.head_index = new_head;
  bounds_.head_term = head_term;
  schedule_cleanup_locked(new_head);
  return Status::Ok();
}

}  // namespace raftlog::storage
