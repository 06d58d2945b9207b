#include "server/snapshotter.h"

#include <algorithm>
#include <chrono>

#include "server/log.h"

namespace raftlog::server {

Snapshotter::Snapshotter(ReplicatedLog* log, EventMachine* events, const RetentionOptions& options)
    : log_(log), events_(events), options_(options) {
  core::SnapshotHead head;
  if (log_->last_snapshot(&head).ok()) last_saved_ = head.index;
}

Status Snapshotter::learn() {
  if (options_.retain_bytes == 0 && options_.retain_age_ms == 0) return Status::Ok();
  const LocalHistory h = log_->local_history();
  core::LogIndex next = h.head + 1;
  uint64_t log_time = 0;
  // Marks from the log head on (the snapshot this node started from moved
  // them past what is learnt here).
  marks_.clear();
  last_mark_index_ = h.head;
  last_mark_bytes_ = total_bytes_;
  std::vector<core::Entry> page;
  while (next <= last_saved_) {
    page.clear();
    Status s = log_->committed_entries(next, last_saved_ + 1, 4 << 20, &page);
    if (!s.ok()) return s;
    if (page.empty()) break;  // not durable or committed here yet: nothing more to learn
    for (const core::Entry& e : page) {
      wire::EventRecordView record;
      if (e.type == core::EntryType::kCommand &&
          wire::DecodeEventRecord(e.data.data(), e.data.size(), wire::DecodeLimits{}, &record)
              .ok()) {
        log_time = std::max(log_time, record.timestamp_ms);
      }
      applied(e.index, e.byte_size(), log_time);
    }
    next = page.back().index + 1;
  }
  return Status::Ok();
}

void Snapshotter::applied(core::LogIndex index, uint64_t bytes, uint64_t time_ms) {
  total_bytes_ += bytes;
  if (index >= last_mark_index_ + kMarkEntries || total_bytes_ >= last_mark_bytes_ + kMarkBytes) {
    marks_.push_back(Mark{index, total_bytes_, time_ms});
    last_mark_index_ = index;
    last_mark_bytes_ = total_bytes_;
  }
}

Status Snapshotter::on_event(const Event& event) {
  if (const auto* c = std::get_if<Committed>(&event)) {
    if (c->index > last_mark_index_ || marks_.empty()) {
      applied(c->index, c->entry.byte_size(), events_->log_time_ms());
    }
  } else if (const auto* l = std::get_if<SnapshotLoaded>(&event)) {
    Status s = events_->restore(l->head.index, l->snapshot);
    if (!s.ok()) {
      const std::string why =
          "cannot take on the snapshot at " + std::to_string(l->head.index) + ": " + s.message();
      if (s.IsCorruption()) return Status::Corruption(why);
      if (s.code() == Status::Code::kNotSupported) return Status::NotSupported(why);
      return Status::InvalidInput(why);
    }
    last_saved_ = std::max(last_saved_, l->head.index);
    // A leader's snapshot replaced the log: what was marked is gone.
    while (!marks_.empty() && marks_.front().index <= l->head.index) marks_.pop_front();
    last_mark_index_ = std::max(last_mark_index_, l->head.index);
  } else if (const auto* i = std::get_if<SnapshotInstalled>(&event)) {
    saving_ = false;
    last_saved_ = std::max(last_saved_, i->head.index);
    ++counters_.snapshots;
    // One that was asked for compacts as far as retention allows at once,
    // not only in the usual steps: the operator wants the disk back.
    if (!waiting_.empty()) compact_now_ = true;
    answer(Status::Ok(), i->head);
  }
  return Status::Ok();
}

core::LogIndex Snapshotter::compaction_target(uint64_t now_ms) const {
  if (!options_.limits_set()) return 0;
  const core::LogIndex applied = events_->applied();
  core::LogIndex target = 0;
  if (options_.retain_entries > 0 && applied > options_.retain_entries) {
    target = applied - options_.retain_entries;
  }
  if (options_.retain_bytes > 0 && total_bytes_ > options_.retain_bytes && !marks_.empty()) {
    // The oldest mark after which at most retain_bytes remain.
    const uint64_t need = total_bytes_ - options_.retain_bytes;
    auto it =
        std::find_if(marks_.begin(), marks_.end(), [&](const Mark& m) { return m.bytes >= need; });
    target = std::max(target, it != marks_.end() ? it->index : marks_.back().index);
  }
  if (options_.retain_age_ms > 0 && now_ms > options_.retain_age_ms) {
    // The newest mark whose log time is older than the age: every entry up
    // to it is (log time never goes back).
    const uint64_t cutoff = now_ms - options_.retain_age_ms;
    for (const Mark& m : marks_) {
      if (m.time_ms >= cutoff) break;
      target = std::max(target, m.index);
    }
  }
  // Only what a snapshot covers may go.
  return std::min({target, last_saved_, applied});
}

void Snapshotter::step(uint64_t now_ms) {
  if (log_->is_snapshot_installing()) return;
  const LocalHistory h = log_->local_history();
  if (compacting_) {
    compacting_ = false;
    ++counters_.compactions;
    while (!marks_.empty() && marks_.front().index <= h.head) marks_.pop_front();
  }
  const core::LogIndex applied = events_->applied();
  const bool due = options_.snapshot_every > 0 && applied >= last_saved_ + options_.snapshot_every;
  if ((asked_ || due) && !saving_) {
    if (applied > last_saved_ && applied > h.head) {
      Status s = save();
      if (s.ok() || s.IsBusy()) return;  // Busy: at the next turn
      answer(s, {});
      RAFTLOG_LOG(kWarn) << "snapshot at " << applied << " not taken: " << s.message();
      return;
    }
    if (asked_) {  // nothing applied since the last one: that one it is
      core::SnapshotHead head;
      Status s = log_->last_snapshot(&head);
      compact_now_ = s.ok();
      answer(s.ok() ? s : Status::NotFound("nothing applied yet to take a snapshot of"), head);
    }
  }
  // Compaction in steps, not entry by entry: each one costs the store a
  // synced write and a pass of LevelDB's compaction over the range.
  const core::LogIndex step = std::max<uint64_t>(kMarkEntries, options_.snapshot_every / 4);
  const core::LogIndex target = compaction_target(now_ms);
  if (target > h.head && (target >= h.head + step || target == last_saved_ || compact_now_)) {
    Status s = log_->compact(target);
    if (s.ok()) {
      compacting_ = true;
      compact_now_ = false;
    } else if (!s.IsBusy()) {
      RAFTLOG_LOG(kWarn) << "compaction to " << target << " not done: " << s.message();
    }
  }
}

Status Snapshotter::save() {
  const auto start = std::chrono::steady_clock::now();
  std::string bytes = events_->snapshot();
  counters_.snapshot_encode_us =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count());
  Status s = log_->save_snapshot(events_->applied(), std::move(bytes));
  if (s.ok()) {
    saving_ = true;
    asked_ = false;
  }
  return s;
}

void Snapshotter::request(Done done) {
  waiting_.push_back(std::move(done));
  asked_ = true;
}

void Snapshotter::answer(const Status& status, const core::SnapshotHead& head) {
  asked_ = false;
  std::vector<Done> waiting;
  waiting.swap(waiting_);
  for (Done& d : waiting) d(status, head);
}

}  // namespace raftlog::server
