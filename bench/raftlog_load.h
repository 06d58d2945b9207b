// The load raftlog-bench puts on a cluster: P producer threads (each a
// raftlog::Producer, so pushes are exactly-once pushes, as users make them)
// and S subscriber threads (each a raftlog::Subscriber).
//
// Closed loop (rate 0): each producer keeps `window` pushes in flight; ack
// latency runs from push() to the ack. Open loop (rate > 0): producers push
// on a fixed schedule (rate/P each), and latency runs from the *intended*
// send time, so a cluster that falls behind shows its queueing instead of
// slowing the load down (no coordinated omission); `window` then only caps
// what may be in flight.
//
// Every payload starts with its push (or intended) time, 8 bytes of
// steady-clock nanoseconds: subscribers in the same process measure
// end-to-end latency, push to delivery, from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "latency.h"

namespace raftlog::bench {

struct LoadOptions {
  std::vector<std::string> client_endpoints;
  std::vector<std::string> pub_endpoints;  // for subscribers
  int producers = 1;
  size_t window = 1;
  double rate = 0;  // events/s over all producers; 0: closed loop
  size_t payload_bytes = 256;
  int topics = 1;  // events go round-robin to topics bench.0 … bench.N-1
  double warmup_s = 1;
  double duration_s = 5;
  int subscribers = 1;
};

struct LoadResult {
  Summary ack;
  Summary e2e;               // over every subscriber's deliveries
  uint64_t errors = 0;       // events that failed permanently
  uint64_t e2e_missing = 0;  // measured events some subscriber did not get in time
  double client_cpu_s = 0;   // this process's CPU time during the measured interval
  std::string first_error;
};

LoadResult RunLoad(const LoadOptions& options);

}  // namespace raftlog::bench
