// Raft messages as plain structs. The wire layer (src/wire) encodes them;
// the core never sees bytes.
//
// Every message has a header (from, to, term) and one body. Pre-vote reuses
// the vote messages with pre_vote set: a pre-vote request carries the term the
// candidate would stand in, and nobody changes its term or vote for it.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "raftlog/core/types.h"

namespace raftlog::core {

struct RequestVote {
  LogIndex last_log_index = 0;
  Term last_log_term = 0;
  bool pre_vote = false;
  // Set when the leader asked for this election (TimeoutNow, a leadership
  // transfer): voters answer it even while they hear from a live leader.
  bool transfer = false;
  bool operator==(const RequestVote&) const = default;
};

struct RequestVoteReply {
  bool granted = false;
  bool pre_vote = false;
  bool operator==(const RequestVoteReply&) const = default;
};

// Also the heartbeat (no entries). seq numbers the leader's sends; replies
// echo it, which is how heartbeat()/last_heartbeat_ack() and ReadIndex learn
// that a majority still follows.
struct AppendEntries {
  LogIndex prev_log_index = 0;
  Term prev_log_term = 0;
  LogIndex leader_commit = 0;
  std::vector<Entry> entries;
  uint64_t seq = 0;
  bool operator==(const AppendEntries&) const = default;
};

// success: the follower's log matches the leader's through match_index.
// failure: the follower's log has no entry prev_log_index (echoed in
// match_index) with prev_log_term. The hint lets the leader skip a whole term
// per round trip instead of one index: hint_index is the largest index at or
// below the rejected one whose term (hint_term) is at most prev_log_term in
// the follower's log, or the follower's last index when its log is shorter.
struct AppendEntriesReply {
  bool success = false;
  LogIndex match_index = 0;
  LogIndex hint_index = 0;
  Term hint_term = 0;
  uint64_t seq = 0;
  bool operator==(const AppendEntriesReply&) const = default;
};

// One chunk of the leader's snapshot (Raft §7), from offset; done on the
// last one (offset + data.size() == snapshot.size). seq as in
// AppendEntries.
struct InstallSnapshot {
  SnapshotHead snapshot;
  uint64_t offset = 0;
  std::string data;
  bool done = false;
  uint64_t seq = 0;
  bool operator==(const InstallSnapshot&) const = default;
};

// installed: the follower holds the snapshot's entries, as the snapshot or
// in its log, and its log matches the leader's through match_index.
// Otherwise next_offset is how much of snapshot_index's data it has taken:
// the leader goes on from there (0: from the start).
struct InstallSnapshotReply {
  LogIndex snapshot_index = 0;
  uint64_t next_offset = 0;
  bool installed = false;
  LogIndex match_index = 0;
  uint64_t seq = 0;
  bool operator==(const InstallSnapshotReply&) const = default;
};

// Leadership transfer: the leader tells the target, whose log it has
// brought up to date, to stand for election at once (thesis §3.10).
struct TimeoutNow {
  bool operator==(const TimeoutNow&) const = default;
};

// A follower asks its leader to hand leadership over to it (the seed
// crate's start_election on a node that follows a live leader).
struct TransferRequest {
  bool operator==(const TransferRequest&) const = default;
};

// ReadIndex (thesis §6.4): a follower asks its leader for a read index on
// behalf of a local read identified by ctx; the leader answers once a
// heartbeat round confirmed it still leads. index 0 with ok false: the
// leader could not serve it (not yet committed an entry of its term, or
// stepping down); the follower tells its reader to try again.
struct ReadIndexRequest {
  uint64_t ctx = 0;
  bool operator==(const ReadIndexRequest&) const = default;
};
struct ReadIndexReply {
  uint64_t ctx = 0;
  LogIndex index = 0;
  bool ok = false;
  bool operator==(const ReadIndexReply&) const = default;
};

enum class MessageType : uint8_t {
  kRequestVote = 1,
  kRequestVoteReply = 2,
  kAppendEntries = 3,
  kAppendEntriesReply = 4,
  kInstallSnapshot = 5,
  kInstallSnapshotReply = 6,
  kTimeoutNow = 7,
  kTransferRequest = 8,
  kReadIndexRequest = 9,
  kReadIndexReply = 10,
};
const char* MessageTypeName(MessageType type);

struct Message {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;
  using Body = std::variant<RequestVote, RequestVoteReply, AppendEntries, AppendEntriesReply,
                            InstallSnapshot, InstallSnapshotReply, TimeoutNow, TransferRequest,
                            ReadIndexRequest, ReadIndexReply>;
  Body body;

  MessageType type() const { return static_cast<MessageType>(body.index() + 1); }
  bool operator==(const Message&) const = default;
};

// One line, for traces and logs: "AppendEntries 1->2 t3 prev=4/2 n=3 commit=4 seq=9".
std::string Describe(const Message& m);

}  // namespace raftlog::core
