#include "server/client_service.h"

#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/log_ops.h"
#include "server/log.h"

namespace raftlog::server {

ClientService::ClientService(zmq::context_t* context, const ServerOptions& options,
                             ReplicatedLog* log, net::ZmqTransport* transport)
    : context_(context),
      options_(options),
      log_(log),
      transport_(transport),
      socket_(*context, zmq::socket_type::router) {
  limits_.max_frame_bytes = options.max_frame_bytes;
}

Status ClientService::start() {
  const Member* self = options_.self();
  try {
    socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.max_frame_bytes));
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::sndhwm, 100000);
    socket_.set(zmq::sockopt::rcvhwm, 100000);
    socket_.bind(self->client_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::IOError("client socket " + self->client_endpoint + ": " + e.what());
  }
  transport_->add_socket(&socket_, [this] { on_readable(); });
  return Status::Ok();
}

void ClientService::on_readable() {
  // Bounded per call so clients cannot starve Raft traffic.
  for (int n = 0; n < 1024; ++n) {
    std::vector<zmq::message_t> frames;
    zmq::message_t frame;
    if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return;
    bool more = frame.more();
    frames.push_back(std::move(frame));
    while (more && frames.size() < 8) {
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
      more = part.more();
      frames.push_back(std::move(part));
    }
    while (more) {  // more frames than any request has: drain, then reject
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
      more = part.more();
    }
    ++counters_.requests;
    // [routing id] [empty delimiter, from REQ sockets] payload
    Envelope envelope;
    for (size_t i = 0; i + 1 < frames.size(); ++i) envelope.push_back(frames[i].to_string());
    bool shape_ok = frames.size() == 2 || (frames.size() == 3 && frames[1].size() == 0);
    wire::ClientRequest request;
    Status s = shape_ok ? wire::DecodeRequest(static_cast<const char*>(frames.back().data()),
                                              frames.back().size(), limits_, &request)
                        : Status::Corruption("a request is one frame after the envelope, got " +
                                             std::to_string(frames.size() - 1));
    if (!s.ok()) {
      ++counters_.rejected_malformed;
      if (LogEnabled(LogLevel::kWarn)) {
        warnings_.warn("client socket: rejected a request: " + s.ToString());
      }
      if (shape_ok || frames.size() >= 2) {
        if (!shape_ok) envelope.resize(1);
        send_reply(envelope,
                   wire::ErrorReply(request.request_id, Status::InvalidInput(s.message())));
      }
      continue;
    }
    handle(envelope, request);
  }
}

void ClientService::handle(const Envelope& envelope, const wire::ClientRequest& request) {
  if (request.op == wire::kStatusOp) {
    send_reply(envelope, handle_status(request));
  } else if (request.op == wire::kFetchOp) {
    send_reply(envelope, handle_fetch(request));
  } else if (request.op == wire::kAppendOp) {
    handle_append(envelope, request);
  } else {
    send_reply(envelope, error_reply(request.request_id,
                                     Status::InvalidInput("unknown op '" + request.op + "'")));
  }
}

wire::ClientReply ClientService::error_reply(uint64_t request_id, const Status& status) {
  wire::ClientReply reply = wire::ErrorReply(request_id, status);
  if (status.IsNotLeader()) {
    // Tell the client where to go: the leader's client endpoint.
    const Member* leader = options_.member(status.leader_hint());
    wire::NotLeaderInfo info{status.leader_hint(), leader ? leader->client_endpoint : "",
                             status.message()};
    reply.body = wire::EncodeNotLeaderBody(info);
  }
  return reply;
}

wire::ClientReply ClientService::handle_status(const wire::ClientRequest& request) {
  LocalNode node = log_->local_node();
  LocalHistory history = log_->local_history();
  wire::NodeStatus st;
  st.id = node.id;
  st.role = node.role;
  st.term = node.ballot.term;
  st.leader = node.leader;
  st.commit_index = history.committed;
  st.applied_index = history.applied;
  st.head_index = history.head;
  st.last_index = history.last;
  for (const core::PeerProgress& p : log_->progress()) {
    if (p.id == node.id) continue;
    st.peers.push_back(wire::PeerStatus{p.id, p.match, p.next,
                                        history.last > p.match ? history.last - p.match : 0,
                                        p.replicating, p.recent_active});
  }
  wire::ClientReply reply;
  reply.request_id = request.request_id;
  reply.body = wire::EncodeStatusBody(st);
  // Drop counters, for operators and tests (extra keys are allowed).
  const net::TransportCounters& t = transport_->counters();
  wire::Value::Map counters = {
      {"peer_sent", wire::Value::Uint(t.sent)},
      {"peer_received", wire::Value::Uint(t.received)},
      {"peer_dropped_send_queue_full", wire::Value::Uint(t.dropped_send_queue_full)},
      {"peer_dropped_malformed", wire::Value::Uint(t.dropped_malformed)},
      {"peer_dropped_unknown_sender", wire::Value::Uint(t.dropped_unknown_sender)},
      {"peer_dropped_forged", wire::Value::Uint(t.dropped_forged)},
      {"peer_connections_closed", wire::Value::Uint(t.connections_closed)},
      {"client_requests", wire::Value::Uint(counters_.requests)},
      {"client_rejected_malformed", wire::Value::Uint(counters_.rejected_malformed)},
  };
  reply.body.emplace_back("counters", wire::Value::MakeMap(std::move(counters)));
  return reply;
}

