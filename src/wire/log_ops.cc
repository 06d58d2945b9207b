#include "raftlog/wire/log_ops.h"

#include <algorithm>

namespace raftlog::wire {

namespace {

Status WrongType(const char* op, const char* key, const char* want) {
  return Status::Corruption(std::string(op) + ": '" + key + "' must be " + want);
}

// Reads an optional uint under key; ok and unchanged when absent.
Status OptionalUint(const Value::Map& map, const char* op, const char* key, uint64_t* out) {
  const Value* v = Value::Find(map, key);
  if (v == nullptr) return Status::Ok();
  if (v->kind() != Value::Kind::kUint) return WrongType(op, key, "an unsigned integer");
  *out = v->as_uint();
  return Status::Ok();
}

Status RequiredUint(const Value::Map& map, const char* op, const char* key, uint64_t* out) {
  const Value* v = Value::Find(map, key);
  if (v == nullptr) return Status::Corruption(std::string(op) + ": missing '" + key + "'");
  if (v->kind() != Value::Kind::kUint) return WrongType(op, key, "an unsigned integer");
  *out = v->as_uint();
  return Status::Ok();
}

}  // namespace

Value::Map EncodeAppendArgs(const AppendArgs& args) {
  return {{"payload", Value::Bin(args.payload)}};
}

Value::Map EncodeAppendResult(const AppendResult& r) {
  return {{"index", Value::Uint(r.index)}, {"term", Value::Uint(r.term)}};
}

Status DecodeAppendResult(const Value::Map& body, AppendResult* out) {
  Status s = RequiredUint(body, "append reply", "index", &out->index);
  if (s.ok()) s = RequiredUint(body, "append reply", "term", &out->term);
  return s;
}

Value::Map EncodeSnapshotResult(const SnapshotResult& r) {
  return {{"index", Value::Uint(r.index)},
          {"term", Value::Uint(r.term)},
          {"bytes", Value::Uint(r.bytes)}};
}

Status DecodeSnapshotResult(const Value::Map& body, SnapshotResult* out) {
  Status s = RequiredUint(body, "snapshot reply", "index", &out->index);
  if (s.ok()) s = RequiredUint(body, "snapshot reply", "term", &out->term);
  if (s.ok()) s = RequiredUint(body, "snapshot reply", "bytes", &out->bytes);
  return s;
}

Value::Map EncodeFetchArgs(const FetchArgs& a) {
  return {{"from", Value::Uint(a.from)},
          {"max_count", Value::Uint(a.max_count)},
          {"max_bytes", Value::Uint(a.max_bytes)}};
}

Status DecodeFetchArgs(const Value::Map& args, FetchArgs* out) {
  *out = FetchArgs();
  Status s = RequiredUint(args, "fetch", "from", &out->from);
  if (s.ok()) s = OptionalUint(args, "fetch", "max_count", &out->max_count);
  if (s.ok()) s = OptionalUint(args, "fetch", "max_bytes", &out->max_bytes);
  if (!s.ok()) return s;
  if (out->from == 0) return Status::InvalidInput("fetch: 'from' must be >= 1");
  out->max_count = std::clamp<uint64_t>(out->max_count, 1, kFetchMaxCount);
  out->max_bytes = std::clamp<uint64_t>(out->max_bytes, 1, kFetchMaxBytes);
  return Status::Ok();
}

Value::Map EncodeFetchResult(const FetchResult& r) {
  Value::Array entries;
  entries.reserve(r.entries.size());
  for (const core::Entry& e : r.entries) {
    entries.push_back(
        Value::MakeArray({Value::Uint(e.index), Value::Uint(e.term),
                          Value::Uint(static_cast<uint64_t>(e.type)), Value::Bin(e.data)}));
  }
  return {{"entries", Value::MakeArray(std::move(entries))},
          {"commit_index", Value::Uint(r.commit_index)},
          {"head_index", Value::Uint(r.head_index)}};
}

Status DecodeFetchResult(const Value::Map& body, FetchResult* out) {
  *out = FetchResult();
  Status s = RequiredUint(body, "fetch reply", "commit_index", &out->commit_index);
  if (s.ok()) s = RequiredUint(body, "fetch reply", "head_index", &out->head_index);
  if (!s.ok()) return s;
  const Value* entries = Value::Find(body, "entries");
  if (entries == nullptr || entries->kind() != Value::Kind::kArray) {
    return WrongType("fetch reply", "entries", "an array");
  }
  for (const Value& item : entries->as_array()) {
    const Value::Array* a = item.kind() == Value::Kind::kArray ? &item.as_array() : nullptr;
    if (a == nullptr || a->size() != 4 || (*a)[0].kind() != Value::Kind::kUint ||
        (*a)[1].kind() != Value::Kind::kUint || (*a)[2].kind() != Value::Kind::kUint ||
        (*a)[2].as_uint() > 2 || (*a)[3].kind() != Value::Kind::kBin) {
      return Status::Corruption("fetch reply: an entry must be [index, term, type 0..2, data]");
    }
    core::Entry e;
    e.index = (*a)[0].as_uint();
    e.term = (*a)[1].as_uint();
    e.type = static_cast<core::EntryType>((*a)[2].as_uint());
    e.data = (*a)[3].as_str();
    out->entries.push_back(std::move(e));
  }
  return Status::Ok();
}

}  // namespace raftlog::wire
