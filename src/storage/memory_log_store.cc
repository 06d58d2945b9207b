#include "raftlog/storage/memory_log_store.h"

#include "storage/crc32c.h"
#include "storage/log_rules.h"

namespace raftlog::storage {

using core::Entry;
using core::LogIndex;
using core::Term;

core::LogIndex MemoryLogStore::head_index() const {
  std::lock_guard lock(mu_);
  return head_index_;
}

core::Term MemoryLogStore::head_term() const {
  std::lock_guard lock(mu_);
  return head_term_;
}

core::LogIndex MemoryLogStore::last_index() const {
  std::lock_guard lock(mu_);
  return head_index_ + log_.size();
}

Term MemoryLogStore::term_locked(LogIndex index) const {
  return index == head_index_ ? head_term_ : log_[index - head_index_ - 1].term;
}

Status MemoryLogStore::term(LogIndex index, Term* term) const {
  std::lock_guard lock(mu_);
  LogBounds b{head_index_, head_term_, head_index_ + log_.size(), 0, 0};
  Status s = CheckTermRead(b, index);
  if (!s.ok()) return s;
  *term = term_locked(index);
  return Status::Ok();
}

Status MemoryLogStore::entries(LogIndex lo, LogIndex hi, size_t max_bytes,
                               std::vector<Entry>* out) const {
  std::lock_guard lock(mu_);
  LogBounds b{head_index_, head_term_, head_index_ + log_.size(), 0, 0};
  Status s = CheckEntriesRead(b, lo, hi);
  if (!s.ok()) return s;
  size_t bytes = 0;
  for (LogIndex i = lo; i < hi; ++i) {
    const Entry& e = log_[i - head_index_ - 1];
    bytes += e.byte_size();
    if (i > lo && bytes > max_bytes) break;
    out->push_back(e);
  }
  return Status::Ok();
}

Status MemoryLogStore::load_hard_state(core::HardState* hard_state) const {
  std::lock_guard lock(mu_);
  *hard_state = hard_state_;
  return Status::Ok();
}

Status MemoryLogStore::load_snapshot(SnapshotMeta* meta) const {
  std::lock_guard lock(mu_);
  if (!snapshot_) return Status::NotFound("no snapshot saved");
  *meta = *snapshot_;
  return Status::Ok();
}

Status MemoryLogStore::check_writable_locked(const std::string& what) {
  if (!failed_.ok()) return failed_;
  if (injected_) {
    failed_ = Status::IOError(what + ": " + *injected_);
    injected_.reset();
    return failed_;
  }
  return Status::Ok();
}

Status MemoryLogStore::append(const std::optional<core::HardState>& hard_state,
                              std::span<const Entry> entries, bool /*sync: memory is as
                                                                     durable as it gets*/) {
  std::lock_guard lock(mu_);
  if (!failed_.ok()) return failed_;
  if (!entries.empty()) {
    LogBounds b{head_index_, head_term_, head_index_ + log_.size(),
                log_.empty() ? head_term_ : log_.back().term, 0};
    Status s = CheckAppend(b, entries, [this](LogIndex i, Term* t) {
      *t = term_locked(i);
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  if (!hard_state && entries.empty()) return Status::Ok();
  const LogIndex at = entries.empty() ? head_index_ + log_.size() + 1 : entries.front().index;
  Status s = check_writable_locked("append at " + std::to_string(at));
  if (!s.ok()) return s;
  if (hard_state) hard_state_ = *hard_state;
  if (!entries.empty()) {
    log_.resize(entries.front().index - head_index_ - 1);
    log_.insert(log_.end(), entries.begin(), entries.end());
  }
  return Status::Ok();
}

Status MemoryLogStore::snapshot(core::SnapshotHead* out) const {
  std::lock_guard lock(mu_);
  if (!snapshot_) return Status::NotFound("no snapshot saved");
  *out = snapshot_->head();
  return Status::Ok();
}

Status MemoryLogStore::snapshot_data(const core::SnapshotHead& snap, uint64_t offset, size_t max,
                                     std::string* out) const {
  std::lock_guard lock(mu_);
  if (!snapshot_ || snapshot_->head() != snap) {
    return Status::NotFound("snapshot " + std::to_string(snap.index) + " is not the store's");
  }
  out->clear();
  if (offset < snapshot_data_.size()) out->assign(snapshot_data_, offset, max);
  return Status::Ok();
}

Status MemoryLogStore::write_snapshot(const core::SnapshotHead& head, uint64_t offset,
                                      std::string_view data) {
  std::lock_guard lock(mu_);
  if (!failed_.ok()) return failed_;
  if (writing_ != head) {
    writing_ = head;
    writing_data_.clear();
  }
  size_t skip = 0;
  Status s = CheckSnapshotPiece(head.size, writing_data_.size(), offset, data.size(), &skip);
  if (!s.ok()) return s;
  s = check_writable_locked("write snapshot " + std::to_string(head.index));
  if (!s.ok()) return s;
  writing_data_.append(data.substr(skip));
  return Status::Ok();
}

Status MemoryLogStore::finish_snapshot(const core::SnapshotHead& head, bool replace_log) {
  std::lock_guard lock(mu_);
  if (!failed_.ok()) return failed_;
  const std::string where = "snapshot " + std::to_string(head.index) + ": ";
  if (writing_ != head) return Status::InvalidInput(where + "no data was written for it");
  if (writing_data_.size() != head.size ||
      Crc32c(writing_data_.data(), writing_data_.size()) != head.crc) {
    writing_.reset();
    writing_data_.clear();
    return Status::Corruption(where + "its data does not match its size and CRC");
  }
  const SnapshotMeta meta = SnapshotMeta::Of(head);
  LogBounds b{head_index_, head_term_, head_index_ + log_.size(),
              log_.empty() ? head_term_ : log_.back().term, snapshot_ ? snapshot_->last_index : 0};
  bool keep_log = false;
  Status s = CheckSnapshot(
      b, meta,
      [this](LogIndex i, Term* t) {
        *t = term_locked(i);
        return Status::Ok();
      },
      replace_log, &keep_log);
  if (!s.ok()) return s;
  s = check_writable_locked("save snapshot at " + std::to_string(meta.last_index));
  if (!s.ok()) return s;
  snapshot_ = meta;
  snapshot_data_ = std::move(writing_data_);
  writing_.reset();
  writing_data_.clear();
  if (!keep_log) {
    log_.clear();
    head_index_ = meta.last_index;
    head_term_ = meta.last_term;
  }
  return Status::Ok();
}

Status MemoryLogStore::compact(LogIndex new_head) {
  std::lock_guard lock(mu_);
  if (!failed_.ok()) return failed_;
  LogBounds b{head_index_, head_term_, head_index_ + log_.size(), 0,
              snapshot_ ? snapshot_->last_index : 0};
  Status s = CheckCompact(b, new_head);
  if (!s.ok() || new_head == head_index_) return s;
  s = check_writable_locked("compact to " + std::to_string(new_head));
  if (!s.ok()) return s;
  head_term_ = term_locked(new_head);
  log_.erase(log_.begin(), log_.begin() + static_cast<ptrdiff_t>(new_head - head_index_));
  head_index_ = new_head;
  return Status::Ok();
}

Status MemoryLogStore::status() const {
  std::lock_guard lock(mu_);
  return failed_;
}

void MemoryLogStore::inject_write_error(std::string message) {
  std::lock_guard lock(mu_);
  injected_ = std::move(message);
}

}  // namespace raftlog::storage
