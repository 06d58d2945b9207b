// EventMachine: raftlogd's event layer, the one place that decides what the
// log means to its users (docs/architecture.md, "The event layer").
//
// It owns
//  - the rule for what is an event: a Command entry holding an event record
//    whose (producer, seq) the log does not hold earlier. Apply, publish and
//    fetch all go by it, so the PUB stream and fetch cannot disagree;
//  - the producer table (exactly-once), fed from committed entries in log
//    order, so every node derives the same one;
//  - the prev-index chain of the published events;
//  - the ack waiters: a push is acknowledged once its entry commits (a retry
//    with the original's index), and failed when this node stops leading.
//
// It sees the world only through what it is given: the ReplicatedLog (the
// log, and proposals), an EventSink (where events are published) and an
// AckSink (where answers go), and the caller's timestamps. raftlogd plugs in
// its PUB socket and client socket; the simulator plugs in recorders, and so
// drives this same code under a seed. One thread (the node's loop) calls it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftlog/replicated_log.h"
#include "raftlog/status.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"
#include "server/producer_table.h"

namespace raftlog::server {

// Where the answer to one pushed event goes. Opaque to the machine.
struct ReplyTo {
  std::string client;      // raftlogd: the ROUTER routing id; the simulator: a producer
  bool delimiter = false;  // the request came with REQ's empty frame
  uint64_t request_id = 0;
  bool with_flag = true;  // the reply carries `duplicate` (push; not append)
  uint64_t batch = 0;     // non-zero: one event of this push_batch
  uint32_t slot = 0;      // its place in the batch
};

class AckSink {
 public:
  virtual ~AckSink() = default;
  // The event is committed at result.index (a retry: the original's).
  virtual void acked(const ReplyTo& to, const wire::PushResult& result) = 0;
  // It was refused, or its outcome is unknown (NotLeader after a leader change).
  virtual void failed(const ReplyTo& to, const Status& status) = 0;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // A committed event, durable here, in log order.
  virtual void publish(std::string_view topic, const wire::PublishedEventView& event) = 0;
};

struct EventMachineOptions {
  // Numbers remembered per producer (ProducerTable); the same on every node.
  uint64_t producer_window = wire::kMinProducerWindow;
  // Log time a producer may stay idle before it is forgotten; 0: never.
  // The same on every node.
  uint64_t producer_expiry_ms = 0;
  wire::DecodeLimits limits;
  // The commit index this node started with. What was committed before was
  // published in an earlier life (or is there to fetch); the log is applied
  // again from its head to rebuild the producer table, but only later
  // entries are published.
  core::LogIndex publish_after = 0;
};

struct EventCounters {
  uint64_t events_applied = 0;
  uint64_t events_published = 0;
  uint64_t duplicates_skipped = 0;  // a (producer, seq) committed twice (never expected)
  uint64_t undecodable = 0;         // Command entries that hold no event record
};

class EventMachine {
 public:
  EventMachine(ReplicatedLog* log, EventSink* events, AckSink* acks,
               const EventMachineOptions& options);

  // Every ReplicatedLog event, in order.
  void on_event(const Event& event);

  // One pushed event (a push, an append, or one event of a push_batch).
  // Answered through the AckSink: at once (an error, a known duplicate) or
  // when its entry commits or this node stops leading. A (producer, seq)
  // whose outcome the table can no longer tell (the producer expired, and
  // had this seq or a later one before) is refused, not appended: it may be
  // a retry of an event that was committed.
  void push(ReplyTo to, std::string_view topic, std::string_view payload, std::string_view producer,
            uint64_t seq, uint64_t timestamp_ms);
  // InvalidInput if seq is below the window remembered for producer (its
  // outcome cannot be told); push_batch checks every event first.
  Status check_not_too_old(std::string_view producer, uint64_t seq) const;

  // Committed entries from `from` on, as far as this node has applied them,
  // with every entry that is not an event (a repeated (producer, seq), an
  // undecodable record) turned into an empty Noop: a reader takes exactly
  // the events the PUB stream carries. NotFound if `from` was compacted.
  Status fetch(core::LogIndex from, uint64_t max_count, uint64_t max_bytes,
               wire::FetchResult* out) const;

