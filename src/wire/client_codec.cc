// The client envelope: [version, request_id, op|code, args|body], see
// docs/protocol.md. The maps are read into and written from Value trees;
// this is not the replication hot path, so clarity wins over avoiding
// copies.

#include "raftlog/wire/client_codec.h"

#include <string_view>

#include "raftlog/wire/client_ops.h"
#include "wire/client_frame.h"
#include "wire/msgpack_util.h"

namespace raftlog::wire {

namespace {

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

// Decodes [version, request_id, word, map] where word is the op or the code.
Status DecodeEnvelope(const char* data, size_t size, const DecodeLimits& limits, const char* what,
                      const char* word_name, const char* map_name, uint64_t* request_id,
                      std::string* word, Value::Map* map) {
  detail::Reader r(data, size);
  std::string_view w;
  Status s = detail::ReadHead(r, limits, what, word_name, request_id, &w);
  if (!s.ok()) return s;
  word->assign(w);
  detail::ValueReader values(&r, limits);
  if (!values.ReadMap(2, map)) return values.Error(what, map_name);
  return detail::ReadEnd(r, what);
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

bool PeekHead(const char* data, size_t size, uint64_t* request_id, std::string_view* word) {
  detail::Reader r(data, size);
  uint32_t n = 0;
  uint64_t version = 0;
  return r.array(&n) && n == 4 && r.uint(&version) && version == kClientVersion &&
         r.uint(request_id) && r.str(word);
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
