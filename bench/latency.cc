#include "latency.h"

#include <algorithm>
#include <cstdio>

namespace raftlog::bench {

void LatencyLog::merge(const LatencyLog& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
}

Summary LatencyLog::summarize(double seconds, size_t payload_bytes) {
  Summary s;
  s.count = samples_.size();
  s.seconds = seconds;
  if (seconds > 0) {
    s.per_second = static_cast<double>(s.count) / seconds;
    s.mb_per_second = s.per_second * static_cast<double>(payload_bytes) / 1e6;
  }
  if (samples_.empty()) return s;
  std::sort(samples_.begin(), samples_.end());
  // Nearest rank: the smallest sample with at least q of them at or below it.
  auto at = [&](double q) {
    size_t rank = static_cast<size_t>(q * static_cast<double>(samples_.size()));
    if (rank >= samples_.size()) rank = samples_.size() - 1;
    return static_cast<double>(samples_[rank]) / 1e3;
  };
  s.p50_us = at(0.50);
  s.p90_us = at(0.90);
  s.p99_us = at(0.99);
  s.p999_us = at(0.999);
  s.max_us = static_cast<double>(samples_.back()) / 1e3;
  return s;
}

std::string SummaryJson(const std::string& system, int inflight, const Summary& s, uint64_t errors,
                        const std::string& extra) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "{\"system\":\"%s\",\"inflight\":%d,\"events\":%llu,\"seconds\":%.3f,"
                "\"events_per_s\":%.0f,\"mb_per_s\":%.2f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
                "\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"errors\":%llu",
                system.c_str(), inflight, static_cast<unsigned long long>(s.count), s.seconds,
                s.per_second, s.mb_per_second, s.p50_us, s.p90_us, s.p99_us, s.p999_us, s.max_us,
                static_cast<unsigned long long>(errors));
  std::string out = buf;
  if (!extra.empty()) out += "," + extra;
  return out + "}";
}

std::string SummaryText(const std::string& title, const Summary& s) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "%s: %llu in %.2f s: %.0f/s, %.2f MB/s\n"
                "  latency us: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
                title.c_str(), static_cast<unsigned long long>(s.count), s.seconds, s.per_second,
                s.mb_per_second, s.p50_us, s.p90_us, s.p99_us, s.p999_us, s.max_us);
  return buf;
}

}  // namespace raftlog::bench
