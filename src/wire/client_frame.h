// What every client frame is made of (docs/protocol.md, "Client
// endpoint"): the envelope's head [version, request_id, op|code], then a
// map of values of the client data model (value.h). The general decoders
// (client_codec.cc) and the typed ones of push, push_batch and their
// replies (event_ops.cc) read frames with these, so that one set of rules,
// with the same errors, holds for every client frame.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/status.h"
#include "raftlog/wire/limits.h"
#include "raftlog/wire/value.h"
#include "wire/msgpack_reader.h"

namespace raftlog::wire::detail {

// Reads the head of the frame r is at: at most max_frame_bytes, an array of
// 4, the version (NotSupported unless kClientVersion), request_id (a uint),
// word (a non-empty str). what names the frame ("client request"),
// word_name the word ("op"). *request_id is 0 until it has been read, so
// that a refused request can still be answered.
Status ReadHead(Reader& r, const DecodeLimits& limits, const char* what, const char* word_name,
                uint64_t* request_id, std::string_view* word);

// Ok when r has read the whole frame, else a Corruption counting the rest.
Status ReadEnd(const Reader& r, const char* what);

// The keys of one map, to find a duplicate: no allocation up to 8 keys.
class KeySet {
 public:
  void Add(std::string_view key);
  // A key added twice, or nullptr.
  const std::string_view* Duplicate();

 private:
  std::array<std::string_view, 8> small_;
  size_t n_ = 0;
  std::vector<std::string_view> large_;  // all of them, once there are more
};

// Reads values of the client data model under a frame's limits: nil, bool,
// integers, str (max_string_bytes), bin (max_entry_bytes), arrays and maps
// (max_container_length, nested at most max_depth deep) whose keys are
// unique strs. Floats and ext are refused. level is a value's nesting: the
// envelope is at 1, its map at 2.
class ValueReader {
 public:
  ValueReader(Reader* r, const DecodeLimits& limits) : r_(r), limits_(limits) {}

  // One value into *out or, with out nullptr, only checked and skipped.
  bool Read(size_t level, Value* out);
  // A map into *out or, with out nullptr, only checked and skipped.
  bool ReadMap(size_t level, Value::Map* out);
  // The map at level, checked as ReadMap does, without building it:
  // on_pair(key, at) for each pair, at where its value starts (a Reader
  // from there reads the value again).
  template <typename OnPair>
  bool ScanMap(size_t level, OnPair&& on_pair) {
    uint32_t n = 0;
    if (!MapHeader(level, &n)) return false;
    KeySet keys;
    for (uint32_t i = 0; i < n; ++i) {
      std::string_view key;
      if (!Key(i, &key)) return false;
      keys.Add(key);
      const char* at = r_->position();
      if (!Read(level + 1, nullptr)) return In(key);
      on_pair(key, at);
    }
    return Unique(&keys);
  }

  // The Corruption for the first failure, e.g. "client request:
  // args.events[3]: float64 is not allowed (...)": what, then the path
  // from base (the map's name) to the value.
  Status Error(const char* what, std::string_view base) const;

 private:
  bool MapHeader(size_t level, uint32_t* n);
  bool Key(uint32_t i, std::string_view* key);
  bool Unique(KeySet* keys);
  bool ReadArray(size_t level, Value* out);
  bool Deeper(size_t level);
  bool Fail(std::string reason);
  bool ReaderFailed() { return Fail(r_->error()); }
  // A value inside failed: its key or index goes before the path so far.
  bool In(std::string_view key);
  bool At(uint32_t index);

  Reader* r_;
  const DecodeLimits& limits_;
  std::string path_;
  std::string reason_;
};

}  // namespace raftlog::wire::detail
