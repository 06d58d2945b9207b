// A forward-only msgpack reader over one frame: no allocation, strings and
// binaries come back as views into the input. It serves the hot paths (a
// push request, an event record); each of them falls back to the object-tree
// decoder whenever this reader refuses a frame, so that error messages stay
// the detailed ones and anything unusual is judged by one set of rules.
//
// Every read checks bounds first and returns false, leaving the reader
// failed, on a short frame or a different type. Integers follow msgpack-c:
// a non-negative value is an unsigned integer whatever width or signedness
// it was packed with.
#pragma once

#include <cstdint>
#include <string_view>

namespace raftlog::wire::detail {

class Reader {
 public:
  Reader(const char* data, size_t size)
      : p_(reinterpret_cast<const unsigned char*>(data)), end_(p_ + size) {}

  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && p_ == end_; }

  bool array(uint32_t* n) { return header(0x90, 0xdc, n); }
  bool map(uint32_t* n) { return header(0x80, 0xde, n); }

  bool uint(uint64_t* v) {
    if (!need(1)) return false;
    const unsigned char t = *p_;
    if (t < 0x80) {
      *v = t;
      ++p_;
      return true;
    }
    if (t >= 0xcc && t <= 0xcf) {  // uint8..uint64
      const size_t n = size_t{1} << (t - 0xcc);
      if (!need(1 + n)) return false;
      *v = BigEndian(p_ + 1, n);
      p_ += 1 + n;
      return true;
    }
    if (t >= 0xd0 && t <= 0xd3) {  // int8..int64 holding a non-negative value
      const size_t n = size_t{1} << (t - 0xd0);
      if (!need(1 + n)) return false;
      if (p_[1] & 0x80) return fail();  // negative: the sign is the first byte's top bit
      *v = BigEndian(p_ + 1, n);
      p_ += 1 + n;
      return true;
    }
    return fail();
  }

  bool boolean(bool* v) {
    if (!need(1) || (*p_ != 0xc2 && *p_ != 0xc3)) return fail();
    *v = *p_++ == 0xc3;
    return true;
  }

  bool str(std::string_view* v) {
    if (!need(1)) return false;
    const unsigned char t = *p_;
    if ((t & 0xe0) == 0xa0) return body(1, t & 0x1f, v);
    if (t >= 0xd9 && t <= 0xdb) return sized(size_t{1} << (t - 0xd9), v);
    return fail();
  }

  bool bin(std::string_view* v) {
    if (!need(1)) return false;
    const unsigned char t = *p_;
    if (t >= 0xc4 && t <= 0xc6) return sized(size_t{1} << (t - 0xc4), v);
    return fail();
  }

  // bin, or str: payloads from lenient clients. *was_str says which.
  bool bytes(std::string_view* v, bool* was_str) {
    if (!need(1)) return false;
    const unsigned char t = *p_;
    *was_str = (t & 0xe0) == 0xa0 || (t >= 0xd9 && t <= 0xdb);
    return *was_str ? str(v) : bin(v);
  }

 private:
  static uint64_t BigEndian(const unsigned char* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = v << 8 | p[i];
    return v;
  }
  bool fail() {
    ok_ = false;
    return false;
  }
  bool need(size_t n) {
    if (!ok_ || static_cast<size_t>(end_ - p_) < n) return fail();
    return true;
  }
  // fix: fix-type base (0x90 array, 0x80 map); wide: its 16-bit form (the 32-bit one follows).
  bool header(unsigned char fix, unsigned char wide, uint32_t* n) {
    if (!need(1)) return false;
    const unsigned char t = *p_;
    if ((t & 0xf0) == fix) {
      *n = t & 0x0f;
      ++p_;
      return true;
    }
    if (t == wide || t == wide + 1) {
      const size_t w = t == wide ? 2 : 4;
      if (!need(1 + w)) return false;
      *n = static_cast<uint32_t>(BigEndian(p_ + 1, w));
      p_ += 1 + w;
      return true;
    }
    return fail();
  }
  // A length of w bytes after the type byte, then the body.
  bool sized(size_t w, std::string_view* v) {
    if (!need(1 + w)) return false;
    return body(1 + w, BigEndian(p_ + 1, w), v);
  }
  bool body(size_t skip, uint64_t len, std::string_view* v) {
    if (!need(skip) || static_cast<uint64_t>(end_ - p_) - skip < len) return fail();
    *v = std::string_view(reinterpret_cast<const char*>(p_ + skip), static_cast<size_t>(len));
    p_ += skip + len;
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
  bool ok_ = true;
};

}  // namespace raftlog::wire::detail
