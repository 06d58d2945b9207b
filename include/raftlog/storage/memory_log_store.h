// MemoryLogStore: a LogStore held in memory, for the simulator and unit
// tests. Same rules as every LogStore (log_store.h); "durable" means "in
// this object", so a simulated restart keeps the object and builds a new
// core on it. Safe for concurrent use like any LogStore.
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "raftlog/storage/log_store.h"

namespace raftlog::storage {

class MemoryLogStore final : public LogStore {
 public:
  MemoryLogStore() = default;
  MemoryLogStore(const MemoryLogStore&) = delete;
  MemoryLogStore& operator=(const MemoryLogStore&) = delete;

  core::LogIndex head_index() const override;
  core::Term head_term() const override;
  core::LogIndex last_index() const override;
  Status term(core::LogIndex index, core::Term* term) const override;
  Status entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                 std::vector<core::Entry>* out) const override;

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

  // Fault injection: the next write fails with IOError("<write>: " + message)
  // and, like a real disk failure, fails the store for good.
  void inject_write_error(std::string message);

 private:
  core::Term term_locked(core::LogIndex index) const;  // requires head <= index <= last
  // Ok, or the sticky failure (an injected one starting now) for write `what`.
  Status check_writable_locked(const std::string& what);

  mutable std::mutex mu_;
  core::HardState hard_state_;
  std::optional<SnapshotMeta> snapshot_;
  std::string snapshot_data_;
  // The snapshot being written (write_snapshot) and its data so far. Kept
  // in the object like everything else here; a runtime that restarts
  // begins the transfer again at offset 0, whose pieces are then repeats.
  std::optional<core::SnapshotHead> writing_;
  std::string writing_data_;
  core::LogIndex head_index_ = 0;
  core::Term head_term_ = 0;
  std::deque<core::Entry> log_;  // head_index_+1 .. head_index_+log_.size()
  Status failed_;
  std::optional<std::string> injected_;
};

}  // namespace raftlog::storage
