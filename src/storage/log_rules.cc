#include "storage/log_rules.h"

#include <algorithm>

namespace raftlog::storage {

using core::LogIndex;
using core::Term;

std::string EntryContext(LogIndex index) {
  return "entry " + std::to_string(index);
}

bool LogBounds::known_term(LogIndex index, Term* term) const {
  if (index == last_index) {
    *term = last_term;
    return true;
  }
  if (index == head_index) {
    *term = head_term;
    return true;
  }
  return false;
}

static Status TermAt(const LogBounds& b, LogIndex index, const TermLookup& term_of, Term* term) {
  if (b.known_term(index, term)) return Status::Ok();
  return term_of(index, term);
}

Status CheckAppend(const LogBounds& b, std::span<const core::Entry> entries,
                   const TermLookup& term_of) {
  const LogIndex first = entries.front().index;
  const std::string where = "append at " + std::to_string(first) + ": ";
  if (first <= b.head_index) {
    return Status::InvalidInput(where + "at or below the log head " + std::to_string(b.head_index));
  }
  if (first > b.last_index + 1) {
    return Status::InvalidInput(where + "leaves a gap after the last index " +
                                std::to_string(b.last_index));
  }
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].index != first + i) {
      return Status::InvalidInput(where + "entry " + std::to_string(entries[i].index) +
                                  " out of sequence, expected " + std::to_string(first + i));
    }
    if (entries[i].term < entries[i - 1].term) {
      return Status::InvalidInput(where + EntryContext(entries[i].index) + " has term " +
                                  std::to_string(entries[i].term) + " below its predecessor's " +
                                  std::to_string(entries[i - 1].term));
    }
  }
  Term prev_term = 0;
  Status s = TermAt(b, first - 1, term_of, &prev_term);
  if (!s.ok()) return s;
  if (entries.front().term < prev_term) {
    return Status::InvalidInput(where + "term " + std::to_string(entries.front().term) +
                                " is below term " + std::to_string(prev_term) + " of entry " +
                                std::to_string(first - 1));
  }
  return Status::Ok();
}

Status CheckSnapshot(const LogBounds& b, const SnapshotMeta& meta, const TermLookup& term_of,
                     bool replace_log, bool* keep_log) {
  const std::string where = "snapshot at " + std::to_string(meta.last_index) + ": ";
  if (meta.last_index < b.snapshot_index) {
    return Status::InvalidInput(where + "older than the saved snapshot at " +
                                std::to_string(b.snapshot_index));
  }
  if (meta.last_index < b.head_index) {
    return Status::InvalidInput(where + "behind the log head " + std::to_string(b.head_index));
  }
  *keep_log = false;
  if (meta.last_index <= b.last_index) {
    Term term = 0;
    Status s = TermAt(b, meta.last_index, term_of, &term);
    if (!s.ok()) return s;
    if (term != meta.last_term && meta.last_index == b.head_index) {
      // The head is covered by an earlier snapshot: it cannot have another term.
      return Status::InvalidInput(where + "term " + std::to_string(meta.last_term) +
                                  " contradicts the log head's term " + std::to_string(term));
    }
    *keep_log = !replace_log && term == meta.last_term;
  }
  return Status::Ok();
}

Status CheckSnapshotPiece(uint64_t size, uint64_t written, uint64_t offset, size_t data_size,
                          size_t* skip) {
  if (offset > written) {
    return Status::InvalidInput("snapshot data at " + std::to_string(offset) + ": only " +
                                std::to_string(written) + " bytes are written (a gap)");
  }
  if (offset + data_size > size) {
    return Status::InvalidInput("snapshot data at " + std::to_string(offset) + ": " +
                                std::to_string(data_size) + " bytes go past its size " +
                                std::to_string(size));
  }
  *skip = static_cast<size_t>(std::min<uint64_t>(written - offset, data_size));
  return Status::Ok();
}

Status CheckCompact(const LogBounds& b, LogIndex new_head) {
  const std::string where = "compact to " + std::to_string(new_head) + ": ";
  if (new_head < b.head_index) {
    return Status::InvalidInput(where + "below the log head " + std::to_string(b.head_index));
  }
  if (new_head > b.last_index) {
    return Status::InvalidInput(where + "beyond the last index " + std::to_string(b.last_index));
  }
  if (new_head > b.snapshot_index) {
    return Status::InvalidInput(where + "not covered by a snapshot (saved snapshot at " +
                                std::to_string(b.snapshot_index) + ")");
  }
  return Status::Ok();
}

static Status Compacted(const LogBounds& b, LogIndex index) {
  return Status::NotFound(EntryContext(index) + ": compacted (log head is " +
                          std::to_string(b.head_index) + ")");
}

static Status BeyondTail(const LogBounds& b, LogIndex index) {
  return Status::NotFound(EntryContext(index) + ": beyond the last index " +
                          std::to_string(b.last_index));
}

Status CheckTermRead(const LogBounds& b, LogIndex index) {
  if (index < b.head_index) return Compacted(b, index);
  if (index > b.last_index) return BeyondTail(b, index);
  return Status::Ok();
}

Status CheckEntriesRead(const LogBounds& b, LogIndex lo, LogIndex hi) {
  if (lo > hi) {
    return Status::InvalidInput("entries [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                "): empty range reversed");
  }
  if (lo <= b.head_index) return Compacted(b, lo);
  if (hi > b.last_index + 1) return BeyondTail(b, hi - 1);
  return Status::Ok();
}

}  // namespace raftlog::storage
