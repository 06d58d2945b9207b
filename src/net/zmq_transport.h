// ZmqTransport: Raft messages over ZeroMQ, as docs/protocol.md specifies.
//
// Each node binds one ROUTER socket for its peers and reaches every peer
// through a DEALER of its own; the ROUTER only receives, and every message
// goes out on the sender's DEALER. Sends never block: queues are bounded
// (high-water marks) and a message to a peer that is not connected is
// dropped (ZMQ_IMMEDIATE), so an unreachable peer costs no memory; Raft's
// retransmission covers the loss. libzmq reconnects by itself.
//
// A ZeroMQ routing id is not an identity. The DEALERs set none, so the
// ROUTER gives every connection its own: two connections that claim to be
// the same node (an impostor, or a peer reconnecting while its old TCP
// connection is still half-open) are two pipes, read alike, and neither can
// take the other's place (no ZMQ_ROUTER_HANDOVER, which let a short-lived
// connection orphan the real peer's). The sender is the message's `from`,
// which must name a member; authenticating it is CURVE's job, not the
// routing id's. ZMTP heartbeats on every connection close one whose other
// end stops answering (a paused or vanished process, a half-open TCP
// connection) within heartbeat_timeout_ms, and the DEALER then reconnects:
// a node that sends to a peer and hears nothing back recovers by itself.
// Frames that are malformed, too large, from a non-member or addressed to
// another node are dropped and counted.
//
// Membership changes: set_members (the configuration in force, whenever it
// changes) asks options.resolve for the members' peer endpoints (raftlogd:
// the address book in the configuration's context), connects to new
// members and closes the sockets of those that left. A non-member is heard
// only when it leads: AppendEntries and InstallSnapshot from an unknown
// sender are taken (a node waiting to be added, or one that has not yet
// learned of a new member that leads, must follow it, as the core says);
// every other message from one is dropped as before. Such a node is
// answered on the connection its message came in on (through the ROUTER,
// to that connection's routing id), since this node knows no endpoint for
// it; the leader reads its DEALERs for those answers.
//
// The transport does not own the node's wait: it registers its sockets with
// a Poller, the loop's (raftlogd's, which also serves the client and PUB
// sockets), or one of its own when it is given none; receive() then waits
// on it. Not thread-safe, except wake().
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "net/poller.h"
#include "raftlog/transport.h"
#include "raftlog/wire/limits.h"

namespace raftlog::net {

struct PeerAddress {
  core::NodeId id = core::kNoNode;
  std::string endpoint;  // e.g. tcp://127.0.0.1:7001
};

struct ZmqTransportOptions {
  core::NodeId self = core::kNoNode;
  std::string bind_endpoint;       // this node's peer endpoint
  std::vector<PeerAddress> peers;  // every other member
  // Messages queued per peer before sends are dropped.
  int send_hwm = 10000;
  int receive_hwm = 10000;
  // Limits for decoding; max_frame_bytes is also ZMQ_MAXMSGSIZE, so libzmq
  // closes a connection that sends a larger frame before reading it.
  wire::DecodeLimits limits;
  int reconnect_ivl_ms = 100;
  int reconnect_ivl_max_ms = 1000;
  // A connection attempt that has not completed by then (its SYN lost in a
  // partition) is abandoned and tried again, instead of waiting on the
  // kernel's SYN retransmissions (1, 3, 7... seconds) after the link heals.
  int connect_timeout_ms = 500;
  // ZMTP heartbeats: a PING every heartbeat_interval_ms on each connection;
  // one that carries nothing back within heartbeat_timeout_ms of a PING is
  // closed (and the DEALER's reconnected). raftlogd derives both from the
  // election timeout; 0 turns heartbeats off.
  int heartbeat_interval_ms = 250;
  int heartbeat_timeout_ms = 500;
  // The loop's poller (it must outlive the transport); nullptr: the
  // transport makes one of its own.
  Poller* poller = nullptr;
  // The peer endpoints of a configuration's members (set_members): Ok and
  // the addresses it knows (members it has none for keep the endpoint they
  // had, from `peers` or an earlier configuration), or an error saying why
  // the configuration's addresses cannot be read (then nothing changes).
  // Unset: the peers are `peers`, whatever the configuration.
  std::function<Status(const core::ClusterConfig&, std::vector<PeerAddress>*)> resolve;
};

// What the transport dropped, by reason, and what it moved.
struct TransportCounters {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t dropped_send_queue_full = 0;  // peer not connected or its queue full
  uint64_t dropped_malformed = 0;        // undecodable frame or wrong frame count
  uint64_t dropped_unknown_sender = 0;   // `from` names no member
  uint64_t dropped_misaddressed = 0;     // `to` is not this node
  uint64_t dropped_oversized = 0;        // not sent: over max_frame_bytes, which every peer refuses
  uint64_t connections_closed = 0;       // peer socket connections ended (restart, or a
                                         // frame over the size limit)
  uint64_t received_from_non_member = 0;  // a leader's messages from a node not (yet) known
  uint64_t peers_added = 0;               // members connected to after start (set_members)
  uint64_t peers_removed = 0;             // members whose sockets were closed (set_members)
};

class ZmqTransport : public Transport {
 public:
  using PeerListener = std::function<void(core::NodeId peer, bool up)>;
  using LogSink = std::function<void(const std::string& warning)>;

