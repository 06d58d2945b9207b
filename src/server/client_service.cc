#include "server/client_service.h"

#include <algorithm>
#include <chrono>

#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"
#include "server/log.h"

namespace raftlog::server {

namespace {

uint64_t SystemMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

ClientService::ClientService(ClientServiceOptions options, ReplicatedLog* log,
                             ReplyChannel* replies)
    : options_(std::move(options)), log_(log), replies_(replies) {
  if (!options_.wall_ms) options_.wall_ms = SystemMs;
}

void ClientService::on_misshapen(const ReplyTo& to, size_t frames) {
  ++counters_.requests;
  reject(to, Status::Corruption("a request is one frame after the envelope, got " +
                                std::to_string(frames)));
}

void ClientService::on_request(ReplyTo to, std::string_view frame) {
  ++counters_.requests;
  const char* data = frame.data();
  const size_t size = frame.size();
  // A push, an append and a push_batch are read straight from their frame
  // (views, no allocation); every other request through the general decoder.
  uint64_t request_id = 0;
  std::string_view op;
  const bool head = wire::PeekHead(data, size, &request_id, &op);
  if (head && (op == wire::kPushOp || op == wire::kAppendOp)) {
    wire::PushRequestView push;
    Status s = wire::DecodePushRequest(data, size, options_.limits, &push);
    to.request_id = push.request_id;
    if (s.ok()) {
      handle_push(std::move(to), push);
    } else {
      reject(to, s);
    }
    return;
  }
  if (head && op == wire::kPushBatchOp) {
    std::string_view producer;
    Status s = wire::DecodePushBatchRequest(data, size, options_.limits, &request_id, &producer,
                                            &batch_events_);
    to.request_id = request_id;
    if (s.ok()) {
      handle_push_batch(to, producer, batch_events_);
    } else {
      reject(to, s);
    }
    return;
  }
  wire::ClientRequest request;
  Status s = wire::DecodeRequest(data, size, options_.limits, &request);
  to.request_id = request.request_id;
  if (!s.ok()) {
    reject(to, s);
    return;
  }
  handle(to, request);
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
  send_reply(to, wire::ErrorReply(to.request_id, Status::InvalidInput(status.message())));
}

void ClientService::handle(const ReplyTo& to, const wire::ClientRequest& request) {
  if (request.op == wire::kStatusOp) {
    send_reply(to, handle_status(request));
  } else if (request.op == wire::kFetchOp) {
    send_reply(to, handle_fetch(request));
  } else if (request.op == wire::kSnapshotOp) {
    if (!snapshot_) {
      send_reply(to, error_reply(request.request_id,
                                 Status::NotSupported("this node takes no snapshots")));
      return;
    }
    // Answered once the snapshot is durable (the service outlives the
    // snapshotter's callbacks: both live as long as the node).
    snapshot_([this, to](const Status& s, const core::SnapshotHead& head) {
      if (!s.ok()) {
        send_reply(to, error_reply(to.request_id, s));
        return;
      }
      wire::ClientReply reply;
      reply.request_id = to.request_id;
      reply.body = wire::EncodeSnapshotResult({head.index, head.term, head.size});
      send_reply(to, reply);
    });
  } else {
    send_reply(to, error_reply(request.request_id,
                               Status::InvalidInput("unknown op '" + request.op + "'")));
  }
}

wire::ClientReply ClientService::error_reply(uint64_t request_id, const Status& status) {
  wire::ClientReply reply = wire::ErrorReply(request_id, status);
  if (status.IsNotLeader()) {
    // Tell the client where to go: the leader's client endpoint.
    auto leader = options_.client_endpoints.find(status.leader_hint());
    wire::NotLeaderInfo info{status.leader_hint(),
                             leader != options_.client_endpoints.end() ? leader->second : "",
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
  // Counters, for operators and tests (extra keys are allowed).
  wire::Value::Map counters;
  if (extra_) counters = extra_();
  counters.emplace_back("client_requests", wire::Value::Uint(counters_.requests));
  counters.emplace_back("client_rejected_malformed",
                        wire::Value::Uint(counters_.rejected_malformed));
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
  if (Status s = wire::CheckPayloadSize(push.payload.size(), options_.limits); !s.ok()) {
    send_reply(to, error_reply(push.request_id, s));
    return;
  }
  to.with_flag = !push.append;
  events_->push(std::move(to), push.topic, push.payload, push.producer, push.seq,
                options_.wall_ms());
}

void ClientService::handle_push_batch(const ReplyTo& to, std::string_view producer,
                                      const std::vector<wire::PushEventView>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (Status s = wire::CheckPayloadSize(events[i].payload.size(), options_.limits); !s.ok()) {
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
  const uint64_t now_ms = options_.wall_ms();
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
    replies_->send(to, buffer_);
    return;
  }
  auto b = batches_.find(to.batch);
  if (b == batches_.end()) return;  // the batch failed and was answered already
  b->second.results[to.slot] = result;
  if (--b->second.remaining > 0) return;
  buffer_.clear();
  wire::EncodePushBatchReply(b->second.to.request_id, b->second.results, &buffer_);
  replies_->send(b->second.to, buffer_);
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
  replies_->send(to, buffer_);
}

}  // namespace raftlog::server
