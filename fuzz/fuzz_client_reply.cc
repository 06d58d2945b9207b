// libFuzzer target: DecodeReply on arbitrary bytes, then the typed body
// parsers on whatever decodes (a client runs them on untrusted replies);
// decoded replies must survive a re-encode/decode round trip unchanged.

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog::wire;
  const DecodeLimits limits;
  const auto* bytes = reinterpret_cast<const char*>(data);
  // The producer's fast decoders: what they accept, the general path must
  // read the same.
  uint64_t fast_id = 0;
  PushResult fast;
  const bool fast_push = DecodePushReply(bytes, size, &fast_id, &fast);
  std::vector<PushResult> fast_batch;
  uint64_t batch_id = 0;
  const bool fast_batch_ok = DecodePushBatchReply(bytes, size, &batch_id, &fast_batch);
  ClientReply reply;
  if (!DecodeReply(bytes, size, limits, &reply).ok()) {
    if (fast_push || fast_batch_ok) abort();
    return 0;
  }
  if (fast_push) {
    PushResult general;
    if (reply.code != kOk || reply.request_id != fast_id ||
        !DecodePushResult(reply.body, &general).ok() || general.index != fast.index ||
        general.term != fast.term || general.duplicate != fast.duplicate) {
      abort();
    }
  }
  std::vector<PushResult> general_batch;
  const bool general_batch_ok = DecodePushBatchResult(reply.body, &general_batch).ok();
  if (fast_batch_ok) {
    if (reply.code != kOk || reply.request_id != batch_id || !general_batch_ok ||
        general_batch.size() != fast_batch.size()) {
      abort();
    }
    for (size_t i = 0; i < fast_batch.size(); ++i) {
      if (general_batch[i].index != fast_batch[i].index ||
          general_batch[i].term != fast_batch[i].term ||
          general_batch[i].duplicate != fast_batch[i].duplicate) {
        abort();
      }
    }
  }
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
