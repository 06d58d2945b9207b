// The client ops that read and write the log, "append" and "fetch"
// (docs/protocol.md, "Client endpoint"): their bodies (op_types.h) from and
// to the envelope's Value maps. Unknown keys are ignored, known keys with
// the wrong type are Corruption.
#pragma once

#include "raftlog/status.h"
#include "raftlog/wire/op_types.h"
#include "raftlog/wire/value.h"

namespace raftlog::wire {

// A node reads append requests with DecodePushRequest (event_ops.h).
Value::Map EncodeAppendArgs(const AppendArgs& args);

Value::Map EncodeAppendResult(const AppendResult& result);
Status DecodeAppendResult(const Value::Map& body, AppendResult* out);

Value::Map EncodeSnapshotResult(const SnapshotResult& result);
Status DecodeSnapshotResult(const Value::Map& body, SnapshotResult* out);

Value::Map EncodeFetchArgs(const FetchArgs& args);
// Clamps max_count and max_bytes to the maxima; from must be >= 1.
Status DecodeFetchArgs(const Value::Map& args, FetchArgs* out);

Value::Map EncodeFetchResult(const FetchResult& result);
Status DecodeFetchResult(const Value::Map& body, FetchResult* out);

}  // namespace raftlog::wire
