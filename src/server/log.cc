#include "server/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace raftlog::server {

namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<uint64_t> g_node{0};

const char* Name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO ";
    case LogLevel::kWarn:
      return "WARN ";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}
}  // namespace

void SetLogLevel(LogLevel level) {
  g_level = level;
}
void SetLogNode(uint64_t node_id) {
  g_node = node_id;
}
bool LogEnabled(LogLevel level) {
  return level >= g_level.load();
}

bool ParseLogLevel(const std::string& name, LogLevel* level) {
  if (name == "debug") return *level = LogLevel::kDebug, true;
  if (name == "info") return *level = LogLevel::kInfo, true;
  if (name == "warn") return *level = LogLevel::kWarn, true;
  if (name == "error") return *level = LogLevel::kError, true;
  return false;
}

void LogLine(LogLevel level, const std::string& message) {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  int millis = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  char stamp[40];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line = std::string(stamp) + "." + std::to_string(1000 + millis).substr(1) + "Z " +
                     Name(level) + " node=" + std::to_string(g_node.load()) + " " + message + "\n";
  // One write(2) per line, so lines from threads do not interleave.
  ssize_t n = write(STDERR_FILENO, line.data(), line.size());
  (void)n;
}

void WarnLimiter::warn(const std::string& message) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  if (now != window_) {
    window_ = now;
    count_ = 0;
  }
  if (++count_ > per_second_) {
    ++held_back_;
    return;
  }
  if (held_back_ > 0) {
    LogLine(LogLevel::kWarn,
            message + " (and " + std::to_string(held_back_) + " similar warnings held back)");
    held_back_ = 0;
  } else {
    LogLine(LogLevel::kWarn, message);
  }
}

}  // namespace raftlog::server
