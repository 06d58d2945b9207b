// Network: the simulated links between nodes. It decides the fate of each
// message: lost, delivered once after a random delay (so messages overtake
// each other), or delivered twice. A partition is a set of blocked directed
// links, so it can be symmetric or one-way.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/core/types.h"
#include "rng.h"
#include "trace.h"

namespace raftlog::sim {

struct LinkFaults {
  uint32_t drop_ppm = 0;       // a message is lost with this probability (parts per million)
  uint32_t duplicate_ppm = 0;  // ... or delivered twice
  Time min_delay = 1;          // delivery delay, uniform in [min_delay, max_delay]
  Time max_delay = 10;
  uint32_t long_delay_ppm = 0;  // ... or, this often, up to long_delay_max
  Time long_delay_max = 0;
};

class Network {
 public:
  explicit Network(LinkFaults faults) : faults_(faults) {}

  const LinkFaults& faults() const { return faults_; }
  void set_faults(const LinkFaults& faults) { faults_ = faults; }

  void block(core::NodeId from, core::NodeId to) { blocked_.emplace(from, to); }
  void heal() { blocked_.clear(); }
  bool blocked(core::NodeId from, core::NodeId to) const { return blocked_.count({from, to}) > 0; }
  bool partitioned() const { return !blocked_.empty(); }
  // "1->2 2->1 3->1" (sorted, so traces are stable).
  std::string describe_blocks() const;

  // The delays after which one message sent now arrives: none if it is lost
  // (*why says how), two if it is duplicated.
  std::vector<Time> route(Rng& rng, core::NodeId from, core::NodeId to, const char** why) const;

 private:
  LinkFaults faults_;
  std::set<std::pair<core::NodeId, core::NodeId>> blocked_;
};

}  // namespace raftlog::sim
