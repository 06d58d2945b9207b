#include "core/raft_log.h"

#include <algorithm>
#include <string>

namespace raftlog::core {

RaftLog::RaftLog(const LogReader* reader) : reader_(reader) {
  head_index_ = reader_->head_index();
  head_term_ = reader_->head_term();
  LogIndex last = reader_->last_index();
  if (last < head_index_) {
    error_ = Status::InconsistentState("log tail " + std::to_string(last) + " is below its head " +
                                       std::to_string(head_index_));
    last = head_index_;
  }
  offset_ = last + 1;
  stable_ = handed_ = last;
}

Term RaftLog::term(LogIndex index) const {
  if (index == head_index_) return head_term_;
  if (index < head_index_ || index > last_index()) return 0;
  if (index >= offset_) return entries_[index - offset_].term;
  Term t = 0;
  Status s = reader_->term(index, &t);
  if (!s.ok()) {
    if (error_.ok()) error_ = s;
    return 0;
  }
  return t;
}

bool RaftLog::match_term(LogIndex index, Term t) const {
  if (index < head_index_ || index > last_index()) return false;
  return term(index) == t;
}

bool RaftLog::is_up_to_date(LogIndex index, Term t) const {
  Term mine = last_term();
  return t > mine || (t == mine && index >= last_index());
}

std::pair<LogIndex, Term> RaftLog::find_conflict_by_term(LogIndex index, Term t) const {
  index = std::min(index, last_index());
  for (; index > head_index_; --index) {
    Term here = term(index);
    if (here <= t || !error_.ok()) return {index, here};
  }
  return {head_index_, head_term_};
}

std::vector<Entry> RaftLog::entries(LogIndex lo, LogIndex hi, size_t max_bytes) const {
  std::vector<Entry> out;
  hi = std::min(hi, last_index() + 1);
  if (lo <= head_index_ || lo >= hi) return out;
  size_t bytes = 0;
  if (lo < offset_) {
    Status s = reader_->entries(lo, std::min(hi, offset_), max_bytes, &out);
    if (!s.ok()) {
      if (error_.ok()) error_ = s;
      out.clear();
      return out;
    }
    for (const Entry& e : out) bytes += e.byte_size();
    if (out.empty() || out.back().index + 1 < std::min(hi, offset_)) return out;  // byte limit hit
    lo = out.back().index + 1;
  }
  for (LogIndex i = std::max(lo, offset_); i < hi; ++i) {
    const Entry& e = entries_[i - offset_];
    if (!out.empty() && bytes + e.byte_size() > max_bytes) break;
    bytes += e.byte_size();
    out.push_back(e);
  }
  return out;
}

void RaftLog::append(Entry entry) {
  entries_.push_back(std::move(entry));
}

void RaftLog::truncate_and_append(std::vector<Entry>::const_iterator first,
                                  std::vector<Entry>::const_iterator end) {
  if (first == end) return;
  LogIndex from = first->index;
  if (from <= last_index()) {
    if (from >= offset_) {
      entries_.erase(entries_.begin() + (from - offset_), entries_.end());
    } else {
      // The conflict reaches below the in-memory window: everything from
      // `from` on is replaced, and the store below it stays as it is.
      entries_.clear();
      offset_ = from;
    }
    handed_ = std::min(handed_, from - 1);
    stable_ = std::min(stable_, from - 1);
  }
  entries_.insert(entries_.end(), first, end);
}

std::vector<Entry> RaftLog::take_unhanded() {
  std::vector<Entry> out;
  if (!has_unhanded()) return out;
  out.assign(entries_.begin() + (handed_ + 1 - offset_), entries_.end());
  handed_ = last_index();
  return out;
}

void RaftLog::stable_to(LogIndex index, Term t) {
  // Only entries this log still holds, as they were handed out, can become stable.
  if (index <= stable_ || index > handed_ || index < offset_) return;
  if (entries_[index - offset_].term != t) return;
  stable_ = index;
}

void RaftLog::release_to(LogIndex applied) {
  LogIndex upto = std::min(applied, stable_);
  // The last entry stays: its term (last_term(), asked by every vote
  // request) must not need the store, which may already hold a snapshot
  // in place of this log while the runtime installs it.
  while (entries_.size() > 1 && offset_ <= upto) {
    entries_.pop_front();
    ++offset_;
  }
}

void RaftLog::compacted(LogIndex index, Term t) {
  if (index <= head_index_) return;
  head_index_ = index;
  head_term_ = t;
  while (!entries_.empty() && offset_ <= index) {
    entries_.pop_front();
    ++offset_;
  }
}

void RaftLog::restore(LogIndex index, Term t) {
  head_index_ = index;
  head_term_ = t;
  entries_.clear();
  offset_ = index + 1;
  stable_ = handed_ = index;
}

}  // namespace raftlog::core
