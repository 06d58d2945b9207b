// The client envelope: [version, request_id, op|code, args|body], see
// docs/protocol.md. The maps are converted to and from Value trees; this is
// not the replication hot path, so clarity wins over avoiding copies.

#include "raftlog/wire/client_codec.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "raftlog/wire/client_ops.h"
#include "wire/msgpack_reader.h"
#include "wire/msgpack_util.h"

namespace raftlog::wire {

namespace {

using msgpack::object;
using msgpack::type::object_type;

void PackValue(detail::Packer& pk, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil:
      pk.pack_nil();
      return;
    case Value::Kind::kBool:
      pk.pack(v.as_bool());
      return;
    case Value::Kind::kInt:
      pk.pack_int64(v.as_int());
      return;
    case Value::Kind::kUint:
      pk.pack_uint64(v.as_uint());
      return;
    case Value::Kind::kStr:
      pk.pack_str(static_cast<uint32_t>(v.as_str().size()));
      pk.pack_str_body(v.as_str().data(), static_cast<uint32_t>(v.as_str().size()));
      return;
    case Value::Kind::kBin:
      pk.pack_bin(static_cast<uint32_t>(v.as_str().size()));
      pk.pack_bin_body(v.as_str().data(), static_cast<uint32_t>(v.as_str().size()));
      return;
    case Value::Kind::kArray:
      pk.pack_array(static_cast<uint32_t>(v.as_array().size()));
      for (const Value& e : v.as_array()) PackValue(pk, e);
      return;
    case Value::Kind::kMap:
      pk.pack_map(static_cast<uint32_t>(v.as_map().size()));
      for (const auto& [key, value] : v.as_map()) {
        pk.pack_str(static_cast<uint32_t>(key.size()));
        pk.pack_str_body(key.data(), static_cast<uint32_t>(key.size()));
        PackValue(pk, value);
      }
      return;
  }
}

void PackEnvelope(uint64_t request_id, const std::string& word, const Value::Map& map,
                  std::string* out) {
  detail::StringSink sink(out);
  detail::Packer pk(sink);
  pk.pack_array(4);
  pk.pack_uint64(kClientVersion);
  pk.pack_uint64(request_id);
  pk.pack_str(static_cast<uint32_t>(word.size()));
  pk.pack_str_body(word.data(), static_cast<uint32_t>(word.size()));
  pk.pack_map(static_cast<uint32_t>(map.size()));
  for (const auto& [key, value] : map) {
    pk.pack_str(static_cast<uint32_t>(key.size()));
    pk.pack_str_body(key.data(), static_cast<uint32_t>(key.size()));
    PackValue(pk, value);
  }
}

// Converts a parsed msgpack object to a Value. path names the position for
// error messages ("args.events[3]"); it grows and shrinks as the walk goes.
// Recursion is bounded by the unpack depth limit.
class Converter {
 public:
  explicit Converter(const char* what) : what_(what) {}

  Status ToMap(const object& o, std::string path, Value::Map* out) {
    path_ = std::move(path);
    if (o.type != object_type::MAP) return Fail("expected map, got " + Type(o));
    return ConvertMap(o, out);
  }

 private:
  Status Convert(const object& o, Value* out) {
    switch (o.type) {
      case object_type::NIL:
        *out = Value();
        return Status::Ok();
      case object_type::BOOLEAN:
        *out = Value::Bool(o.via.boolean);
        return Status::Ok();
      case object_type::POSITIVE_INTEGER:
        *out = Value::Uint(o.via.u64);
        return Status::Ok();
      case object_type::NEGATIVE_INTEGER:
        *out = Value::Int(o.via.i64);
        return Status::Ok();
      case object_type::STR:
        *out = Value::Str(std::string(o.via.str.ptr, o.via.str.size));
        return Status::Ok();
      case object_type::BIN:
        *out = Value::Bin(std::string(o.via.bin.ptr, o.via.bin.size));
        return Status::Ok();
      case object_type::ARRAY: {
        *out = Value::MakeArray();
        Value::Array& a = out->as_array();
        a.resize(o.via.array.size);
        const size_t mark = path_.size();
        for (uint32_t i = 0; i < o.via.array.size; ++i) {
          path_.resize(mark);
          path_ += "[" + std::to_string(i) + "]";
          Status s = Convert(o.via.array.ptr[i], &a[i]);
          if (!s.ok()) return s;
        }
        path_.resize(mark);
        return Status::Ok();
      }
      case object_type::MAP:
        *out = Value::MakeMap();
        return ConvertMap(o, &out->as_map());
      default:
        return Fail(Type(o) + " is not allowed (only nil, bool, int, str, bin, array, map)");
    }
  }

  Status ConvertMap(const object& o, Value::Map* out) {
    out->clear();
    out->reserve(o.via.map.size);
    const size_t mark = path_.size();
    for (uint32_t i = 0; i < o.via.map.size; ++i) {
      const object& key = o.via.map.ptr[i].key;
      if (key.type != object_type::STR) {
        return Fail("map key " + std::to_string(i) + ": expected str, got " + Type(key));
      }
      out->emplace_back(std::string(key.via.str.ptr, key.via.str.size), Value());
      path_.resize(mark);
      path_ += "." + out->back().first;
      Status s = Convert(o.via.map.ptr[i].val, &out->back().second);
      if (!s.ok()) return s;
    }
    path_.resize(mark);
    // Duplicate keys would make a lookup ambiguous: reject them.
    std::vector<std::string_view> keys;
    keys.reserve(out->size());
    for (const auto& kv : *out) keys.push_back(kv.first);
    std::sort(keys.begin(), keys.end());
    auto dup = std::adjacent_find(keys.begin(), keys.end());
    if (dup != keys.end()) return Fail("duplicate map key \"" + std::string(*dup) + "\"");
    return Status::Ok();
  }

