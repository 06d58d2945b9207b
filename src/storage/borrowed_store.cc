// ForwardingLogStore, Borrow(), and what every LogStore shares (save_snapshot).
#include "raftlog/storage/log_store.h"
#include "storage/crc32c.h"

namespace raftlog::storage {
core::LogIndex ForwardingLogStore::head_index() const {
  return target_->head_index();
}
core::Term ForwardingLogStore::head_term() const {
  return target_->head_term();
}
core::LogIndex ForwardingLogStore::last_index() const {
  return target_->last_index();
}
Status ForwardingLogStore::term(core::LogIndex index, core::Term* term) const {
  return target_->term(index, term);
}
Status ForwardingLogStore::entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                                   std::vector<core::Entry>* out) const {
  return target_->entries(lo, hi, max_bytes, out);
}
Status ForwardingLogStore::config_entries(std::vector<core::Entry>* out) const {
  return target_->config_entries(out);
}
Status ForwardingLogStore::snapshot(core::SnapshotHead* out) const {
  return target_->snapshot(out);
}
Status ForwardingLogStore::snapshot_data(const core::SnapshotHead& snap, uint64_t offset,
                                         size_t max, std::string* out) const {
  return target_->snapshot_data(snap, offset, max, out);
}
Status ForwardingLogStore::load_hard_state(core::HardState* hs) const {
  return target_->load_hard_state(hs);
}
Status ForwardingLogStore::load_snapshot(SnapshotMeta* meta) const {
  return target_->load_snapshot(meta);
}
Status ForwardingLogStore::append(const std::optional<core::HardState>& hs,
                                  std::span<const core::Entry> entries, bool sync) {
  return target_->append(hs, entries, sync);
}
Status ForwardingLogStore::write_snapshot(const core::SnapshotHead& head, uint64_t offset,
                                          std::string_view data) {
  return target_->write_snapshot(head, offset, data);
}
Status ForwardingLogStore::finish_snapshot(const core::SnapshotHead& head, bool replace_log) {
  return target_->finish_snapshot(head, replace_log);
}
Status ForwardingLogStore::compact(core::LogIndex new_head) {
  return target_->compact(new_head);
}
Status ForwardingLogStore::status() const {
  return target_->status();
}

Status LogStore::save_snapshot(const SnapshotMeta& meta, std::string_view data, bool replace_log) {
  core::SnapshotHead head = meta.head();
  head.size = data.size();
  head.crc = Crc32c(data.data(), data.size());
  Status s = write_snapshot(head, 0, data);
  if (!s.ok()) return s;
  return finish_snapshot(head, replace_log);
}

std::unique_ptr<LogStore> Borrow(LogStore* store) {
  return std::make_unique<ForwardingLogStore>(store);
}

}  // namespace raftlog::storage
