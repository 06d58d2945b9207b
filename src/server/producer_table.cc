#include "server/producer_table.h"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <utility>

#include "raftlog/wire/event_ops.h"
#include "wire/msgpack_reader.h"
#include "wire/msgpack_util.h"

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

// --- Snapshots ----------------------------------------------------------------
//
// [version, window, expiry_ms, next_scan_ms, expired,
//  [[name, max_seq, last_ms, floor, [slot...]]...],  producers by name
//  [[name, at_ms, max_seq]...]]                       forgotten, by name
// A slot is three uints: its seq as a gap from the one before (the first:
// the seq itself), then its index and term as zigzagged differences from
// the slot before (the first: from 0). A producer's slots are ascending
// seqs a window wide, so a run of pushes costs a few bytes a slot.

namespace {

using wire::detail::Packer;
using wire::detail::Reader;
using wire::detail::StringSink;

constexpr const char* kWhat = "producer table snapshot";
constexpr uint32_t kFields = 7;
constexpr uint32_t kProducerFields = 5;
constexpr uint32_t kForgottenFields = 3;
// The fewest bytes a producer and a forgotten name are encoded in (an
// array header, a name of one byte, the numbers), to bound the counts the
// bytes claim before anything is allocated for them.
constexpr size_t kMinProducerBytes = 1 + 2 + 3 + 1;
constexpr size_t kMinForgottenBytes = 1 + 2 + 2;

// A difference taken modulo 2^64, small whichever way it goes, as a small uint.
uint64_t ZigZag(uint64_t diff) {
  return diff << 1 ^ (uint64_t{0} - (diff >> 63));
}
uint64_t UnZigZag(uint64_t z) {
  return z >> 1 ^ (uint64_t{0} - (z & 1));
}

void PackStr(Packer& pk, std::string_view v) {
  pk.pack_str(static_cast<uint32_t>(v.size()));
  pk.pack_str_body(v.data(), static_cast<uint32_t>(v.size()));
}

Status Bad(const std::string& why) {
  return Status::Corruption(std::string(kWhat) + ": " + why);
}

// The pointers to a map's entries, by name.
template <typename Map>
std::vector<const typename Map::value_type*> ByName(const Map& map) {
  std::vector<const typename Map::value_type*> sorted;
  sorted.reserve(map.size());
  for (const auto& kv : map) sorted.push_back(&kv);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  return sorted;
}

// A producer's name: a str of 1 to wire::kMaxProducerBytes bytes, after
// `prev` (the name before, empty for the first).
Status ReadName(Reader& r, std::string_view prev, std::string_view* name, const char* list,
                size_t i) {
  if (!r.str(name, wire::kMaxProducerBytes)) {
    return Bad(std::string(list) + " " + std::to_string(i) + ": name: " + r.error());
  }
  if (name->empty()) return Bad(std::string(list) + " " + std::to_string(i) + ": empty name");
  if (i > 0 && *name <= prev) {
    return Bad(std::string(list) + " " + std::to_string(i) + ": '" + std::string(*name) +
               "' is not after '" + std::string(prev) + "' (names go in order, each once)");
  }
  return Status::Ok();
}

}  // namespace

void ProducerTable::encode(std::string* out) const {
  StringSink sink(out);
  Packer pk(sink);
  pk.pack_array(kFields);
  pk.pack_uint64(kSnapshotVersion);
  pk.pack_uint64(window_);
  pk.pack_uint64(expiry_ms_);
  pk.pack_uint64(next_scan_ms_);
  pk.pack_uint64(expired_);
  const auto producers = ByName(producers_);
  pk.pack_array(static_cast<uint32_t>(producers.size()));
  for (const auto* kv : producers) {
    const Producer& p = kv->second;
    pk.pack_array(kProducerFields);
    PackStr(pk, kv->first);
    pk.pack_uint64(p.max_seq);
    pk.pack_uint64(p.last_ms);
    pk.pack_uint64(p.floor);
    pk.pack_array(static_cast<uint32_t>(3 * (p.slots.size() - p.first)));
    Slot prev{0, 0, 0};
    for (size_t i = p.first; i < p.slots.size(); ++i) {
      const Slot& s = p.slots[i];
      pk.pack_uint64(i == p.first ? s.seq : s.seq - prev.seq - 1);
      pk.pack_uint64(ZigZag(s.index - prev.index));
      pk.pack_uint64(ZigZag(s.term - prev.term));
      prev = s;
    }
  }
  const auto forgotten = ByName(forgotten_);
  pk.pack_array(static_cast<uint32_t>(forgotten.size()));
  for (const auto* kv : forgotten) {
    pk.pack_array(kForgottenFields);
    PackStr(pk, kv->first);
    pk.pack_uint64(kv->second.at_ms);
    pk.pack_uint64(kv->second.max_seq);
  }
}

