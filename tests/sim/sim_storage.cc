#include "sim_storage.h"

#include "trace.h"

namespace raftlog::sim {

void SimStorage::write(const std::optional<core::HardState>& hard_state,
                       const std::vector<core::Entry>& entries, bool synced) {
  if (hard_state) hard_state_ = *hard_state;
  if (!entries.empty()) {
    log_.resize(entries.front().index - 1);
    log_.insert(log_.end(), entries.begin(), entries.end());
  }
  if (synced) synced_hard_state_ = hard_state_;
}

Status SimStorage::term(core::LogIndex index, core::Term* term) const {
  if (index == 0) {
    *term = 0;
    return Status::Ok();
  }
  if (index > log_.size()) {
    return Status::NotFound(Cat("term of ", index, ": the durable log ends at ", log_.size()));
  }
  *term = log_[index - 1].term;
  return Status::Ok();
}

Status SimStorage::entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                           std::vector<core::Entry>* out) const {
  if (lo == 0 || lo > hi || hi > log_.size() + 1) {
    return Status::NotFound(
        Cat("entries [", lo, ", ", hi, "): the durable log is [1, ", log_.size(), "]"));
  }
  size_t bytes = 0;
  for (core::LogIndex i = lo; i < hi; ++i) {
    const core::Entry& e = log_[i - 1];
    bytes += e.byte_size();
    if (i > lo && bytes > max_bytes) break;
    out->push_back(e);
  }
  return Status::Ok();
}

}  // namespace raftlog::sim
