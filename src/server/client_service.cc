#include "server/client_service.h"

#include <algorithm>
#include <chrono>

#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"
#include "server/log.h"

namespace raftlog::server {

namespace {

bool LooksLikeEndpoint(const std::string& e) {
  return (e.rfind("tcp://", 0) == 0 || e.rfind("ipc://", 0) == 0) && e.size() > 6;
}

std::vector<core::NodeId> Without(std::vector<core::NodeId> ids, core::NodeId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  return ids;
}

std::vector<core::NodeId> With(std::vector<core::NodeId> ids, core::NodeId id) {
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

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
  } else if (request.op == wire::kAddLearnerOp || request.op == wire::kAddNodeOp ||
             request.op == wire::kPromoteOp || request.op == wire::kRemoveNodeOp) {
    handle_change(to, request);
  } else if (request.op == wire::kTransferLeaderOp) {
    handle_transfer(to, request);
  } else if (request.op == wire::kReadIndexOp) {
    handle_read_index(to, request);
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
    wire::NotLeaderInfo info{status.leader_hint(), client_endpoint_of(status.leader_hint()),
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
  const core::ClusterConfig& config = log_->cluster_config();
  st.voters = config.voters;
  st.voters_outgoing = config.voters_outgoing;
  st.learners = config.learners;
  st.config_index = config_index_;
  for (const auto& [id, m] : address_book()) {
    st.members.push_back({id, m.peer_endpoint, m.client_endpoint, m.pub_endpoint});
  }
  const core::ConfigChange change = log_->config_change();
  st.config_phase = core::PhaseName(change.phase);
  for (const auto& [id, behind] : change.behind) st.catch_up.push_back({id, behind});
  st.transfer_target = log_->transfer_target();
  st.config_error = config_error_;
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

const AddressBook& ClientService::address_book(std::string* error) {
  const std::string& context = log_->cluster_config().context;
  if (!book_decoded_ || context != book_context_) {
    book_context_ = context;
    book_decoded_ = true;
    Status s = DecodeAddressBook(context, &book_);
    book_error_ = s.ok() ? "" : s.message();
    if (!s.ok() && LogEnabled(LogLevel::kWarn)) {
      warnings_.warn("the configuration in force carries a bad address book: " + s.message());
    }
  }
  if (error != nullptr) *error = book_error_;
  return book_;
}

std::string ClientService::client_endpoint_of(core::NodeId id) {
  const AddressBook& book = address_book();
  if (auto m = book.find(id); m != book.end()) return m->second.client_endpoint;
  auto e = options_.client_endpoints.find(id);
  return e != options_.client_endpoints.end() ? e->second : "";
}

void ClientService::handle_change(const ReplyTo& to, const wire::ClientRequest& request) {
  const std::string& op = request.op;
  const bool with_endpoints = op == wire::kAddLearnerOp || op == wire::kAddNodeOp;
  wire::MemberEndpoints m;
  Status s = wire::DecodeMemberArgs(request.args, with_endpoints, &m);
  if (s.ok() && with_endpoints &&
      (!LooksLikeEndpoint(m.peer) || !LooksLikeEndpoint(m.client) ||
       (!m.pub.empty() && !LooksLikeEndpoint(m.pub)))) {
    s = Status::InvalidInput(op + ": endpoints are tcp://HOST:PORT or ipc://PATH");
  }
  if (!s.ok()) {
    send_reply(to, error_reply(request.request_id, Status::InvalidInput(op + ": " + s.message())));
    return;
  }
  const LocalNode node = log_->local_node();
  if (node.role != core::Role::kLeader) {
    send_reply(to, error_reply(request.request_id, Status::NotLeader(node.leader)));
    return;
  }
  auto refuse = [&](const std::string& why) {
    send_reply(to, error_reply(request.request_id, Status::InvalidInput(why)));
  };
  const core::ConfigChange change = log_->config_change();
  const core::ClusterConfig& config = log_->cluster_config();
  if (change.phase != core::ConfigChange::Phase::kNone || config.joint()) {
    send_reply(to, error_reply(request.request_id,
                               Status::Busy(std::string("a configuration change is already in "
                                                        "progress (") +
                                            core::PhaseName(change.phase) + " phase)")));
    return;
  }
  if (log_->transfer_target() != core::kNoNode) {
    send_reply(
        to, error_reply(request.request_id,
                        Status::Busy("a leadership transfer to node " +
                                     std::to_string(log_->transfer_target()) + " is in progress")));
    return;
  }
  std::string book_error;
  AddressBook book = address_book(&book_error);
  if (!book_error.empty()) {
    send_reply(to, error_reply(request.request_id,
                               Status::IOError("the configuration's address book cannot be read: " +
                                               book_error)));
    return;
  }
  const std::string name = "node " + std::to_string(m.id);
  core::ClusterConfig target;
  target.voters = config.voters;
  target.learners = config.learners;
  if (with_endpoints) {
    for (const auto& [id, other] : book) {
      if (id == m.id) continue;
      for (const std::string& e : {m.peer, m.client, m.pub}) {
        if (!e.empty() &&
            (e == other.peer_endpoint || e == other.client_endpoint || e == other.pub_endpoint)) {
          return refuse(op + ": endpoint " + e + " is node " + std::to_string(id) + "'s");
        }
      }
    }
  }
  if (op == wire::kAddLearnerOp) {
    if (config.is_member(m.id)) {
      return refuse(name + " is already a member (" +
                    (config.is_voter(m.id) ? "a voter" : "a learner") + ")");
    }
    target.learners = With(target.learners, m.id);
  } else if (op == wire::kAddNodeOp) {
    if (config.is_voter(m.id)) return refuse(name + " is already a voter");
    target.learners = Without(target.learners, m.id);
    target.voters = With(target.voters, m.id);
  } else if (op == wire::kPromoteOp) {
    if (!config.is_member(m.id)) return refuse(name + " is not a member");
    if (config.is_voter(m.id)) return refuse(name + " is already a voter");
    target.learners = Without(target.learners, m.id);
    target.voters = With(target.voters, m.id);
  } else {  // remove_node
    if (!config.is_member(m.id)) return refuse(name + " is not a member");
    if (config.voters.size() == 1 && config.is_voter(m.id)) {
      return refuse(name + " is the only voter: a cluster keeps at least one");
    }
    target.voters = Without(target.voters, m.id);
    target.learners = Without(target.learners, m.id);
    book.erase(m.id);
  }
  if (with_endpoints) book[m.id] = Member{m.id, m.peer, m.client, m.pub};
  // A configuration from before the address book (no context): the book
  // names only what it learns from now on; members it lacks keep the peers
  // their nodes were started with.
  target.context = EncodeAddressBook(book);
  core::ProposalId id;
  s = log_->propose_config(target, &id);
  if (!s.ok()) {
    send_reply(to, error_reply(request.request_id, s));
    return;
  }
  RAFTLOG_LOG(kInfo) << op << " " << m.id << ": change to " << core::Describe(target)
                     << " accepted (" << core::PhaseName(log_->config_change().phase) << ")";
  wire::ChangeResult result{id.index, id.term, core::PhaseName(log_->config_change().phase),
                            target.voters, target.learners};
  wire::ClientReply reply;
  reply.request_id = request.request_id;
  reply.body = wire::EncodeChangeResult(result);
  send_reply(to, reply);
}

void ClientService::handle_transfer(const ReplyTo& to, const wire::ClientRequest& request) {
  core::NodeId target = core::kNoNode;
  if (const wire::Value* v = wire::Value::Find(request.args, "id"); v != nullptr) {
    if (v->kind() != wire::Value::Kind::kUint || v->as_uint() == core::kNoNode) {
      send_reply(to, error_reply(request.request_id,
                                 Status::InvalidInput("transfer_leader: id must be a positive "
                                                      "integer")));
      return;
    }
    target = v->as_uint();
  }
  const LocalNode node = log_->local_node();
  if (node.role != core::Role::kLeader) {
    send_reply(to, error_reply(request.request_id, Status::NotLeader(node.leader)));
    return;
  }
  const core::ClusterConfig& config = log_->cluster_config();
  if (target == core::kNoNode) {
    // The most up-to-date other voter the leader heard from lately.
    core::LogIndex best = 0;
    for (const core::PeerProgress& p : log_->progress()) {
      if (p.id == node.id || !config.is_voter(p.id) || !p.recent_active) continue;
      if (target == core::kNoNode || p.match > best) {
        target = p.id;
        best = p.match;
      }
    }
    if (target == core::kNoNode) {
      send_reply(to, error_reply(request.request_id,
                                 Status::InvalidInput("transfer_leader: no other voter is "
                                                      "reachable to take over")));
      return;
    }
  }
  Status s = Status::Ok();
  if (!config.is_voter(target)) {
    s = Status::InvalidInput("node " + std::to_string(target) + " is not a voter");
  } else if (target != node.id) {
    s = log_->transfer_leadership(target);
  }
  if (!s.ok()) {
    send_reply(to, error_reply(request.request_id, s));
    return;
  }
  if (target != node.id) RAFTLOG_LOG(kInfo) << "leadership transfer to node " << target;
  wire::ClientReply reply;
  reply.request_id = request.request_id;
  reply.body = {{"target", wire::Value::Uint(target)}};
  send_reply(to, reply);
}

void ClientService::handle_read_index(const ReplyTo& to, const wire::ClientRequest& request) {
  const uint64_t ctx = next_read_++;
  Status s = log_->read_index(ctx);
  if (!s.ok()) {
    send_reply(to, error_reply(request.request_id, s));
    return;
  }
  reads_[ctx] = PendingRead{to, std::chrono::steady_clock::now() + options_.read_timeout, 0};
}

void ClientService::answer_reads() {
  const core::LogIndex applied = events_ != nullptr ? events_->applied() : 0;
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.index == 0 || it->second.index > applied) {
      ++it;
      continue;
    }
    wire::ClientReply reply;
    reply.request_id = it->second.to.request_id;
    reply.body = {{"index", wire::Value::Uint(it->second.index)}};
    send_reply(it->second.to, reply);
    it = reads_.erase(it);
  }
}

void ClientService::on_event(const Event& event) {
  if (const auto* c = std::get_if<core::ConfigChanged>(&event)) {
    if (c->aborted.empty()) {
      config_index_ = c->index;
    } else {
      config_error_ = c->aborted;
      RAFTLOG_LOG(kWarn) << "configuration change given up: " << c->aborted;
    }
  } else if (const auto* r = std::get_if<core::ReadState>(&event)) {
    auto it = reads_.find(r->ctx);
    if (it == reads_.end()) return;
    if (!r->ok || r->index == 0) {
      send_reply(it->second.to,
                 error_reply(it->second.to.request_id,
                             Status::Busy("the leader could not confirm a read index now (a "
                                          "new leader, or one stepping down); ask again")));
      reads_.erase(it);
      return;
    }
    it->second.index = r->index;
    answer_reads();
  } else if (std::holds_alternative<Committed>(event) ||
             std::holds_alternative<SnapshotLoaded>(event)) {
    if (!reads_.empty()) answer_reads();
  }
}

void ClientService::expire(std::chrono::steady_clock::time_point now) {
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    send_reply(it->second.to,
               error_reply(it->second.to.request_id,
                           Status::Busy(it->second.index == 0
                                            ? "no read index from the leader in time; ask again"
                                            : "this node did not apply through the read index in "
                                              "time; ask again")));
    it = reads_.erase(it);
  }
}

void ClientService::send_reply(const ReplyTo& to, const wire::ClientReply& reply) {
  buffer_.clear();
  wire::EncodeReply(reply, &buffer_);
  replies_->send(to, buffer_);
}

}  // namespace raftlog::server
