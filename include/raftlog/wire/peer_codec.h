// The peer codec: core::Message <-> one msgpack frame, as docs/protocol.md
// specifies ("Peer messages").
//
// Encoding cannot fail. Decoding is strict: anything but a well-formed frame
// of a known version within the limits returns an error Status and leaves
// *out unspecified; it never throws and never allocates more than a bounded
// multiple of the frame's size. All functions are safe to call from any
// thread (they share no state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "raftlog/core/message.h"
#include "raftlog/status.h"
#include "raftlog/wire/limits.h"

namespace raftlog::wire {

// The version this codec writes, and the only one it reads.
constexpr uint64_t kPeerVersion = 1;

// Appends the encoding of m to *out (which need not be empty).
void EncodeMessage(const core::Message& m, std::string* out);
std::string EncodeMessage(const core::Message& m);

// Decodes one frame of exactly size bytes into *out. Errors:
//   NotSupported - the frame starts like a message but of another version
//                  ("peer message: unsupported version 7");
//   Corruption   - anything else: malformed msgpack, wrong shape or types,
//                  trailing bytes, a limit exceeded. The message says what and where.
Status DecodeMessage(const char* data, size_t size, const DecodeLimits& limits, core::Message* out);

}  // namespace raftlog::wire
