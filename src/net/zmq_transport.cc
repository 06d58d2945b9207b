#include "net/zmq_transport.h"

#include <zmq.h>

#include <cerrno>
#include <cstring>

#include "raftlog/wire/peer_codec.h"

namespace raftlog::net {

namespace {

std::string IdString(core::NodeId id) {
  return std::to_string(id);
}

// Reads one monitor event: frame 1 = uint16 event + uint32 value, frame 2 = endpoint.
bool ReadMonitorEvent(zmq::socket_t& monitor, uint16_t* event) {
  zmq::message_t head;
  if (!monitor.recv(head, zmq::recv_flags::dontwait)) return false;
  zmq::message_t address;
  if (head.more()) (void)monitor.recv(address, zmq::recv_flags::dontwait);
  if (head.size() < 6) return false;
  std::memcpy(event, head.data(), sizeof(*event));
  return true;
}

std::unique_ptr<zmq::socket_t> Monitor(zmq::context_t* context, zmq::socket_t& socket,
                                       const std::string& name, int events) {
  std::string address = "inproc://monitor-" + name;
  if (zmq_socket_monitor(socket.handle(), address.c_str(), events) != 0) return nullptr;
  auto pair = std::make_unique<zmq::socket_t>(*context, zmq::socket_type::pair);
  pair->connect(address);
  return pair;
}

}  // namespace

ZmqTransport::ZmqTransport(zmq::context_t* context, const ZmqTransportOptions& options)
    : context_(context), options_(options), router_(*context, zmq::socket_type::router) {}

Status ZmqTransport::Create(zmq::context_t* context, const ZmqTransportOptions& options,
                            std::unique_ptr<ZmqTransport>* out) {
  if (options.self == core::kNoNode) return Status::InvalidInput("transport: self id must be set");
  if (options.bind_endpoint.empty()) return Status::InvalidInput("transport: no peer endpoint");
  for (const PeerAddress& p : options.peers) {
    if (p.id == core::kNoNode || p.id == options.self || p.endpoint.empty()) {
      return Status::InvalidInput("transport: bad peer " + IdString(p.id) + " '" + p.endpoint +
                                  "'");
    }
  }
  std::unique_ptr<ZmqTransport> t(new ZmqTransport(context, options));
  Status s = t->start();
  if (!s.ok()) return s;
  *out = std::move(t);
  return Status::Ok();
}

Status ZmqTransport::start() {
  poller_ = options_.poller;
  if (poller_ == nullptr) {
    Status s = Poller::Create(&own_poller_);
    if (!s.ok()) return s;
    poller_ = own_poller_.get();
  }
  // On both ends of every peer connection: a connection whose other end
  // stops answering PINGs is closed, whatever TCP believes.
  auto heartbeats = [this](zmq::socket_t& s) {
    if (options_.heartbeat_interval_ms <= 0) return;
    s.set(zmq::sockopt::heartbeat_ivl, options_.heartbeat_interval_ms);
    s.set(zmq::sockopt::heartbeat_timeout, options_.heartbeat_timeout_ms);
    s.set(zmq::sockopt::heartbeat_ttl, options_.heartbeat_timeout_ms);
  };
  try {
    router_.set(zmq::sockopt::rcvhwm, options_.receive_hwm);
    router_.set(zmq::sockopt::sndhwm, options_.send_hwm);
    router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.limits.max_frame_bytes));
    // No ZMQ_ROUTER_HANDOVER and no routing ids of our own (see the header):
    // every connection is its own pipe.
    router_.set(zmq::sockopt::linger, 0);
    heartbeats(router_);
    router_monitor_ = Monitor(context_, router_,
                              "router-" + IdString(options_.self) + "-" +
                                  std::to_string(reinterpret_cast<uintptr_t>(this)),
                              ZMQ_EVENT_DISCONNECTED);
    router_.bind(options_.bind_endpoint);
    for (const PeerAddress& p : options_.peers) {
      Peer& peer = peers_[p.id];
      peer.id = p.id;
      peer.dealer = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::dealer);
      zmq::socket_t& d = *peer.dealer;
      d.set(zmq::sockopt::sndhwm, options_.send_hwm);
      d.set(zmq::sockopt::rcvhwm, options_.receive_hwm);
      d.set(zmq::sockopt::immediate, 1);
      d.set(zmq::sockopt::linger, 0);
      d.set(zmq::sockopt::reconnect_ivl, options_.reconnect_ivl_ms);
      d.set(zmq::sockopt::reconnect_ivl_max, options_.reconnect_ivl_max_ms);
      d.set(zmq::sockopt::connect_timeout, options_.connect_timeout_ms);
      heartbeats(d);
      peer.monitor = Monitor(context_, d,
                             "dealer-" + IdString(options_.self) + "-" + IdString(p.id) + "-" +
                                 std::to_string(reinterpret_cast<uintptr_t>(this)),
                             ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED);
      d.connect(p.endpoint);
    }
  } catch (const zmq::error_t& e) {
    return Status::IOError("peer socket " + options_.bind_endpoint + ": " + e.what());
  }
  poller_->add(&router_, [this] { read_peer_socket(); });
  if (router_monitor_) {
    poller_->add(router_monitor_.get(), [this] { read_monitor(*router_monitor_, core::kNoNode); });
  }
  for (auto& [id, p] : peers_) {
    if (p.monitor)
      poller_->add(p.monitor.get(), [this, m = p.monitor.get(), id = id] { read_monitor(*m, id); });
  }
  return Status::Ok();
}

