// Value: the generic data model of client request arguments and reply
// bodies — exactly the msgpack types the client protocol allows (nil, bool,
// integers, str, bin, array, map with str keys). Floats and ext are not
// part of it.
//
// A non-negative integer is always kUint, a negative one kInt, whatever
// width it was encoded with; Value::Int() normalizes accordingly so that a
// value survives an encode/decode round trip unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace raftlog::wire {

class Value {
 public:
  enum class Kind : uint8_t { kNil, kBool, kInt, kUint, kStr, kBin, kArray, kMap };
  using Array = std::vector<Value>;
  // Keys are unique; order is kept as encoded.
  using Map = std::vector<std::pair<std::string, Value>>;

  Value() = default;  // nil
  static Value Bool(bool b);
  static Value Int(int64_t i);  // kUint when i >= 0
  static Value Uint(uint64_t u);
  static Value Str(std::string s);
  static Value Bin(std::string bytes);
  static Value MakeArray(Array a = {});
  static Value MakeMap(Map m = {});

  Kind kind() const { return kind_; }
  bool is_nil() const { return kind_ == Kind::kNil; }

  // Accessors; each requires the matching kind.
  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  uint64_t as_uint() const { return u_; }
  const std::string& as_str() const { return s_; }  // kStr and kBin
  const Array& as_array() const { return array_; }
  Array& as_array() { return array_; }
  const Map& as_map() const { return map_; }
  Map& as_map() { return map_; }

  // For a map: the value under key, or nullptr (also when this is not a map).
  const Value* Find(std::string_view key) const;
  // The value under key in map, or nullptr.
  static const Value* Find(const Map& map, std::string_view key);
  // Makes this a map (if it was not) and appends key -> v; the caller keeps
  // keys unique. Returns *this.
  Value& Set(std::string key, Value v);

  bool operator==(const Value&) const = default;

 private:
  Kind kind_ = Kind::kNil;
  bool b_ = false;
  int64_t i_ = 0;
  uint64_t u_ = 0;
  std::string s_;
  Array array_;
  Map map_;
};

const char* KindName(Value::Kind kind);

}  // namespace raftlog::wire
