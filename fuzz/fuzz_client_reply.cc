// libFuzzer target: DecodeReply on arbitrary bytes, then the typed body
// parsers on whatever decodes (a client runs them on untrusted replies);
// decoded replies must survive a re-encode/decode round trip unchanged. The
// producer's decoders of an ok reply to a push or a push_batch run too:
// they must call a frame malformed exactly when DecodeReply does, with the
// same error, and read what it reads.

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

namespace {

using namespace raftlog::wire;

// result as the general decoder read it, from map.
bool SameResult(const PushResult& result, const Value& map) {
  const Value* index = map.Find("index");
  const Value* term = map.Find("term");
  const Value* dup = map.Find("duplicate");
  return result.index == index->as_uint() && result.term == term->as_uint() &&
         result.duplicate == (dup != nullptr && dup->as_bool());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const DecodeLimits limits;
  const auto* bytes = reinterpret_cast<const char*>(data);
  ClientReply reply;
  const raftlog::Status general = DecodeReply(bytes, size, limits, &reply);
  uint64_t id = 0;
  std::string_view code;
  const bool head = PeekHead(bytes, size, &id, &code);
  // Malformed for the general decoder is malformed, with its words, for the
  // typed ones given an ok reply (or one without a head); they take no other.
  auto check = [&](const raftlog::Status& typed) {
    if (typed.ok() && (!general.ok() || reply.code != kOk)) abort();
    if (!general.ok() && (!head || code == kOk) && typed.ToString() != general.ToString()) {
      abort();
    }
  };

  PushResult push;
  const raftlog::Status pushed = DecodePushReply(bytes, size, limits, &id, &push);
  check(pushed);
  if (pushed.ok() && (id != reply.request_id || !SameResult(push, Value::MakeMap(reply.body)))) {
    abort();
  }
  std::vector<PushResult> batch;
  const raftlog::Status batched = DecodePushBatchReply(bytes, size, limits, &id, &batch);
  check(batched);
  if (batched.ok()) {
    const Value::Array& results = Value::Find(reply.body, "results")->as_array();
    if (id != reply.request_id || results.size() != batch.size()) abort();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!SameResult(batch[i], results[i])) abort();
    }
  }

  if (!general.ok()) return 0;
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
  std::string again;
  EncodeReply(reply, &again);
  ClientReply reply2;
  if (!DecodeReply(again.data(), again.size(), limits, &reply2).ok() || !(reply2 == reply)) {
    abort();
  }
  return 0;
}
