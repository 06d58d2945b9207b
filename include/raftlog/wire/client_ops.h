// The status op's body (op_types.h) and the not_leader reply's, from and to
// the generic Value maps of the envelope (client_codec.h). The rules (keys,
// types, meaning) are in docs/protocol.md.
//
// Parsing ignores keys it does not know, so a server may add keys without a
// version change; a known key with the wrong type is an error (Corruption).
#pragma once

#include <string>

#include "raftlog/core/types.h"
#include "raftlog/status.h"
#include "raftlog/wire/op_types.h"
#include "raftlog/wire/value.h"

namespace raftlog::wire {

Value::Map EncodeStatusBody(const NodeStatus& status);
Status DecodeStatusBody(const Value::Map& body, NodeStatus* out);

// The body of a "not_leader" reply.
struct NotLeaderInfo {
  core::NodeId leader = core::kNoNode;  // 0: unknown
  std::string leader_endpoint;          // the leader's client endpoint; may be empty
  std::string message;
  bool operator==(const NotLeaderInfo&) const = default;
};

Value::Map EncodeNotLeaderBody(const NotLeaderInfo& info);
Status DecodeNotLeaderBody(const Value::Map& body, NotLeaderInfo* out);

// Membership ops: args {id} (promote, remove_node) or {id, peer, client,
// pub?} (add_learner, add_node; with_endpoints). Corruption naming what is
// wrong: a missing id, id 0, missing or empty endpoints.
Value::Map EncodeMemberArgs(const MemberEndpoints& m, bool with_endpoints);
Status DecodeMemberArgs(const Value::Map& args, bool with_endpoints, MemberEndpoints* out);
Value::Map EncodeChangeResult(const ChangeResult& r);
Status DecodeChangeResult(const Value::Map& body, ChangeResult* out);

}  // namespace raftlog::wire
