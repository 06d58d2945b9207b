// libFuzzer target: DecodeRequest on arbitrary bytes, then the typed args
// parsers a server runs on whatever decodes; decoded requests must survive a
// re-encode/decode round trip unchanged. The server's fast decoders (push,
// push_batch) run first: whatever they accept, the general path must accept
// with the same values.

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog::wire;
  const DecodeLimits limits;
  const auto* bytes = reinterpret_cast<const char*>(data);
  PushRequestView fast;
  const bool fast_push = DecodePushRequest(bytes, size, limits, &fast);
  uint64_t batch_id = 0;
  std::string_view batch_producer;
  std::vector<PushEventView> batch;
  const bool fast_batch =
      DecodePushBatchRequest(bytes, size, limits, &batch_id, &batch_producer, &batch);
  ClientRequest request;
  if (!DecodeRequest(bytes, size, limits, &request).ok()) {
    if (fast_push || fast_batch) abort();
    return 0;
  }
  if (fast_push) {
    PushArgs args;
    AppendArgs a;
    const bool ok = fast.append ? DecodeAppendArgs(request.args, &a).ok()
                                : DecodePushArgs(request.args, &args).ok();
    if (!ok || request.request_id != fast.request_id ||
        (fast.append ? a.payload != fast.payload
                     : args.topic != fast.topic || args.payload != fast.payload ||
                           args.producer != fast.producer || args.seq != fast.seq)) {
      abort();
    }
  }
  PushBatchArgs batch_args;
  const bool general_batch = DecodePushBatchArgs(request.args, &batch_args).ok();
  if (fast_batch) {
    if (!general_batch || request.op != kPushBatchOp || request.request_id != batch_id ||
        batch_args.producer != batch_producer || batch_args.events.size() != batch.size()) {
      abort();
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch_args.events[i].topic != batch[i].topic ||
          batch_args.events[i].payload != batch[i].payload ||
          batch_args.events[i].seq != batch[i].seq) {
        abort();
      }
    }
  }
  AppendArgs append;
  (void)DecodeAppendArgs(request.args, &append);
  FetchArgs fetch;
  (void)DecodeFetchArgs(request.args, &fetch);
  PushArgs push;
  (void)DecodePushArgs(request.args, &push);
  std::string again;
  EncodeRequest(request, &again);
  ClientRequest request2;
  if (!DecodeRequest(again.data(), again.size(), limits, &request2).ok() ||
      !(request2 == request)) {
    abort();
  }
  return 0;
}
