#include "raftlog/client.h"

#include <cerrno>
#include <map>
#include <thread>
#include <zmq.hpp>

#include "client/client_internals.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/log_ops.h"

namespace raftlog {

using Clock = std::chrono::steady_clock;

namespace {

std::string MessageOf(const wire::ClientReply& reply) {
  const wire::Value* m = wire::Value::Find(reply.body, "message");
  return m != nullptr && m->kind() == wire::Value::Kind::kStr ? m->as_str() : reply.code;
}

}  // namespace

Status ReplyStatus(const wire::ClientReply& reply) {
  std::string msg = MessageOf(reply);
  if (reply.code == wire::kOk) return Status::Ok();
  if (reply.code == wire::kNotLeader) {
    wire::NotLeaderInfo info;
    (void)wire::DecodeNotLeaderBody(reply.body, &info);
    return Status::NotLeader(info.leader, msg);
  }
  if (reply.code == wire::kBusy) return Status::Busy(msg);
  if (reply.code == wire::kInvalidInput) return Status::InvalidInput(msg);
  if (reply.code == wire::kNotFound) return Status::NotFound(msg);
  return Status::IOError("server error: " + msg);
}

class Client::Impl {
 public:
  explicit Impl(ClientOptions options) : options_(std::move(options)), context_(1) {}

  Status call(const std::string& endpoint, const std::string& op, wire::Value::Map args,
              wire::ClientReply* reply);
  // op through the leader: follows not_leader, retries unanswered requests
  // and elections until deadline; any other answer is returned.
  Status leader_call(const std::string& op, const wire::Value::Map& args,
                     std::chrono::milliseconds deadline, wire::ClientReply* reply);
  zmq::socket_t& socket_for(const std::string& endpoint);

  ClientOptions options_;
  zmq::context_t context_;
  std::map<std::string, std::unique_ptr<zmq::socket_t>> sockets_;
  uint64_t next_request_id_ = 1;
  std::string leader_endpoint_;  // best guess
  wire::DecodeLimits limits_;
};

zmq::socket_t& Client::Impl::socket_for(const std::string& endpoint) {
  auto& s = sockets_[endpoint];
  if (!s) {
    s = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 0);
    s->connect(endpoint);
  }
  return *s;
}

Status Client::Impl::call(const std::string& endpoint, const std::string& op, wire::Value::Map args,
                          wire::ClientReply* reply) {
  wire::ClientRequest request;
  request.request_id = next_request_id_++;
  request.op = op;
  request.args = std::move(args);
  std::string frame;
  wire::EncodeRequest(request, &frame);
  try {
    zmq::socket_t& s = socket_for(endpoint);
    s.send(zmq::buffer(frame), zmq::send_flags::none);
    auto deadline = Clock::now() + options_.request_timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, left);
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t msg;
      if (!s.recv(msg, zmq::recv_flags::dontwait)) continue;
      Status st =
          wire::DecodeReply(static_cast<const char*>(msg.data()), msg.size(), limits_, reply);
      if (!st.ok()) return st;
      if (reply->request_id == request.request_id) return Status::Ok();
      // A late reply to an earlier request: skip it.
    }
  } catch (const zmq::error_t& e) {
    // A signal: the caller decides whether to go on (a tool stopping on SIGINT).
    if (e.num() == EINTR) return Status::Busy("interrupted by a signal");
    return Status::IOError(endpoint + ": " + e.what());
  }
  // Forget the socket: whatever it still queues belongs to a dead request.
  sockets_.erase(endpoint);
  return Status::IOError(endpoint + ": no reply to '" + op + "' within " +
                         std::to_string(options_.request_timeout.count()) + " ms");
}

