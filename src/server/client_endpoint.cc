#include "server/client_endpoint.h"

namespace raftlog::server {

ClientEndpoint::ClientEndpoint(zmq::context_t* context, size_t max_frame_bytes)
    : socket_(*context, zmq::socket_type::router), max_frame_bytes_(max_frame_bytes) {}

Status ClientEndpoint::start(const std::string& endpoint, net::Poller* poller) {
  try {
    socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_frame_bytes_));
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::sndhwm, 100000);
    socket_.set(zmq::sockopt::rcvhwm, 100000);
    socket_.bind(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::IOError("client socket " + endpoint + ": " + e.what());
  }
  poller->add(&socket_, [this] { on_readable(); });
  return Status::Ok();
}

void ClientEndpoint::on_readable() {
  // Bounded per call so clients cannot starve Raft traffic.
  for (int n = 0; n < 1024; ++n) {
    frames_.clear();
    zmq::message_t frame;
    if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return;
    bool more = frame.more();
    frames_.push_back(std::move(frame));
    while (more && frames_.size() < 8) {
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
      more = part.more();
      frames_.push_back(std::move(part));
    }
    size_t extra = 0;
    while (more) {  // more frames than any request has: drain, then refuse
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
      more = part.more();
      ++extra;
    }
    // [routing id] [empty delimiter, from REQ sockets] request
    ReplyTo to;
    to.client = frames_[0].to_string();
    const bool shape_ok =
        extra == 0 && (frames_.size() == 2 || (frames_.size() == 3 && frames_[1].size() == 0));
    if (!shape_ok) {
      service_->on_misshapen(to, frames_.size() - 1 + extra);
      continue;
    }
    to.delimiter = frames_.size() == 3;
    service_->on_request(
        std::move(to),
        std::string_view(static_cast<const char*>(frames_.back().data()), frames_.back().size()));
  }
}

void ClientEndpoint::send(const ReplyTo& to, std::string_view frame) {
  try {
    socket_.send(zmq::buffer(to.client), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    if (to.delimiter) {
      socket_.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    }
    socket_.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    RAFTLOG_LOG(kWarn) << "client socket: reply lost: " << e.what();
  }
}

}  // namespace raftlog::server
