#include "server/producer_table.h"

#include <algorithm>
#include <cstddef>

namespace raftlog::server {

ProducerTable::ProducerTable(uint64_t window) : window_(window) {}

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

bool ProducerTable::record(std::string_view producer, uint64_t seq, Where where) {
  auto it = producers_.find(producer);
  if (it == producers_.end()) it = producers_.emplace(std::string(producer), Producer()).first;
  Producer& p = it->second;
  if (below_window(seq, p.max_seq)) return false;
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

}  // namespace raftlog::server
