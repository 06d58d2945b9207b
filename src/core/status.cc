#include "raftlog/status.h"

namespace raftlog {

const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotLeader:
      return "NotLeader";
    case Status::Code::kBusy:
      return "Busy";
    case Status::Code::kInvalidInput:
      return "InvalidInput";
    case Status::Code::kInconsistentState:
      return "InconsistentState";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kIOError:
      return "IOError";
    case Status::Code::kNotSupported:
      return "NotSupported";
    case Status::Code::kNotFound:
      return "NotFound";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = CodeName(code_);
  if (!message_.empty()) s += ": " + message_;
  if (code_ == Code::kNotLeader && leader_hint_ != 0) {
    s += " (leader hint: " + std::to_string(leader_hint_) + ")";
  }
  return s;
}

}  // namespace raftlog
