#include "server/client_service.h"

#include <algorithm>
#include <chrono>

#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"
#include "server/log.h"

namespace raftlog::server {

namespace {

// An event record's timestamp: wall time, as a reader of the event expects.
uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

ClientService::ClientService(zmq::context_t* context, const ServerOptions& options,
                             ReplicatedLog* log, net::ZmqTransport* transport)
    : context_(context),
      options_(options),
      log_(log),
      transport_(transport),
      socket_(*context, zmq::socket_type::router) {
  limits_.max_frame_bytes = options.max_frame_bytes;
  limits_.max_payload_bytes = options.max_payload_bytes;
}

Status ClientService::start(net::Poller* poller) {
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
  poller->add(&socket_, [this] { on_readable(); });
  return Status::Ok();
}

void ClientService::on_readable() {
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
    while (more) {  // more frames than any request has: drain, then reject
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
      more = part.more();
    }
    ++counters_.requests;
    // [routing id] [empty delimiter, from REQ sockets] payload
    const bool shape_ok = frames_.size() == 2 || (frames_.size() == 3 && frames_[1].size() == 0);
    ReplyTo to;
    to.client = frames_[0].to_string();
    to.delimiter = frames_.size() == 3 && shape_ok;
    const auto* data = static_cast<const char*>(frames_.back().data());
    const size_t size = frames_.back().size();
    // A push, an append and a push_batch are read straight from their frame
    // (views, no allocation); every other request through the general decoder.
    uint64_t request_id = 0;
    std::string_view op;
    const bool head = shape_ok && wire::PeekHead(data, size, &request_id, &op);
    if (head && (op == wire::kPushOp || op == wire::kAppendOp)) {
      wire::PushRequestView push;
      Status s = wire::DecodePushRequest(data, size, limits_, &push);
      to.request_id = push.request_id;
      if (s.ok()) {
        handle_push(std::move(to), push);
      } else {
        reject(to, s);
      }
      continue;
    }
    if (head && op == wire::kPushBatchOp) {
      std::string_view producer;
      Status s =
          wire::DecodePushBatchRequest(data, size, limits_, &request_id, &producer, &batch_events_);
      to.request_id = request_id;
      if (s.ok()) {
        handle_push_batch(to, producer, batch_events_);
      } else {
        reject(to, s);
      }
      continue;
    }
    wire::ClientRequest request;
    Status s = shape_ok ? wire::DecodeRequest(data, size, limits_, &request)
                        : Status::Corruption("a request is one frame after the envelope, got " +
                                             std::to_string(frames_.size() - 1));
    to.request_id = request.request_id;
    if (!s.ok()) {
      reject(to, s);
      continue;
    }
    handle(to, request);
  }
}

void ClientService::reject(const ReplyTo& to, const Status& status) {
  if (status.IsInvalidInput()) {
    send_reply(to, error_reply(to.request_id, status));
    return;
  }
  ++counters_.rejected_malformed;
  if (LogEnabled(LogLevel::kWarn)) {
    warnings_.warn("client socket: rejected a request: " + status.ToString());
  }
  if (frames_.size() >= 2) {
    send_reply(to, wire::ErrorReply(to.request_id, Status::InvalidInput(status.message())));
  }
}

void ClientService::handle(const ReplyTo& to, const wire::ClientRequest& request) {
  if (request.op == wire::kStatusOp) {
    send_reply(to, handle_status(request));
  } else if (request.op == wire::kFetchOp) {
    send_reply(to, handle_fetch(request));
  } else {
    send_reply(to, error_reply(request.request_id,
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
      {"peer_dropped_misaddressed", wire::Value::Uint(t.dropped_misaddressed)},
      {"peer_dropped_oversized", wire::Value::Uint(t.dropped_oversized)},
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
  wire::FetchResult result;
  s = events_->fetch(args.from, args.max_count, args.max_bytes, &result);
  if (s.IsNotFound()) {
    wire::ClientReply reply = error_reply(request.request_id, s);
    reply.body.emplace_back("earliest", wire::Value::Uint(log_->local_history().head + 1));
    return reply;
  }
  if (!s.ok()) return error_reply(request.request_id, s);
  wire::ClientReply reply;
  reply.request_id = request.request_id;
  reply.body = wire::EncodeFetchResult(result);
  return reply;
}

void ClientService::handle_push(ReplyTo to, const wire::PushRequestView& push) {
  // Refused here, not at propose: an entry no follower could take must
  // never reach the log (wire/limits.h).
  if (Status s = wire::CheckPayloadSize(push.payload.size(), limits_); !s.ok()) {
    send_reply(to, error_reply(push.request_id, s));
    return;
  }
  to.with_flag = !push.append;
  events_->push(std::move(to), push.topic, push.payload, push.producer, push.seq, NowMs());
}

void ClientService::handle_push_batch(const ReplyTo& to, std::string_view producer,
                                      const std::vector<wire::PushEventView>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (Status s = wire::CheckPayloadSize(events[i].payload.size(), limits_); !s.ok()) {
      send_reply(to, error_reply(to.request_id,
                                 Status::InvalidInput("push_batch: events[" + std::to_string(i) +
                                                      "]: " + s.message())));
      return;
    }
  }
  if (log_->local_node().role != core::Role::kLeader) {
    send_reply(to, error_reply(to.request_id, Status::NotLeader(log_->local_node().leader)));
    return;
  }
  // All or nothing: a seq too old to tell fails the batch before any of it
  // is appended.
  for (const wire::PushEventView& e : events) {
    if (Status s = events_->check_not_too_old(producer, e.seq); !s.ok()) {
      send_reply(to,
                 error_reply(to.request_id, Status::InvalidInput("push_batch: " + s.message())));
      return;
    }
  }
  const uint64_t id = next_batch_++;
  batches_.emplace(id, Batch{to, events.size(), std::vector<wire::PushResult>(events.size())});
  const uint64_t now_ms = NowMs();
  for (size_t i = 0; i < events.size(); ++i) {
    if (batches_.find(id) == batches_.end()) return;  // an event failed: the batch is answered
    ReplyTo one = to;
    one.batch = id;
    one.slot = static_cast<uint32_t>(i);
    events_->push(std::move(one), events[i].topic, events[i].payload, producer, events[i].seq,
                  now_ms);
  }
}

void ClientService::acked(const ReplyTo& to, const wire::PushResult& result) {
  if (to.batch == 0) {
    buffer_.clear();
    wire::EncodePushReply(to.request_id, result, to.with_flag, &buffer_);
    send_buffer(to);
    return;
  }
  auto b = batches_.find(to.batch);
  if (b == batches_.end()) return;  // the batch failed and was answered already
  b->second.results[to.slot] = result;
  if (--b->second.remaining > 0) return;
  buffer_.clear();
  wire::EncodePushBatchReply(b->second.to.request_id, b->second.results, &buffer_);
  send_buffer(b->second.to);
  batches_.erase(b);
}

void ClientService::failed(const ReplyTo& to, const Status& status) {
  if (to.batch != 0) {
    // The whole batch gets this error; the producer retries all of it, and
    // exactly-once answers the events that did land as duplicates.
    auto b = batches_.find(to.batch);
    if (b == batches_.end()) return;
    batches_.erase(b);
  }
  send_reply(to, error_reply(to.request_id, status));
}

void ClientService::send_reply(const ReplyTo& to, const wire::ClientReply& reply) {
  buffer_.clear();
  wire::EncodeReply(reply, &buffer_);
  send_buffer(to);
}

void ClientService::send_buffer(const ReplyTo& to) {
  try {
    socket_.send(zmq::buffer(to.client), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    if (to.delimiter) {
      socket_.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    }
    socket_.send(zmq::buffer(buffer_), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    RAFTLOG_LOG(kWarn) << "client socket: reply lost: " << e.what();
  }
}

}  // namespace raftlog::server
