// LogReader: the core's read-only view of the durable log.
//
// The core keeps entries that are not yet durable (and recent ones) in
// memory; for anything older it asks the LogReader. The runtime that writes
// the log (src/storage) implements it. The core only ever reads indexes that
// the runtime has told it are persisted (Raft::on_persisted), so a store that
// appends on another thread needs no more than LevelDB's own thread safety.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog::core {

class LogReader {
 public:
  virtual ~LogReader() = default;

  // The log head: the last index covered by the snapshot (entries up to it
  // are compacted away), and that entry's term. Both 0 for a log that was
  // never compacted.
  virtual LogIndex head_index() const = 0;
  virtual Term head_term() const = 0;

  // The last durable index (head_index() when the log holds no entry).
  virtual LogIndex last_index() const = 0;

  // The term of the entry at index, for head_index() <= index <= last_index().
  // NotFound outside that range; Corruption if the stored entry is damaged.
  virtual Status term(LogIndex index, Term* term) const = 0;

  // Appends to *out the entries [lo, hi), in order, stopping early once their
  // byte_size() sum would pass max_bytes, but always at least one entry when
  // lo < hi. Requires head_index() < lo <= hi <= last_index() + 1.
  virtual Status entries(LogIndex lo, LogIndex hi, size_t max_bytes,
                         std::vector<Entry>* out) const = 0;

  // Appends to *out the configuration entries (EntryType::kConfig) of the
  // log, (head_index(), last_index()], in order: where the core finds the
  // configuration in force at start. This default reads the whole log; a
  // store that keeps an index of them answers without.
  virtual Status config_entries(std::vector<Entry>* out) const {
    // A few MiB at a time: the whole log is read, never held.
    constexpr size_t kChunkBytes = 4 << 20;
    const LogIndex last = last_index();
    std::vector<Entry> chunk;
    for (LogIndex lo = head_index() + 1; lo <= last;) {
      chunk.clear();
      Status s = entries(lo, last + 1, kChunkBytes, &chunk);
      if (!s.ok()) return s;
      if (chunk.empty()) return Status::Corruption("no entry at " + std::to_string(lo));
      for (Entry& e : chunk) {
        if (e.type == EntryType::kConfig) out->push_back(std::move(e));
      }
      lo = chunk.back().index + 1;
    }
    return Status::Ok();
  }

  // The snapshot the log head stands on: what a leader sends a follower
  // that needs entries at or below the head. NotFound when there is none
  // (a store that never compacts needs neither of these two).
  virtual Status snapshot(SnapshotHead* out) const {
    (void)out;
    return Status::NotFound("no snapshot");
  }
  // Up to max bytes of that snapshot's data from offset (fewer at its end).
  // NotFound if `snap` is no longer the store's (a newer one replaced it).
  virtual Status snapshot_data(const SnapshotHead& snap, uint64_t offset, size_t max,
                               std::string* out) const {
    (void)snap;
    (void)offset;
    (void)max;
    (void)out;
    return Status::NotFound("no snapshot");
  }
};

}  // namespace raftlog::core
