// A forward-only msgpack reader over one frame: no allocation, strings and
// binaries come back as views into the input. Every decoder of a client
// frame, an event record and a PUB message reads with it, and explains a
// refusal from what the reader recorded (peer messages go through
// msgpack-c's object tree, peer_codec.cc).
//
// Every read checks bounds first and returns false, leaving the reader
// failed, on a short frame, another type or a length over the limit given;
// error() then says which (the only string built). Integers follow
// msgpack-c: a non-negative value is an unsigned integer whatever width or
// signedness it was packed with.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace raftlog::wire::detail {

// What the next value is, by its first byte (and an int's sign).
enum class Type : uint8_t {
  kEnd,  // nothing left
  kNil,
  kBool,
  kUint,
  kNegativeInt,
  kFloat32,
  kFloat64,
  kStr,
  kBin,
  kArray,
  kMap,
  kExt,
  kInvalid,  // 0xc1, which msgpack never uses
};

// "uint", "negative int", "str"...; "nothing" for kEnd.
const char* TypeName(Type type);

class Reader {
 public:
  Reader(const char* data, size_t size)
      : begin_(reinterpret_cast<const unsigned char*>(data)), p_(begin_), end_(begin_ + size) {}

  bool ok() const { return error_ == Error::kNone; }
  bool at_end() const { return ok() && p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  // Where the next value starts: Reader(position(), remaining()) reads it again.
  const char* position() const { return reinterpret_cast<const char*>(p_); }

  Type peek() const {
    if (p_ == end_) return Type::kEnd;
    const unsigned char t = *p_;
    if (t < 0x80) return Type::kUint;
    if (t < 0x90) return Type::kMap;
    if (t < 0xa0) return Type::kArray;
    if (t < 0xc0) return Type::kStr;
    if (t >= 0xe0) return Type::kNegativeInt;
    switch (t) {
      case 0xc0:
        return Type::kNil;
      case 0xc1:
        return Type::kInvalid;
      case 0xc2:
      case 0xc3:
        return Type::kBool;
      case 0xc4:
      case 0xc5:
      case 0xc6:
        return Type::kBin;
      case 0xca:
        return Type::kFloat32;
      case 0xcb:
        return Type::kFloat64;
      case 0xcc:
      case 0xcd:
      case 0xce:
      case 0xcf:
        return Type::kUint;
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3:
        // The sign is the top bit of the first byte after the type; a
        // frame cut before it fails as a uint.
        return p_ + 1 < end_ && (p_[1] & 0x80) ? Type::kNegativeInt : Type::kUint;
      case 0xd9:
      case 0xda:
      case 0xdb:
        return Type::kStr;
      case 0xdc:
      case 0xdd:
        return Type::kArray;
      case 0xde:
      case 0xdf:
        return Type::kMap;
      default:  // ext 8/16/32 (0xc7-0xc9), fixext 1-16 (0xd4-0xd8)
        return Type::kExt;
    }
  }

  // A container of more elements (pairs) than max fails.
  bool array(uint32_t* n, uint64_t max = UINT32_MAX) {
    return expect(Type::kArray, "array") && header(0x90, 0xdc, n, max);
  }
  bool map(uint32_t* n, uint64_t max = UINT32_MAX) {
    return expect(Type::kMap, "map") && header(0x80, 0xde, n, max);
  }

  bool nil() {
    if (!expect(Type::kNil, "nil")) return false;
    ++p_;
    return true;
  }

  bool boolean(bool* v) {
    if (!expect(Type::kBool, "bool")) return false;
    *v = *p_++ == 0xc3;
    return true;
  }

  bool uint(uint64_t* v) {
    if (!expect(Type::kUint, "uint")) return false;
    const unsigned char t = *p_;
    if (t < 0x80) {
      *v = t;
      ++p_;
      return true;
    }
    // uint8..uint64 (0xcc-0xcf) or int8..int64 (0xd0-0xd3): 1 << (t & 3) bytes.
    return number(size_t{1} << (t & 3), v);
  }

  bool negative_int(int64_t* v) {
    if (!expect(Type::kNegativeInt, "negative int")) return false;
    const unsigned char t = *p_;
    if (t >= 0xe0) {  // negative fixint: -32..-1
      *v = static_cast<int64_t>(t) - 256;
      ++p_;
      return true;
    }
    const size_t n = size_t{1} << (t & 3);
    uint64_t u = 0;
    if (!number(n, &u)) return false;
    // Sign-extend from n bytes (the top bit is set).
    *v = static_cast<int64_t>(n == 8 ? u : u | ~uint64_t{0} << (8 * n));
    return true;
  }

  // A str or bin longer than max fails.
  bool str(std::string_view* v, size_t max = SIZE_MAX) {
    return expect(Type::kStr, "str") && string(v, max);
  }
  bool bin(std::string_view* v, size_t max = SIZE_MAX) {
    return expect(Type::kBin, "bin") && string(v, max);
  }
  // A payload: bin, or str from lenient clients, each under its own limit.
  bool payload(std::string_view* v, size_t max_str, size_t max_bin) {
    if (ok() && peek() == Type::kStr) return string(v, max_str);
    return expect(Type::kBin, "bin") && string(v, max_bin);
  }

  // Why the first failed read failed, e.g. "expected str, got uint".
  std::string error() const;

 private:
  enum class Error : uint8_t { kNone, kTruncated, kType, kLength };

  bool fail(Error e) {
    if (ok()) error_ = e;
    return false;
  }
  bool need(size_t n) { return remaining() >= n || fail(Error::kTruncated); }
  // The next value is of type want (named so in errors).
  bool expect(Type want, const char* name) {
    if (!ok()) return false;
    found_ = peek();
    if (found_ == want) return true;
    expected_ = name;
    return fail(found_ == Type::kEnd ? Error::kTruncated : Error::kType);
  }
  bool too_long(uint64_t length, uint64_t max) {
    length_ = length;
    max_ = max;
    return fail(Error::kLength);
  }
  // An n-byte big-endian number after the type byte.
  bool number(size_t n, uint64_t* v) {
    if (!need(1 + n)) return false;
    *v = 0;
    for (size_t i = 1; i <= n; ++i) *v = *v << 8 | p_[i];
    p_ += 1 + n;
    return true;
  }
  // fix: the fix form's base (0x90 array, 0x80 map); wide: its 16-bit form,
  // the 32-bit one following.
  bool header(unsigned char fix, unsigned char wide, uint32_t* n, uint64_t max) {
    uint64_t count = 0;
    if ((*p_ & 0xf0) == fix) {
      count = *p_++ & 0x0f;
    } else if (!number(*p_ == wide ? 2 : 4, &count)) {
      return false;
    }
    if (count > max) return too_long(count, max);
    *n = static_cast<uint32_t>(count);
    return true;
  }
  // The length, then the body, of the str or bin at p_.
  bool string(std::string_view* v, size_t max) {
    const unsigned char t = *p_;
    uint64_t len = 0;
    if ((t & 0xe0) == 0xa0) {  // fixstr
      len = t & 0x1f;
      ++p_;
    } else if (!number(size_t{1} << (t >= 0xd9 ? t - 0xd9 : t - 0xc4), &len)) {
      return false;
    }
    if (len > max) return too_long(len, max);
    if (remaining() < len) return fail(Error::kTruncated);
    *v = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(len));
    p_ += len;
    return true;
  }

  const unsigned char* begin_;
  const unsigned char* p_;
  const unsigned char* end_;
  Error error_ = Error::kNone;
  // For error(): what a read wanted and found, or the length over max.
  const char* expected_ = "";
  Type found_ = Type::kEnd;
  uint64_t length_ = 0;
  uint64_t max_ = 0;
};

}  // namespace raftlog::wire::detail
