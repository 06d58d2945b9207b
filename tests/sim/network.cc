#include "network.h"

namespace raftlog::sim {

std::string Network::describe_blocks() const {
  std::string out;
  for (const auto& [from, to] : blocked_) out += Cat(out.empty() ? "" : " ", from, "->", to);
  return out.empty() ? "none" : out;
}

std::vector<Time> Network::route(Rng& rng, core::NodeId from, core::NodeId to,
                                 const char** why) const {
  if (blocked(from, to)) {
    *why = "partition";
    return {};
  }
  if (rng.chance(faults_.drop_ppm)) {
    *why = "loss";
    return {};
  }
  auto delay = [&] {
    if (faults_.long_delay_max > faults_.max_delay && rng.chance(faults_.long_delay_ppm)) {
      return rng.between(faults_.max_delay, faults_.long_delay_max);
    }
    return rng.between(faults_.min_delay, faults_.max_delay);
  };
  std::vector<Time> delays{delay()};
  if (rng.chance(faults_.duplicate_ppm)) delays.push_back(delay());
  return delays;
}

}  // namespace raftlog::sim
