// Status: the one error type of raftlog, used by every layer.
//
// A Status is either ok or carries a code and a message that says what went
// wrong and where (an index, a peer, a file). NotLeader also carries a leader
// hint. Functions return Status and write results through out-parameters;
// no exception crosses the library's API.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace raftlog {

class Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kNotLeader,          // this node cannot serve the request; leader_hint() may know who can
    kBusy,               // try again later (too many proposals in flight, installing...)
    kInvalidInput,       // the caller's arguments are wrong
    kInconsistentState,  // persisted state contradicts itself
    kCorruption,         // a checksum or decoding failure in stored or received data
    kIOError,            // the disk or the OS failed
    kNotSupported,       // not implemented (yet)
    kNotFound,           // the thing asked for is not there (compacted, beyond the tail)
  };

  Status() = default;

  static Status Ok() { return Status(); }
  static Status NotLeader(uint64_t leader_hint, std::string msg = "not the leader") {
    Status s(Code::kNotLeader, std::move(msg));
    s.leader_hint_ = leader_hint;
    return s;
  }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  static Status InvalidInput(std::string msg) {
    return Status(Code::kInvalidInput, std::move(msg));
  }
  static Status InconsistentState(std::string msg) {
    return Status(Code::kInconsistentState, std::move(msg));
  }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status NotSupported(std::string msg) {
    return Status(Code::kNotSupported, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // For kNotLeader: the node believed to lead, 0 when unknown.
  uint64_t leader_hint() const { return leader_hint_; }

  bool IsNotLeader() const { return code_ == Code::kNotLeader; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsInvalidInput() const { return code_ == Code::kInvalidInput; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }

  // "Corruption: entry 17: checksum mismatch", or "OK".
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
  uint64_t leader_hint_ = 0;
};

const char* CodeName(Status::Code code);

}  // namespace raftlog