  // Binds and connects. InvalidInput for bad options, IOError if the bind fails.
  static Status Create(zmq::context_t* context, const ZmqTransportOptions& options,
                       std::unique_ptr<ZmqTransport>* out);
  ~ZmqTransport() override;

  void send(const core::Message& m) override;
  // The messages read since the last call; if there are none, first waits
  // on the poller up to timeout (serving every socket registered there).
  Status receive(std::chrono::milliseconds timeout, std::vector<core::Message>* out) override;
  void wake() override;
  // Connects to new members, closes the sockets of removed ones (see above).
  void set_members(const core::ClusterConfig& config) override;
  // Told when a peer connection comes up or goes down.
  void set_peer_listener(PeerListener listener) { peer_listener_ = std::move(listener); }
  // Told about every dropped frame, with the reason.
  void set_log_sink(LogSink sink) { log_ = std::move(sink); }

  const TransportCounters& counters() const { return counters_; }

 private:
  struct Peer {
    core::NodeId id = core::kNoNode;
    std::unique_ptr<zmq::socket_t> dealer;
    std::unique_ptr<zmq::socket_t> monitor;  // PAIR receiving the dealer's events
    std::string endpoint;
    bool warned_oversized = false;
  };
  ZmqTransport(zmq::context_t* context, const ZmqTransportOptions& options);
  Status start();
  // Opens (or, with another endpoint, reopens) the DEALER to a peer, and
  // registers it and its monitor with the poller; closes one.
  Status open_peer(core::NodeId id, const std::string& endpoint);
  void close_peer(core::NodeId id);
  void heartbeats(zmq::socket_t& socket) const;
  void read_peer_socket();
  // Answers from a node that knows no endpoint of this one, on a DEALER.
  void read_dealer(core::NodeId peer);
  // The checks every frame read passes; true: *m is taken.
  bool accept(const char* data, size_t size, core::NodeId via_dealer, core::Message* m,
              bool* unknown);
  void read_monitor(zmq::socket_t& monitor, core::NodeId peer);
  void warn(const std::string& what);

  zmq::context_t* context_;
  ZmqTransportOptions options_;
  zmq::socket_t router_;
  std::unique_ptr<zmq::socket_t> router_monitor_;
  std::map<core::NodeId, Peer> peers_;
  // The routing id of the last connection a non-member leader's message
  // came in on, to answer it there (bounded).
  std::map<core::NodeId, std::string> routes_;
  uint64_t monitors_made_ = 0;          // a fresh inproc name for each monitor
  std::unique_ptr<Poller> own_poller_;  // when the options gave none
  Poller* poller_ = nullptr;
  std::vector<core::Message> inbox_;  // read, not yet received
  TransportCounters counters_;
  PeerListener peer_listener_;
  LogSink log_;
  std::string encode_buffer_;
};

}  // namespace raftlog::net
