#include "scenario.h"

namespace raftlog::sim {
namespace {

std::string Percent(uint32_t ppm) {
  return Cat(ppm / 10000.0, "%");
}

}  // namespace

Scenario Scenario::FromSeed(Rng& rng, const std::vector<int>& sizes) {
  Scenario s;
  s.nodes = rng.pick(sizes);
  s.core.election_ticks = 10;
  s.core.heartbeat_ticks = static_cast<int>(rng.between(1, 3));
  // Small batches and windows stretch replication over many messages, which
  // opens the windows where leaders change with entries half replicated.
  s.core.max_entries_per_msg = rng.pick(std::vector<size_t>{1, 1, 2, 3, 64});
  s.core.max_inflight_msgs = rng.pick(std::vector<size_t>{1, 2, 8, 64});
  // Bounds the backlog a leader builds while partitioned or overloaded, so
  // that it drains within the liveness bound once the network heals.
  s.core.max_uncommitted_entries = rng.pick(std::vector<size_t>{8, 32});
  s.core.pre_vote = rng.chance(800000);
  s.core.check_quorum = rng.chance(800000);

  s.links.drop_ppm = rng.pick(std::vector<uint32_t>{0, 10000, 50000, 150000, 150000});
  s.links.duplicate_ppm = rng.pick(std::vector<uint32_t>{0, 10000, 50000});
  s.links.min_delay = 1;
  s.links.max_delay = rng.pick(std::vector<Time>{5, 10, 20});
  s.links.long_delay_ppm = rng.pick(std::vector<uint32_t>{0, 20000, 100000});
  s.links.long_delay_max = rng.pick(std::vector<Time>{30, 80});

  s.disk_min = 1;
  s.disk_max = rng.pick(std::vector<Time>{5, 20, 60});
  s.crash_every = rng.pick(std::vector<Time>{0, 150, 150, 300, 600});
  s.crash_new_leader_ppm = rng.pick(std::vector<uint32_t>{0, 250000, 600000});
  s.crash_voter_ppm = rng.pick(std::vector<uint32_t>{0, 0, 100000, 300000});
  s.partition_every = rng.pick(std::vector<Time>{0, 300, 1000});
  s.propose_every = rng.pick(std::vector<Time>{3, 10, 30});
  // Drawn last, so the draws above are what they were before snapshots.
  // Small chunks make a transfer many messages, for losses, duplicates and
  // crashes to hit; the throttle spreads it over ticks.
  s.snapshot_every = rng.pick(std::vector<Time>{0, 100, 300, 1000});
  s.core.snapshot_chunk_bytes = rng.pick(std::vector<size_t>{16, 64, 256, 1024, 4096});
  s.core.snapshot_bytes_per_tick = rng.chance(300000) ? rng.pick(std::vector<uint64_t>{8, 1, 4}) *
                                                            s.core.snapshot_chunk_bytes / 2
                                                      : 0;
  s.crash_snapshot_ppm = rng.pick(std::vector<uint32_t>{0, 50000, 200000});
  s.corrupt_chunk_ppm = rng.pick(std::vector<uint32_t>{0, 0, 20000});
  // Drawn after the snapshots' settings, for the same reason.
  s.change_every = rng.pick(std::vector<Time>{0, 50, 100, 300, 1000});
  s.spares = s.change_every == 0 ? 0 : static_cast<int>(rng.between(0, 7 - s.nodes));
  s.read_ppm = rng.pick(std::vector<uint32_t>{0, 100000, 200000});
  return s;
}

std::string Scenario::describe() const {
  return Cat("nodes=", nodes, " heartbeat=", core.heartbeat_ticks, "/", core.election_ticks,
             " batch=", core.max_entries_per_msg, " inflight=", core.max_inflight_msgs,
             " uncommitted<=", core.max_uncommitted_entries, " pre_vote=", core.pre_vote,
             " check_quorum=", core.check_quorum, " drop=", Percent(links.drop_ppm),
             " dup=", Percent(links.duplicate_ppm), " delay=", links.min_delay, "..",
             links.max_delay, " long=", Percent(links.long_delay_ppm), "<=", links.long_delay_max,
             " disk=", disk_min, "..", disk_max, " crash_every=", crash_every,
             " crash_new_leader=", Percent(crash_new_leader_ppm),
             " crash_voter=", Percent(crash_voter_ppm), " partition_every=", partition_every,
             " propose_every=", propose_every, " snapshot_every=", snapshot_every,
             " chunk=", core.snapshot_chunk_bytes, " throttle=", core.snapshot_bytes_per_tick,
             " crash_snapshot=", Percent(crash_snapshot_ppm),
             " corrupt_chunk=", Percent(corrupt_chunk_ppm), " change_every=", change_every,
             " spares=", spares, " reads=", Percent(read_ppm), " (times in units, ", kUnitsPerTick,
             " per tick)");
}

}  // namespace raftlog::sim
