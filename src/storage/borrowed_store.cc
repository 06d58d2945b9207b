// Borrow(), and what every LogStore shares (save_snapshot).
#include "raftlog/storage/log_store.h"
#include "storage/crc32c.h"

namespace raftlog::storage {
namespace {

class BorrowedStore final : public LogStore {
 public:
  explicit BorrowedStore(LogStore* store) : s_(store) {}
  core::LogIndex head_index() const override { return s_->head_index(); }
  core::Term head_term() const override { return s_->head_term(); }
  core::LogIndex last_index() const override { return s_->last_index(); }
  Status term(core::LogIndex index, core::Term* term) const override {
    return s_->term(index, term);
  }
  Status entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                 std::vector<core::Entry>* out) const override {
    return s_->entries(lo, hi, max_bytes, out);
  }
  Status load_hard_state(core::HardState* hs) const override { return s_->load_hard_state(hs); }
  Status load_snapshot(SnapshotMeta* meta) const override { return s_->load_snapshot(meta); }
  Status append(const std::optional<core::HardState>& hs, std::span<const core::Entry> entries,
                bool sync) override {
    return s_->append(hs, entries, sync);
  }
  Status snapshot(core::SnapshotHead* out) const override { return s_->snapshot(out); }
  Status snapshot_data(const core::SnapshotHead& snap, uint64_t offset, size_t max,
                       std::string* out) const override {
    return s_->snapshot_data(snap, offset, max, out);
  }
  Status write_snapshot(const core::SnapshotHead& head, uint64_t offset,
                        std::string_view data) override {
    return s_->write_snapshot(head, offset, data);
  }
  Status finish_snapshot(const core::SnapshotHead& head, bool replace_log) override {
    return s_->finish_snapshot(head, replace_log);
  }
  Status compact(core::LogIndex new_head) override { return s_->compact(new_head); }
  Status status() const override { return s_->status(); }

 private:
  LogStore* s_;
};

}  // namespace

Status LogStore::save_snapshot(const SnapshotMeta& meta, std::string_view data, bool replace_log) {
  core::SnapshotHead head = meta.head();
  head.size = data.size();
  head.crc = Crc32c(data.data(), data.size());
  Status s = write_snapshot(head, 0, data);
  if (!s.ok()) return s;
  return finish_snapshot(head, replace_log);
}

std::unique_ptr<LogStore> Borrow(LogStore* store) {
  return std::make_unique<BorrowedStore>(store);
}

}  // namespace raftlog::storage
