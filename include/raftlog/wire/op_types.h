// The typed bodies of the client ops status, append and fetch as plain
// structs (docs/protocol.md, "Client endpoint"): what raftlog::Client hands
// out. Their conversions from and to the envelope's Value maps are in
// client_ops.h and log_ops.h; this header leaves the generic Value model
// (value.h) out, and so does the public client API that includes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftlog/core/types.h"

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

// A member's endpoints, as the address book holds them (status `members`;
// the args of add_learner and add_node).
struct MemberEndpoints {
  core::NodeId id = core::kNoNode;
  std::string peer;    // its peer endpoint
  std::string client;  // its client endpoint
  std::string pub;     // its PUB endpoint; may be empty
  bool operator==(const MemberEndpoints&) const = default;
};

// A new voter catching up, as the leader sees it (status `catch_up`).
struct CatchUpStatus {
  core::NodeId id = core::kNoNode;
  core::LogIndex behind = 0;  // entries behind the leader's last index
  bool operator==(const CatchUpStatus&) const = default;
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
  // The configuration in force on this node (membership ops below). Absent
  // from the replies of older servers: then all empty.
  std::vector<core::NodeId> voters = {};
  std::vector<core::NodeId> voters_outgoing = {};  // non-empty: joint consensus
  std::vector<core::NodeId> learners = {};
  core::LogIndex config_index = 0;            // the entry it comes from (0: bootstrap or unknown)
  std::vector<MemberEndpoints> members = {};  // the address book (may be empty)
  // The leader's change in progress: "stable", "catch-up", "joint" or
  // "final" ("stable" on other roles), the new voters catching up, and a
  // leadership transfer's target (0: none).
  std::string config_phase = "stable";
  std::vector<CatchUpStatus> catch_up = {};
  core::NodeId transfer_target = core::kNoNode;
  // Why this node (as leader) last gave up a change; empty: never.
  std::string config_error = {};
  bool operator==(const NodeStatus&) const = default;
};

// Membership (docs/protocol.md, "Membership ops"); the leader answers,
// others reply not_leader. The ok reply comes once the leader accepted the
// change (it is in progress; the client polls status for its outcome):
// body ChangeResult.
//   add_learner {id, peer, client, pub?}: a non-voting member
//   add_node    {id, peer, client, pub?}: a voter, which catches up first
//   promote     {id}: a learner becomes a voter
//   remove_node {id}
inline constexpr const char* kAddLearnerOp = "add_learner";
inline constexpr const char* kAddNodeOp = "add_node";
inline constexpr const char* kPromoteOp = "promote";
inline constexpr const char* kRemoveNodeOp = "remove_node";

struct ChangeResult {
  core::LogIndex index = 0;  // first entry appended; 0 while new voters catch up
  core::Term term = 0;
  std::string phase;                   // the change's phase once accepted
  std::vector<core::NodeId> voters;    // the target
  std::vector<core::NodeId> learners;  // the target
};

// op "transfer_leader" {id?}: the leader hands over to id (none: the most
// up-to-date other voter); body {target}. The outcome shows in status.
inline constexpr const char* kTransferLeaderOp = "transfer_leader";

// op "read_index" {}: any node; answered once the leader confirmed it still
// led after the request arrived and this node applied through `index`:
// body {index}. Reading from this node afterwards (fetch up to index) is
// linearizable.
inline constexpr const char* kReadIndexOp = "read_index";

// op "snapshot": no args. The node saves a snapshot of what it has applied
// (or, when nothing was applied since its latest, names that one) and
// answers once it is durable: body {index, term, bytes}, the snapshot's
// last index, that entry's term and the size of its data.
inline constexpr const char* kSnapshotOp = "snapshot";

struct SnapshotResult {
  core::LogIndex index = 0;
  core::Term term = 0;
  uint64_t bytes = 0;
};

// op "append": args {payload: bin}. Appends one Command entry; the ok reply
// comes once it is committed (durable on a majority): body {index, term}.
inline constexpr const char* kAppendOp = "append";

struct AppendArgs {
  std::string payload;
};

struct AppendResult {
  core::LogIndex index = 0;
  core::Term term = 0;
};

// op "fetch": args {from: uint, max_count?: uint, max_bytes?: uint}. Any
// node answers with committed entries from `from` on, at most max_count
// and (beyond the first) max_bytes of payload: body {entries: [[index,
// term, type, data], ...], commit_index, head_index}. A `from` at or below
// the log head gets not_found with body.earliest = head_index + 1.
inline constexpr const char* kFetchOp = "fetch";
inline constexpr uint64_t kFetchDefaultCount = 1000;
inline constexpr uint64_t kFetchMaxCount = 100000;
inline constexpr uint64_t kFetchDefaultBytes = 1 << 20;
inline constexpr uint64_t kFetchMaxBytes = 16 << 20;

struct FetchArgs {
  core::LogIndex from = 1;
  uint64_t max_count = kFetchDefaultCount;
  uint64_t max_bytes = kFetchDefaultBytes;
};

struct FetchResult {
  std::vector<core::Entry> entries;  // index, term, type, data (no configs)
  core::LogIndex commit_index = 0;
  core::LogIndex head_index = 0;
};

}  // namespace raftlog::wire
