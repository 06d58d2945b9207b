// raftlog::Producer: pushes events into a raftlog cluster with exactly-once
// append (docs/protocol.md, "Op push").
//
// A Producer has an id and numbers its events seq = first_seq, first_seq+1,
// ... in the order push() is called. It keeps up to `window` pushes in flight
// on one connection per node, and resends an event whose outcome is unknown
// (a timeout, a lost leader, no leader yet, a busy node) with the *same*
// (producer, seq), to whichever node it now believes leads; the cluster
// answers such a retry with the original index instead of appending again.
// It follows not_leader redirects by itself, so any one node's endpoint is
// enough to start.
//
// An ack means the event is committed: durable on a majority of the voters.
// It carries the event's log index (the original one for a retry, then
// `duplicate` is true). An event fails permanently only when the cluster
// rejects it as invalid (bad topic, a seq outside the cluster's window) or
// replies something unreadable, or when give_up_after passes; everything
// else is retried until acked, for as long as the caller keeps calling
// poll_ack() or flush().
//
// Not thread-safe: one thread uses a Producer. All I/O happens inside its
// calls; between calls nothing is sent or received (replies wait in the
// socket buffers).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog {

struct ProducerOptions {
  // The client endpoints of (some of) the cluster's nodes, e.g.
  // tcp://127.0.0.1:7101. One is enough; leaders found through redirects
  // are added to the list.
  std::vector<std::string> endpoints;
  // This producer's id, 1..256 bytes. Empty: a unique one is generated
  // (hostname-pid-random). Reuse an id, with first_seq set past the numbers
  // already used, only to resume a producer; the same (id, seq) twice is one
  // event.
  std::string producer_id;
  // The span of sequence numbers that may be in flight (pushed, neither
  // acked nor failed): a push waits while the oldest such event is `window`
  // numbers behind the next one, so at most `window` events are in flight
  // and a retry, however late, is never older than the numbers the cluster
  // remembers. At most wire::kMinProducerWindow (1024), what every node
  // remembers per producer, so that any retry can be told.
  size_t window = 64;
  // How long one attempt waits for its reply before the event is resent.
  std::chrono::milliseconds request_timeout{2000};
  // How long an event is retried, from its push, before it fails with
  // IOError ("outcome unknown": it may or may not be committed). Checked
  // when an attempt fails, so an attempt under way is always let finish.
  // The cluster tells a retry from a new event for as long as it remembers
  // the producer (docs/events.md, "Idle producers expire": five
  // producer-expiry-s after its last push); keep this well below that.
  // 0: retry until acked.
  std::chrono::milliseconds give_up_after{0};
  // ZMTP heartbeats on every connection: a node that stops answering (its
  // link cut, its process paused or gone) is noticed within
  // heartbeat_interval + heartbeat_timeout, and the events in flight to it
  // go at once to the next node instead of waiting out request_timeout
  // (a window streaming through a partition of the leader moves to the new
  // one). A zero interval turns heartbeats off.
  std::chrono::milliseconds heartbeat_interval{500};
  std::chrono::milliseconds heartbeat_timeout{1000};
  // The seq of the first event pushed, >= 1.
  uint64_t first_seq = 1;
  // Batching. Events that are due together (a burst of retries after a
  // leader change) go out in one push_batch request of up to max_batch
  // events (docs/protocol.md). max_requests > 0 also holds new pushes back
  // while that many requests await their replies, so that they go out
  // together: fewer requests for a client short of CPU, but each held-back
  // event waits a round trip first, which in a closed loop costs more
  // throughput than it saves (docs/benchmarks.md). 0, the default, sends
  // every push at once. Like retries, held-back events are sent while the
  // producer runs: in push(), poll_ack() and flush().
  size_t max_requests = 0;
  size_t max_batch = 256;
};

class Producer {
 public:
  // The outcome of one event.
  struct Ack {
    uint64_t seq = 0;
    core::LogIndex index = 0;  // where the event is in the log (0 if failed)
    core::Term term = 0;       // the term of that entry
    bool duplicate = false;    // the cluster had it already: index is the original's
    Status status;             // not ok: the event failed permanently, for this reason
  };

  // An event still in flight, and why its last attempt did not succeed (ok
  // while an attempt is simply under way).
  struct Unacked {
    uint64_t seq = 0;
    Status last_error;
  };

  static constexpr std::chrono::milliseconds kForever = std::chrono::milliseconds::max();

  explicit Producer(ProducerOptions options);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Sends one event (or queues it behind max_requests requests in flight,
  // see ProducerOptions) and returns at once with its seq in *seq, unless the
  // window is full: then it first handles replies until a slot frees up, for
  // at most max_wait, and returns Busy if none did (no seq is used then).
  // InvalidInput, with no seq used, for a bad topic (wire::CheckTopic), an
  // oversized payload, bad options, or once seq 2^64-1 has been used.
  Status push(std::string topic, std::string payload, uint64_t* seq,
              std::chrono::milliseconds max_wait = kForever);

  // The next outcome, in the order outcomes arrived. Handles replies and
  // retries for up to wait while none is ready. Returns false if none
  // arrived within wait, or at once when nothing is in flight either.
  bool poll_ack(Ack* ack, std::chrono::milliseconds wait);

  // Handles replies and retries until no event is in flight or the deadline
  // passes. The outcomes stay queued for poll_ack(). Ok when nothing is in
  // flight; else an error saying how many events are unacked and why.
  Status flush(std::chrono::milliseconds deadline);

  // Events pushed and neither acked nor failed.
  size_t in_flight() const;
  // Them, in seq order.
  std::vector<Unacked> unacked() const;

  const std::string& producer_id() const;
  // The seq the next push() will use.
  uint64_t next_seq() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// "host-1234-9f2c61d0a4b3e857": unique enough across hosts, processes and
// restarts.
std::string GenerateProducerId();

}  // namespace raftlog