Status Client::Impl::leader_call(const std::string& op, const wire::Value::Map& args,
                                 std::chrono::milliseconds deadline, wire::ClientReply* reply) {
  auto end = Clock::now() + deadline;
  const std::vector<std::string>& all = options_.endpoints;
  if (all.empty()) return Status::InvalidInput("no endpoints");
  size_t next = 0;
  Status last = Status::IOError("no attempt made");
  while (Clock::now() < end) {
    std::string endpoint = leader_endpoint_;
    if (endpoint.empty()) endpoint = all[next++ % all.size()];
    last = call(endpoint, op, args, reply);
    if (last.ok()) last = ReplyStatus(*reply);
    if (last.ok()) {
      leader_endpoint_ = endpoint;
      return last;
    }
    leader_endpoint_.clear();
    if (last.IsNotLeader()) {
      wire::NotLeaderInfo info;
      if (wire::DecodeNotLeaderBody(reply->body, &info).ok() && !info.leader_endpoint.empty()) {
        leader_endpoint_ = info.leader_endpoint;
        continue;
      }
    } else if (last.code() != Status::Code::kIOError ||
               last.message().find("no reply") == std::string::npos) {
      return last;  // a final answer
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return last;
}

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;

Status ClientInternals::Call(Client& client, const std::string& endpoint, const std::string& op,
                             wire::Value::Map args, wire::ClientReply* reply) {
  return client.impl_->call(endpoint, op, std::move(args), reply);
}

Status Client::status(const std::string& endpoint, wire::NodeStatus* out, NodeCounters* counters) {
  wire::ClientReply reply;
  Status s = impl_->call(endpoint, wire::kStatusOp, {}, &reply);
  if (!s.ok()) return s;
  s = ReplyStatus(reply);
  if (!s.ok()) return s;
  if (counters != nullptr) {
    counters->clear();
    // Counters are uints (docs/protocol.md): a value of another kind is left out.
    const wire::Value* c = wire::Value::Find(reply.body, "counters");
    if (c != nullptr && c->kind() == wire::Value::Kind::kMap) {
      for (const auto& [name, value] : c->as_map()) {
        if (value.kind() == wire::Value::Kind::kUint) counters->emplace_back(name, value.as_uint());
      }
    }
  }
  return wire::DecodeStatusBody(reply.body, out);
}

Status Client::append(const std::string& payload, std::chrono::milliseconds deadline,
                      wire::AppendResult* out) {
  auto end = Clock::now() + deadline;
  const std::vector<std::string>& all = impl_->options_.endpoints;
  if (all.empty()) return Status::InvalidInput("no endpoints");
  size_t next = 0;
  Status last = Status::IOError("no attempt made");
  while (Clock::now() < end) {
    std::string endpoint = impl_->leader_endpoint_;
    if (endpoint.empty()) endpoint = all[next++ % all.size()];
    wire::ClientReply reply;
    last = impl_->call(endpoint, wire::kAppendOp, wire::EncodeAppendArgs({payload}), &reply);
    if (last.ok()) last = ReplyStatus(reply);
    if (last.ok()) {
      impl_->leader_endpoint_ = endpoint;
      return wire::DecodeAppendResult(reply.body, out);
    }
    if (last.IsInvalidInput()) return last;
    impl_->leader_endpoint_.clear();
    if (last.IsNotLeader()) {
      wire::NotLeaderInfo info;
      if (wire::DecodeNotLeaderBody(reply.body, &info).ok() && !info.leader_endpoint.empty()) {
        impl_->leader_endpoint_ = info.leader_endpoint;
        continue;
      }
    }
    // No leader known yet (an election): back off briefly.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return last;
}

Status Client::snapshot(const std::string& endpoint, std::chrono::milliseconds timeout,
                        wire::SnapshotResult* out) {
  const auto saved = impl_->options_.request_timeout;
  impl_->options_.request_timeout = timeout;
  wire::ClientReply reply;
  Status s = impl_->call(endpoint, wire::kSnapshotOp, {}, &reply);
  impl_->options_.request_timeout = saved;
  if (!s.ok()) return s;
  s = ReplyStatus(reply);
  if (!s.ok()) return s;
  return wire::DecodeSnapshotResult(reply.body, out);
}

Status Client::fetch(const std::string& endpoint, const wire::FetchArgs& args,
                     wire::FetchResult* out) {
  wire::ClientReply reply;
  Status s = impl_->call(endpoint, wire::kFetchOp, wire::EncodeFetchArgs(args), &reply);
  if (!s.ok()) return s;
  s = ReplyStatus(reply);
  if (!s.ok()) return s;
  return wire::DecodeFetchResult(reply.body, out);
}

Status Client::change(const char* op, const wire::MemberEndpoints& m, bool with_endpoints,
                      std::chrono::milliseconds deadline, wire::ChangeResult* out) {
  wire::ClientReply reply;
  Status s = impl_->leader_call(op, wire::EncodeMemberArgs(m, with_endpoints), deadline, &reply);
  if (!s.ok()) return s;
  return wire::DecodeChangeResult(reply.body, out);
}

Status Client::add_learner(const wire::MemberEndpoints& member, std::chrono::milliseconds deadline,
                           wire::ChangeResult* out) {
  return change(wire::kAddLearnerOp, member, true, deadline, out);
}

Status Client::add_node(const wire::MemberEndpoints& member, std::chrono::milliseconds deadline,
                        wire::ChangeResult* out) {
  return change(wire::kAddNodeOp, member, true, deadline, out);
}

Status Client::promote(core::NodeId id, std::chrono::milliseconds deadline,
                       wire::ChangeResult* out) {
  return change(wire::kPromoteOp, {id, "", "", ""}, false, deadline, out);
}

Status Client::remove_node(core::NodeId id, std::chrono::milliseconds deadline,
                           wire::ChangeResult* out) {
  return change(wire::kRemoveNodeOp, {id, "", "", ""}, false, deadline, out);
}

Status Client::transfer_leader(core::NodeId id, std::chrono::milliseconds deadline,
                               core::NodeId* target) {
  wire::Value::Map args;
  if (id != core::kNoNode) args.emplace_back("id", wire::Value::Uint(id));
  wire::ClientReply reply;
  Status s = impl_->leader_call(wire::kTransferLeaderOp, args, deadline, &reply);
  if (!s.ok()) return s;
  const wire::Value* t = wire::Value::Find(reply.body, "target");
  if (t == nullptr || t->kind() != wire::Value::Kind::kUint) {
    return Status::Corruption("transfer_leader reply: no target");
  }
  *target = t->as_uint();
  return Status::Ok();
}

Status Client::read_index(const std::string& endpoint, core::LogIndex* index) {
  wire::ClientReply reply;
  Status s = impl_->call(endpoint, wire::kReadIndexOp, {}, &reply);
  if (!s.ok()) return s;
  s = ReplyStatus(reply);
  if (!s.ok()) return s;
  const wire::Value* i = wire::Value::Find(reply.body, "index");
  if (i == nullptr || i->kind() != wire::Value::Kind::kUint) {
    return Status::Corruption("read_index reply: no index");
  }
  *index = i->as_uint();
  return Status::Ok();
}

}  // namespace raftlog
