// One line per notable event, to stderr: time, level, node, message.
//   2026-11-26T12:00:00.123Z INFO  node=1 became leader term=3
// Thread-safe (one write per line).
#pragma once

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

// Lower precedence than <<, so the whole stream expression is built first.
struct LogVoidify {
  void operator&(const LogStream&) {}
};

}  // namespace raftlog::server

// A conditional expression, not an if: safe inside an unbraced if/else.
#define RAFTLOG_LOG(level)                                           \
  !::raftlog::server::LogEnabled(::raftlog::server::LogLevel::level) \
      ? (void)0                                                      \
      : ::raftlog::server::LogVoidify() &                            \
            ::raftlog::server::LogStream(::raftlog::server::LogLevel::level)
