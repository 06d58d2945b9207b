// The rules of log_store.h, written once for both stores: which appends,
// snapshots, compactions and reads are allowed, and the error messages that
// say why not. Pure functions of the store's bounds.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "raftlog/core/types.h"
#include "raftlog/status.h"
#include "raftlog/storage/log_store.h"

namespace raftlog::storage {

// A store's shape: entries head_index+1 .. last_index, and the index of the
// saved snapshot (0 if none).
struct LogBounds {
  core::LogIndex head_index = 0;
  core::Term head_term = 0;
  core::LogIndex last_index = 0;
  core::Term last_term = 0;
  core::LogIndex snapshot_index = 0;

  // The term at index if it is the head or the tail, which the store
  // knows without a read.
  bool known_term(core::LogIndex index, core::Term* term) const;
};

// Reads the stored term of an entry strictly inside the log.
using TermLookup = std::function<Status(core::LogIndex, core::Term*)>;

// Ok if entries (non-empty) may be appended; they replace any entries from
// entries.front().index on.
Status CheckAppend(const LogBounds& bounds, std::span<const core::Entry> entries,
                   const TermLookup& term_of);

// Ok if meta may be saved; *keep_log says whether the log continues from it
// (not replace_log, and it holds meta.last_index with meta.last_term) or is
// replaced by it.
Status CheckSnapshot(const LogBounds& bounds, const SnapshotMeta& meta, const TermLookup& term_of,
                     bool replace_log, bool* keep_log);

// Ok if `data` may be written at offset of a snapshot of `size` bytes of
// which `written` are: *skip is how many of its bytes are written already
// (a repeated piece).
Status CheckSnapshotPiece(uint64_t size, uint64_t written, uint64_t offset, size_t data_size,
                          size_t* skip);

// Ok if the prefix up to new_head may be dropped.
Status CheckCompact(const LogBounds& bounds, core::LogIndex new_head);

// Ok if term(index) may be answered from the bounds or a read.
Status CheckTermRead(const LogBounds& bounds, core::LogIndex index);

// Ok if entries [lo, hi) may be read.
Status CheckEntriesRead(const LogBounds& bounds, core::LogIndex lo, core::LogIndex hi);

// "entry 17: <what>", the prefix of every per-entry message.
std::string EntryContext(core::LogIndex index);

}  // namespace raftlog::storage
