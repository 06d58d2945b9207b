#include "server/publisher.h"

namespace raftlog::server {

Publisher::Publisher(zmq::context_t* context, const ServerOptions& options)
    : options_(options), socket_(*context, zmq::socket_type::xpub) {}

Status Publisher::start(net::Poller* poller) {
  const Member* self = options_.self();
  std::string where;
  try {
    socket_.set(zmq::sockopt::sndhwm, options_.pub_hwm);
    socket_.set(zmq::sockopt::linger, 0);
    if (!self->pub_endpoint.empty()) {
      where = self->pub_endpoint;
      socket_.bind(self->pub_endpoint);
      active_ = true;
    }
    if (!options_.pub_connect.empty()) {
      where = options_.pub_connect;
      socket_.connect(options_.pub_connect);
      active_ = true;
    }
  } catch (const zmq::error_t& e) {
    return Status::IOError("pub socket " + where + ": " + e.what());
  }
  if (active_) poller->add(&socket_, [this] { on_readable(); });
  return Status::Ok();
}

void Publisher::on_readable() {
  // Each message is a subscription: 1 (subscribe) or 0 (unsubscribe), then
  // the topic prefix. Bounded per call like the other sockets.
  for (int n = 0; n < 1024; ++n) {
    zmq::message_t m;
    try {
      if (!socket_.recv(m, zmq::recv_flags::dontwait)) return;
    } catch (const zmq::error_t&) {
      return;
    }
    if (m.size() == 0) continue;
    const auto* p = static_cast<const char*>(m.data());
    std::string_view prefix(p + 1, m.size() - 1);
    if (p[0] == 1) {
      auto it = subscriptions_.find(prefix);
      if (it == subscriptions_.end()) it = subscriptions_.emplace(std::string(prefix), 0).first;
      ++it->second;
    } else if (p[0] == 0) {
      auto it = subscriptions_.find(prefix);
      if (it != subscriptions_.end() && --it->second <= 0) subscriptions_.erase(it);
    }
  }
}

void Publisher::send(std::string_view topic, const std::string& body) {
  if (!active_) return;
  try {
    socket_.send(zmq::buffer(topic.data(), topic.size()),
                 zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    socket_.send(zmq::buffer(body), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // PUB sockets drop rather than fail; nothing to do for a subscriber here.
  }
}

void Publisher::publish(std::string_view topic, const wire::PublishedEventView& event) {
  if (!active_ || subscriptions_.empty()) return;  // nobody would get it
  buffer_.clear();
  wire::EncodePublishedEvent(event, &buffer_);
  send(topic, buffer_);
}

void Publisher::heartbeat(const wire::PublishedHeartbeat& heartbeat) {
  buffer_.clear();
  wire::EncodePublishedHeartbeat(heartbeat, &buffer_);
  send(wire::kHeartbeatTopic, buffer_);
}

}  // namespace raftlog::server
