// raftlog::Client: requests to the client endpoints of a raftlog cluster
// (docs/protocol.md). It knows the cluster's client endpoints, sends each
// request to the node it believes leads, and follows not_leader redirects
// by itself. Replies are matched to requests by id; late replies to
// requests that timed out are discarded.
//
// Not thread-safe: one thread uses a Client.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/status.h"
#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/log_ops.h"

namespace raftlog {

struct ClientOptions {
  // The client endpoints of the cluster's nodes, e.g. tcp://127.0.0.1:7101.
  std::vector<std::string> endpoints;
  // How long one request waits for its reply before it is tried elsewhere.
  std::chrono::milliseconds request_timeout{2000};
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request to one endpoint. The reply's code is not interpreted.
  // IOError when no reply comes within request_timeout; Busy, at once, when
  // a signal interrupts the wait (call() returns Busy for nothing else).
  Status call(const std::string& endpoint, const std::string& op, wire::Value::Map args,
              wire::ClientReply* reply);

  // The status of the node at endpoint. counters, if given, receives the
  // node's counters map (transport drops, rejected requests).
  Status status(const std::string& endpoint, wire::NodeStatus* out,
                wire::Value::Map* counters = nullptr);

  // Appends payload through the leader (found by trying the endpoints and
  // following redirects) and waits for the commit, up to deadline in all.
  // NotLeader/Busy/timeouts are retried until the deadline. A retry after an
  // unknown outcome can append twice: exactly-once needs producer ids.
  Status append(const std::string& payload, std::chrono::milliseconds deadline,
                wire::AppendResult* out);

  // Committed entries from the node at endpoint.
  Status fetch(const std::string& endpoint, const wire::FetchArgs& args, wire::FetchResult* out);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The Status a non-ok reply stands for: NotLeader (with the hint), Busy,
// InvalidInput, NotFound, or the rest as an error with the reply's message.
Status ReplyStatus(const wire::ClientReply& reply);

}  // namespace raftlog
