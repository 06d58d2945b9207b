#include "core/quorum.h"

#include <algorithm>

namespace raftlog::core {

uint64_t MajorityOf(std::vector<uint64_t>& values) {
  // Sorted descending, the value at position n/2 is reached by n/2+1 voters:
  // a majority.
  std::sort(values.begin(), values.end(), std::greater<>());
  return values[values.size() / 2];
}

namespace {

VoteResult TallyHalf(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& votes) {
  if (voters.empty()) return VoteResult::kWon;
  size_t granted = 0, rejected = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    (it->second ? granted : rejected)++;
  }
  size_t majority = voters.size() / 2 + 1;
  if (granted >= majority) return VoteResult::kWon;
  if (rejected > voters.size() - majority) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace

VoteResult TallyVotes(const ClusterConfig& config, const std::map<NodeId, bool>& votes) {
  VoteResult incoming = TallyHalf(config.voters, votes);
  VoteResult outgoing = TallyHalf(config.voters_outgoing, votes);
  if (incoming == VoteResult::kLost || outgoing == VoteResult::kLost) return VoteResult::kLost;
  if (incoming == VoteResult::kWon && outgoing == VoteResult::kWon) return VoteResult::kWon;
  return VoteResult::kPending;
}

}  // namespace raftlog::core
