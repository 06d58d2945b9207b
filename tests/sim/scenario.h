// Scenario: the shape of one simulated run, drawn from its seed: cluster
// size, the core's settings, and how hostile the network, disks and
// operators are. Varying these per seed is what lets a few thousand seeds
// cover calm clusters, lossy ones, partitioned ones and crash storms.
#pragma once

#include <string>
#include <vector>

#include "network.h"
#include "raftlog/core/raft.h"
#include "rng.h"
#include "trace.h"

namespace raftlog::sim {

struct Scenario {
  int nodes = 3;
  // The core's settings (id, applied and random_seed are set per node).
  core::Config core;
  LinkFaults links;
  // A disk write completes after a delay uniform in [disk_min, disk_max].
  Time disk_min = 1;
  Time disk_max = 10;
  // Mean time between crashes and between partition changes; 0: never.
  Time crash_every = 0;
  Time partition_every = 0;
  // Targeted crashes, as parts per million: a node that just became leader
  // (before its Noop is replicated: the §5.4.2 window), and a node writing a
  // new vote (before the vote is durable). Random timing rarely hits these.
  uint32_t crash_new_leader_ppm = 0;
  uint32_t crash_voter_ppm = 0;
  // Mean time between proposals (to a random node, usually the leader).
  Time propose_every = 10;
  // Snapshots: the mean time between local snapshots (a random node
  // snapshots what it applied and compacts its log; 0: never); targeted
  // crashes of a node whose write carries snapshot chunks (a transfer cut
  // short, or the last chunk written and the install not yet reported);
  // chunks whose data is damaged on the wire (the store's CRC32C check
  // must refuse the snapshot). The chunk size and the throttle are in core.
  Time snapshot_every = 0;
  uint32_t crash_snapshot_ppm = 0;
  uint32_t corrupt_chunk_ppm = 0;

  // Membership: `spares` more node ids (up to 7 in all) start as joining
  // nodes (an empty bootstrap configuration); every change_every (mean; 0:
  // never) the leader is asked for a membership change or a leadership
  // transfer (or a follower asks to take over). read_ppm of the
  // proposals are instead a read_index() at a leader or a follower.
  int spares = 0;
  Time change_every = 0;
  uint32_t read_ppm = 0;
  int total_nodes() const { return nodes + spares; }

  static Scenario FromSeed(Rng& rng, const std::vector<int>& sizes);
  std::string describe() const;
};

}  // namespace raftlog::sim
