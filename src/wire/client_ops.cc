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

Value IdArray(const std::vector<core::NodeId>& ids) {
  Value::Array a;
  a.reserve(ids.size());
  for (core::NodeId id : ids) a.push_back(Value::Uint(id));
  return Value::MakeArray(std::move(a));
}

// An optional array of uints; absent: empty.
Status DecodeIds(const Fields& f, const char* key, std::vector<core::NodeId>* out) {
  out->clear();
  const Value* v = f.Optional(key);
  if (v == nullptr) return Status::Ok();
  if (v->kind() != Value::Kind::kArray) {
    return f.Fail(std::string("key '") + key + "': expected array, got " + KindName(v->kind()));
  }
  for (const Value& x : v->as_array()) {
    if (x.kind() != Value::Kind::kUint) {
      return f.Fail(std::string("key '") + key + "': expected uints, got " + KindName(x.kind()));
    }
    out->push_back(x.as_uint());
  }
  return Status::Ok();
}

Value::Map EncodeMember(const MemberEndpoints& m) {
  return {{"id", Value::Uint(m.id)},
          {"peer", Value::Str(m.peer)},
          {"client", Value::Str(m.client)},
          {"pub", Value::Str(m.pub)}};
}

// An optional array of maps, each read by `one`; absent: empty.
template <typename T, typename F>
Status DecodeList(const Fields& f, const char* key, std::vector<T>* out, F one) {
  out->clear();
  const Value* v = f.Optional(key);
  if (v == nullptr) return Status::Ok();
  if (v->kind() != Value::Kind::kArray) {
    return f.Fail(std::string("key '") + key + "': expected array, got " + KindName(v->kind()));
  }
  out->resize(v->as_array().size());
  for (size_t i = 0; i < out->size(); ++i) {
    const Value& x = v->as_array()[i];
    const std::string where = std::string("status body: ") + key + "[" + std::to_string(i) + "]";
    if (x.kind() != Value::Kind::kMap) return Status::Corruption(where + ": expected map");
    Fields g(x.as_map(), where);
    Status s = one(g, &(*out)[i]);
    if (!s.ok()) return s;
  }
  return Status::Ok();
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
  // The configuration; peers, when present, stay the last key.
  body.emplace_back("voters", IdArray(s.voters));
  body.emplace_back("voters_outgoing", IdArray(s.voters_outgoing));
  body.emplace_back("learners", IdArray(s.learners));
  body.emplace_back("config_index", Value::Uint(s.config_index));
  Value::Array members;
  for (const MemberEndpoints& m : s.members) members.push_back(Value::MakeMap(EncodeMember(m)));
  body.emplace_back("members", Value::MakeArray(std::move(members)));
  body.emplace_back("config_phase", Value::Str(s.config_phase));
  Value::Array catch_up;
  for (const CatchUpStatus& c : s.catch_up) {
    catch_up.push_back(
        Value::MakeMap({{"id", Value::Uint(c.id)}, {"behind", Value::Uint(c.behind)}}));
  }
  body.emplace_back("catch_up", Value::MakeArray(std::move(catch_up)));
  body.emplace_back("transfer_target", Value::Uint(s.transfer_target));
  body.emplace_back("config_error", Value::Str(s.config_error));
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
  // The configuration's keys are optional (older servers send none).
  if (s = DecodeIds(f, "voters", &out->voters); !s.ok()) return s;
  if (s = DecodeIds(f, "voters_outgoing", &out->voters_outgoing); !s.ok()) return s;
  if (s = DecodeIds(f, "learners", &out->learners); !s.ok()) return s;
  out->config_index = 0;
  if (f.Optional("config_index") != nullptr) {
    if (s = f.Uint("config_index", &out->config_index); !s.ok()) return s;
  }
  out->config_phase = "stable";
  if (f.Optional("config_phase") != nullptr) {
    if (s = f.Str("config_phase", &out->config_phase); !s.ok()) return s;
  }
  out->transfer_target = core::kNoNode;
  if (f.Optional("transfer_target") != nullptr) {
    if (s = f.Uint("transfer_target", &out->transfer_target); !s.ok()) return s;
  }
  out->config_error.clear();
  if (f.Optional("config_error") != nullptr) {
    if (s = f.Str("config_error", &out->config_error); !s.ok()) return s;
  }
  s = DecodeList(f, "members", &out->members, [](const Fields& g, MemberEndpoints* m) {
    g.Uint("id", &m->id);
    g.Str("peer", &m->peer);
    g.Str("client", &m->client);
    return g.Str("pub", &m->pub);
  });
  if (!s.ok()) return s;
  s = DecodeList(f, "catch_up", &out->catch_up, [](const Fields& g, CatchUpStatus* c) {
    g.Uint("id", &c->id);
    return g.Uint("behind", &c->behind);
  });
  if (!s.ok()) return s;
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

Value::Map EncodeMemberArgs(const MemberEndpoints& m, bool with_endpoints) {
  if (!with_endpoints) return {{"id", Value::Uint(m.id)}};
  return EncodeMember(m);
}

Status DecodeMemberArgs(const Value::Map& args, bool with_endpoints, MemberEndpoints* out) {
  Fields f(args, "args");
  Status s = f.Uint("id", &out->id);
  if (!s.ok()) return s;
  if (out->id == core::kNoNode) return f.Fail("id must be a positive integer");
  if (!with_endpoints) return Status::Ok();
  f.Str("peer", &out->peer);
  s = f.Str("client", &out->client);
  if (!s.ok()) return s;
  out->pub.clear();
  if (f.Optional("pub") != nullptr) {
    if (s = f.Str("pub", &out->pub); !s.ok()) return s;
  }
  if (out->peer.empty()) return f.Fail("empty peer endpoint");
  if (out->client.empty()) return f.Fail("empty client endpoint");
  return Status::Ok();
}

Value::Map EncodeChangeResult(const ChangeResult& r) {
  return {{"index", Value::Uint(r.index)},
          {"term", Value::Uint(r.term)},
          {"phase", Value::Str(r.phase)},
          {"voters", IdArray(r.voters)},
          {"learners", IdArray(r.learners)}};
}

Status DecodeChangeResult(const Value::Map& body, ChangeResult* out) {
  Fields f(body, "change reply body");
  f.Uint("index", &out->index);
  f.Uint("term", &out->term);
  Status s = f.Str("phase", &out->phase);
  if (!s.ok()) return s;
  if (s = DecodeIds(f, "voters", &out->voters); !s.ok()) return s;
  return DecodeIds(f, "learners", &out->learners);
}

}  // namespace raftlog::wire
