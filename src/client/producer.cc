// Producer: pipelined pushes with exactly-once retries (include/raftlog/producer.h).
//
// Every event lives in pending_ (keyed by seq) from push() until its outcome
// is known. It is either waiting to be (re)sent, not before a given time, or
// sent: then it waits for the reply to its current attempt until the request
// timeout. All attempts of an event carry the same (producer, seq) and their
// own request id; an ok reply to any of them is the ack, while the other
// replies count only for the current attempt.
//
// Where an attempt goes is one shared guess, leader_: replies move it (a
// redirect names the leader; a timeout or a node without a leader moves it on
// to the next known endpoint), so a window of events fails over together.
#include "raftlog/producer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <zmq.hpp>

#include "raftlog/client.h"
#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"

namespace raftlog {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// A new connection this young may still be connecting: an event it cannot
// take yet is held back briefly rather than sent elsewhere.
constexpr milliseconds kConnectGrace{200};
// Longest single wait inside the I/O loop, so that a caller's deadline far
// away never turns into an unbounded poll.
constexpr milliseconds kMaxPollWait{100};

// The wait before the next attempt of an event that failed `failures` times
// in a row: short at first (an election takes a few hundred ms), capped so
// that a recovered cluster is found quickly.
milliseconds Backoff(int failures) {
  int shift = std::clamp(failures - 1, 0, 5);
  return std::min(milliseconds(10 * (1 << shift)), milliseconds(500));
}

// now + d without overflowing when d is Producer::kForever.
Clock::time_point DeadlineAfter(Clock::time_point now, milliseconds d) {
  if (d.count() <= 0) return now;
  if (d >= std::chrono::duration_cast<milliseconds>(Clock::time_point::max() - now)) {
    return Clock::time_point::max();
  }
  return now + d;
}

}  // namespace

std::string GenerateProducerId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "host");
  }
  std::random_device rd;
  uint64_t r = (uint64_t{rd()} << 32) | rd();
  char buf[64];
  std::snprintf(buf, sizeof(buf), "-%d-%016llx", static_cast<int>(getpid()),
                static_cast<unsigned long long>(r));
  // Keep within the protocol's 256 bytes whatever the hostname.
  return std::string(host).substr(0, 128) + buf;
}

class Producer::Impl {
 public:
  explicit Impl(ProducerOptions options);

  Status push(std::string topic, std::string payload, uint64_t* seq, milliseconds max_wait);
  bool poll_ack(Ack* ack, milliseconds wait);
  Status flush(milliseconds deadline);
  std::vector<Unacked> unacked() const;
  size_t in_flight() const { return pending_.size(); }

  ProducerOptions options_;
  Status options_error_;
  uint64_t next_seq_;

 private:
  struct Pending {
    std::string topic;
    std::string payload;
    bool sent = false;                          // false: waiting until not_before to be (re)sent
    Clock::time_point not_before;               // when !sent
    Clock::time_point sent_at;                  // when sent
    std::string endpoint;                       // when sent: where the current attempt went
    uint64_t request_id = 0;                    // the current attempt's, 0 before the first
    std::vector<uint64_t> earlier_request_ids;  // the attempts before it
    int failures = 0;                           // failed attempts so far
    Status last_error;
  };
  struct Conn {
    std::unique_ptr<zmq::socket_t> socket;
    Clock::time_point created;
  };

  Conn& conn_for(const std::string& endpoint);
  void send(uint64_t seq, Pending& p, Clock::time_point now);
  void retry_later(uint64_t seq, Pending& p, Status why, milliseconds delay, Clock::time_point now);
  void send_due(Clock::time_point now);
  void check_timeouts(Clock::time_point now);
  size_t drain();
  void handle_reply(const std::string& from, const zmq::message_t& msg);
  void finish(uint64_t seq, Ack ack);
  bool pump(Clock::time_point until);
  void demote(const std::string& endpoint);
  void learn_leader(const std::string& endpoint);

  zmq::context_t context_;
  std::map<std::string, Conn> conns_;
  std::vector<std::string> known_;  // endpoints to try, in order
  std::string leader_;              // where the next attempt goes
  std::map<uint64_t, Pending> pending_;
  std::unordered_map<uint64_t, uint64_t> seq_of_request_;
  std::deque<Ack> acks_;
  uint64_t next_request_id_ = 1;
  std::set<uint64_t> waiting_;  // seqs of the pending_ entries not sent
  Clock::time_point next_send_due_ = Clock::time_point::max();
  Clock::time_point next_timeout_ = Clock::time_point::max();
  wire::DecodeLimits limits_;
  std::string frame_;  // the request being sent
};

