// Publisher: the node's PUB socket (docs/protocol.md, "The PUB stream").
// Binds the node's pub endpoint and/or connects to a broker's XSUB. Sends
// never block: a subscriber past the high-water mark loses messages, and
// the Subscriber library fills the gap through fetch.
//
// The socket is an XPUB: it hears subscriptions (from subscribers, or
// forwarded by a broker), so an event is encoded only while someone
// subscribes to something. Heartbeats go out regardless.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "net/poller.h"
#include "raftlog/status.h"
#include "raftlog/wire/event_ops.h"
#include "server/event_machine.h"
#include "server/options.h"

namespace raftlog::server {

class Publisher : public EventSink {
 public:
  Publisher(zmq::context_t* context, const ServerOptions& options);
  // IOError if the bind or connect fails. A node without a pub endpoint
  // and without a broker publishes nothing. The loop's poller serves the
  // socket's subscription messages.
  Status start(net::Poller* poller);
  void publish(std::string_view topic, const wire::PublishedEventView& event) override;
  void heartbeat(const wire::PublishedHeartbeat& heartbeat);
  // Whether any subscription (to any topic prefix) is open now.
  bool subscribed() const { return !subscriptions_.empty(); }

 private:
  void send(std::string_view topic, const std::string& body);
  void on_readable();

  const ServerOptions& options_;
  zmq::socket_t socket_;
  bool active_ = false;
  std::string buffer_;
  std::map<std::string, int, std::less<>> subscriptions_;  // topic prefix -> count
};

}  // namespace raftlog::server
