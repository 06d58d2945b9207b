// Publisher: the node's PUB socket (docs/protocol.md, "The PUB stream").
// Binds the node's pub endpoint and/or connects to a broker's XSUB. Sends
// never block: a subscriber past the high-water mark loses messages, and
// the Subscriber library fills the gap through fetch.
#pragma once

#include <string>
#include <zmq.hpp>

#include "raftlog/status.h"
#include "raftlog/wire/event_ops.h"
#include "server/options.h"

namespace raftlog::server {

class Publisher {
 public:
  Publisher(zmq::context_t* context, const ServerOptions& options);
  // IOError if the bind or connect fails. A node without a pub endpoint
  // and without a broker publishes nothing.
  Status start();
  void publish(const std::string& topic, const wire::PublishedEvent& event);
  void heartbeat(const wire::PublishedHeartbeat& heartbeat);
  uint64_t published() const { return published_; }

 private:
  void send(const std::string& topic, const std::string& body);

  const ServerOptions& options_;
  zmq::socket_t socket_;
  bool active_ = false;
  uint64_t published_ = 0;
  std::string buffer_;
};

}  // namespace raftlog::server
