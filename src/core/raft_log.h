// RaftLog: the core's log. Entries not yet durable, and recent ones, live in
// memory; older ones are read through the LogReader.
//
//   head ... offset-1 | offset ... stable ... handed ... last
//   durable, in store |  in memory (entries_)
//
// `handed` is how far entries were handed to the runtime for persisting,
// `stable` how far the runtime confirmed them durable. Everything below
// `offset` is durable and final until a truncation moves `offset` down.
//
// Reads that fail (a corrupted store) return term 0 / no entries and record
// the error; Raft checks error() after every input and stops the node.
#pragma once

#include <deque>
#include <vector>

#include "raftlog/core/log_reader.h"
#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog::core {

class RaftLog {
 public:
  explicit RaftLog(const LogReader* reader);

  LogIndex head_index() const { return head_index_; }
  LogIndex last_index() const { return offset_ + entries_.size() - 1; }
  Term last_term() const { return term(last_index()); }
  LogIndex persisted_index() const { return stable_; }

  // The term at index: head_term for the head, 0 below the head or past the end.
  Term term(LogIndex index) const;
  bool match_term(LogIndex index, Term term) const;
  // §5.4.1: is a log ending at (last_index, last_term) at least as up to date as this one?
  bool is_up_to_date(LogIndex last_index, Term last_term) const;
  // The largest index <= index whose term is <= term (the head at the latest),
  // with its term. Lets a rejection skip a whole term at a time.
  std::pair<LogIndex, Term> find_conflict_by_term(LogIndex index, Term term) const;

  // Entries [lo, hi) up to max_bytes (at least one when lo < hi).
  std::vector<Entry> entries(LogIndex lo, LogIndex hi, size_t max_bytes) const;

  void append(Entry entry);
  // Appends entries whose first index is at most last_index() + 1, replacing
  // whatever this log held from that index on.
  void truncate_and_append(std::vector<Entry>::const_iterator first,
                           std::vector<Entry>::const_iterator end);

  bool has_unhanded() const { return handed_ < last_index(); }
  // Entries not yet handed to the runtime for persisting; marks them handed.
  std::vector<Entry> take_unhanded();
  // The runtime made entries through index (of term) durable.
  void stable_to(LogIndex index, Term term);
  // Forgets in-memory entries that are both durable and applied.
  void release_to(LogIndex applied);
  // The store dropped the log through index (term): the new head.
  void compacted(LogIndex index, Term term);
  // The store's log was replaced by a snapshot at index (term): nothing
  // after it, everything durable.
  void restore(LogIndex index, Term term);

  const Status& error() const { return error_; }
  const LogReader* reader() const { return reader_; }

 private:
  const LogReader* reader_;
  LogIndex head_index_ = 0;
  Term head_term_ = 0;
  LogIndex offset_ = 1;  // index of entries_.front()
  std::deque<Entry> entries_;
  LogIndex stable_ = 0;
  LogIndex handed_ = 0;
  mutable Status error_;
};

}  // namespace raftlog::core
