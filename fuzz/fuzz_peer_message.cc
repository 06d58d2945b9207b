// libFuzzer target: DecodeMessage on arbitrary bytes. Besides "no crash, no
// leak, no UB" (the sanitizers' job) it checks one property: whatever
// decodes re-encodes to a frame that decodes to the same message.

#include <cstdint>
#include <cstdlib>

#include "raftlog/wire/peer_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using raftlog::wire::DecodeMessage;
  const raftlog::wire::DecodeLimits limits;
  raftlog::core::Message m;
  if (!DecodeMessage(reinterpret_cast<const char*>(data), size, limits, &m).ok()) return 0;
  const std::string again = raftlog::wire::EncodeMessage(m);
  raftlog::core::Message m2;
  if (!DecodeMessage(again.data(), again.size(), limits, &m2).ok() || !(m2 == m)) abort();
  if (raftlog::wire::EncodeMessage(m2) != again) abort();
  return 0;
}
