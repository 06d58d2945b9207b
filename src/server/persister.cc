#include "server/persister.h"

namespace raftlog::server {

Persister::Persister(storage::LogStore* store, std::function<void()> on_done)
    : store_(store), on_done_(std::move(on_done)), thread_([this] { run(); }) {}

Persister::~Persister() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Persister::submit(LogWrite job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
    ++in_flight_;
  }
  cv_.notify_one();
}

void Persister::take_done(std::vector<LogWriteDone>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (LogWriteDone& d : done_) out->push_back(std::move(d));
  in_flight_ -= done_.size();
  done_.clear();
}

size_t Persister::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

}  // namespace raftlog::server

namespace raftlog {

void MergeLogWrites(LogWrite& into, LogWrite& next) {
  if (next.hard_state) into.hard_state = next.hard_state;
  into.sync = into.sync || next.sync;  // one job that must be durable makes the batch synced
  if (!next.entries.empty()) {
    // A later job may rewrite the tail of an earlier one (a truncation).
    core::LogIndex from = next.entries.front().index;
    while (!into.entries.empty() && into.entries.back().index >= from) into.entries.pop_back();
    for (core::Entry& e : next.entries) into.entries.push_back(std::move(e));
  }
  for (core::Message& m : next.after_persist) into.after_persist.push_back(std::move(m));
  for (core::SnapshotChunk& c : next.snapshot_chunks) into.snapshot_chunks.push_back(std::move(c));
  // CanMergeInto(into): it has no snapshot work of its own.
  into.local_snapshot = std::move(next.local_snapshot);
  into.compact_to = next.compact_to;
}

LogWriteDone CarryOut(storage::LogStore* store, LogWrite& write) {
  LogWriteDone done;
  done.status = store->append(write.hard_state, write.entries, write.sync);
  if (done.status.ok() && !write.entries.empty()) {
    done.last_entry = std::make_pair(write.entries.back().index, write.entries.back().term);
  }
  done.after_persist = std::move(write.after_persist);
  if (!done.status.ok()) return done;
  for (const core::SnapshotChunk& c : write.snapshot_chunks) {
    Status s = store->write_snapshot(c.snapshot, c.offset, c.data);
    if (s.ok() && c.done) s = store->finish_snapshot(c.snapshot, /*replace_log=*/true);
    if (!s.ok() || c.done) {
      done.received = SnapshotWritten{c.snapshot, s};
      if (!s.ok()) break;  // the rest of this transfer cannot follow
    }
  }
  if ((write.local_snapshot || write.compact_to) && store->status().ok()) {
    Status s;
    if (write.local_snapshot) {
      const core::SnapshotHead& head = write.local_snapshot->head;
      s = store->write_snapshot(head, 0, write.local_snapshot->data);
      if (s.ok()) s = store->finish_snapshot(head, /*replace_log=*/false);
    }
    if (s.ok() && write.compact_to) s = store->compact(write.compact_to->first);
    done.local = s;
  }
  // A disk failure fails the store: nothing after it may be acknowledged.
  if (!store->status().ok()) done.status = store->status();
  return done;
}

}  // namespace raftlog

namespace raftlog::server {

void Persister::run() {
  for (;;) {
    std::deque<LogWrite> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything was written
      batch.swap(queue_);
    }
    // Merged runs of the queued writes: each run one append (group commit).
    while (!batch.empty()) {
      size_t jobs = 1;
      LogWrite merged = std::move(batch.front());
      batch.pop_front();
      while (!batch.empty() && CanMergeInto(merged)) {
        MergeLogWrites(merged, batch.front());
        batch.pop_front();
        ++jobs;
      }
      LogWriteDone done = CarryOut(store_, merged);
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_.push_back(std::move(done));
        // One report stands for all merged jobs; the rest report empty.
        for (size_t i = 1; i < jobs; ++i) {
          done_.push_back(LogWriteDone{done_.back().status, {}, {}, {}, {}});
        }
      }
      on_done_();
    }
  }
}

}  // namespace raftlog::server
