#include "raftlog/wire/client_ops.h"

#include <array>

namespace raftlog::wire {

namespace {

constexpr std::array kRoles = {core::Role::kFollower, core::Role::kPreCandidate,
                               core::Role::kCandidate, core::Role::kLeader};

// Reads body keys by name; a missing key or a wrong type is a Corruption
// naming the key. Unknown keys are left alone (forward compatibility).
class Fields {
 public:
  Fields(const Value::Map& map, std::string where) : map_(map), where_(std::move(where)) {}

  Status Uint(const char* key, uint64_t* v) const {
    const Value* f = Get(key, Value::Kind::kUint);
    if (f != nullptr) *v = f->as_uint();
    return status_;
  }
  Status Bool(const char* key, bool* v) const {
    const Value* f = Get(key, Value::Kind::kBool);
    if (f != nullptr) *v = f->as_bool();
    return status_;
  }
  Status Str(const char* key, std::string* v) const {
    const Value* f = Get(key, Value::Kind::kStr);
    if (f != nullptr) *v = f->as_str();
    return status_;
  }
  // nullptr (and ok) when absent.
  const Value* Optional(const char* key) const {
    for (const auto& [k, v] : map_) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  Status Fail(const std::string& what) const { return Status::Corruption(where_ + ": " + what); }

 private:
  const Value* Get(const char* key, Value::Kind kind) const {
    if (!status_.ok()) return nullptr;
    const Value* v = Optional(key);
    if (v == nullptr) {
      status_ = Fail(std::string("missing key '") + key + "'");
    } else if (v->kind() != kind) {
      status_ = Fail(std::string("key '") + key + "': expected " + KindName(kind) + ", got " +
                     KindName(v->kind()));
      v = nullptr;
    }
    return v;
  }

  const Value::Map& map_;
  std::string where_;
  mutable Status status_;  // the first failure; later reads are no-ops
};

Value::Map EncodePeer(const PeerStatus& p) {
  return {{"id", Value::Uint(p.id)},
          {"match", Value::Uint(p.match)},
          {"next", Value::Uint(p.next)},
          {"lag", Value::Uint(p.lag)},
          {"replicating", Value::Bool(p.replicating)},
          {"active", Value::Bool(p.active)}};
}

Status DecodePeer(const Value& v, size_t i, PeerStatus* p) {
  Fields f(v.as_map(), "status body: peers[" + std::to_string(i) + "]");
  if (v.kind() != Value::Kind::kMap) return f.Fail("expected map");
  f.Uint("id", &p->id);
  f.Uint("match", &p->match);
  f.Uint("next", &p->next);
  f.Uint("lag", &p->lag);
  f.Bool("replicating", &p->replicating);
  return f.Bool("active", &p->active);
}

}  // namespace

Value::Map EncodeStatusBody(const NodeStatus& s) {
  Value::Map body = {{"id", Value::Uint(s.id)},
                     {"role", Value::Str(core::RoleName(s.role))},
                     {"term", Value::Uint(s.term)},
                     {"leader", Value::Uint(s.leader)},
                     {"commit_index", Value::Uint(s.commit_index)},
                     {"applied_index", Value::Uint(s.applied_index)},
                     {"head_index", Value::Uint(s.head_index)},
                     {"last_index", Value::Uint(s.last_index)}};
  if (s.role == core::Role::kLeader) {
    Value::Array peers;
    peers.reserve(s.peers.size());
    for (const PeerStatus& p : s.peers) peers.push_back(Value::MakeMap(EncodePeer(p)));
    body.emplace_back("peers", Value::MakeArray(std::move(peers)));
  }
  return body;
}

Status DecodeStatusBody(const Value::Map& body, NodeStatus* out) {
  Fields f(body, "status body");
  std::string role;
  f.Uint("id", &out->id);
  f.Str("role", &role);
  f.Uint("term", &out->term);
  f.Uint("leader", &out->leader);
  f.Uint("commit_index", &out->commit_index);
  f.Uint("applied_index", &out->applied_index);
  f.Uint("head_index", &out->head_index);
  Status s = f.Uint("last_index", &out->last_index);
  if (!s.ok()) return s;
  bool known = false;
  for (core::Role r : kRoles) {
    if (role == core::RoleName(r)) {
      out->role = r;
      known = true;
    }
  }
  if (!known) return f.Fail("unknown role \"" + role + "\"");
  out->peers.clear();
  const Value* peers = f.Optional("peers");
  if (peers == nullptr) return Status::Ok();
  if (peers->kind() != Value::Kind::kArray) {
    return f.Fail(std::string("key 'peers': expected array, got ") + KindName(peers->kind()));
  }
  out->peers.resize(peers->as_array().size());
  for (size_t i = 0; i < out->peers.size(); ++i) {
    s = DecodePeer(peers->as_array()[i], i, &out->peers[i]);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Value::Map EncodeNotLeaderBody(const NotLeaderInfo& info) {
  return {{"message", Value::Str(info.message)},
          {"leader", Value::Uint(info.leader)},
          {"leader_endpoint", Value::Str(info.leader_endpoint)}};
}

Status DecodeNotLeaderBody(const Value::Map& body, NotLeaderInfo* out) {
  Fields f(body, "not_leader body");
  f.Str("message", &out->message);
  f.Uint("leader", &out->leader);
  return f.Str("leader_endpoint", &out->leader_endpoint);
}

}  // namespace raftlog::wire
