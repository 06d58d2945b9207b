// PubEndpoint: raftlogd's PUB socket. An XPUB that binds the node's pub
// endpoint and/or connects to a broker's XSUB; it hears subscriptions (from
// subscribers, or forwarded by a broker) and tells the Publisher, and sends
// what the Publisher publishes without ever blocking.
#pragma once

#include <string>
#include <string_view>
#include <zmq.hpp>

#include "net/poller.h"
#include "raftlog/status.h"
#include "server/publisher.h"

namespace raftlog::server {

class PubEndpoint final : public PubChannel {
 public:
  PubEndpoint(zmq::context_t* context, int send_hwm);
  void set_publisher(Publisher* publisher) { publisher_ = publisher; }
  // Binds `bind` and connects to `connect` (either may be empty); IOError
  // if one fails. The poller serves the socket's subscription messages.
  // With both empty, what is sent goes nowhere.
  Status start(const std::string& bind, const std::string& connect, net::Poller* poller);
  void send(std::string_view topic, std::string_view body) override;

 private:
  void on_readable();

  zmq::socket_t socket_;
  int send_hwm_;
  Publisher* publisher_ = nullptr;
  bool active_ = false;
};

}  // namespace raftlog::server
