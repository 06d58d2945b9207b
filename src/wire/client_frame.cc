#include "wire/client_frame.h"

#include <algorithm>

#include "raftlog/wire/client_codec.h"

namespace raftlog::wire::detail {

namespace {

constexpr size_t kEnvelopeFields = 4;

Status Corrupt(const char* what, const std::string& msg) {
  return Status::Corruption(std::string(what) + ": " + msg);
}

}  // namespace

Status ReadHead(Reader& r, const DecodeLimits& limits, const char* what, const char* word_name,
                uint64_t* request_id, std::string_view* word) {
  *request_id = 0;
  if (r.remaining() > limits.max_frame_bytes) {
    return Corrupt(what, "frame of " + std::to_string(r.remaining()) +
                             " bytes exceeds the limit of " +
                             std::to_string(limits.max_frame_bytes));
  }
  uint32_t n = 0;
  if (!r.array(&n)) return Corrupt(what, r.error());
  if (n == 0) return Corrupt(what, "expected 4 fields, got 0");
  // The version first: one this node does not speak is refused as such,
  // whatever follows (docs/protocol.md, "Encoding rules").
  uint64_t version = 0;
  if (!r.uint(&version)) return Corrupt(what, "field 'version': " + r.error());
  if (version != kClientVersion) {
    return Status::NotSupported(std::string(what) + ": unsupported version " +
                                std::to_string(version) + " (this node speaks " +
                                std::to_string(kClientVersion) + ")");
  }
  if (n >= 2 && !r.uint(request_id)) return Corrupt(what, "field 'request_id': " + r.error());
  if (n != kEnvelopeFields) return Corrupt(what, "expected 4 fields, got " + std::to_string(n));
  // The envelope is a container like any other: limits that small refuse every frame.
  if (n > limits.max_container_length) {
    return Corrupt(what, "an array of 4 elements is over the limit of " +
                             std::to_string(limits.max_container_length));
  }
  if (limits.max_depth < 1) return Corrupt(what, "nested deeper than the limit of 0 levels");
  if (!r.str(word, limits.max_string_bytes)) {
    return Corrupt(what, std::string("field '") + word_name + "': " + r.error());
  }
  if (word->empty()) return Corrupt(what, std::string("field '") + word_name + "' is empty");
  return Status::Ok();
}

Status ReadEnd(const Reader& r, const char* what) {
  if (r.at_end()) return Status::Ok();
  return Corrupt(what, std::to_string(r.remaining()) + " trailing bytes after the message");
}

void KeySet::Add(std::string_view key) {
  if (!large_.empty()) {
    large_.push_back(key);
  } else if (n_ < small_.size()) {
    small_[n_++] = key;
  } else {
    large_.assign(small_.begin(), small_.end());
    large_.push_back(key);
  }
}

const std::string_view* KeySet::Duplicate() {
  if (large_.empty()) {
    for (size_t i = 0; i < n_; ++i) {
      for (size_t j = i + 1; j < n_; ++j) {
        if (small_[i] == small_[j]) return &small_[i];
      }
    }
    return nullptr;
  }
  std::sort(large_.begin(), large_.end());
  auto dup = std::adjacent_find(large_.begin(), large_.end());
  return dup == large_.end() ? nullptr : &*dup;
}

bool ValueReader::Read(size_t level, Value* out) {
  switch (r_->peek()) {
    case Type::kNil:
      if (out != nullptr) *out = Value();
      return r_->nil();
    case Type::kBool: {
      bool b = false;
      if (!r_->boolean(&b)) return ReaderFailed();
      if (out != nullptr) *out = Value::Bool(b);
      return true;
    }
    case Type::kUint: {
      uint64_t u = 0;
      if (!r_->uint(&u)) return ReaderFailed();
      if (out != nullptr) *out = Value::Uint(u);
      return true;
    }
    case Type::kNegativeInt: {
      int64_t i = 0;
      if (!r_->negative_int(&i)) return ReaderFailed();
      if (out != nullptr) *out = Value::Int(i);
      return true;
    }
    case Type::kStr: {
      std::string_view s;
      if (!r_->str(&s, limits_.max_string_bytes)) return ReaderFailed();
      if (out != nullptr) *out = Value::Str(std::string(s));
      return true;
    }
    case Type::kBin: {
      std::string_view b;
      if (!r_->bin(&b, limits_.max_entry_bytes)) return ReaderFailed();
      if (out != nullptr) *out = Value::Bin(std::string(b));
      return true;
    }
    case Type::kArray:
      return ReadArray(level, out);
    case Type::kMap:
      if (out == nullptr) return ReadMap(level, nullptr);
      *out = Value::MakeMap();
      return ReadMap(level, &out->as_map());
    case Type::kEnd:
      r_->nil();  // fails: the frame ends where a value should be
      return ReaderFailed();
    default:
      return Fail(std::string(TypeName(r_->peek())) +
                  " is not allowed (only nil, bool, int, str, bin, array, map)");
  }
}

bool ValueReader::ReadArray(size_t level, Value* out) {
  uint32_t n = 0;
  if (!Deeper(level)) return false;
  if (!r_->array(&n, limits_.max_container_length)) return ReaderFailed();
  Value::Array* a = nullptr;
  if (out != nullptr) {
    *out = Value::MakeArray();
    a = &out->as_array();
    // Each element takes a byte at least: a header cannot claim more memory than the frame.
    a->reserve(std::min<size_t>(n, r_->remaining()));
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!Read(level + 1, a != nullptr ? &a->emplace_back() : nullptr)) return At(i);
  }
  return true;
}

bool ValueReader::ReadMap(size_t level, Value::Map* out) {
  uint32_t n = 0;
  if (!MapHeader(level, &n)) return false;
  if (out != nullptr) {
    out->clear();
    out->reserve(std::min<size_t>(n, r_->remaining() / 2));
  }
  KeySet keys;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key;
    if (!Key(i, &key)) return false;
    keys.Add(key);
    Value* v = out != nullptr ? &out->emplace_back(std::string(key), Value()).second : nullptr;
    if (!Read(level + 1, v)) return In(key);
  }
  return Unique(&keys);
}

bool ValueReader::MapHeader(size_t level, uint32_t* n) {
  if (!Deeper(level)) return false;
  return r_->map(n, limits_.max_container_length) || ReaderFailed();
}

bool ValueReader::Key(uint32_t i, std::string_view* key) {
  if (r_->str(key, limits_.max_string_bytes)) return true;
  return Fail("map key " + std::to_string(i) + ": " + r_->error());
}

bool ValueReader::Unique(KeySet* keys) {
  const std::string_view* dup = keys->Duplicate();
  return dup == nullptr || Fail("duplicate map key \"" + std::string(*dup) + "\"");
}

bool ValueReader::Deeper(size_t level) {
  if (level <= limits_.max_depth) return true;
  return Fail("nested deeper than the limit of " + std::to_string(limits_.max_depth) + " levels");
}

bool ValueReader::Fail(std::string reason) {
  reason_ = std::move(reason);
  return false;
}

bool ValueReader::In(std::string_view key) {
  path_.insert(0, "." + std::string(key));
  return false;
}

bool ValueReader::At(uint32_t index) {
  path_.insert(0, "[" + std::to_string(index) + "]");
  return false;
}

Status ValueReader::Error(const char* what, std::string_view base) const {
  return Status::Corruption(std::string(what) + ": " + std::string(base) + path_ + ": " + reason_);
}

}  // namespace raftlog::wire::detail
