// libFuzzer target: DecodeRequest on arbitrary bytes, then the typed args
// parsers a server runs on whatever decodes; decoded requests must survive a
// re-encode/decode round trip unchanged.

#include <cstdint>
#include <cstdlib>

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog::wire;
  const DecodeLimits limits;
  ClientRequest request;
  if (!DecodeRequest(reinterpret_cast<const char*>(data), size, limits, &request).ok()) return 0;
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
