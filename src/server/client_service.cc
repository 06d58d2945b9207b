#include "server/client_service.h"

#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"
#include "server/log.h"

namespace raftlog::server {

ClientService::ClientService(zmq::context_t* context, const ServerOptions& options,
                             ReplicatedLog* log, net::ZmqTransport* transport,
                             const ProducerTable* producers)
    : context_(context),
      options_(options),
      log_(log),
      transport_(transport),
      producers_(producers),
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
  } else if (request.op == wire::kPushOp) {
    handle_push(envelope, request, false);
  } else if (request.op == wire::kAppendOp) {
    handle_push(envelope, request, true);
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
  reply.body.emplace_back("voted_for", wire::Value::Uint(node.ballot.voted_for));
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
  if (extra_) {
    for (auto& kv : extra_()) counters.push_back(std::move(kv));
  }
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

void ClientService::handle_push(const Envelope& envelope, const wire::ClientRequest& request,
                                bool append_op) {
  wire::PushArgs args;
  Status s;
  if (append_op) {
    wire::AppendArgs a;
    s = wire::DecodeAppendArgs(request.args, &a);
    args.topic = "default";
    args.payload = std::move(a.payload);
  } else {
    s = wire::DecodePushArgs(request.args, &args);
  }
  if (!s.ok()) {
    send_reply(envelope, error_reply(request.request_id, Status::InvalidInput(s.message())));
    return;
  }
  if (log_->local_node().role != core::Role::kLeader) {
    send_reply(envelope,
               error_reply(request.request_id, Status::NotLeader(log_->local_node().leader)));
    return;
  }
  Waiter waiter{envelope, request.request_id, false, !append_op};
  if (!args.producer.empty()) {
    // Exactly-once: a (producer, seq) already committed, or still in flight
    // in this leader's log, is answered with the original's index.
    ProducerTable::Where where;
    switch (producers_->find(args.producer, args.seq, &where)) {
      case ProducerTable::Found::kSeen: {
        wire::ClientReply reply;
        reply.request_id = request.request_id;
        reply.body = wire::EncodePushResult({where.index, where.term, true});
        send_reply(envelope, reply);
        return;
      }
      case ProducerTable::Found::kTooOld:
        send_reply(
            envelope,
            error_reply(request.request_id,
                        Status::InvalidInput("push: seq " + std::to_string(args.seq) +
                                             " is older than the window remembered for producer '" +
                                             args.producer + "'; its outcome cannot be told")));
        return;
      case ProducerTable::Found::kNew:
        break;
    }
    auto in = inflight_.find({args.producer, args.seq});
    if (in != inflight_.end()) {
      waiter.duplicate = true;
      pending_[in->second].waiters.push_back(std::move(waiter));
      return;
    }
  }
  wire::EventRecord record{
      std::move(args.topic), args.producer, args.seq,
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()),
      std::move(args.payload)};
  std::string data;
  wire::EncodeEventRecord(record, &data);
  core::ProposalId id;
  s = log_->propose_command(std::move(data), &id);
  if (!s.ok()) {
    send_reply(envelope, error_reply(request.request_id, s));
    return;
  }
  Pending& p = pending_[id.index];
  p.term = id.term;
  p.producer = args.producer;
  p.seq = args.seq;
  p.waiters.push_back(std::move(waiter));
  if (!args.producer.empty()) inflight_[{args.producer, args.seq}] = id.index;
}

void ClientService::on_event(const Event& event) {
  if (const auto* c = std::get_if<Committed>(&event)) {
    on_committed(*c);
  } else if (const auto* r = std::get_if<core::RoleChanged>(&event)) {
    if (r->role == core::Role::kLeader) {
      on_became_leader();
    } else {
      fail_pending("leadership lost");
    }
  }
}

void ClientService::on_became_leader() {
  // Events this leader inherited uncommitted: a retry of one of them must
  // wait for it, not append it again.
  LocalHistory h = log_->local_history();
  for (core::LogIndex next = h.committed + 1; next <= h.last;) {
    std::vector<core::Entry> entries;
    Status s = log_->entries(next, h.last + 1, 4 << 20, &entries);
    if (!s.ok() || entries.empty()) {
      RAFTLOG_LOG(kError) << "cannot read the uncommitted log from " << next << ": "
                          << s.ToString();
      return;
    }
    for (const core::Entry& e : entries) {
      wire::EventRecord r;
      if (e.type == core::EntryType::kCommand &&
          wire::DecodeEventRecord(e.data.data(), e.data.size(), limits_, &r).ok() &&
          !r.producer.empty()) {
        Pending& p = pending_[e.index];
        p.term = e.term;
        p.producer = r.producer;
        p.seq = r.seq;
        inflight_[{r.producer, r.seq}] = e.index;
      }
    }
    next = entries.back().index + 1;
  }
}

void ClientService::on_committed(const Committed& c) {
  auto it = pending_.begin();
  while (it != pending_.end() && it->first <= c.index) {
    Pending& p = it->second;
    bool landed = it->first == c.index && c.entry.term == p.term;
    ProducerTable::Where where{c.index, c.entry.term};
    bool duplicate_entry = false;
    if (landed && !p.producer.empty()) {
      // Normally this entry is the one the table recorded; if the log held
      // the same (producer, seq) earlier, that earlier one is the event.
      ProducerTable::Where original;
      if (producers_->find(p.producer, p.seq, &original) == ProducerTable::Found::kSeen &&
          original.index != c.index) {
        where = original;
        duplicate_entry = true;
      }
    }
    for (const Waiter& w : p.waiters) {
      if (!landed) {
        // Another leader's entry took the index: this push was dropped.
        send_reply(w.envelope,
                   error_reply(w.request_id, Status::InconsistentState(
                                                 "the push was dropped by a leader change; it "
                                                 "was not committed")));
        continue;
      }
      wire::ClientReply reply;
      reply.request_id = w.request_id;
      if (w.with_flag) {
        reply.body =
            wire::EncodePushResult({where.index, where.term, w.duplicate || duplicate_entry});
      } else {
        reply.body = wire::EncodeAppendResult({where.index, where.term});
      }
      send_reply(w.envelope, reply);
    }
    if (!p.producer.empty()) inflight_.erase({p.producer, p.seq});
    it = pending_.erase(it);
  }
}

void ClientService::fail_pending(const std::string& why) {
  for (auto& [index, p] : pending_) {
    for (const Waiter& w : p.waiters) {
      // The entry may still commit under the next leader: the outcome is unknown.
      send_reply(w.envelope,
                 error_reply(w.request_id,
                             Status::NotLeader(log_->local_node().leader,
                                               why + " before index " + std::to_string(index) +
                                                   " committed; its outcome is unknown")));
    }
  }
  pending_.clear();
  inflight_.clear();
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
