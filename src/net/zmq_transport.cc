#include "net/zmq_transport.h"

#include <zmq.h>

#include <algorithm>
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
  } catch (const zmq::error_t& e) {
    return Status::IOError("peer socket " + options_.bind_endpoint + ": " + e.what());
  }
  poller_->add(&router_, [this] { read_peer_socket(); });
  if (router_monitor_) {
    poller_->add(router_monitor_.get(), [this] { read_monitor(*router_monitor_, core::kNoNode); });
  }
  for (const PeerAddress& p : options_.peers) {
    Status s = open_peer(p.id, p.endpoint);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// On both ends of every peer connection: a connection whose other end
// stops answering PINGs is closed, whatever TCP believes.
void ZmqTransport::heartbeats(zmq::socket_t& s) const {
  if (options_.heartbeat_interval_ms <= 0) return;
  s.set(zmq::sockopt::heartbeat_ivl, options_.heartbeat_interval_ms);
  s.set(zmq::sockopt::heartbeat_timeout, options_.heartbeat_timeout_ms);
  s.set(zmq::sockopt::heartbeat_ttl, options_.heartbeat_timeout_ms);
}

Status ZmqTransport::open_peer(core::NodeId id, const std::string& endpoint) {
  auto existing = peers_.find(id);
  if (existing != peers_.end()) {
    if (existing->second.endpoint == endpoint) return Status::Ok();
    close_peer(id);
  }
  Peer peer;
  peer.id = id;
  peer.endpoint = endpoint;
  try {
    peer.dealer = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::dealer);
    zmq::socket_t& d = *peer.dealer;
    d.set(zmq::sockopt::sndhwm, options_.send_hwm);
    d.set(zmq::sockopt::rcvhwm, options_.receive_hwm);
    d.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.limits.max_frame_bytes));
    d.set(zmq::sockopt::immediate, 1);
    d.set(zmq::sockopt::linger, 0);
    d.set(zmq::sockopt::reconnect_ivl, options_.reconnect_ivl_ms);
    d.set(zmq::sockopt::reconnect_ivl_max, options_.reconnect_ivl_max_ms);
    d.set(zmq::sockopt::connect_timeout, options_.connect_timeout_ms);
    heartbeats(d);
    peer.monitor = Monitor(context_, d,
                           "dealer-" + IdString(options_.self) + "-" + IdString(id) + "-" +
                               std::to_string(reinterpret_cast<uintptr_t>(this)) + "-" +
                               std::to_string(++monitors_made_),
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED);
    d.connect(endpoint);
  } catch (const zmq::error_t& e) {
    if (peer.dealer) zmq_socket_monitor(peer.dealer->handle(), nullptr, 0);
    return Status::IOError("peer socket to node " + IdString(id) + " at " + endpoint + ": " +
                           e.what());
  }
  Peer& p = peers_[id] = std::move(peer);
  poller_->add(p.dealer.get(), [this, id] { read_dealer(id); });
  if (p.monitor) {
    poller_->add(p.monitor.get(), [this, m = p.monitor.get(), id] { read_monitor(*m, id); });
  }
  routes_.erase(id);
  return Status::Ok();
}

void ZmqTransport::close_peer(core::NodeId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  poller_->remove(p.dealer.get());
  if (p.monitor) poller_->remove(p.monitor.get());
  // Stop the monitor before its socket closes.
  zmq_socket_monitor(p.dealer->handle(), nullptr, 0);
  peers_.erase(it);
  if (peer_listener_) peer_listener_(id, false);
}

void ZmqTransport::set_members(const core::ClusterConfig& config) {
  if (!options_.resolve) return;
  std::vector<PeerAddress> known;
  Status s = options_.resolve(config, &known);
  if (!s.ok()) {
    warn(
        "peer sockets: the configuration's addresses cannot be read, keeping the peers as they "
        "are: " +
        s.ToString());
    return;
  }
  const std::vector<core::NodeId> members = config.members();
  auto is_member = [&](core::NodeId id) {
    return std::find(members.begin(), members.end(), id) != members.end();
  };
  // Members that left: their sockets close.
  std::vector<core::NodeId> gone;
  for (const auto& [id, p] : peers_) {
    if (!is_member(id)) gone.push_back(id);
  }
  for (core::NodeId id : gone) {
    close_peer(id);
    ++counters_.peers_removed;
  }
  for (const PeerAddress& a : known) {
    if (a.id == options_.self || a.id == core::kNoNode || !is_member(a.id) || a.endpoint.empty())
      continue;
    // A wildcard address is where a node binds, not where it is reached
    // (a container's own line, tcp://0.0.0.0:7001): keep what is known.
    if (a.endpoint.find("://0.0.0.0:") != std::string::npos ||
        a.endpoint.find("://*:") != std::string::npos) {
      continue;
    }
    auto it = peers_.find(a.id);
    if (it != peers_.end() && it->second.endpoint == a.endpoint) continue;
    const bool added = it == peers_.end();
    s = open_peer(a.id, a.endpoint);
    if (!s.ok()) {
      warn(s.ToString());
      continue;
    }
    if (added) ++counters_.peers_added;
  }
}

