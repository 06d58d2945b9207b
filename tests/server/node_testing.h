// What the tests of the socket-free node parts share: a clock, a disk and
// a network in the test's hands, for one ReplicatedLog node in memory.
#pragma once

#include <chrono>
#include <vector>

#include "raftlog/log_writer.h"
#include "raftlog/storage/log_store.h"
#include "raftlog/transport.h"

namespace raftlog::server::testing {

class TestClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return now_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  std::chrono::steady_clock::time_point now_{};
};

// Writes reach the store only when the test says so.
class HeldWriter final : public LogWriter {
 public:
  explicit HeldWriter(storage::LogStore* store) : store_(store) {}
  void submit(LogWrite w) override { held_.push_back(std::move(w)); }
  void take_done(std::vector<LogWriteDone>* out) override {
    for (LogWriteDone& d : done_) out->push_back(std::move(d));
    done_.clear();
  }
  void release() {
    for (LogWrite& w : held_) done_.push_back(CarryOut(store_, w));
    held_.clear();
  }

 private:
  storage::LogStore* store_;
  std::vector<LogWrite> held_;
  std::vector<LogWriteDone> done_;
};

// A single node's network: nothing to send to, nothing arrives.
class NoPeers final : public Transport {
 public:
  void send(const core::Message&) override {}
  Status receive(std::chrono::milliseconds, std::vector<core::Message>*) override {
    return Status::Ok();
  }
  void wake() override {}
};

}  // namespace raftlog::server::testing