ZmqTransport::~ZmqTransport() {
  if (poller_ != nullptr) {
    poller_->remove(&router_);
    if (router_monitor_) poller_->remove(router_monitor_.get());
    for (auto& [id, p] : peers_) {
      if (p.monitor) poller_->remove(p.monitor.get());
    }
  }
  // Stop the monitors before their sockets close.
  for (auto& [id, p] : peers_) {
    if (p.dealer) zmq_socket_monitor(p.dealer->handle(), nullptr, 0);
  }
  zmq_socket_monitor(router_.handle(), nullptr, 0);
}

void ZmqTransport::warn(const std::string& what) {
  if (log_) log_(what);
}

void ZmqTransport::send(const core::Message& m) {
  auto it = peers_.find(m.to);
  if (it == peers_.end()) {
    ++counters_.dropped_unknown_sender;
    return;
  }
  encode_buffer_.clear();
  wire::EncodeMessage(m, &encode_buffer_);
  if (encode_buffer_.size() > options_.limits.max_frame_bytes) {
    // The peer would close the connection on it (ZMQ_MAXMSGSIZE), taking the
    // heartbeats queued behind it along. Option checks keep a node's own
    // messages within its limit; a peer configured with a smaller one is
    // the case this guards.
    ++counters_.dropped_oversized;
    if (!it->second.warned_oversized) {
      it->second.warned_oversized = true;
      warn("peer socket: not sending a " + std::to_string(encode_buffer_.size()) +
           "-byte message to node " + IdString(m.to) + ": over max-frame-bytes (" +
           std::to_string(options_.limits.max_frame_bytes) + ")");
    }
    return;
  }
  zmq::message_t frame(encode_buffer_.data(), encode_buffer_.size());
  auto sent = it->second.dealer->send(frame, zmq::send_flags::dontwait);
  if (sent) {
    ++counters_.sent;
  } else {
    ++counters_.dropped_send_queue_full;
  }
}

void ZmqTransport::wake() {
  poller_->wake();
}

Status ZmqTransport::receive(std::chrono::milliseconds timeout, std::vector<core::Message>* out) {
  if (inbox_.empty() && timeout.count() > 0) {
    Status s = poller_->wait(timeout);
    if (!s.ok()) return s;
  }
  for (core::Message& m : inbox_) out->push_back(std::move(m));
  inbox_.clear();
  return Status::Ok();
}

void ZmqTransport::read_peer_socket() {
  // Bounded per call so one busy peer cannot starve the rest of the loop.
  for (int n = 0; n < 4096; ++n) {
    // [routing id, the ROUTER's own and meaningless here] [message]
    zmq::message_t envelope;
    if (!router_.recv(envelope, zmq::recv_flags::dontwait)) return;
    size_t parts = 1;
    zmq::message_t frame;
    bool more = envelope.more();
    while (more) {
      zmq::message_t part;
      if (!router_.recv(part, zmq::recv_flags::dontwait)) break;
      more = part.more();
      if (++parts == 2) frame = std::move(part);
    }
    if (parts != 2) {
      ++counters_.dropped_malformed;
      warn("peer socket: dropped a message of " + std::to_string(parts - 1) +
           " frames (one expected)");
      continue;
    }
    core::Message m;
    Status s = wire::DecodeMessage(static_cast<const char*>(frame.data()), frame.size(),
                                   options_.limits, &m);
    if (!s.ok()) {
      ++counters_.dropped_malformed;
      warn("peer socket: dropped a frame: " + s.ToString());
      continue;
    }
    if (!peers_.count(m.from)) {
      ++counters_.dropped_unknown_sender;
      warn("peer socket: dropped a message from unknown sender " + IdString(m.from));
      continue;
    }
    if (m.to != options_.self) {
      ++counters_.dropped_misaddressed;
      warn("peer socket: dropped a message from node " + IdString(m.from) + " addressed to node " +
           IdString(m.to));
      continue;
    }
    ++counters_.received;
    inbox_.push_back(std::move(m));
  }
}

void ZmqTransport::read_monitor(zmq::socket_t& monitor, core::NodeId peer) {
  uint16_t event = 0;
  while (ReadMonitorEvent(monitor, &event)) {
    if (peer == core::kNoNode) {
      if (event == ZMQ_EVENT_DISCONNECTED) ++counters_.connections_closed;
      continue;
    }
    if (peer_listener_ && (event == ZMQ_EVENT_CONNECTED || event == ZMQ_EVENT_DISCONNECTED)) {
      peer_listener_(peer, event == ZMQ_EVENT_CONNECTED);
    }
  }
}

}  // namespace raftlog::net
