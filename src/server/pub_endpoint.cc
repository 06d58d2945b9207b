#include "server/pub_endpoint.h"

namespace raftlog::server {

PubEndpoint::PubEndpoint(zmq::context_t* context, int send_hwm)
    : socket_(*context, zmq::socket_type::xpub), send_hwm_(send_hwm) {}

Status PubEndpoint::start(const std::string& bind, const std::string& connect,
                          net::Poller* poller) {
  std::string where;
  try {
    socket_.set(zmq::sockopt::sndhwm, send_hwm_);
    socket_.set(zmq::sockopt::linger, 0);
    if (!bind.empty()) {
      where = bind;
      socket_.bind(bind);
      active_ = true;
    }
    if (!connect.empty()) {
      where = connect;
      socket_.connect(connect);
      active_ = true;
    }
  } catch (const zmq::error_t& e) {
    return Status::IOError("pub socket " + where + ": " + e.what());
  }
  if (active_) poller->add(&socket_, [this] { on_readable(); });
  return Status::Ok();
}

void PubEndpoint::on_readable() {
  // Each message is a subscription. Bounded per call like the other sockets.
  for (int n = 0; n < 1024; ++n) {
    zmq::message_t m;
    try {
      if (!socket_.recv(m, zmq::recv_flags::dontwait)) return;
    } catch (const zmq::error_t&) {
      return;
    }
    if (publisher_ != nullptr) {
      publisher_->on_subscription(std::string_view(static_cast<const char*>(m.data()), m.size()));
    }
  }
}

void PubEndpoint::send(std::string_view topic, std::string_view body) {
  if (!active_) return;
  try {
    socket_.send(zmq::buffer(topic.data(), topic.size()),
                 zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    socket_.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // PUB sockets drop rather than fail; nothing to do for a subscriber here.
  }
}

}  // namespace raftlog::server
