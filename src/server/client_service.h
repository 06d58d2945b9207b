// ClientService: the node's client endpoint (a ROUTER socket), served on
// the loop thread: status, push, push_batch and append (acknowledged once
// committed) and fetch (committed events; any node). docs/protocol.md is
// the contract. It frames and dispatches; what a push or a fetch means is
// the EventMachine's. Pushes, appends and push_batches are decoded straight
// from their frames (views); every other request through the general
// decoder.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "net/poller.h"
#include "net/zmq_transport.h"
#include "raftlog/replicated_log.h"
#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/event_ops.h"
#include "server/event_machine.h"
#include "server/log.h"
#include "server/options.h"

namespace raftlog::server {

struct ClientCounters {
  uint64_t requests = 0;
  uint64_t rejected_malformed = 0;  // undecodable frames or envelopes
};

class ClientService : public AckSink {
 public:
  ClientService(zmq::context_t* context, const ServerOptions& options, ReplicatedLog* log,
                net::ZmqTransport* transport);
  // The event layer whose pushes this endpoint takes and answers; set before start().
  void set_events(EventMachine* events) { events_ = events; }

  // Binds the client endpoint and has the loop's poller serve it. IOError
  // if the bind fails.
  Status start(net::Poller* poller);
  const ClientCounters& counters() const { return counters_; }
  // Extra counters for the status reply (the event layer's, the publisher's).
  void set_extra_counters(std::function<wire::Value::Map()> extra) { extra_ = std::move(extra); }

  // AckSink: the event layer's answers, framed and sent.
  void acked(const ReplyTo& to, const wire::PushResult& result) override;
  void failed(const ReplyTo& to, const Status& status) override;

 private:
  // A push_batch: one reply once every event is committed, or one error
  // reply as soon as one of them fails.
  struct Batch {
    ReplyTo to;
    size_t remaining;
    std::vector<wire::PushResult> results;
  };

  void on_readable();
  // A request that will not reach the event layer: malformed (counted,
  // logged), or breaking its op's rules (InvalidInput). Answered with the
  // reason.
  void reject(const ReplyTo& to, const Status& status);
  void handle(const ReplyTo& to, const wire::ClientRequest& request);
  wire::ClientReply handle_status(const wire::ClientRequest& request);
  wire::ClientReply handle_fetch(const wire::ClientRequest& request);
  void handle_push(ReplyTo to, const wire::PushRequestView& push);
  void handle_push_batch(const ReplyTo& to, std::string_view producer,
                         const std::vector<wire::PushEventView>& events);
  void send_reply(const ReplyTo& to, const wire::ClientReply& reply);
  // Sends buffer_ as the reply frame.
  void send_buffer(const ReplyTo& to);
  wire::ClientReply error_reply(uint64_t request_id, const Status& status);

  zmq::context_t* context_;
  const ServerOptions& options_;
  ReplicatedLog* log_;
  net::ZmqTransport* transport_;
  EventMachine* events_ = nullptr;
  zmq::socket_t socket_;
  wire::DecodeLimits limits_;
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
