// ProducerTable: the exactly-once state, derived from committed event
// records in log order (every node derives the same one). For each producer
// it remembers the sequence numbers of its last kProducerWindow numbers and
// where each landed, so a retried push can be answered with the original
// index. docs/protocol.md, "Op push".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "raftlog/core/types.h"

namespace raftlog::server {

class ProducerTable {
 public:
  enum class Found { kNew, kSeen, kTooOld };
  struct Where {
    core::LogIndex index = 0;
    core::Term term = 0;
  };

  // Has (producer, seq) been applied? kSeen fills *where; kTooOld means it
  // is below the window and cannot be told.
  Found find(std::string_view producer, uint64_t seq, Where* where) const;
  // Records an applied event. False (and no change) if (producer, seq) was
  // already recorded: the entry is a duplicate.
  bool record(std::string_view producer, uint64_t seq, Where where);

  size_t producers() const { return producers_.size(); }

 private:
  struct Producer {
    uint64_t max_seq = 0;
    std::map<uint64_t, Where> recent;  // seq -> where, within the window below max_seq
  };
  // Looked up by a view (of a frame or a record) without building a string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, Producer, Hash, std::equal_to<>> producers_;
};

}  // namespace raftlog::server