Producer::Impl::Impl(ProducerOptions options)
    : options_(std::move(options)), next_seq_(options_.first_seq), context_(1) {
  if (options_.producer_id.empty()) options_.producer_id = GenerateProducerId();
  if (options_.endpoints.empty()) {
    options_error_ = Status::InvalidInput("producer: no endpoints");
  } else if (options_.producer_id.size() > wire::kMaxProducerBytes) {
    options_error_ = Status::InvalidInput("producer: id longer than " +
                                          std::to_string(wire::kMaxProducerBytes) + " bytes");
  } else if (options_.window == 0 || options_.first_seq == 0 ||
             options_.request_timeout.count() <= 0) {
    options_error_ =
        Status::InvalidInput("producer: window, first_seq and request_timeout must be positive");
  }
  known_ = options_.endpoints;
  if (!known_.empty()) leader_ = known_.front();
}

Producer::Impl::Conn& Producer::Impl::conn_for(const std::string& endpoint) {
  Conn& c = conns_[endpoint];
  if (!c.socket) {
    c.socket = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    c.socket->set(zmq::sockopt::linger, 0);
    // Queue only on a live connection: a push to a node that is down fails
    // at once and goes elsewhere instead of waiting for its timeout.
    c.socket->set(zmq::sockopt::immediate, 1);
    // The window bounds what is in flight; no second, hidden bound.
    c.socket->set(zmq::sockopt::sndhwm, 0);
    c.socket->set(zmq::sockopt::rcvhwm, 0);
    c.socket->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits_.max_frame_bytes));
    c.socket->connect(endpoint);
    c.created = Clock::now();
  }
  return c;
}

void Producer::Impl::demote(const std::string& endpoint) {
  if (leader_ != endpoint) return;  // already moved on, by an earlier reply
  auto it = std::find(known_.begin(), known_.end(), endpoint);
  size_t next = it == known_.end() ? 0 : (it - known_.begin() + 1) % known_.size();
  leader_ = known_[next];
}

void Producer::Impl::learn_leader(const std::string& endpoint) {
  if (std::find(known_.begin(), known_.end(), endpoint) == known_.end()) known_.push_back(endpoint);
  leader_ = endpoint;
}

void Producer::Impl::retry_later(uint64_t seq, Pending& p, Status why, milliseconds delay,
                                 Clock::time_point now) {
  waiting_.insert(seq);
  p.sent = false;
  p.not_before = now + delay;
  p.last_error = std::move(why);
  next_send_due_ = std::min(next_send_due_, p.not_before);
}

void Producer::Impl::send(uint64_t seq, Pending& p, Clock::time_point now) {
  const std::string& endpoint = leader_;
  const uint64_t request_id = next_request_id_++;
  frame_.clear();
  wire::EncodePushRequest({request_id, false, p.topic, p.payload, options_.producer_id, seq},
                          &frame_);
  Conn* c = nullptr;
  try {
    c = &conn_for(endpoint);
    if (!c->socket->send(zmq::buffer(frame_), zmq::send_flags::dontwait)) {
      // demote() changes leader_: the messages below name the endpoint tried.
      const std::string tried = endpoint;
      // No live connection (yet). Give a new one time to connect; else the
      // node is down: try the next one.
      if (now - c->created < kConnectGrace) {
        retry_later(seq, p, Status::IOError(tried + ": connecting"), milliseconds(5), now);
      } else {
        ++p.failures;
        demote(tried);
        retry_later(seq, p, Status::IOError(tried + ": not connected"), Backoff(p.failures), now);
      }
      return;
    }
  } catch (const zmq::error_t& e) {
    const std::string tried = endpoint;
    ++p.failures;
    demote(tried);
    retry_later(seq, p, Status::IOError(tried + ": " + e.what()), Backoff(p.failures), now);
    return;
  }
  waiting_.erase(seq);
  p.sent = true;
  p.sent_at = now;
  p.endpoint = endpoint;
  if (p.request_id != 0) p.earlier_request_ids.push_back(p.request_id);
  p.request_id = request_id;
  seq_of_request_[request_id] = seq;
  next_timeout_ = std::min(next_timeout_, now + options_.request_timeout);
}

