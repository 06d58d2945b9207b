#include "log_view.h"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string>

#include "trace.h"

namespace raftlog::sim {
namespace {

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

uint64_t HashBytes(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

uint64_t HashIds(uint64_t h, const std::vector<core::NodeId>& ids) {
  h = Mix(h, ids.size());
  for (core::NodeId id : ids) h = Mix(h, id);
  return h;
}

}  // namespace

uint64_t EntryHash(const core::Entry& e) {
  uint64_t h = Mix(e.index, e.term);
  h = Mix(h, static_cast<uint64_t>(e.type));
  h = Mix(h, HashBytes(e.data));
  h = HashIds(h, e.config.voters);
  h = HashIds(h, e.config.voters_outgoing);
  return HashIds(h, e.config.learners);
}

uint64_t ChainHash(uint64_t previous, const core::Entry& e) {
  return Mix(previous, EntryHash(e));
}

uint64_t ChainHashOf(uint64_t previous, uint64_t entry_hash) {
  return Mix(previous, entry_hash);
}

Status LogView::append(const std::vector<core::Entry>& entries) {
  if (entries.empty()) return Status::Ok();
  const core::LogIndex first = entries.front().index;
  if (first <= head_index_ || first > last_index() + 1) {
    return Status::InvalidInput(
        Cat("entries start at ", first, " but the log is (", head_index_, ", ", last_index(), "]"));
  }
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].index != first + i) {
      return Status::InvalidInput(
          Cat("entries not contiguous: ", entries[i - 1].index, " then ", entries[i].index));
    }
  }
  entries_.resize(first - head_index_ - 1);
  chain_.resize(first - head_index_ - 1);
  while (!configs_.empty() && configs_.back() >= first) configs_.pop_back();
  for (const core::Entry& e : entries) {
    chain_.push_back(ChainHash(prefix_hash(last_index()), e));
    entries_.push_back(e);
    if (e.type == core::EntryType::kConfig) configs_.push_back(e.index);
  }
  return Status::Ok();
}

void LogView::assign(const std::vector<core::Entry>& entries) {
  reset(0, 0, 0, entries);
}

void LogView::reset(core::LogIndex head_index, core::Term head_term, uint64_t head_hash,
                    const std::vector<core::Entry>& entries) {
  head_index_ = head_index;
  head_term_ = head_term;
  head_hash_ = head_hash;
  entries_.clear();
  chain_.clear();
  configs_.clear();
  for (const core::Entry& e : entries) {
    chain_.push_back(ChainHash(prefix_hash(last_index()), e));
    entries_.push_back(e);
    if (e.type == core::EntryType::kConfig) configs_.push_back(e.index);
  }
}

const core::Entry* LogView::config_before(core::LogIndex index) const {
  auto it = std::lower_bound(configs_.begin(), configs_.end(), index);
  return it == configs_.begin() ? nullptr : at(*std::prev(it));
}

void LogView::truncate(core::LogIndex last) {
  if (last >= last_index()) return;
  last = std::max(last, head_index_);
  entries_.resize(last - head_index_);
  chain_.resize(last - head_index_);
  while (!configs_.empty() && configs_.back() > last) configs_.pop_back();
}

void LogView::compact(core::LogIndex index) {
  if (index <= head_index_ || index > last_index()) return;
  head_term_ = term_at(index);
  head_hash_ = prefix_hash(index);
  const size_t drop = index - head_index_;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  chain_.erase(chain_.begin(), chain_.begin() + static_cast<std::ptrdiff_t>(drop));
  head_index_ = index;
  std::erase_if(configs_, [&](core::LogIndex i) { return i <= index; });
}

core::LogIndex FirstDifference(const LogView& a, const LogView& b) {
  const core::LogIndex common = std::min(a.last_index(), b.last_index());
  // Below the higher head only the prefix hash there tells.
  const core::LogIndex head = std::max(a.head_index(), b.head_index());
  if (a.head_index() != b.head_index()) {
    if (head > common || a.term_at(head) != b.term_at(head) ||
        a.prefix_hash(head) != b.prefix_hash(head)) {
      return std::min(a.head_index(), b.head_index()) + 1;
    }
  } else if (a.head_term() != b.head_term() || a.prefix_hash(head) != b.prefix_hash(head)) {
    return std::max<core::LogIndex>(head, 1);
  }
  for (core::LogIndex i = head + 1; i <= common; ++i) {
    if (!(*a.at(i) == *b.at(i))) return i;
  }
  return a.last_index() == b.last_index() ? 0 : common + 1;
}

}  // namespace raftlog::sim
