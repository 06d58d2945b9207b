#include "server/producer_table.h"

#include <algorithm>
#include <cstddef>
#include <iterator>

namespace raftlog::server {

ProducerTable::ProducerTable(uint64_t window, uint64_t expiry_ms)
    : window_(window), expiry_ms_(expiry_ms) {}

std::vector<ProducerTable::Slot>::const_iterator ProducerTable::Producer::lower_bound(
    uint64_t seq) const {
  return std::lower_bound(slots.begin() + static_cast<std::ptrdiff_t>(first), slots.end(), seq,
                          [](const Slot& s, uint64_t q) { return s.seq < q; });
}

ProducerTable::Found ProducerTable::find(std::string_view producer, uint64_t seq,
                                         Where* where) const {
  auto it = producers_.find(producer);
  if (it == producers_.end()) return Found::kNew;
  const Producer& p = it->second;
  if (below_window(seq, p.max_seq)) return Found::kTooOld;
  auto s = p.lower_bound(seq);
  if (s == p.slots.end() || s->seq != seq) return Found::kNew;
  *where = Where{s->index, s->term};
  return Found::kSeen;
}

bool ProducerTable::record(std::string_view producer, uint64_t seq, Where where, uint64_t now_ms) {
  auto it = producers_.find(producer);
  if (it == producers_.end()) {
    it = producers_.emplace(std::string(producer), Producer()).first;
    if (auto f = forgotten_.find(producer); f != forgotten_.end()) {
      it->second.floor = f->second.max_seq;  // what it had before cannot be told
      forgotten_.erase(f);
    }
  }
  Producer& p = it->second;
  if (below_window(seq, p.max_seq)) return false;
  p.last_ms = std::max(p.last_ms, now_ms);
  const Slot slot{seq, where.index, where.term};
  if (seq > p.max_seq || p.slots.size() == p.first) {
    // The usual case: numbers arrive in order.
    p.slots.push_back(slot);
  } else {
    auto at = p.lower_bound(seq);
    if (at != p.slots.end() && at->seq == seq) return false;
    p.slots.insert(at, slot);
  }
  ++slots_;
  if (seq > p.max_seq) {
    p.max_seq = seq;
    while (p.first < p.slots.size() && below_window(p.slots[p.first].seq, p.max_seq)) ++p.first;
    // Drop the slid-out prefix in bulk once it is half of what is held, so
    // a producer never holds more than 2 * window slots.
    if (p.first > 0 && p.first * 2 >= p.slots.size()) {
      p.slots.erase(p.slots.begin(), p.slots.begin() + static_cast<std::ptrdiff_t>(p.first));
      slots_ -= p.first;
      p.first = 0;
      if (p.slots.capacity() > 2 * window_) p.slots.shrink_to_fit();
    }
  }
  return true;
}

bool ProducerTable::lost_outcome(std::string_view producer, uint64_t seq) const {
  auto it = producers_.find(producer);
  if (it == producers_.end()) {
    auto f = forgotten_.find(producer);
    return f != forgotten_.end() && seq <= f->second.max_seq;
  }
  return seq <= it->second.floor;
}

size_t ProducerTable::expire(uint64_t now_ms) {
  if (expiry_ms_ == 0 || now_ms < next_scan_ms_) return 0;
  next_scan_ms_ = now_ms + std::max<uint64_t>(expiry_ms_ / 16, 1);
  for (auto it = forgotten_.begin(); it != forgotten_.end();) {
    it = it->second.at_ms + kForgottenFor * expiry_ms_ < now_ms ? forgotten_.erase(it)
                                                                : std::next(it);
  }
  size_t count = 0;
  for (auto it = producers_.begin(); it != producers_.end();) {
    if (it->second.last_ms + expiry_ms_ < now_ms) {
      slots_ -= it->second.slots.size();
      forgotten_[it->first] = Forgotten{now_ms, std::max(it->second.max_seq, it->second.floor)};
      it = producers_.erase(it);
      ++count;
    } else {
      ++it;
    }
  }
  expired_ += count;
  return count;
}

}  // namespace raftlog::server
