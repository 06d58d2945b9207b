// ClientService: the node's client endpoint (a ROUTER socket), served on
// the loop thread: status, append (acknowledged once committed) and fetch
// (committed entries; any node). docs/protocol.md is the contract.
#pragma once

#include <map>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "net/zmq_transport.h"
#include "raftlog/replicated_log.h"
#include "raftlog/wire/client_codec.h"
#include "server/log.h"
#include "server/options.h"

namespace raftlog::server {

struct ClientCounters {
  uint64_t requests = 0;
  uint64_t rejected_malformed = 0;  // undecodable frames or envelopes
};

class ClientService {
 public:
  ClientService(zmq::context_t* context, const ServerOptions& options, ReplicatedLog* log,
                net::ZmqTransport* transport);

  // Binds the client endpoint and has the transport poll it. IOError if the bind fails.
  Status start();
  // Feeds every ReplicatedLog event through here (acks, leadership changes).
  void on_event(const Event& event);
  const ClientCounters& counters() const { return counters_; }

 private:
  // The frames before the payload (routing id, and REQ's empty delimiter).
  using Envelope = std::vector<std::string>;
  struct PendingAppend {
    Envelope envelope;
    uint64_t request_id;
    core::Term term;
  };

  void on_readable();
  void handle(const Envelope& envelope, const wire::ClientRequest& request);
  wire::ClientReply handle_status(const wire::ClientRequest& request);
  wire::ClientReply handle_fetch(const wire::ClientRequest& request);
  // Replies now (errors) or later, once the entry commits.
  void handle_append(const Envelope& envelope, const wire::ClientRequest& request);
  void send_reply(const Envelope& envelope, const wire::ClientReply& reply);
  wire::ClientReply error_reply(uint64_t request_id, const Status& status);
  void fail_pending(const std::string& why);

  zmq::context_t* context_;
  const ServerOptions& options_;
  ReplicatedLog* log_;
  net::ZmqTransport* transport_;
  zmq::socket_t socket_;
  wire::DecodeLimits limits_;
  std::map<core::LogIndex, PendingAppend> pending_;  // by log index
  ClientCounters counters_;
  WarnLimiter warnings_{10};
  std::string buffer_;
};

}  // namespace raftlog::server
