#include "raftlog/wire/value.h"

namespace raftlog::wire {

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}

Value Value::Int(int64_t i) {
  if (i >= 0) return Uint(static_cast<uint64_t>(i));
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}

Value Value::Uint(uint64_t u) {
  Value v;
  v.kind_ = Kind::kUint;
  v.u_ = u;
  return v;
}

Value Value::Str(std::string s) {
  Value v;
  v.kind_ = Kind::kStr;
  v.s_ = std::move(s);
  return v;
}

Value Value::Bin(std::string bytes) {
  Value v;
  v.kind_ = Kind::kBin;
  v.s_ = std::move(bytes);
  return v;
}

Value Value::MakeArray(Array a) {
  Value v;
  v.kind_ = Kind::kArray;
  v.array_ = std::move(a);
  return v;
}

Value Value::MakeMap(Map m) {
  Value v;
  v.kind_ = Kind::kMap;
  v.map_ = std::move(m);
  return v;
}

const Value* Value::Find(const Map& map, std::string_view key) {
  for (const auto& [k, v] : map) {
    if (k == key) return &v;
  }
  return nullptr;
}

const Value* Value::Find(std::string_view key) const {
  return kind_ == Kind::kMap ? Find(map_, key) : nullptr;
}

Value& Value::Set(std::string key, Value v) {
  kind_ = Kind::kMap;
  map_.emplace_back(std::move(key), std::move(v));
  return *this;
}

const char* KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNil:
      return "nil";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kUint:
      return "uint";
    case Value::Kind::kStr:
      return "str";
    case Value::Kind::kBin:
      return "bin";
    case Value::Kind::kArray:
      return "array";
    case Value::Kind::kMap:
      return "map";
  }
  return "unknown";
}

}  // namespace raftlog::wire
