#include "sim_storage.h"

#include <algorithm>
#include <cstddef>

#include "storage/crc32c.h"
#include "trace.h"

namespace raftlog::sim {
namespace {

// The checker's own test (tests/sim/CMakeLists.txt): a store that takes a
// received snapshot without checking its CRC32C.
#ifdef RAFTLOG_SIM_BUG_INSTALL_WITHOUT_CRC
constexpr bool kBugInstallWithoutCrc = true;
#else
constexpr bool kBugInstallWithoutCrc = false;
#endif

}  // namespace

void SimStorage::write(const std::optional<core::HardState>& hard_state,
                       const std::vector<core::Entry>& entries, bool synced) {
  if (hard_state) hard_state_ = *hard_state;
  if (!entries.empty()) {
    log_.resize(entries.front().index - snapshot_.index - 1);
    log_.insert(log_.end(), entries.begin(), entries.end());
  }
  if (synced) synced_hard_state_ = hard_state_;
}

void SimStorage::crash(bool lose_unsynced) {
  if (lose_unsynced) hard_state_ = synced_hard_state_;
  receiving_.reset();
  received_.clear();
  receive_broken_ = false;
}

void SimStorage::compact(const core::SnapshotHead& head, std::string state) {
  const size_t drop = std::min<size_t>(head.index - snapshot_.index, log_.size());
  log_.erase(log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(drop));
  snapshot_ = head;
  snapshot_data_ = std::move(state);
}

SimStorage::Received SimStorage::receive(const core::SnapshotChunk& chunk) {
  if (chunk.offset == 0) {
    receiving_ = chunk.snapshot;
    received_.clear();
    receive_broken_ = false;
  }
  // The core hands chunks out in order within one life, and a crash starts
  // the transfer over; anything else is written off as a failed transfer.
  if (!receiving_ || *receiving_ != chunk.snapshot || chunk.offset != received_.size()) {
    receive_broken_ = true;
  } else {
    received_ += chunk.data;
  }
  if (!chunk.done) return Received::kMore;
  const bool good = !receive_broken_ && received_.size() == chunk.snapshot.size &&
                    (kBugInstallWithoutCrc ||
                     storage::Crc32c(received_.data(), received_.size()) == chunk.snapshot.crc);
  std::string data = std::move(received_);
  receiving_.reset();
  received_.clear();
  receive_broken_ = false;
  if (!good) return Received::kFailed;
  snapshot_ = chunk.snapshot;
  snapshot_data_ = std::move(data);
  log_.clear();
  return Received::kInstalled;
}

Status SimStorage::term(core::LogIndex index, core::Term* term) const {
  if (index == snapshot_.index) {
    *term = snapshot_.term;
    return Status::Ok();
  }
  if (index < snapshot_.index || index > last_index()) {
    return Status::NotFound(
        Cat("term of ", index, ": the durable log is [", snapshot_.index, ", ", last_index(), "]"));
  }
  *term = log_[index - snapshot_.index - 1].term;
  return Status::Ok();
}

Status SimStorage::entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                           std::vector<core::Entry>* out) const {
  if (lo <= snapshot_.index || lo > hi || hi > last_index() + 1) {
    return Status::NotFound(Cat("entries [", lo, ", ", hi, "): the durable log is (",
                                snapshot_.index, ", ", last_index(), "]"));
  }
  size_t bytes = 0;
  for (core::LogIndex i = lo; i < hi; ++i) {
    const core::Entry& e = log_[i - snapshot_.index - 1];
    bytes += e.byte_size();
    if (i > lo && bytes > max_bytes) break;
    out->push_back(e);
  }
  return Status::Ok();
}

Status SimStorage::snapshot(core::SnapshotHead* out) const {
  if (snapshot_.index == 0) return Status::NotFound("no snapshot");
  *out = snapshot_;
  return Status::Ok();
}

Status SimStorage::snapshot_data(const core::SnapshotHead& snap, uint64_t offset, size_t max,
                                 std::string* out) const {
  if (snapshot_.index == 0 || snap != snapshot_) {
    return Status::NotFound(Cat("snapshot ", snap.index, "/", snap.term, " is not the store's (",
                                snapshot_.index, "/", snapshot_.term, ")"));
  }
  *out = snapshot_data_.substr(std::min<uint64_t>(offset, snapshot_data_.size()), max);
  return Status::Ok();
}

}  // namespace raftlog::sim
