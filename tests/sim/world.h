// World: the whole-node simulator. N raftlogd nodes as raftlogd assembles
// them (ReplicatedLog with its Ready loop; the EventMachine with its
// producer table, ack waiters and publishing; the ClientService and the
// Publisher) run over a simulated network, disk, clock and sockets, with
// simulated producers and subscribers, every random choice drawn from one
// seed. docs/simulator.md, "The whole node".
//
// What is simulated, and what is real:
//  - real: ReplicatedLog (core::Raft, its loop, the order of sends, writes
//    and applies), server::EventMachine (the exactly-once rule, retries,
//    acks, the event rule, publish, fetch), server::ClientService (request
//    frames in, reply frames out), server::Publisher (PUB messages, with
//    heartbeats), the Subscriber library's rules (StreamTracker), the
//    wire encoders and decoders on both sides, MemoryLogStore;
//  - simulated: time (a Clock), the peer network (a Transport that loses,
//    duplicates, delays and partitions), the disk (a LogWriter whose writes
//    complete after a random latency and are lost, or partly made durable,
//    by a crash), each loop turn taking 1 ms, the client sockets (request
//    and reply frames are delayed or lost) and the PUB socket (messages
//    delayed or lost, like a subscriber past its high-water mark);
//  - producers keep a window of pushes in flight (some as push_batches),
//    retry one that times out (or gets Busy, NotLeader, or "dropped") with
//    the same seq at another node, and give up only as the client deadline
//    says; subscribers read the live stream of one node, fill gaps with
//    fetch from any node, save their position and restart;
//  - nodes take snapshots of their event layer as raftlogd does (by count
//    of applied entries and at random moments; install_snapshot, or
//    save_snapshot then compact behind it), restore the ones they load,
//    and send them to followers behind their log head in small chunks.
//
// A run has two phases: chaos (crashes, whole-cluster restarts, partitions,
// loss), then healing (no faults; the producers' last pushes must be acked,
// every node must apply everything and every subscriber catch up, within a
// bound). The checker runs at every ack, publish, apply and fetch, and at
// the end; the core mode's Raft Checker (checker.h) runs too, on every
// node through a NodeView, after each loop turn that changed a node.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "checker.h"
#include "network.h"
#include "rng.h"
#include "trace.h"

namespace raftlog::sim {

struct WorldOptions {
  uint64_t seed = 1;
  std::vector<int> sizes = {3, 5, 7};
  Time chaos_ms = 3000;  // simulated time before healing
  Trace* trace = nullptr;
};

struct WorldResult {
  bool ok = true;
  Violation violation;
  std::string scenario;
  uint64_t steps = 0;
  Time time = 0;
  uint64_t pushes_acked = 0;                 // distinct (producer, seq) acknowledged
  uint64_t retries = 0;                      // pushes sent again with the same seq
  uint64_t retries_to_replaying_leader = 0;  // ... to a leader with applied < commit
  uint64_t busy = 0;                         // Busy answers (the retry guard)
  uint64_t expired_refusals = 0;             // retries refused because their producer expired
  uint64_t given_up = 0;                     // pushes a producer stopped retrying (its deadline)
  uint64_t crashes = 0;
  uint64_t full_restarts = 0;  // every node crashed at once
  uint64_t partitions = 0;
  uint64_t subscriber_events = 0;  // events output by subscribers, all checked
  uint64_t subscriber_restarts = 0;
  uint64_t fetches = 0;
  // Snapshots (docs/simulator.md, "Snapshots"): taken of a node's own
  // applied state and durable (save_snapshot or install_snapshot), logs
  // compacted, leaders' snapshots installed by a follower, nodes started
  // from their store's snapshot, InstallSnapshot chunks sent, fetches
  // answered "compacted", subscribers that every node told so.
  uint64_t snapshots_taken = 0;
  uint64_t compactions = 0;
  uint64_t snapshots_installed = 0;
  uint64_t snapshots_at_start = 0;
  uint64_t snapshot_chunks = 0;
  uint64_t compacted_fetches = 0;
  uint64_t subscribers_behind = 0;
  uint64_t retries_from_snapshot = 0;  // acked with an index the acking node compacted
  core::LogIndex committed = 0;
};

class World {
 public:
  explicit World(const WorldOptions& options);
  ~World();
  WorldResult run();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftlog::sim
