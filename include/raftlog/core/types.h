// Plain value types of the Raft core: terms, indexes, entries, ballots and
// cluster configurations. The vocabulary follows the Raft paper and the seed
// crate (frugalos/raftlog): entries are Noop, Config or Command.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace raftlog::core {

// Node ids are positive; 0 means "nobody" (no vote, no known leader).
using NodeId = uint64_t;
using Term = uint64_t;
using LogIndex = uint64_t;  // the first entry of a log has index 1

constexpr NodeId kNoNode = 0;

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role role);

// Who a node voted for in which term (the seed's Ballot).
struct Ballot {
  Term term = 0;
  NodeId voted_for = kNoNode;
  bool operator==(const Ballot&) const = default;
};

// What must survive a restart besides the log. commit is an optimisation:
// a restarted node need not re-deliver what it had already delivered.
struct HardState {
  Term term = 0;
  NodeId voted_for = kNoNode;
  LogIndex commit = 0;
  bool operator==(const HardState&) const = default;
};

// The voting members of a cluster, and its non-voting learners. While
// voters_outgoing is non-empty the cluster is in joint consensus: a decision
// needs a majority of voters AND a majority of voters_outgoing.
//
// context is opaque to the core: what the runtime attaches to a
// configuration (raftlogd: every member's endpoints). It travels with the
// configuration through the log and snapshots, so a node that learns a
// configuration learns it too.
struct ClusterConfig {
  std::vector<NodeId> voters;
  std::vector<NodeId> voters_outgoing;
  std::vector<NodeId> learners;
  std::string context = {};

  bool joint() const { return !voters_outgoing.empty(); }
  bool is_voter(NodeId id) const { return contains(voters, id) || contains(voters_outgoing, id); }
  bool is_learner(NodeId id) const { return contains(learners, id); }
  bool is_member(NodeId id) const { return is_voter(id) || is_learner(id); }
  // Everyone who receives the log: voters of both halves and learners, sorted, unique.
  std::vector<NodeId> members() const;
  bool operator==(const ClusterConfig&) const = default;

 private:
  static bool contains(const std::vector<NodeId>& v, NodeId id) {
    return std::find(v.begin(), v.end(), id) != v.end();
  }
};

// "voters=[1,2,3] outgoing=[1,2] learners=[4]", for logs and traces.
std::string Describe(const ClusterConfig& c);

enum class EntryType : uint8_t { kNoop = 0, kConfig = 1, kCommand = 2 };
const char* EntryTypeName(EntryType type);

// One log entry. data is the command's bytes (kCommand); config is set for
// kConfig entries only.
struct Entry {
  LogIndex index = 0;
  Term term = 0;
  EntryType type = EntryType::kNoop;
  std::string data;
  ClusterConfig config;

  // Bytes this entry costs in a message or a batch: at least its encoding
  // on the peer wire (wire::MinPeerFrameBytes relies on it).
  size_t byte_size() const {
    return data.size() + 48 + config.context.size() +
           9 * (config.voters.size() + config.voters_outgoing.size() + config.learners.size());
  }
  bool operator==(const Entry&) const = default;
};

// A snapshot as Raft sees it: the last entry it covers (index, term), the
// configuration as of that entry, and what identifies its data (the
// application's state bytes, which the runtime keeps): their size and
// CRC32C.
struct SnapshotHead {
  LogIndex index = 0;
  Term term = 0;
  ClusterConfig config;
  uint64_t size = 0;
  uint32_t crc = 0;
  bool operator==(const SnapshotHead&) const = default;
};

// Identifies a proposal: it was committed if the Committed entry at index has
// this term; it was dropped if an entry of another term is committed there.
struct ProposalId {
  Term term = 0;
  LogIndex index = 0;
  bool operator==(const ProposalId&) const = default;
};

}  // namespace raftlog::core