Status ProducerTable::Decode(std::string_view bytes, uint64_t window, uint64_t expiry_ms,
                             ProducerTable* out) {
  Reader r(bytes.data(), bytes.size());
  uint32_t fields = 0;
  uint64_t version = 0;
  if (!r.array(&fields) || fields == 0 || !r.uint(&version)) {
    return Bad(r.ok() ? "an empty array" : r.error());
  }
  if (version != kSnapshotVersion) {
    return Status::NotSupported(std::string(kWhat) + ": version " + std::to_string(version) +
                                " (this build reads version " + std::to_string(kSnapshotVersion) +
                                ")");
  }
  if (fields != kFields) {
    return Bad("version 1 has " + std::to_string(kFields) + " elements, not " +
               std::to_string(fields));
  }
  uint64_t their_window = 0;
  uint64_t their_expiry_ms = 0;
  ProducerTable t(window, expiry_ms);
  if (!r.uint(&their_window) || !r.uint(&their_expiry_ms) || !r.uint(&t.next_scan_ms_) ||
      !r.uint(&t.expired_)) {
    return Bad(r.error());
  }
  if (their_window != window) {
    return Status::InvalidInput(std::string(kWhat) + " was taken with producer-window " +
                                std::to_string(their_window) + ", this node runs with " +
                                std::to_string(window) +
                                ": every node must use the same window (it decides which "
                                "entries are repeats)");
  }
  if (their_expiry_ms != expiry_ms) {
    return Status::InvalidInput(std::string(kWhat) + " was taken with a producer expiry of " +
                                std::to_string(their_expiry_ms) + " ms, this node runs with " +
                                std::to_string(expiry_ms) +
                                " ms: every node must use the same (it decides when producers "
                                "are forgotten)");
  }

  uint32_t count = 0;
  if (!r.array(&count, r.remaining() / kMinProducerBytes)) return Bad("producers: " + r.error());
  t.producers_.reserve(count);
  std::string_view prev_name;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string where = "producer " + std::to_string(i);
    uint32_t n = 0;
    if (!r.array(&n) || n != kProducerFields) {
      return Bad(where + ": " + (r.ok() ? std::to_string(n) + " elements, not 5" : r.error()));
    }
    std::string_view name;
    if (Status s = ReadName(r, prev_name, &name, "producer", i); !s.ok()) return s;
    prev_name = name;
    Producer p;
    uint32_t numbers = 0;
    // At most a window of live slots: the bound holds before reserve().
    const uint64_t most = 3 * std::min<uint64_t>(window, r.remaining() / 3);
    if (!r.uint(&p.max_seq) || !r.uint(&p.last_ms) || !r.uint(&p.floor) ||
        !r.array(&numbers, most)) {
      return Bad(where + " ('" + std::string(name) + "'): " + r.error());
    }
    if (numbers % 3 != 0) {
      return Bad(where + " ('" + std::string(name) + "'): " + std::to_string(numbers) +
                 " slot numbers, not three a slot");
    }
    p.slots.reserve(numbers / 3);
    Slot prev{0, 0, 0};
    for (uint32_t k = 0; k < numbers / 3; ++k) {
      uint64_t seq = 0;
      uint64_t index = 0;
      uint64_t term = 0;
      if (!r.uint(&seq) || !r.uint(&index) || !r.uint(&term)) {
        return Bad(where + " ('" + std::string(name) + "'): slot " + std::to_string(k) + ": " +
                   r.error());
      }
      if (k > 0) {
        if (seq >= UINT64_MAX - prev.seq) {
          return Bad(where + " ('" + std::string(name) + "'): slot " + std::to_string(k) +
                     ": its seq is past 2^64");
        }
        seq += prev.seq + 1;
      }
      const Slot s{seq, prev.index + UnZigZag(index), prev.term + UnZigZag(term)};
      if (s.seq > p.max_seq || t.below_window(s.seq, p.max_seq)) {
        return Bad(where + " ('" + std::string(name) + "'): slot " + std::to_string(k) + ": seq " +
                   std::to_string(s.seq) + " is outside its window (highest seq " +
                   std::to_string(p.max_seq) + ", window " + std::to_string(window) + ")");
      }
      p.slots.push_back(s);
      prev = s;
    }
    t.slots_ += p.slots.size();
    t.producers_.emplace(std::string(name), std::move(p));
  }

  if (!r.array(&count, r.remaining() / kMinForgottenBytes)) return Bad("forgotten: " + r.error());
  t.forgotten_.reserve(count);
  prev_name = {};
  for (uint32_t i = 0; i < count; ++i) {
    const std::string where = "forgotten producer " + std::to_string(i);
    uint32_t n = 0;
    if (!r.array(&n) || n != kForgottenFields) {
      return Bad(where + ": " + (r.ok() ? std::to_string(n) + " elements, not 3" : r.error()));
    }
    std::string_view name;
    if (Status s = ReadName(r, prev_name, &name, "forgotten producer", i); !s.ok()) return s;
    prev_name = name;
    Forgotten f{};
    if (!r.uint(&f.at_ms) || !r.uint(&f.max_seq)) {
      return Bad(where + " ('" + std::string(name) + "'): " + r.error());
    }
    if (t.producers_.count(name) > 0) {
      return Bad(where + ": '" + std::string(name) + "' is also a live producer");
    }
    t.forgotten_.emplace(std::string(name), f);
  }
  if (!r.at_end()) {
    return Bad(r.ok() ? std::to_string(r.remaining()) + " bytes after the table" : r.error());
  }
  *out = std::move(t);
  return Status::Ok();
}

}  // namespace raftlog::server
