// One line per notable event, to stderr: time, level, node, message.
//   2026-11-26T12:00:00.123Z INFO  node=1 became leader term=3
// Thread-safe (one write per line).
#pragma once

#include <cstdint>
#include <sstream>
#include <string>

namespace raftlog::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Configured once at start-up.
void SetLogLevel(LogLevel level);
bool ParseLogLevel(const std::string& name, LogLevel* level);
void SetLogNode(uint64_t node_id);
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, const std::string& message);

// LOG(kInfo) << "became leader term=" << term;
class LogStream {
 public:
  explicit LogStream(LogLevel level) : level_(level) {}
  ~LogStream() { LogLine(level_, out_.str()); }
  template <typename T>
  LogStream& operator<<(const T& v) {
    out_ << v;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream out_;
};

// Lets at most `per_second` warnings a second through; the next one let
// through says how many were held back. For messages a peer or client can
// trigger at will (dropped frames), so that a flood cannot flood the log.
class WarnLimiter {
 public:
  explicit WarnLimiter(int per_second) : per_second_(per_second) {}
  void warn(const std::string& message);

 private:
  int per_second_;
  int64_t window_ = -1;  // the current second
  int count_ = 0;        // warnings in it
  uint64_t held_back_ = 0;
};

// Lower precedence than <<, so the whole stream expression is built first.
struct LogVoidify {
  void operator&(const LogStream&) {}
};

}  // namespace raftlog::server

// A conditional expression, not an if: safe inside an unbraced if/else. It
// cannot be parenthesized: the caller's << operands complete it.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define RAFTLOG_LOG(level)                                           \
  !::raftlog::server::LogEnabled(::raftlog::server::LogLevel::level) \
      ? (void)0                                                      \
      : ::raftlog::server::LogVoidify() &                            \
            ::raftlog::server::LogStream(::raftlog::server::LogLevel::level)
// NOLINTEND(bugprone-macro-parentheses)