void Producer::Impl::send_due(Clock::time_point now) {
  if (waiting_.empty() || now < next_send_due_) return;
  // Strictly in seq order, so that a fault-free leader appends in push
  // order: a later event waits while an earlier one must (a connection
  // still being made, a backoff).
  while (!waiting_.empty()) {
    uint64_t seq = *waiting_.begin();
    Pending& p = pending_.at(seq);
    if (p.not_before > now) break;
    send(seq, p, now);
    if (!p.sent) break;
  }
  next_send_due_ =
      waiting_.empty() ? Clock::time_point::max() : pending_.at(*waiting_.begin()).not_before;
}

void Producer::Impl::check_timeouts(Clock::time_point now) {
  if (now < next_timeout_) return;
  next_timeout_ = Clock::time_point::max();
  for (auto& [seq, p] : pending_) {
    if (!p.sent) continue;
    Clock::time_point expiry = p.sent_at + options_.request_timeout;
    if (expiry > now) {
      next_timeout_ = std::min(next_timeout_, expiry);
      continue;
    }
    // The outcome is unknown: the same (producer, seq) goes out again, and
    // the cluster tells a retry from a new event.
    ++p.failures;
    demote(p.endpoint);
    retry_later(
        seq, p,
        Status::IOError(p.endpoint + ": no reply to push seq " + std::to_string(seq) + " within " +
                        std::to_string(options_.request_timeout.count()) + " ms"),
        milliseconds(0), now);
  }
}

void Producer::Impl::finish(uint64_t seq, Ack ack) {
  auto it = pending_.find(seq);
  waiting_.erase(seq);
  seq_of_request_.erase(it->second.request_id);
  for (uint64_t id : it->second.earlier_request_ids) seq_of_request_.erase(id);
  pending_.erase(it);
  ack.seq = seq;
  acks_.push_back(std::move(ack));
}

void Producer::Impl::handle_reply(const std::string& from, const zmq::message_t& msg) {
  {
    // The common case, an ok to a push, without building a Value map.
    uint64_t request_id = 0;
    wire::PushResult result;
    if (wire::DecodePushReply(static_cast<const char*>(msg.data()), msg.size(), &request_id,
                              &result)) {
      auto found = seq_of_request_.find(request_id);
      if (found == seq_of_request_.end()) return;  // for an event already finished
      Ack ack;
      ack.index = result.index;
      ack.term = result.term;
      ack.duplicate = result.duplicate;
      finish(found->second, std::move(ack));
      return;
    }
  }
  wire::ClientReply reply;
  Status decoded =
      wire::DecodeReply(static_cast<const char*>(msg.data()), msg.size(), limits_, &reply);
  auto found = seq_of_request_.find(reply.request_id);
  if (found == seq_of_request_.end()) return;  // for an event already finished
  uint64_t seq = found->second;
  Pending& p = pending_.at(seq);
  Ack ack;
  if (!decoded.ok()) {
    ack.status = Status::Corruption(from + ": malformed reply: " + decoded.message());
    finish(seq, std::move(ack));
    return;
  }
  if (reply.code == wire::kOk) {
    // An ok to any attempt: committed, whichever attempt it answers.
    wire::PushResult result;
    Status s = wire::DecodePushResult(reply.body, &result);
    if (s.ok()) {
      ack.index = result.index;
      ack.term = result.term;
      ack.duplicate = result.duplicate;
    } else {
      ack.status = Status::Corruption(from + ": " + s.message());
    }
    finish(seq, std::move(ack));
    return;
  }
  if (!p.sent || reply.request_id != p.request_id) return;  // superseded attempt
  Status why = ReplyStatus(reply);
  if (why.IsInvalidInput()) {
    ack.status = std::move(why);
    finish(seq, std::move(ack));
    return;
  }
  Clock::time_point now = Clock::now();
  ++p.failures;
  if (why.IsNotLeader()) {
    wire::NotLeaderInfo info;
    if (wire::DecodeNotLeaderBody(reply.body, &info).ok() && !info.leader_endpoint.empty()) {
      learn_leader(info.leader_endpoint);
      // The first redirect goes straight on; repeated ones (stale views
      // during an election) back off.
      milliseconds delay = p.failures == 1 ? milliseconds(0) : Backoff(p.failures);
      retry_later(seq, p, std::move(why), delay, now);
      return;
    }
    demote(from);  // no leader known there: an election, or a cut-off node
  }
  // busy, not_leader without a leader, and errors: later, the same event.
  retry_later(seq, p, std::move(why), Backoff(p.failures), now);
}

