// libFuzzer target: the decoders of the event layer on arbitrary bytes: a
// PUB message's body (an event or a heartbeat), which subscribers read off
// the network, and an event record, which nodes and subscribers read from
// fetched entries. Whatever decodes must survive a re-encode/decode round
// trip unchanged.

#include <cstdint>
#include <cstdlib>

#include "raftlog/wire/event_ops.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog::wire;
  const DecodeLimits limits;
  const char* bytes = reinterpret_cast<const char*>(data);
  PublishedEvent event, event2;
  if (DecodePublishedEvent(bytes, size, limits, &event).ok()) {
    std::string again;
    EncodePublishedEvent(event, &again);
    if (!DecodePublishedEvent(again.data(), again.size(), limits, &event2).ok() ||
        !(event2 == event)) {
      abort();
    }
  }
  PublishedHeartbeat hb, hb2;
  if (DecodePublishedHeartbeat(bytes, size, limits, &hb).ok()) {
    std::string again;
    EncodePublishedHeartbeat(hb, &again);
    if (!DecodePublishedHeartbeat(again.data(), again.size(), limits, &hb2).ok() || !(hb2 == hb)) {
      abort();
    }
  }
  EventRecord record, record2;
  if (DecodeEventRecord(bytes, size, limits, &record).ok()) {
    std::string again;
    EncodeEventRecord(record, &again);
    if (!DecodeEventRecord(again.data(), again.size(), limits, &record2).ok() ||
        !(record2 == record)) {
      abort();
    }
  }
  return 0;
}
