// Typed bodies of the client ops defined so far, and their conversion from
// and to the generic Value maps of the envelope (client_codec.h). The rules
// (keys, types, meaning) are in docs/protocol.md.
//
// Parsing ignores keys it does not know, so a server may add keys without a
// version change; a known key with the wrong type is an error (Corruption).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftlog/core/types.h"
#include "raftlog/status.h"
#include "raftlog/wire/value.h"

namespace raftlog::wire {

// op "status": no args.
inline constexpr const char* kStatusOp = "status";

// How the leader sees one follower or learner.
struct PeerStatus {
  core::NodeId id = core::kNoNode;
  core::LogIndex match = 0;  // highest index known replicated on the peer
  core::LogIndex next = 0;   // next index the leader will send
  core::LogIndex lag = 0;    // leader's last_index - match
  bool replicating = false;  // streaming entries (not probing, not snapshotting)
  bool active = false;       // heard from within the last election timeout
  bool operator==(const PeerStatus&) const = default;
};

// The "status" reply body.
struct NodeStatus {
  core::NodeId id = core::kNoNode;
  core::Role role = core::Role::kFollower;
  core::Term term = 0;
  core::NodeId leader = core::kNoNode;  // 0: unknown
  core::LogIndex commit_index = 0;
  core::LogIndex applied_index = 0;
  core::LogIndex head_index = 0;  // last index covered by the snapshot
  core::LogIndex last_index = 0;  // last index in the log
  std::vector<PeerStatus> peers;  // the leader's view; encoded only when role is leader
  bool operator==(const NodeStatus&) const = default;
};

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

}  // namespace raftlog::wire
