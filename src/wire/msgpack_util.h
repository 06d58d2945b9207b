// Helpers of the codecs: the packer's output sink, which every encoder
// writes through, and for the peer codec, which parses frames into
// msgpack-c object trees, a non-throwing unpack, the version peek and type
// names for error messages.
#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string>
#include <string_view>

#include "raftlog/status.h"

namespace raftlog::wire::detail {

// A msgpack packer stream appending to a std::string: the encoding lands
// where the caller wants it, without an sbuffer and a copy.
class StringSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  void write(const char* data, size_t size) { out_->append(data, size); }

 private:
  std::string* out_;
};
using Packer = msgpack::packer<StringSink>;

// Parses exactly [data, data + size) into *handle under limit. str and bin
// values reference the input (no copy), so data must outlive *handle. Every
// msgpack-c exception is caught and becomes a Corruption naming what, a
// prefix such as "peer message".
Status Unpack(const char* data, size_t size, const msgpack::unpack_limit& limit,
              std::string_view what, msgpack::object_handle* handle);

// Reads the start of a frame: a non-empty array header, then an unsigned
// integer, the version. Every version of both formats starts this way, so an
// unknown version is recognized before the rest is parsed with this version's
// rules. False when the frame does not start so (the full parse says why).
bool PeekVersion(const char* data, size_t size, uint64_t* version);

const char* TypeName(msgpack::type::object_type type);

}  // namespace raftlog::wire::detail
