// Persister: the storage thread of a ReplicatedLog.
//
// The loop thread submits one write per Ready and never waits. The storage
// thread takes everything queued so far, merges it into one synced
// LogStore::append (group commit: the more the disk lags, the bigger the
// batch), and reports completions in submission order. Writes are applied
// in order, which is what the core requires.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "raftlog/log_writer.h"
#include "raftlog/status.h"
#include "raftlog/storage/log_store.h"

namespace raftlog::server {

class Persister : public LogWriter {
 public:
  // on_done is called on the storage thread after each write (to wake the loop).
  Persister(storage::LogStore* store, std::function<void()> on_done);
  // Finishes every submitted job, then joins the thread.
  ~Persister() override;

  void submit(LogWrite job) override;
  void take_done(std::vector<LogWriteDone>* out) override;
  // Jobs submitted and not yet reported done.
  size_t in_flight() const;

 private:
  void run();

  storage::LogStore* store_;
  std::function<void()> on_done_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<LogWrite> queue_;      // guarded by mu_
  std::vector<LogWriteDone> done_;  // guarded by mu_
  size_t in_flight_ = 0;            // guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  std::thread thread_;
};

}  // namespace raftlog::server