ZmqTransport::~ZmqTransport() {
  if (poller_ != nullptr) {
    poller_->remove(&router_);
    if (router_monitor_) poller_->remove(router_monitor_.get());
    for (auto& [id, p] : peers_) {
      poller_->remove(p.dealer.get());
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
    // A non-member leader this node follows: answered where it spoke from.
    auto route = routes_.find(m.to);
    if (route == routes_.end()) {
      ++counters_.dropped_unknown_sender;
      return;
    }
    encode_buffer_.clear();
    wire::EncodeMessage(m, &encode_buffer_);
    if (encode_buffer_.size() > options_.limits.max_frame_bytes) {
      ++counters_.dropped_oversized;
      return;
    }
    zmq::message_t envelope(route->second.data(), route->second.size());
    zmq::message_t frame(encode_buffer_.data(), encode_buffer_.size());
    // A routing id whose connection is gone: ROUTER drops it silently.
    if (router_.send(envelope, zmq::send_flags::sndmore | zmq::send_flags::dontwait) &&
        router_.send(frame, zmq::send_flags::dontwait)) {
      ++counters_.sent;
    } else {
      ++counters_.dropped_send_queue_full;
    }
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
    bool unknown = false;
    if (!accept(static_cast<const char*>(frame.data()), frame.size(), core::kNoNode, &m,
                &unknown)) {
      continue;
    }
    if (unknown) {
      // Remember where to answer it; a handful of such leaders at most.
      if (routes_.size() >= 16 && !routes_.count(m.from)) routes_.erase(routes_.begin());
      routes_[m.from] = std::string(static_cast<const char*>(envelope.data()), envelope.size());
    }
    inbox_.push_back(std::move(m));
  }
}

bool ZmqTransport::accept(const char* data, size_t size, core::NodeId via_dealer, core::Message* m,
                          bool* unknown) {
  Status s = wire::DecodeMessage(data, size, options_.limits, m);
  if (!s.ok()) {
    ++counters_.dropped_malformed;
    warn("peer socket: dropped a frame: " + s.ToString());
    return false;
  }
  *unknown = false;
  if (via_dealer != core::kNoNode && m->from != via_dealer) {
    ++counters_.dropped_unknown_sender;
    warn("peer socket: dropped a message from node " + IdString(m->from) +
         " on the connection to node " + IdString(via_dealer));
    return false;
  }
  if (!peers_.count(m->from)) {
    // A leader this node does not know of (it waits to be added, or has not
    // seen the entry that adds the leader yet) is followed; nothing else
    // from a non-member is heard.
    const core::MessageType type = m->type();
    if (m->from == core::kNoNode || m->from == options_.self ||
        (type != core::MessageType::kAppendEntries &&
         type != core::MessageType::kInstallSnapshot)) {
      ++counters_.dropped_unknown_sender;
      warn("peer socket: dropped a message from unknown sender " + IdString(m->from));
      return false;
    }
    *unknown = true;
  }
  if (m->to != options_.self) {
    ++counters_.dropped_misaddressed;
    warn("peer socket: dropped a message from node " + IdString(m->from) + " addressed to node " +
         IdString(m->to));
    return false;
  }
  ++counters_.received;
  if (*unknown) ++counters_.received_from_non_member;
  return true;
}

void ZmqTransport::read_dealer(core::NodeId peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  zmq::socket_t& dealer = *it->second.dealer;
  for (int n = 0; n < 4096; ++n) {
    zmq::message_t frame;
    if (!dealer.recv(frame, zmq::recv_flags::dontwait)) return;
    size_t parts = 1;
    bool more = frame.more();
    while (more) {
      zmq::message_t part;
      if (!dealer.recv(part, zmq::recv_flags::dontwait)) break;
      more = part.more();
      ++parts;
    }
    if (parts != 1) {
      ++counters_.dropped_malformed;
      warn("peer socket: dropped a message of " + std::to_string(parts) +
           " frames (one expected) from node " + IdString(peer));
      continue;
    }
    core::Message m;
    bool unknown = false;
    if (accept(static_cast<const char*>(frame.data()), frame.size(), peer, &m, &unknown)) {
      inbox_.push_back(std::move(m));
    }
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
