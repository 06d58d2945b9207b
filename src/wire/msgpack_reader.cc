#include "wire/msgpack_reader.h"

namespace raftlog::wire::detail {

const char* TypeName(Type type) {
  switch (type) {
    case Type::kEnd:
      return "nothing";
    case Type::kNil:
      return "nil";
    case Type::kBool:
      return "bool";
    case Type::kUint:
      return "uint";
    case Type::kNegativeInt:
      return "negative int";
    case Type::kFloat32:
      return "float32";
    case Type::kFloat64:
      return "float64";
    case Type::kStr:
      return "str";
    case Type::kBin:
      return "bin";
    case Type::kArray:
      return "array";
    case Type::kMap:
      return "map";
    case Type::kExt:
      return "ext";
    case Type::kInvalid:
      return "the invalid byte 0xc1";
  }
  return "unknown";
}

std::string Reader::error() const {
  switch (error_) {
    case Error::kNone:
      return "";
    case Error::kTruncated:
      return "truncated frame (" + std::to_string(end_ - begin_) + " bytes)";
    case Error::kType:
      return std::string("expected ") + expected_ + ", got " + TypeName(found_);
    case Error::kLength: {
      const bool container = found_ == Type::kArray || found_ == Type::kMap;
      return std::string(found_ == Type::kArray ? "an " : "a ") + TypeName(found_) + " of " +
             std::to_string(length_) +
             (found_ == Type::kMap ? " pairs"
              : container          ? " elements"
                                   : " bytes") +
             " is over the limit of " + std::to_string(max_);
    }
  }
  return "";
}

}  // namespace raftlog::wire::detail
