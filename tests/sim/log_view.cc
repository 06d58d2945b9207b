#include "log_view.h"

#include <algorithm>
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

Status LogView::append(const std::vector<core::Entry>& entries) {
  if (entries.empty()) return Status::Ok();
  const core::LogIndex first = entries.front().index;
  if (first == 0 || first > last_index() + 1) {
    return Status::InvalidInput(
        Cat("entries start at ", first, " but the log ends at ", last_index()));
  }
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].index != first + i) {
      return Status::InvalidInput(
          Cat("entries not contiguous: ", entries[i - 1].index, " then ", entries[i].index));
    }
  }
  entries_.resize(first - 1);
  chain_.resize(first - 1);
  for (const core::Entry& e : entries) {
    chain_.push_back(ChainHash(prefix_hash(entries_.size()), e));
    entries_.push_back(e);
  }
  return Status::Ok();
}

void LogView::assign(const std::vector<core::Entry>& entries) {
  entries_.clear();
  chain_.clear();
  for (const core::Entry& e : entries) {
    chain_.push_back(ChainHash(prefix_hash(entries_.size()), e));
    entries_.push_back(e);
  }
}

void LogView::truncate(core::LogIndex last) {
  if (last >= entries_.size()) return;
  entries_.resize(last);
  chain_.resize(last);
}

core::LogIndex FirstDifference(const LogView& a, const LogView& b) {
  const core::LogIndex common = std::min(a.last_index(), b.last_index());
  for (core::LogIndex i = 1; i <= common; ++i) {
    if (!(*a.at(i) == *b.at(i))) return i;
  }
  return a.last_index() == b.last_index() ? 0 : common + 1;
}

}  // namespace raftlog::sim
