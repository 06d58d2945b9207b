#include "server/client_service.h"

#include <algorithm>
#include <chrono>

#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"
#include "server/log.h"

namespace raftlog::server {

namespace {

// A (producer, seq) below the producer table's window.
Status TooOld(const char* op, std::string_view producer, uint64_t seq) {
  return Status::InvalidInput(std::string(op) + ": seq " + std::to_string(seq) +
                              " is older than the window remembered for producer '" +
                              std::string(producer) + "'; its outcome cannot be told");
}

}  // namespace

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
  limits_.max_payload_bytes = options.max_payload_bytes;
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
    Envelope envelope{frames_[0].to_string(), frames_.size() == 3 && shape_ok};
    const auto* data = static_cast<const char*>(frames_.back().data());
    const size_t size = frames_.back().size();
    // Pushes take the allocation-free decoder; everything else, a bad push
    // included, the general one.
    wire::PushRequestView push;
    if (shape_ok && wire::DecodePushRequest(data, size, limits_, &push)) {
      handle_push(envelope, push);
      continue;
    }
    uint64_t request_id = 0;
    std::string_view producer;
    if (shape_ok &&
        wire::DecodePushBatchRequest(data, size, limits_, &request_id, &producer, &batch_events_)) {
      handle_push_batch(envelope, request_id, producer, batch_events_);
      continue;
    }
    wire::ClientRequest request;
    Status s = shape_ok ? wire::DecodeRequest(data, size, limits_, &request)
                        : Status::Corruption("a request is one frame after the envelope, got " +
                                             std::to_string(frames_.size() - 1));
    if (!s.ok()) {
      ++counters_.rejected_malformed;
      if (LogEnabled(LogLevel::kWarn)) {
        warnings_.warn("client socket: rejected a request: " + s.ToString());
      }
      if (frames_.size() >= 2) {
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
  } else if (request.op == wire::kPushOp || request.op == wire::kAppendOp) {
    // The push decoder refused this one: decode it with the op's own
    // decoder, which says what is wrong (or accepts what the fast one does
    // not handle, such as extra keys).
    wire::PushRequestView push;
    push.request_id = request.request_id;
    Status s;
    wire::PushArgs args;
    wire::AppendArgs append;
    if (request.op == wire::kAppendOp) {
      s = wire::DecodeAppendArgs(request.args, &append);
      push.append = true;
      push.topic = "default";
      push.payload = append.payload;
    } else {
      s = wire::DecodePushArgs(request.args, &args);
      push.topic = args.topic;
      push.payload = args.payload;
      push.producer = args.producer;
      push.seq = args.seq;
    }
    if (!s.ok()) {
      send_reply(envelope, error_reply(request.request_id, Status::InvalidInput(s.message())));
      return;
    }
    handle_push(envelope, push);
  } else if (request.op == wire::kPushBatchOp) {
    wire::PushBatchArgs args;
    Status s = wire::DecodePushBatchArgs(request.args, &args);
    if (!s.ok()) {
      send_reply(envelope, error_reply(request.request_id, Status::InvalidInput(s.message())));
      return;
    }
    std::vector<wire::PushEventView> events;
    events.reserve(args.events.size());
    for (const wire::PushBatchEvent& e : args.events) events.push_back({e.topic, e.payload, e.seq});
    handle_push_batch(envelope, request.request_id, args.producer, events);
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
  s = log_->committed_entries(args.from, args.from + args.max_count, args.max_bytes,
                              &result.entries);
  if (!s.ok()) return error_reply(request.request_id, s);
  wire::ClientReply reply;
  reply.request_id = request.request_id;
  reply.body = wire::EncodeFetchResult(result);
  return reply;
}

void ClientService::handle_push(const Envelope& envelope, const wire::PushRequestView& push) {
  // Refused here, not at propose: an entry no follower could take must
  // never reach the log (wire/limits.h).
  if (Status s = wire::CheckPayloadSize(push.payload.size(), limits_); !s.ok()) {
    send_reply(envelope, error_reply(push.request_id, s));
    return;
  }
  if (log_->local_node().role != core::Role::kLeader) {
    send_reply(envelope,
               error_reply(push.request_id, Status::NotLeader(log_->local_node().leader)));
    return;
  }
  submit(Waiter{envelope, push.request_id, false, !push.append}, push.topic, push.payload,
         push.producer, push.seq);
}

void ClientService::handle_push_batch(const Envelope& envelope, uint64_t request_id,
                                      std::string_view producer,
                                      const std::vector<wire::PushEventView>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (Status s = wire::CheckPayloadSize(events[i].payload.size(), limits_); !s.ok()) {
      send_reply(envelope, error_reply(request_id, Status::InvalidInput("push_batch: events[" +
                                                                        std::to_string(i) +
                                                                        "]: " + s.message())));
      return;
    }
  }
  if (log_->local_node().role != core::Role::kLeader) {
    send_reply(envelope, error_reply(request_id, Status::NotLeader(log_->local_node().leader)));
    return;
  }
  if (!producer.empty()) {
    // All or nothing: a seq too old to tell fails the batch before any of
    // it is appended.
    for (const wire::PushEventView& e : events) {
      ProducerTable::Where where;
      if (producers_->find(producer, e.seq, &where) == ProducerTable::Found::kTooOld) {
        send_reply(envelope, error_reply(request_id, TooOld("push_batch", producer, e.seq)));
        return;
      }
    }
  }
  const uint64_t id = next_batch_++;
  batches_.emplace(
      id, Batch{envelope, request_id, events.size(), std::vector<wire::PushResult>(events.size())});
  for (size_t i = 0; i < events.size(); ++i) {
    if (batches_.find(id) == batches_.end()) return;  // an event failed: the batch is answered
    submit(Waiter{envelope, request_id, false, true, id, static_cast<uint32_t>(i)}, events[i].topic,
           events[i].payload, producer, events[i].seq);
  }
}

void ClientService::submit(Waiter waiter, std::string_view topic, std::string_view payload,
                           std::string_view producer, uint64_t seq) {
  if (!producer.empty()) {
#ifndef RAFTLOG_BUG_RETRY_SKIPS_LOG_CHECK
    // The table and the inherited-entry scan (on_became_leader) together
    // cover the whole log only once everything committed at the election
    // has been applied: until then a retry of an entry in that gap would
    // look new and be appended a second time. The producer retries Busy.
    if (applied_ < retries_known_from_) {
      fail(waiter,
           Status::Busy("the leader is still applying its log (applied " +
                        std::to_string(applied_) + " of " + std::to_string(retries_known_from_) +
                        "); pushes with a producer are taken once it has"));
      return;
    }
#endif
    // Exactly-once: a (producer, seq) already committed, or still in flight
    // in this leader's log, is answered with the original's index.
    ProducerTable::Where where;
    switch (producers_->find(producer, seq, &where)) {
      case ProducerTable::Found::kSeen:
        complete(waiter, {where.index, where.term, true});
        return;
      case ProducerTable::Found::kTooOld:
        fail(waiter, TooOld("push", producer, seq));
        return;
      case ProducerTable::Found::kNew:
        break;
    }
    auto in = inflight_.find(std::pair<std::string_view, uint64_t>(producer, seq));
    if (in != inflight_.end()) {
      waiter.duplicate = true;
      Pending* p = find_pending(in->second);
      if (p != nullptr) {
        if (p->first) {
          p->more.push_back(std::move(waiter));
        } else {
          p->first = std::move(waiter);
        }
        return;
      }
    }
  }
  const auto now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  std::string data;
  wire::EncodeEventRecord(wire::EventRecordView{topic, producer, seq, now_ms, payload}, &data);
  core::ProposalId id;
  Status s = log_->propose_command(std::move(data), &id);
  if (!s.ok()) {
    fail(waiter, s);
    return;
  }
  add_pending(id.index, id.term, producer, seq).first = std::move(waiter);
}

void ClientService::complete(const Waiter& w, const wire::PushResult& result) {
  if (w.batch == 0) {
    buffer_.clear();
    wire::EncodePushReply(w.request_id, result, w.with_flag, &buffer_);
    send_buffer(w.envelope);
    return;
  }
  auto b = batches_.find(w.batch);
  if (b == batches_.end()) return;  // the batch failed and was answered already
  b->second.results[w.slot] = result;
  if (--b->second.remaining > 0) return;
  buffer_.clear();
  wire::EncodePushBatchReply(b->second.request_id, b->second.results, &buffer_);
  send_buffer(b->second.envelope);
  batches_.erase(b);
}

void ClientService::fail(const Waiter& w, const Status& status) {
  if (w.batch != 0) {
    // The whole batch gets this error; the producer retries all of it, and
    // exactly-once answers the events that did land as duplicates.
    auto b = batches_.find(w.batch);
    if (b == batches_.end()) return;
    batches_.erase(b);
  }
  send_reply(w.envelope, error_reply(w.request_id, status));
}

ClientService::Pending& ClientService::add_pending(core::LogIndex index, core::Term term,
                                                   std::string_view producer, uint64_t seq) {
  auto at = pending_.end();
  if (!pending_.empty() && pending_.back().index >= index) {
    // Not expected (indexes grow), but keep the order if it happens.
    at = std::lower_bound(pending_.begin(), pending_.end(), index,
                          [](const Pending& p, core::LogIndex i) { return p.index < i; });
    if (at != pending_.end() && at->index == index) at = pending_.erase(at);
  }
  Pending& p = *pending_.insert(at, Pending{index, term, std::string(producer), seq, {}, {}});
  if (!producer.empty()) inflight_[{std::string(producer), seq}] = index;
  return p;
}

ClientService::Pending* ClientService::find_pending(core::LogIndex index) {
  auto at = std::lower_bound(pending_.begin(), pending_.end(), index,
                             [](const Pending& p, core::LogIndex i) { return p.index < i; });
  return at != pending_.end() && at->index == index ? &*at : nullptr;
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
  // Entries up to the commit index reach the producer table as they are
  // applied; submit() holds pushes with a producer back until they have.
  LocalHistory h = log_->local_history();
  retries_known_from_ = h.committed;
  for (core::LogIndex next = h.committed + 1; next <= h.last;) {
    std::vector<core::Entry> entries;
    Status s = log_->entries(next, h.last + 1, 4 << 20, &entries);
    if (!s.ok() || entries.empty()) {
      RAFTLOG_LOG(kError) << "cannot read the uncommitted log from " << next << ": "
                          << s.ToString();
      return;
    }
    for (const core::Entry& e : entries) {
      wire::EventRecordView r;
      if (e.type == core::EntryType::kCommand &&
          wire::DecodeEventRecord(e.data.data(), e.data.size(), limits_, &r).ok() &&
          !r.producer.empty()) {
        add_pending(e.index, e.term, r.producer, r.seq);
      }
    }
    next = entries.back().index + 1;
  }
}

void ClientService::on_committed(const Committed& c) {
  applied_ = c.index;  // the applier has seen it (raftlogd.cc feeds it first)
  while (!pending_.empty() && pending_.front().index <= c.index) {
    Pending& p = pending_.front();
    bool landed = p.index == c.index && c.entry.term == p.term;
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
    auto reply = [&](const Waiter& w) {
      if (!landed) {
        // Another leader's entry took the index: this push was dropped.
        fail(w, Status::InconsistentState(
                    "the push was dropped by a leader change; it was not committed"));
        return;
      }
      complete(w, {where.index, where.term, w.duplicate || duplicate_entry});
    };
    if (p.first) reply(*p.first);
    for (const Waiter& w : p.more) reply(w);
    if (!p.producer.empty()) {
      auto in = inflight_.find(std::pair<std::string_view, uint64_t>(p.producer, p.seq));
      if (in != inflight_.end()) inflight_.erase(in);
    }
    pending_.pop_front();
  }
}

void ClientService::fail_pending(const std::string& why) {
  for (const Pending& p : pending_) {
    // The entry may still commit under the next leader: the outcome is unknown.
    const Status lost = Status::NotLeader(
        log_->local_node().leader,
        why + " before index " + std::to_string(p.index) + " committed; its outcome is unknown");
    if (p.first) fail(*p.first, lost);
    for (const Waiter& w : p.more) fail(w, lost);
  }
  pending_.clear();
  inflight_.clear();
  batches_.clear();
  retries_known_from_ = 0;  // a follower redirects (not_leader), it does not say busy
}

void ClientService::send_reply(const Envelope& envelope, const wire::ClientReply& reply) {
  buffer_.clear();
  wire::EncodeReply(reply, &buffer_);
  send_buffer(envelope);
}

void ClientService::send_buffer(const Envelope& envelope) {
  try {
    socket_.send(zmq::buffer(envelope.routing_id),
                 zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    if (envelope.delimiter) {
      socket_.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    }
    socket_.send(zmq::buffer(buffer_), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    RAFTLOG_LOG(kWarn) << "client socket: reply lost: " << e.what();
  }
}

}  // namespace raftlog::server
