// Quorum arithmetic over a ClusterConfig, joint consensus included: a
// decision needs a majority of voters and, while joint, a majority of
// voters_outgoing too. Learners never count.
#pragma once

#include <map>

#include "raftlog/core/types.h"

namespace raftlog::core {

// The largest value that a majority of `voters` have reached, where value(id)
// says how far each got (a match index, an acknowledged heartbeat). An empty
// set imposes no limit (returns UINT64_MAX).
template <typename ValueOf>
uint64_t MajorityValue(const std::vector<NodeId>& voters, ValueOf value_of);

template <typename ValueOf>
uint64_t QuorumValue(const ClusterConfig& config, ValueOf value_of) {
  uint64_t incoming = MajorityValue(config.voters, value_of);
  uint64_t outgoing = MajorityValue(config.voters_outgoing, value_of);
  uint64_t v = std::min(incoming, outgoing);
  return v == UINT64_MAX ? 0 : v;
}

enum class VoteResult { kPending, kWon, kLost };

// Tallies granted (true) and rejected (false) votes; absent voters are pending.
VoteResult TallyVotes(const ClusterConfig& config, const std::map<NodeId, bool>& votes);

// True if a quorum satisfies pred(id).
template <typename Pred>
bool QuorumSatisfies(const ClusterConfig& config, Pred pred) {
  return QuorumValue(config, [&](NodeId id) -> uint64_t { return pred(id) ? 1 : 0; }) == 1;
}

// --- implementation ---

uint64_t MajorityOf(std::vector<uint64_t>& values);  // sorts values

template <typename ValueOf>
uint64_t MajorityValue(const std::vector<NodeId>& voters, ValueOf value_of) {
  if (voters.empty()) return UINT64_MAX;
  std::vector<uint64_t> values;
  values.reserve(voters.size());
  for (NodeId id : voters) values.push_back(value_of(id));
  return MajorityOf(values);
}

}  // namespace raftlog::core
