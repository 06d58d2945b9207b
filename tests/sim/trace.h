// Trace: the readable story of a simulated run, one line per step.
//
// Off while a campaign runs many seeds (formatting costs more than the
// simulation itself); a failing seed is replayed with the trace on. Either
// every line goes to a stream as it happens (--trace), or only the last
// `capacity` lines are kept, to print the steps that led to a failure.
#pragma once

#include <cstdint>
#include <deque>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace raftlog::sim {

// Simulated time. One core tick is kUnitsPerTick units, so messages and
// disk writes can complete between ticks.
using Time = uint64_t;
constexpr Time kUnitsPerTick = 10;

// Concatenates anything streamable: Cat("n", 3, " term ", 4).
template <class... Args>
std::string Cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

class Trace {
 public:
  // Keeps nothing.
  Trace() = default;
  // Keeps the last `capacity` lines, and also writes each to *stream if set.
  Trace(size_t capacity, std::ostream* stream) : capacity_(capacity), stream_(stream) {}

  // Callers test on() before formatting a line, so an off trace costs nothing.
  bool on() const { return capacity_ > 0 || stream_ != nullptr; }

  void add(Time now, const std::string& line) {
    std::string text = Cat("t=", now, " ", line);
    if (stream_) *stream_ << text << '\n';
    if (capacity_ == 0) return;
    if (lines_.size() == capacity_) lines_.pop_front();
    lines_.push_back(std::move(text));
  }

  std::vector<std::string> tail() const { return {lines_.begin(), lines_.end()}; }

 private:
  size_t capacity_ = 0;
  std::ostream* stream_ = nullptr;
  std::deque<std::string> lines_;
};

}  // namespace raftlog::sim
