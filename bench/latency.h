// What every load generator here measures and how it reports it: latencies
// in nanoseconds, summarized as throughput and percentiles, printed as one
// JSON line that tools/bench/compare.sh and docs/benchmarks.md read.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace raftlog::bench {

using Clock = std::chrono::steady_clock;

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

struct Summary {
  uint64_t count = 0;
  double seconds = 0;
  double per_second = 0;
  double mb_per_second = 0;  // payload bytes only, 10^6 bytes
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

// Latency samples of one measured interval. Keeps every sample (8 bytes
// each): a 10 s run at 200K/s is 16 MB, and exact percentiles need no
// bucket tuning.
class LatencyLog {
 public:
  void reserve(size_t n) { samples_.reserve(n); }
  void add(int64_t ns) { samples_.push_back(ns); }
  void merge(const LatencyLog& other);
  size_t size() const { return samples_.size(); }
  // Sorts the samples; throughput is size() over seconds.
  Summary summarize(double seconds, size_t payload_bytes);

 private:
  std::vector<int64_t> samples_;
};

// {"system":…,"inflight":…,"events":…,"seconds":…,"events_per_s":…,
//  "mb_per_s":…,"p50_us":…,…,"errors":…} plus extra (already JSON
// "key":value pairs, comma-separated, may be empty).
std::string SummaryJson(const std::string& system, int inflight, const Summary& s, uint64_t errors,
                        const std::string& extra = "");

// A human-readable block of the same figures.
std::string SummaryText(const std::string& title, const Summary& s);

}  // namespace raftlog::bench
