// LogView: one node's log as its runtime has been told it (every
// Ready::entries applied as soon as the Ready is taken, durable or not), with
// a running hash of every prefix so two logs' prefixes compare in O(1).
//
// A log may be compacted: entries up to its head are covered by a snapshot
// and gone; the view keeps only the head's index, term and prefix hash (the
// hash of the entries the snapshot covers, which the checker has verified
// to be the committed prefix). Entries exist in (head_index, last_index].
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
// The same, from the entry's EntryHash.
uint64_t ChainHashOf(uint64_t previous, uint64_t entry_hash);

class LogView {
 public:
  // The last index covered by a snapshot (0: never compacted), and its term.
  core::LogIndex head_index() const { return head_index_; }
  core::Term head_term() const { return head_term_; }
  core::LogIndex last_index() const { return head_index_ + entries_.size(); }
  // nullptr outside (head_index(), last_index()].
  const core::Entry* at(core::LogIndex index) const {
    return index > head_index_ && index <= last_index() ? &entries_[index - head_index_ - 1]
                                                        : nullptr;
  }
  // The head's term at the head; 0 outside [head_index(), last_index()].
  core::Term term_at(core::LogIndex index) const {
    if (index == head_index_) return head_term_;
    const core::Entry* e = at(index);
    return e ? e->term : 0;
  }
  // The hash of entries [1, index]; 0 for index 0. Requires head_index() <=
  // index <= last_index().
  uint64_t prefix_hash(core::LogIndex index) const {
    return index == head_index_ ? head_hash_ : chain_[index - head_index_ - 1];
  }
  // The entries after the head.
  const std::vector<core::Entry>& entries() const { return entries_; }
  // The last configuration entry after the head (nullptr: none), and the
  // last one before index (nullptr: none after the head).
  const core::Entry* latest_config() const {
    return configs_.empty() ? nullptr : at(configs_.back());
  }
  const core::Entry* config_before(core::LogIndex index) const;

  // Deletes everything from entries.front().index on, then appends entries.
  // InvalidInput if they are not contiguous and ascending, would leave a gap
  // or start at or below the head.
  Status append(const std::vector<core::Entry>& entries);
  // Replaces the whole log with one that was never compacted (after a
  // crash: the log is what reached the disk).
  void assign(const std::vector<core::Entry>& entries);
  // Replaces the whole log with a compacted one: a snapshot through
  // head_index (of head_term, whose entries hash to head_hash), then entries.
  void reset(core::LogIndex head_index, core::Term head_term, uint64_t head_hash,
             const std::vector<core::Entry>& entries);
  // Deletes everything after index `last` (not below the head).
  void truncate(core::LogIndex last);
  // Drops the entries through index, which becomes the head. Requires
  // head_index() <= index <= last_index().
  void compact(core::LogIndex index);

 private:
  core::LogIndex head_index_ = 0;
  core::Term head_term_ = 0;
  uint64_t head_hash_ = 0;
  std::vector<core::Entry> entries_;     // head_index_ + 1, ...
  std::vector<uint64_t> chain_;          // prefix hashes of entries_
  std::vector<core::LogIndex> configs_;  // the kConfig entries' indexes, ascending
};

// The first index at which a and b differ (an entry differs or one ends), or
// 0 if they hold the same entries, compacted or not. At or below the
// higher head only the prefix hash there tells: if it differs, the logs
// differ from just after the lower head on.
core::LogIndex FirstDifference(const LogView& a, const LogView& b);

}  // namespace raftlog::sim
