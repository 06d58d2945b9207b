// libFuzzer target: DecodeRequest on arbitrary bytes, then the typed args
// parsers a server runs on whatever decodes; decoded requests must survive a
// re-encode/decode round trip unchanged. The server's own decoders of push,
// append and push_batch run too: they must call a frame malformed exactly
// when DecodeRequest does, with the same error, and read what it reads.

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

namespace {

using namespace raftlog::wire;

std::string_view StrOf(const Value::Map& map, const char* key) {
  const Value* v = Value::Find(map, key);
  return v != nullptr ? std::string_view(v->as_str()) : std::string_view();
}

uint64_t UintOf(const Value::Map& map, const char* key) {
  const Value* v = Value::Find(map, key);
  return v != nullptr ? v->as_uint() : 0;
}

// A typed decoder's verdict against DecodeRequest's, for a frame of its op
// (or without a head, which both refuse alike).
void CheckVerdict(const raftlog::Status& typed, const raftlog::Status& general) {
  if (!general.ok() ? typed.ToString() != general.ToString()
                    : !typed.ok() && !typed.IsInvalidInput()) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const DecodeLimits limits;
  const auto* bytes = reinterpret_cast<const char*>(data);
  ClientRequest request;
  const raftlog::Status general = DecodeRequest(bytes, size, limits, &request);
  uint64_t id = 0;
  std::string_view op;
  const bool head = PeekHead(bytes, size, &id, &op);

  PushRequestView push;
  const raftlog::Status pushed = DecodePushRequest(bytes, size, limits, &push);
  if (!head || op == kPushOp || op == kAppendOp) CheckVerdict(pushed, general);
  if (pushed.ok() &&
      (push.request_id != request.request_id || push.append != (request.op == kAppendOp) ||
       push.payload != StrOf(request.args, "payload") ||
       (!push.append && (push.topic != StrOf(request.args, "topic") ||
                         push.producer != StrOf(request.args, "producer") ||
                         push.seq != UintOf(request.args, "seq"))))) {
    abort();
  }

  uint64_t batch_id = 0;
  std::string_view producer;
  std::vector<PushEventView> batch;
  const raftlog::Status batched =
      DecodePushBatchRequest(bytes, size, limits, &batch_id, &producer, &batch);
  if (!head || op == kPushBatchOp) CheckVerdict(batched, general);
  if (batched.ok()) {
    const Value* events = Value::Find(request.args, "events");
    if (batch_id != request.request_id || producer != StrOf(request.args, "producer") ||
        events->as_array().size() != batch.size()) {
      abort();
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      const Value::Map& e = events->as_array()[i].as_map();
      if (batch[i].topic != StrOf(e, "topic") || batch[i].payload != StrOf(e, "payload") ||
          batch[i].seq != UintOf(e, "seq")) {
        abort();
      }
    }
  }

  if (!general.ok()) return 0;
  FetchArgs fetch;
  (void)DecodeFetchArgs(request.args, &fetch);
  std::string again;
  EncodeRequest(request, &again);
  ClientRequest request2;
  if (!DecodeRequest(again.data(), again.size(), limits, &request2).ok() ||
      !(request2 == request)) {
    abort();
  }
  return 0;
}
