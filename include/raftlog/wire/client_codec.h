// The client codec: the envelope of requests to, and replies from, a node's
// client endpoint, as docs/protocol.md specifies ("Client endpoint").
//
//   request: [version, request_id, op, args]
//   reply:   [version, request_id, code, body]
//
// args and body are maps of Values; what each op puts in them is defined per
// op (client_ops.h). Decoding is strict and never throws; errors are returned
// as for the peer codec (NotSupported for another version, Corruption for the
// rest). Safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "raftlog/status.h"
#include "raftlog/wire/limits.h"
#include "raftlog/wire/value.h"

namespace raftlog::wire {

constexpr uint64_t kClientVersion = 1;

// Reply codes. Every reply whose code is not kOk carries body.message (str).
inline constexpr const char* kOk = "ok";
inline constexpr const char* kNotLeader = "not_leader";        // body: NotLeaderInfo
inline constexpr const char* kInvalidInput = "invalid_input";  // malformed or unknown request
inline constexpr const char* kBusy = "busy";                   // retry later
inline constexpr const char* kNotFound = "not_found";          // compacted or beyond the tail
inline constexpr const char* kError = "error";                 // anything else

struct ClientRequest {
  uint64_t request_id = 0;  // chosen by the client, echoed in the reply
  std::string op;
  Value::Map args;
  bool operator==(const ClientRequest&) const = default;
};

struct ClientReply {
  uint64_t request_id = 0;
  std::string code = kOk;
  Value::Map body;
  bool operator==(const ClientReply&) const = default;
};

void EncodeRequest(const ClientRequest& request, std::string* out);
void EncodeReply(const ClientReply& reply, std::string* out);
// Appends v's msgpack encoding to *out (used by the two above; handy in tests).
void EncodeValue(const Value& v, std::string* out);

// On failure, out->request_id still holds the request id when the frame got
// that far (0 otherwise), so that a server can address its error reply.
Status DecodeRequest(const char* data, size_t size, const DecodeLimits& limits, ClientRequest* out);
Status DecodeReply(const char* data, size_t size, const DecodeLimits& limits, ClientReply* out);

// Reads the head of a frame, [version 1, request_id, op or code, ...], and
// nothing else: which decoder the frame is for (a push goes to
// DecodePushRequest, an ok reply to a push to DecodePushReply, the rest to
// the two above). False when there is no such head: DecodeRequest and
// DecodeReply then say what is wrong. *word points into data.
bool PeekHead(const char* data, size_t size, uint64_t* request_id, std::string_view* word);

// The reply code for a Status: kOk, kNotLeader, kBusy, kNotFound;
// kInvalidInput for InvalidInput and NotSupported; kError for the rest. A
// request that fails to decode (Corruption) is the client's fault: reply
// ErrorReply(id, Status::InvalidInput(s.message())).
// ErrorReply builds a reply carrying status:
// code plus body {message: status.message()}; for NotLeader also body.leader
// (the hint) and body.leader_endpoint (empty: the caller may fill it).
const char* ReplyCodeFor(const Status& status);
ClientReply ErrorReply(uint64_t request_id, const Status& status);

}  // namespace raftlog::wire