  // The rule, for one entry about to be applied: true and *record (views
  // into entry.data) if it is an event. Does not change the table.
  bool is_event(const core::Entry& entry, wire::EventRecordView* record) const;

  const ProducerTable& producers() const { return producers_; }
  const EventCounters& counters() const { return counters_; }
  // The last index applied (seen in a Committed event).
  core::LogIndex applied() const { return applied_; }
  // The index of the last event applied, 0 if none: the head of the chain.
  core::LogIndex last_event_index() const { return last_event_; }
  // Log time: the largest event timestamp applied so far (what expiry counts).
  uint64_t log_time_ms() const { return log_time_ms_; }
  // Entries this leader waits on (its proposals and inherited ones).
  size_t pending() const { return pending_.size(); }

  // --- Snapshots (docs/snapshots.md, "The event layer's state") ---
  // The version snapshot() writes; restore() reads only this one.
  static constexpr uint64_t kSnapshotVersion = 1;
  // The state that applying the log up to applied() built: the producer
  // table, the head of the prev-index chain, log time, the entries that are
  // no events, and the counters the log decides (events_applied,
  // duplicates_skipped, undecodable). Deterministic: nodes that applied the
  // same entries give the same bytes. Waiters are no part of it.
  std::string snapshot() const;
  // Makes this machine go on as one that applied every entry up to head:
  // the same answers to retries and the same refusals, the same prev_index
  // for the next event, the same log time and expiry. For a node starting
  // from a snapshot or a follower installing its leader's: Committed events
  // up to head are ignored from then on (the log may replay from an older
  // head). The waiters of pushes in flight fail with NotLeader (their
  // outcome is unknown; a retry is answered rightly). The producer window
  // and expiry must be this machine's (InvalidInput naming both values);
  // head must be the snapshot's index and not below applied()
  // (InvalidInput); bytes that are no snapshot give Corruption (an unknown
  // version NotSupported). On any error nothing changes.
  Status restore(core::LogIndex head, std::string_view bytes);

 private:
  struct Waiter {
    ReplyTo to;
    bool duplicate = false;  // a retry of a (producer, seq) already in the log
  };
  // An entry this leader waits to see committed: its own proposals, and
  // events with a producer found in the log it inherited. Most have one
  // waiter, held inline; retries of the same push queue up in `more`.
  struct Pending {
    core::LogIndex index;
    core::Term term;
    std::string producer;  // empty: none
    uint64_t seq;
    std::optional<Waiter> first;
    std::vector<Waiter> more;
  };
  using ProducerSeq = std::pair<std::string, uint64_t>;
  struct ProducerSeqLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::pair<std::string_view, uint64_t>(a.first, a.second) <
             std::pair<std::string_view, uint64_t>(b.first, b.second);
    }
  };

  void apply(const Committed& c);
  void settle(const Committed& c);
  void on_became_leader();
  void fail_pending(const std::string& why);
  Pending& add_pending(core::LogIndex index, core::Term term, std::string_view producer,
                       uint64_t seq);
  Pending* find_pending(core::LogIndex index);

  ReplicatedLog* log_;
  EventSink* events_;
  AckSink* acks_;
  wire::DecodeLimits limits_;
  ProducerTable producers_;
  core::LogIndex publish_after_;
  core::LogIndex applied_ = 0;
  core::LogIndex last_event_ = 0;
  uint64_t log_time_ms_ = 0;
  uint64_t producer_expiry_ms_;
  // Command entries applied that are not events. Only damage or a foreign
  // writer puts one in the log (a leader never appends a (producer, seq) it
  // holds), so this stays empty in practice; fetch needs it to hide them.
  std::set<core::LogIndex> not_events_;
  // The commit index when this node last became leader: until applied_
  // reaches it, the table has not seen everything in the log, and pushes
  // with a producer are refused with Busy (see push()).
  core::LogIndex retries_known_from_ = 0;
  std::deque<Pending> pending_;  // ascending index
  // (producer, seq) of pending_ entries, and their index.
  std::map<ProducerSeq, core::LogIndex, ProducerSeqLess> inflight_;
  EventCounters counters_;
  std::string record_;  // encoding buffer
};

}  // namespace raftlog::server
