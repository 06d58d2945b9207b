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
