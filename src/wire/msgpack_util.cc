#include "wire/msgpack_util.h"

#include <cstring>
#include <exception>

namespace raftlog::wire::detail {

namespace {

// Keep str and bin in the caller's buffer: the decoders copy each once, into
// its final place. One over its limit is not referenced: msgpack-c checks
// the str and bin limits only on the copying path, which then refuses it.
bool ReferenceStrings(msgpack::type::object_type type, size_t size, void* user) {
  const auto* limit = static_cast<const msgpack::unpack_limit*>(user);
  if (type == msgpack::type::STR) return size <= limit->str();
  if (type == msgpack::type::BIN) return size <= limit->bin();
  return false;
}

uint64_t BigEndian(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Status Unpack(const char* data, size_t size, const msgpack::unpack_limit& limit,
              std::string_view what, msgpack::object_handle* handle) {
  size_t offset = 0;
  try {
    bool referenced = false;
    *handle = msgpack::unpack(data, size, offset, referenced, ReferenceStrings,
                              const_cast<msgpack::unpack_limit*>(&limit), limit);
  } catch (const msgpack::insufficient_bytes&) {
    return Status::Corruption(std::string(what) + ": truncated frame (" + std::to_string(size) +
                              " bytes)");
  } catch (const msgpack::parse_error& e) {
    return Status::Corruption(std::string(what) + ": malformed msgpack: " + e.what());
  } catch (const msgpack::size_overflow& e) {
    // array/map/str/bin/ext/depth limits: e.what() names which; say the
    // number too, so that "too large" comes with what is allowed.
    const std::string kind = e.what();
    std::string bound;
    if (kind.starts_with("bin"))
      bound = " (a bin holds at most " + std::to_string(limit.bin()) + " bytes)";
    if (kind.starts_with("str"))
      bound = " (a str holds at most " + std::to_string(limit.str()) + " bytes)";
    return Status::Corruption(std::string(what) + ": limit exceeded: " + kind + bound);
  } catch (const std::bad_alloc&) {
    return Status::Corruption(std::string(what) + ": out of memory while parsing");
  } catch (const std::exception& e) {
    return Status::Corruption(std::string(what) + ": cannot parse: " + e.what());
  } catch (...) {
    return Status::Corruption(std::string(what) + ": cannot parse");
  }
  if (offset != size) {
    return Status::Corruption(std::string(what) + ": " + std::to_string(size - offset) +
                              " trailing bytes after the message");
  }
  return Status::Ok();
}

bool PeekVersion(const char* data, size_t size, uint64_t* version) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  const unsigned char* end = p + size;
  if (p == end) return false;
  // Array header: fixarray 0x90-0x9f, array16 0xdc, array32 0xdd.
  if ((*p & 0xf0) == 0x90) {
    if (*p == 0x90) return false;  // empty: no version
    p += 1;
  } else if (*p == 0xdc || *p == 0xdd) {
    size_t n = *p == 0xdc ? 2 : 4;
    if (static_cast<size_t>(end - p) < 1 + n) return false;
    if (BigEndian(p + 1, n) == 0) return false;
    p += 1 + n;
  } else {
    return false;
  }
  if (p == end) return false;
  // Unsigned integer: positive fixint, uint8/16/32/64 (0xcc-0xcf).
  if (*p < 0x80) {
    *version = *p;
    return true;
  }
  if (*p >= 0xcc && *p <= 0xcf) {
    size_t n = size_t{1} << (*p - 0xcc);
    if (static_cast<size_t>(end - p) < 1 + n) return false;
    *version = BigEndian(p + 1, n);
    return true;
  }
  return false;  // not a uint: the full parse reports what it is
}

const char* TypeName(msgpack::type::object_type type) {
  switch (type) {
    case msgpack::type::NIL:
      return "nil";
    case msgpack::type::BOOLEAN:
      return "bool";
    case msgpack::type::POSITIVE_INTEGER:
      return "uint";
    case msgpack::type::NEGATIVE_INTEGER:
      return "negative int";
    case msgpack::type::FLOAT32:
      return "float32";
    case msgpack::type::FLOAT64:
      return "float64";
    case msgpack::type::STR:
      return "str";
    case msgpack::type::BIN:
      return "bin";
    case msgpack::type::ARRAY:
      return "array";
    case msgpack::type::MAP:
      return "map";
    case msgpack::type::EXT:
      return "ext";
  }
  return "unknown";
}

}  // namespace raftlog::wire::detail
