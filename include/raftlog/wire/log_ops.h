// Typed bodies of the client ops that read and write the log: "append" and
// "fetch" (docs/protocol.md, "Client endpoint"). Conversions from and to the
// envelope's Value maps; unknown keys are ignored, known keys with the wrong
// type are Corruption.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftlog/core/types.h"
#include "raftlog/status.h"
#include "raftlog/wire/value.h"

namespace raftlog::wire {

// op "append": args {payload: bin}. Appends one Command entry; the ok reply
// comes once it is committed (durable on a majority): body {index, term}.
inline constexpr const char* kAppendOp = "append";

struct AppendArgs {
  std::string payload;
};
// A node reads append requests with DecodePushRequest (event_ops.h).
Value::Map EncodeAppendArgs(const AppendArgs& args);

struct AppendResult {
  core::LogIndex index = 0;
  core::Term term = 0;
};
Value::Map EncodeAppendResult(const AppendResult& result);
Status DecodeAppendResult(const Value::Map& body, AppendResult* out);

// op "fetch": args {from: uint, max_count?: uint, max_bytes?: uint}. Any
// node answers with committed entries from `from` on, at most max_count
// and (beyond the first) max_bytes of payload: body {entries: [[index,
// term, type, data], ...], commit_index, head_index}. A `from` at or below
// the log head gets not_found with body.earliest = head_index + 1.
inline constexpr const char* kFetchOp = "fetch";
inline constexpr uint64_t kFetchDefaultCount = 1000;
inline constexpr uint64_t kFetchMaxCount = 100000;
inline constexpr uint64_t kFetchDefaultBytes = 1 << 20;
inline constexpr uint64_t kFetchMaxBytes = 16 << 20;

struct FetchArgs {
  core::LogIndex from = 1;
  uint64_t max_count = kFetchDefaultCount;
  uint64_t max_bytes = kFetchDefaultBytes;
};
Value::Map EncodeFetchArgs(const FetchArgs& args);
// Clamps max_count and max_bytes to the maxima; from must be >= 1.
Status DecodeFetchArgs(const Value::Map& args, FetchArgs* out);

struct FetchResult {
  std::vector<core::Entry> entries;  // index, term, type, data (no configs)
  core::LogIndex commit_index = 0;
  core::LogIndex head_index = 0;
};
Value::Map EncodeFetchResult(const FetchResult& result);
Status DecodeFetchResult(const Value::Map& body, FetchResult* out);

}  // namespace raftlog::wire