wire::ClientReply ClientService::handle_fetch(const wire::ClientRequest& request) {
  wire::FetchArgs args;
  Status s = wire::DecodeFetchArgs(request.args, &args);
  if (!s.ok()) return error_reply(request.request_id, Status::InvalidInput(s.message()));
  LocalHistory history = log_->local_history();
  if (args.from <= history.head) {
    wire::ClientReply reply = error_reply(
        request.request_id, Status::NotFound("index " + std::to_string(args.from) +
                                             " was compacted; the earliest index held is " +
                                             std::to_string(history.head + 1)));
    reply.body.emplace_back("earliest", wire::Value::Uint(history.head + 1));
    return reply;
  }
  wire::FetchResult result;
  result.commit_index = history.committed;
  result.head_index = history.head;
  // Only what is committed and durable here.
  core::LogIndex last = std::min(history.committed, history.persisted);
  if (args.from <= last) {
    core::LogIndex hi = std::min(last + 1, args.from + args.max_count);
    s = log_->store().entries(args.from, hi, args.max_bytes, &result.entries);
    if (!s.ok()) return error_reply(request.request_id, s);
  }
  wire::ClientReply reply;
  reply.request_id = request.request_id;
  reply.body = wire::EncodeFetchResult(result);
  return reply;
}

void ClientService::handle_append(const Envelope& envelope, const wire::ClientRequest& request) {
  wire::AppendArgs args;
  Status s = wire::DecodeAppendArgs(request.args, &args);
  if (!s.ok()) {
    send_reply(envelope, error_reply(request.request_id, Status::InvalidInput(s.message())));
    return;
  }
  core::ProposalId id;
  s = log_->propose_command(std::move(args.payload), &id);
  if (!s.ok()) {
    send_reply(envelope, error_reply(request.request_id, s));
    return;
  }
  pending_[id.index] = PendingAppend{envelope, request.request_id, id.term};
}

void ClientService::on_event(const Event& event) {
  if (const auto* c = std::get_if<Committed>(&event)) {
    auto it = pending_.begin();
    while (it != pending_.end() && it->first <= c->index) {
      const PendingAppend& p = it->second;
      if (it->first == c->index && c->entry.term == p.term) {
        wire::ClientReply reply;
        reply.request_id = p.request_id;
        reply.body = wire::EncodeAppendResult(wire::AppendResult{c->index, c->entry.term});
        send_reply(p.envelope, reply);
      } else {
        // Another leader's entry took the index: this append was dropped.
        send_reply(p.envelope,
                   error_reply(p.request_id, Status::InconsistentState(
                                                 "the append was dropped by a leader change; "
                                                 "it was not committed")));
      }
      it = pending_.erase(it);
    }
  } else if (const auto* r = std::get_if<core::RoleChanged>(&event)) {
    if (r->role != core::Role::kLeader) fail_pending("leadership lost");
  }
}

void ClientService::fail_pending(const std::string& why) {
  for (auto& [index, p] : pending_) {
    // The entry may still commit under the next leader: the outcome is unknown.
    send_reply(
        p.envelope,
        error_reply(p.request_id, Status::NotLeader(log_->local_node().leader,
                                                    why + " before index " + std::to_string(index) +
                                                        " committed; its outcome is unknown")));
  }
  pending_.clear();
}

void ClientService::send_reply(const Envelope& envelope, const wire::ClientReply& reply) {
  buffer_.clear();
  wire::EncodeReply(reply, &buffer_);
  try {
    for (const std::string& part : envelope) {
      socket_.send(zmq::buffer(part), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    }
    socket_.send(zmq::buffer(buffer_), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    RAFTLOG_LOG(kWarn) << "client socket: reply lost: " << e.what();
  }
}

}  // namespace raftlog::server
