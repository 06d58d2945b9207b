// LogView: one node's log as its runtime has been told it (every
// Ready::entries applied as soon as the Ready is taken, durable or not), with
// a running hash of every prefix so two logs' prefixes compare in O(1).
#pragma once

#include <cstdint>
#include <vector>

#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog::sim {

// A hash of everything that makes an entry what it is (term, type, payload, config).
uint64_t EntryHash(const core::Entry& e);
// The prefix hash through an entry, given the prefix hash through the one before.
uint64_t ChainHash(uint64_t previous, const core::Entry& e);

class LogView {
 public:
  core::LogIndex last_index() const { return entries_.size(); }
  // nullptr outside [1, last_index()].
  const core::Entry* at(core::LogIndex index) const {
    return index >= 1 && index <= entries_.size() ? &entries_[index - 1] : nullptr;
  }
  // 0 outside [1, last_index()].
  core::Term term_at(core::LogIndex index) const {
    const core::Entry* e = at(index);
    return e ? e->term : 0;
  }
  // The hash of entries [1, index]; 0 for index 0. Requires index <= last_index().
  uint64_t prefix_hash(core::LogIndex index) const { return index == 0 ? 0 : chain_[index - 1]; }
  const std::vector<core::Entry>& entries() const { return entries_; }

  // Deletes everything from entries.front().index on, then appends entries.
  // InvalidInput if they are not contiguous and ascending or would leave a gap.
  Status append(const std::vector<core::Entry>& entries);
  // Replaces the whole log (after a crash: the log is what reached the disk).
  void assign(const std::vector<core::Entry>& entries);
  // Deletes everything after index `last`.
  void truncate(core::LogIndex last);

 private:
  std::vector<core::Entry> entries_;
  std::vector<uint64_t> chain_;
};

// The first index at which a and b differ (an entry differs or one ends), or
// 0 if they are identical.
core::LogIndex FirstDifference(const LogView& a, const LogView& b);

}  // namespace raftlog::sim