size_t Producer::Impl::drain() {
  size_t handled = 0;
  for (auto& [endpoint, c] : conns_) {
    zmq::message_t msg;
    while (c.socket->recv(msg, zmq::recv_flags::dontwait)) {
      handle_reply(endpoint, msg);
      ++handled;
    }
  }
  return handled;
}

// One round of I/O: resends what is due, handles what has arrived, and if
// nothing had, waits for replies until something is due or until.
bool Producer::Impl::pump(Clock::time_point until) {
  Clock::time_point now = Clock::now();
  check_timeouts(now);
  send_due(now);
  if (drain() > 0) return true;
  Clock::time_point wake = std::min({until, next_send_due_, next_timeout_, now + kMaxPollWait});
  if (wake <= now) return false;
  std::vector<zmq::pollitem_t> items;
  items.reserve(conns_.size());
  for (auto& [endpoint, c] : conns_) items.push_back({c.socket->handle(), 0, ZMQ_POLLIN, 0});
  auto wait = std::chrono::duration_cast<milliseconds>(wake - now) + milliseconds(1);
  zmq::poll(items, wait);
  return drain() > 0;
}

Status Producer::Impl::push(std::string topic, std::string payload, uint64_t* seq,
                            milliseconds max_wait) {
  if (!options_error_.ok()) return options_error_;
  Status s = wire::CheckTopic(topic);
  if (!s.ok()) return s;
  if (payload.size() > limits_.max_entry_bytes) {
    return Status::InvalidInput("payload of " + std::to_string(payload.size()) + " bytes exceeds " +
                                std::to_string(limits_.max_entry_bytes));
  }
  Clock::time_point deadline = DeadlineAfter(Clock::now(), max_wait);
  pump(Clock::now());  // take in what has arrived, so acks flow while pushing
  while (pending_.size() >= options_.window) {
    if (Clock::now() >= deadline) {
      return Status::Busy("window of " + std::to_string(options_.window) +
                          " events still full after " + std::to_string(max_wait.count()) + " ms");
    }
    pump(deadline);
  }
  *seq = next_seq_++;
  Pending& p = pending_[*seq];
  p.topic = std::move(topic);
  p.payload = std::move(payload);
  p.not_before = Clock::now();
  waiting_.insert(*seq);
  next_send_due_ = std::min(next_send_due_, p.not_before);
  send_due(p.not_before);
  return Status::Ok();
}

bool Producer::Impl::poll_ack(Ack* ack, milliseconds wait) {
  Clock::time_point deadline = DeadlineAfter(Clock::now(), wait);
  for (;;) {
    if (!acks_.empty()) {
      *ack = std::move(acks_.front());
      acks_.pop_front();
      return true;
    }
    if (pending_.empty()) return false;
    bool expired = Clock::now() >= deadline;
    pump(deadline);  // with the deadline passed, one round that does not wait
    if (expired && acks_.empty()) return false;
  }
}

Status Producer::Impl::flush(milliseconds deadline) {
  Clock::time_point end = DeadlineAfter(Clock::now(), deadline);
  while (!pending_.empty() && Clock::now() < end) pump(end);
  if (pending_.empty()) return Status::Ok();
  const auto& [seq, p] = *pending_.begin();
  std::string why = p.last_error.ok() ? "awaiting the reply" : p.last_error.ToString();
  return Status::IOError(std::to_string(pending_.size()) + " events unacked after " +
                         std::to_string(deadline.count()) + " ms (seq " + std::to_string(seq) +
                         ": " + why + ")");
}

std::vector<Producer::Unacked> Producer::Impl::unacked() const {
  std::vector<Unacked> out;
  out.reserve(pending_.size());
  for (const auto& [seq, p] : pending_) out.push_back({seq, p.last_error});
  return out;
}

Producer::Producer(ProducerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Producer::~Producer() = default;

Status Producer::push(std::string topic, std::string payload, uint64_t* seq,
                      milliseconds max_wait) {
  return impl_->push(std::move(topic), std::move(payload), seq, max_wait);
}
bool Producer::poll_ack(Ack* ack, milliseconds wait) {
  return impl_->poll_ack(ack, wait);
}
Status Producer::flush(milliseconds deadline) {
  return impl_->flush(deadline);
}
size_t Producer::in_flight() const {
  return impl_->in_flight();
}
std::vector<Producer::Unacked> Producer::unacked() const {
  return impl_->unacked();
}
const std::string& Producer::producer_id() const {
  return impl_->options_.producer_id;
}
uint64_t Producer::next_seq() const {
  return impl_->next_seq_;
}

}  // namespace raftlog
