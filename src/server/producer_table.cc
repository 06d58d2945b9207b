#include "server/producer_table.h"

#include "raftlog/wire/event_ops.h"

namespace raftlog::server {

namespace {
bool BelowWindow(uint64_t seq, uint64_t max_seq) {
  return max_seq > wire::kProducerWindow && seq <= max_seq - wire::kProducerWindow;
}
}  // namespace

ProducerTable::Found ProducerTable::find(std::string_view producer, uint64_t seq,
                                         Where* where) const {
  auto p = producers_.find(producer);
  if (p == producers_.end()) return Found::kNew;
  if (BelowWindow(seq, p->second.max_seq)) return Found::kTooOld;
  auto s = p->second.recent.find(seq);
  if (s == p->second.recent.end()) return Found::kNew;
  *where = s->second;
  return Found::kSeen;
}

bool ProducerTable::record(std::string_view producer, uint64_t seq, Where where) {
  auto it = producers_.find(producer);
  if (it == producers_.end()) it = producers_.emplace(std::string(producer), Producer()).first;
  Producer& p = it->second;
  if (BelowWindow(seq, p.max_seq) || !p.recent.emplace(seq, where).second) return false;
  if (seq > p.max_seq) {
    p.max_seq = seq;
    while (!p.recent.empty() && BelowWindow(p.recent.begin()->first, p.max_seq)) {
      p.recent.erase(p.recent.begin());
    }
  }
  return true;
}

}  // namespace raftlog::server