  Status Fail(const std::string& what) const {
    return Status::Corruption(std::string(what_) + ": " + path_ + ": " + what);
  }
  static std::string Type(const object& o) { return detail::TypeName(o.type); }

  const char* what_;
  std::string path_;
};

msgpack::unpack_limit ClientUnpackLimit(const DecodeLimits& limits) {
  return msgpack::unpack_limit(limits.max_container_length, limits.max_container_length,
                               limits.max_string_bytes, limits.max_entry_bytes, /*ext=*/0,
                               limits.max_depth);
}

// Decodes [version, request_id, word, map] where word is the op or the code.
Status DecodeEnvelope(const char* data, size_t size, const DecodeLimits& limits, const char* what,
                      const char* word_name, const char* map_name, uint64_t* request_id,
                      std::string* word, Value::Map* map) {
  auto fail = [what](const std::string& msg) {
    return Status::Corruption(std::string(what) + ": " + msg);
  };
  auto unsupported = [what](uint64_t version) {
    return Status::NotSupported(std::string(what) + ": unsupported version " +
                                std::to_string(version) + " (this node speaks " +
                                std::to_string(kClientVersion) + ")");
  };
  *request_id = 0;
  if (size > limits.max_frame_bytes) {
    return fail("frame of " + std::to_string(size) + " bytes exceeds the limit of " +
                std::to_string(limits.max_frame_bytes));
  }
  uint64_t version = 0;
  if (detail::PeekVersion(data, size, &version) && version != kClientVersion) {
    return unsupported(version);
  }
  msgpack::object_handle handle;
  Status s = detail::Unpack(data, size, ClientUnpackLimit(limits), what, &handle);
  if (!s.ok()) {
    // Refused whole (a limit, a bad byte further on): the error still goes
    // to the right request when its head can be read.
    detail::Reader r(data, size);
    uint32_t n = 0;
    uint64_t v = 0;
    if (r.array(&n) && n >= 2 && r.uint(&v)) r.uint(request_id);
    return s;
  }
  const object& root = handle.get();
  if (root.type != object_type::ARRAY) {
    return fail(std::string("expected array, got ") + detail::TypeName(root.type));
  }
  const object* f = root.via.array.ptr;
  const uint32_t n = root.via.array.size;
  if (n < 1 || f[0].type != object_type::POSITIVE_INTEGER) {
    return fail("field 'version': expected uint");
  }
  if (f[0].via.u64 != kClientVersion) return unsupported(f[0].via.u64);
  if (n >= 2 && f[1].type == object_type::POSITIVE_INTEGER) *request_id = f[1].via.u64;
  if (n != 4) return fail("expected 4 fields, got " + std::to_string(n));
  if (f[1].type != object_type::POSITIVE_INTEGER) {
    return fail(std::string("field 'request_id': expected uint, got ") +
                detail::TypeName(f[1].type));
  }
  if (f[2].type != object_type::STR) {
    return fail(std::string("field '") + word_name + "': expected str, got " +
                detail::TypeName(f[2].type));
  }
  word->assign(f[2].via.str.ptr, f[2].via.str.size);
  if (word->empty()) return fail(std::string("field '") + word_name + "' is empty");
  return Converter(what).ToMap(f[3], map_name, map);
}

}  // namespace

void EncodeValue(const Value& v, std::string* out) {
  detail::StringSink sink(out);
  detail::Packer pk(sink);
  PackValue(pk, v);
}

void EncodeRequest(const ClientRequest& request, std::string* out) {
  PackEnvelope(request.request_id, request.op, request.args, out);
}

void EncodeReply(const ClientReply& reply, std::string* out) {
  PackEnvelope(reply.request_id, reply.code, reply.body, out);
}

Status DecodeRequest(const char* data, size_t size, const DecodeLimits& limits,
                     ClientRequest* out) {
  return DecodeEnvelope(data, size, limits, "client request", "op", "args", &out->request_id,
                        &out->op, &out->args);
}

Status DecodeReply(const char* data, size_t size, const DecodeLimits& limits, ClientReply* out) {
  return DecodeEnvelope(data, size, limits, "client reply", "code", "body", &out->request_id,
                        &out->code, &out->body);
}

const char* ReplyCodeFor(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return kOk;
    case Status::Code::kNotLeader:
      return kNotLeader;
    case Status::Code::kBusy:
      return kBusy;
    case Status::Code::kInvalidInput:
    case Status::Code::kNotSupported:
      return kInvalidInput;
    case Status::Code::kNotFound:
      return kNotFound;
    default:
      return kError;
  }
}

ClientReply ErrorReply(uint64_t request_id, const Status& status) {
  ClientReply reply;
  reply.request_id = request_id;
  reply.code = ReplyCodeFor(status);
  if (status.IsNotLeader()) {
    reply.body = EncodeNotLeaderBody({status.leader_hint(), "", status.message()});
  } else {
    reply.body.emplace_back("message", Value::Str(status.message()));
  }
  return reply;
}

}  // namespace raftlog::wire
