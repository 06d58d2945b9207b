// libFuzzer target: DecodeReply on arbitrary bytes, then the typed body
// parsers on whatever decodes (a client runs them on untrusted replies);
// decoded replies must survive a re-encode/decode round trip unchanged.

#include <cstdint>
#include <cstdlib>

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog::wire;
  const DecodeLimits limits;
  ClientReply reply;
  if (!DecodeReply(reinterpret_cast<const char*>(data), size, limits, &reply).ok()) return 0;
  NodeStatus status;
  if (DecodeStatusBody(reply.body, &status).ok()) {
    // A status that parsed re-encodes to a body that parses to the same status
    // (peers are only encoded for a leader).
    if (status.role != raftlog::core::Role::kLeader) status.peers.clear();
    NodeStatus status2;
    if (!DecodeStatusBody(EncodeStatusBody(status), &status2).ok() || !(status2 == status)) {
      abort();
    }
  }
  NotLeaderInfo info;
  (void)DecodeNotLeaderBody(reply.body, &info);
  AppendResult append;
  (void)DecodeAppendResult(reply.body, &append);
  FetchResult fetch;
  (void)DecodeFetchResult(reply.body, &fetch);
  PushResult push;
  (void)DecodePushResult(reply.body, &push);
  std::string again;
  EncodeReply(reply, &again);
  ClientReply reply2;
  if (!DecodeReply(again.data(), again.size(), limits, &reply2).ok() || !(reply2 == reply)) {
    abort();
  }
  return 0;
}
