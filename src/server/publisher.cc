#include "server/publisher.h"

namespace raftlog::server {

Publisher::Publisher(zmq::context_t* context, const ServerOptions& options)
    : options_(options), socket_(*context, zmq::socket_type::pub) {}

Status Publisher::start() {
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
  return Status::Ok();
}

void Publisher::send(const std::string& topic, const std::string& body) {
  if (!active_) return;
  try {
    socket_.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    socket_.send(zmq::buffer(body), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // PUB sockets drop rather than fail; nothing to do for a subscriber here.
  }
}

void Publisher::publish(const std::string& topic, const wire::PublishedEvent& event) {
  buffer_.clear();
  wire::EncodePublishedEvent(event, &buffer_);
  send(topic, buffer_);
  ++published_;
}

void Publisher::heartbeat(const wire::PublishedHeartbeat& heartbeat) {
  buffer_.clear();
  wire::EncodePublishedHeartbeat(heartbeat, &buffer_);
  send(wire::kHeartbeatTopic, buffer_);
}

}  // namespace raftlog::server
