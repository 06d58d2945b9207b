// ClientService: the node's client endpoint (a ROUTER socket), served on
// the loop thread: status, push, push_batch and append (acknowledged once
// committed) and fetch (committed entries; any node). docs/protocol.md is
// the contract. Pushes are decoded straight from their frames (views); any
// request that fast path refuses goes through the general decoder.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "net/zmq_transport.h"
#include "raftlog/replicated_log.h"
#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/event_ops.h"
#include "server/log.h"
#include "server/options.h"
#include "server/producer_table.h"

namespace raftlog::server {

struct ClientCounters {
  uint64_t requests = 0;
  uint64_t rejected_malformed = 0;  // undecodable frames or envelopes
};

class ClientService {
 public:
  // The table is the applier's (read here to answer retried pushes); the
  // applier must see each Committed event before on_event does.
  ClientService(zmq::context_t* context, const ServerOptions& options, ReplicatedLog* log,
                net::ZmqTransport* transport, const ProducerTable* producers);

  // Binds the client endpoint and has the transport poll it. IOError if the bind fails.
  Status start();
  // Feeds every ReplicatedLog event through here (acks, leadership changes).
  void on_event(const Event& event);
  const ClientCounters& counters() const { return counters_; }
  // Extra counters for the status reply (the applier's, the publisher's).
  void set_extra_counters(std::function<wire::Value::Map()> extra) { extra_ = std::move(extra); }

 private:
  // Where a reply goes: the ROUTER's routing id, and whether the request
  // came with REQ's empty delimiter frame.
  struct Envelope {
    std::string routing_id;
    bool delimiter = false;
  };
  struct Waiter {
    Envelope envelope;
    uint64_t request_id;
    bool duplicate;      // a retry of a (producer, seq) already in the log
    bool with_flag;      // reply carries `duplicate` (push; not append)
    uint64_t batch = 0;  // non-zero: one event of this push_batch (batches_)
    uint32_t slot = 0;   // its place in the batch
  };
  // A push_batch: one reply once every event is committed, or one error
  // reply as soon as one of them fails.
  struct Batch {
    Envelope envelope;
    uint64_t request_id;
    size_t remaining;
    std::vector<wire::PushResult> results;
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
  // inflight_'s key, looked up by a view of the producer.
  using ProducerSeq = std::pair<std::string, uint64_t>;
  struct ProducerSeqLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::pair<std::string_view, uint64_t>(a.first, a.second) <
             std::pair<std::string_view, uint64_t>(b.first, b.second);
    }
  };

  void on_readable();
  void handle(const Envelope& envelope, const wire::ClientRequest& request);
  wire::ClientReply handle_status(const wire::ClientRequest& request);
  wire::ClientReply handle_fetch(const wire::ClientRequest& request);
  // Replies now (errors, known duplicates) or once the entry commits.
  void handle_push(const Envelope& envelope, const wire::PushRequestView& push);
  void handle_push_batch(const Envelope& envelope, uint64_t request_id, std::string_view producer,
                         const std::vector<wire::PushEventView>& events);
  // One event of a push or push_batch, from this leader: answered at once
  // (known duplicate), attached to the same event in flight, or proposed.
  void submit(Waiter waiter, std::string_view topic, std::string_view payload,
              std::string_view producer, uint64_t seq);
  // The outcome of one waiter's event.
  void complete(const Waiter& waiter, const wire::PushResult& result);
  void fail(const Waiter& waiter, const Status& status);
  void on_committed(const Committed& c);
  void on_became_leader();
  // pending_ is ordered by index: new proposals go to the back.
  Pending& add_pending(core::LogIndex index, core::Term term, std::string_view producer,
                       uint64_t seq);
  Pending* find_pending(core::LogIndex index);
  void send_reply(const Envelope& envelope, const wire::ClientReply& reply);
  // Sends buffer_ as the reply frame.
  void send_buffer(const Envelope& envelope);
  wire::ClientReply error_reply(uint64_t request_id, const Status& status);
  void fail_pending(const std::string& why);

  zmq::context_t* context_;
  const ServerOptions& options_;
  ReplicatedLog* log_;
  net::ZmqTransport* transport_;
  const ProducerTable* producers_;
  zmq::socket_t socket_;
  wire::DecodeLimits limits_;
  std::deque<Pending> pending_;  // ascending index
  // The last index seen in a Committed event (so in the producer table),
  // and the commit index when this node last became leader: until the first
  // reaches the second, pushes with a producer are refused with Busy.
  core::LogIndex applied_ = 0;
  core::LogIndex retries_known_from_ = 0;
  // (producer, seq) of pending_ entries, and their index.
  std::map<ProducerSeq, core::LogIndex, ProducerSeqLess> inflight_;
  std::vector<zmq::message_t> frames_;  // of the request being read
  std::unordered_map<uint64_t, Batch> batches_;
  uint64_t next_batch_ = 1;
  std::vector<wire::PushEventView> batch_events_;  // of the batch being read
  ClientCounters counters_;
  WarnLimiter warnings_{10};
  std::function<wire::Value::Map()> extra_;
  std::string buffer_;
};

}  // namespace raftlog::server
