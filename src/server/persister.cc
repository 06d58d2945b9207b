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
    size_t jobs = batch.size();
    LogWrite merged = std::move(batch.front());
    for (size_t i = 1; i < jobs; ++i) MergeLogWrites(merged, batch[i]);

    LogWriteDone done;
    done.status = store_->append(merged.hard_state, merged.entries, merged.sync);
    if (done.status.ok() && !merged.entries.empty()) {
      done.last_entry = std::make_pair(merged.entries.back().index, merged.entries.back().term);
    }
    done.after_persist = std::move(merged.after_persist);
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_.push_back(std::move(done));
      // One report stands for all merged jobs; the rest report empty.
      for (size_t i = 1; i < jobs; ++i) done_.push_back(LogWriteDone{done_.back().status, {}, {}});
    }
    on_done_();
  }
}

}  // namespace raftlog::server
