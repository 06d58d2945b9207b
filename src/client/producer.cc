// Producer: pipelined pushes with exactly-once retries (include/raftlog/producer.h).
//
// Every event lives in pending_ (keyed by seq) from push() until its outcome
// is known. It is either waiting to be (re)sent, not before a given time, or
// sent: then it waits for the reply to its current attempt until the request
// timeout. All attempts of an event carry the same (producer, seq) and their
// own request id; an ok reply to any of them is the ack, while the other
// replies count only for the current attempt. One request (requests_)
// carries one event (op push) or several (op push_batch): the events due
// together, such as a window of retries after a leader change.
//
// Where an attempt goes is one shared guess, leader_: replies move it (a
// redirect names the leader; a timeout or a node without a leader moves it on
// to the next known endpoint), so a window of events fails over together.
#include "raftlog/producer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <zmq.hpp>

#include "client/client_internals.h"
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
// Payload bytes in one push_batch at most (with max_batch events).
constexpr size_t kMaxBatchBytes = size_t{1} << 20;

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
    Clock::time_point pushed_at;                // for give_up_after
    Clock::time_point sent_at;                  // when sent
    std::string endpoint;                       // when sent: where the current attempt went
    uint64_t request_id = 0;                    // the current attempt's, 0 before the first
    std::vector<uint64_t> earlier_request_ids;  // the attempts before it
    int failures = 0;                           // failed attempts so far
    Status last_error;
  };
  struct Conn {
    std::unique_ptr<zmq::socket_t> socket;
    std::unique_ptr<zmq::socket_t> monitor;  // PAIR receiving the socket's disconnections
    Clock::time_point created;
    ~Conn() {
      if (monitor) zmq_socket_monitor(socket->handle(), nullptr, 0);
    }
  };

  // One request (push_batch, or push for one event) and what it carries.
  struct Request {
    std::vector<uint64_t> seqs;
    size_t unfinished;  // of seqs
    bool awaited;       // counted in awaited_: no reply yet, not timed out
  };

  Conn& conn_for(const std::string& endpoint);
  // Reads the monitors: the events in flight on a connection that broke
  // are sent again at once (their replies cannot come back on it).
  void watch_connections(Clock::time_point now);
  void connection_lost(const std::string& endpoint, Clock::time_point now);
  // Sends these waiting events (due, in seq order) in one request.
  void send(const std::vector<uint64_t>& seqs, Clock::time_point now);
  // The request is answered (or timed out): no longer counted in flight.
  void settle(uint64_t request_id);
  // New sends wait for replies (ProducerOptions::max_requests).
  bool held_back() const { return options_.max_requests > 0 && awaited_ >= options_.max_requests; }
  void on_results(const std::string& from, uint64_t request_id, const wire::PushResult* results,
                  size_t n);
  void on_error(const std::string& from, uint64_t seq, Pending& p, const wire::ClientReply& reply);
  void retry_later(uint64_t seq, Pending& p, Status why, milliseconds delay, Clock::time_point now);
  void send_due(Clock::time_point now);
  void check_timeouts(Clock::time_point now);
  // Fails the events waiting for a retry whose give_up_after has passed.
  void give_up(Clock::time_point now);
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
  std::unordered_map<uint64_t, Request> requests_;  // every attempt whose events are unfinished
  size_t awaited_ = 0;                              // requests sent and awaited
  std::deque<Ack> acks_;
  uint64_t next_request_id_ = 1;
  uint64_t next_monitor_ = 0;
  std::set<uint64_t> waiting_;  // seqs of the pending_ entries not sent
  Clock::time_point next_send_due_ = Clock::time_point::max();
  Clock::time_point next_timeout_ = Clock::time_point::max();
  wire::DecodeLimits limits_;
  std::string frame_;  // the request being sent
  std::vector<uint64_t> batch_;
  std::vector<wire::PushEventView> batch_views_;
  std::vector<wire::PushResult> results_;
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
  } else if (options_.give_up_after.count() < 0) {
    options_error_ = Status::InvalidInput("producer: give_up_after must be >= 0");
  } else if (options_.window > wire::kMinProducerWindow) {
    // Every node remembers at least this many numbers per producer: a
    // retry within a larger window could be too old to be told.
    options_error_ = Status::InvalidInput(
        "producer: window " + std::to_string(options_.window) + " is larger than " +
        std::to_string(wire::kMinProducerWindow) + ", the sequence numbers every node remembers");
  } else if (options_.heartbeat_interval.count() < 0 ||
             (options_.heartbeat_interval.count() > 0 && options_.heartbeat_timeout.count() <= 0)) {
    options_error_ = Status::InvalidInput(
        "producer: heartbeat_interval must be >= 0, and heartbeat_timeout positive with it");
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
    if (options_.heartbeat_interval.count() > 0) {
      const int timeout = static_cast<int>(options_.heartbeat_timeout.count());
      c.socket->set(zmq::sockopt::heartbeat_ivl,
                    static_cast<int>(options_.heartbeat_interval.count()));
      c.socket->set(zmq::sockopt::heartbeat_timeout, timeout);
      c.socket->set(zmq::sockopt::heartbeat_ttl, timeout);
      // A connection attempt lost in a partition is retried, not left to
      // the kernel's SYN retransmissions once the link is back.
      c.socket->set(zmq::sockopt::connect_timeout, timeout);
      const std::string address = "inproc://raftlog-producer-monitor-" +
                                  std::to_string(reinterpret_cast<uintptr_t>(this)) + "-" +
                                  std::to_string(next_monitor_++);
      if (zmq_socket_monitor(c.socket->handle(), address.c_str(), ZMQ_EVENT_DISCONNECTED) == 0) {
        c.monitor = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pair);
        c.monitor->connect(address);
      }
    }
    c.socket->connect(endpoint);
    c.created = Clock::now();
  }
  return c;
}

void Producer::Impl::watch_connections(Clock::time_point now) {
  for (auto& [endpoint, c] : conns_) {
    if (!c.monitor) continue;
    bool lost = false;
    for (;;) {
      // Frame 1: uint16 event + uint32 value; frame 2: the address.
      zmq::message_t head;
      if (!c.monitor->recv(head, zmq::recv_flags::dontwait)) break;
      zmq::message_t address;
      if (head.more()) (void)c.monitor->recv(address, zmq::recv_flags::dontwait);
      uint16_t event = 0;
      if (head.size() >= sizeof(event)) std::memcpy(&event, head.data(), sizeof(event));
      lost = lost || event == ZMQ_EVENT_DISCONNECTED;
    }
    if (lost) connection_lost(endpoint, now);
  }
}

void Producer::Impl::connection_lost(const std::string& endpoint, Clock::time_point now) {
  bool any = false;
  for (auto& [seq, p] : pending_) {
    if (!p.sent || p.endpoint != endpoint) continue;
    settle(p.request_id);
    ++p.failures;
    retry_later(seq, p, Status::IOError(endpoint + ": connection lost"), milliseconds(0), now);
    any = true;
  }
  if (any) demote(endpoint);
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

void Producer::Impl::send(const std::vector<uint64_t>& seqs, Clock::time_point now) {
  const std::string& endpoint = leader_;
  const uint64_t request_id = next_request_id_++;
  frame_.clear();
  if (seqs.size() == 1) {
    const Pending& p = pending_.at(seqs.front());
    wire::EncodePushRequest(
        {request_id, false, p.topic, p.payload, options_.producer_id, seqs.front()}, &frame_);
  } else {
    batch_views_.clear();
    for (uint64_t seq : seqs) {
      const Pending& p = pending_.at(seq);
      batch_views_.push_back({p.topic, p.payload, seq});
    }
    wire::EncodePushBatchRequest(request_id, options_.producer_id, batch_views_, &frame_);
  }
  Status failed;
  bool connecting = false;
  try {
    Conn& c = conn_for(endpoint);
    if (!c.socket->send(zmq::buffer(frame_), zmq::send_flags::dontwait)) {
      // No live connection (yet). Give a new one time to connect; else the
      // node is down: try the next one.
      connecting = now - c.created < kConnectGrace;
      failed = Status::IOError(endpoint + (connecting ? ": connecting" : ": not connected"));
    }
  } catch (const zmq::error_t& e) {
    failed = Status::IOError(endpoint + ": " + e.what());
  }
  if (!failed.ok()) {
    // demote() changes leader_: keep the endpoint tried.
    const std::string tried = endpoint;
    if (!connecting) demote(tried);
    for (uint64_t seq : seqs) {
      Pending& p = pending_.at(seq);
      if (connecting) {
        retry_later(seq, p, failed, milliseconds(5), now);
      } else {
        ++p.failures;
        retry_later(seq, p, failed, Backoff(p.failures), now);
      }
    }
    return;
  }
  for (uint64_t seq : seqs) {
    Pending& p = pending_.at(seq);
    waiting_.erase(seq);
    p.sent = true;
    p.sent_at = now;
    p.endpoint = endpoint;
    if (p.request_id != 0) p.earlier_request_ids.push_back(p.request_id);
    p.request_id = request_id;
  }
  requests_.emplace(request_id, Request{seqs, seqs.size(), true});
  ++awaited_;
  next_timeout_ = std::min(next_timeout_, now + options_.request_timeout);
}

void Producer::Impl::settle(uint64_t request_id) {
  auto r = requests_.find(request_id);
  if (r != requests_.end() && r->second.awaited) {
    r->second.awaited = false;
    --awaited_;
    next_send_due_ = Clock::time_point::min();  // events held back may go now
  }
}

void Producer::Impl::send_due(Clock::time_point now) {
  if (waiting_.empty() || now < next_send_due_) return;
  // Strictly in seq order, so that a fault-free leader appends in push
  // order: a later event waits while an earlier one must (a connection
  // still being made, a backoff). Events due together go in one push_batch
  // of up to max_batch; with max_requests set, new ones also wait while
  // that many requests are awaited, and then go together.
  const size_t max_batch = std::max<size_t>(options_.max_batch, 1);
  while (!waiting_.empty() && !held_back()) {
    batch_.clear();
    size_t bytes = 0;
    for (uint64_t seq : waiting_) {
      const Pending& p = pending_.at(seq);
      if (p.not_before > now || batch_.size() >= max_batch) break;
      bytes += p.payload.size() + p.topic.size() + 32;
      if (!batch_.empty() && bytes > kMaxBatchBytes) break;
      batch_.push_back(seq);
    }
    if (batch_.empty()) break;
    send(batch_, now);
    if (!pending_.at(batch_.front()).sent) break;  // could not send: later
  }
  next_send_due_ = Clock::time_point::max();
  if (!waiting_.empty()) {
    const Clock::time_point first = pending_.at(*waiting_.begin()).not_before;
    // Held back only by the requests in flight: a reply, not a time, sends it.
    if (first > now || !held_back()) {
      next_send_due_ = first;
    }
  }
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
    settle(p.request_id);
    ++p.failures;
    demote(p.endpoint);
    retry_later(
        seq, p,
        Status::IOError(p.endpoint + ": no reply to push seq " + std::to_string(seq) + " within " +
                        std::to_string(options_.request_timeout.count()) + " ms"),
        milliseconds(0), now);
  }
}

void Producer::Impl::give_up(Clock::time_point now) {
  if (options_.give_up_after.count() == 0) return;
  std::vector<uint64_t> late;
  for (uint64_t seq : waiting_) {
    const Pending& p = pending_.at(seq);
    if (p.failures > 0 && now - p.pushed_at >= options_.give_up_after) late.push_back(seq);
  }
  for (uint64_t seq : late) {
    Pending& p = pending_.at(seq);
    Ack ack;
    ack.status = Status::IOError("push seq " + std::to_string(seq) + " given up after " +
                                 std::to_string(options_.give_up_after.count()) + " ms (" +
                                 std::to_string(p.failures) +
                                 " failed attempts; the last: " + p.last_error.ToString() +
                                 "): its outcome is unknown, it may or may not be committed");
    finish(seq, std::move(ack));
  }
}

void Producer::Impl::finish(uint64_t seq, Ack ack) {
  auto it = pending_.find(seq);
  waiting_.erase(seq);
  auto release = [this](uint64_t request_id) {
    auto r = requests_.find(request_id);
    if (r == requests_.end() || --r->second.unfinished > 0) return;
    settle(request_id);
    requests_.erase(r);
  };
  if (it->second.request_id != 0) release(it->second.request_id);
  for (uint64_t id : it->second.earlier_request_ids) release(id);
  pending_.erase(it);
  ack.seq = seq;
  acks_.push_back(std::move(ack));
}

void Producer::Impl::handle_reply(const std::string& from, const zmq::message_t& msg) {
  const auto* data = static_cast<const char*>(msg.data());
  uint64_t request_id = 0;
  std::string_view code;
  wire::ClientReply reply;
  Status decoded;
  if (wire::PeekHead(data, msg.size(), &request_id, &code) && code == wire::kOk) {
    // The common case, an ok to a push (one event) or a push_batch (more),
    // read from the frame without building a Value map.
    auto found = requests_.find(request_id);
    if (found == requests_.end()) return;  // for events already finished
    if (found->second.seqs.size() == 1) {
      results_.resize(1);
      decoded = wire::DecodePushReply(data, msg.size(), limits_, &request_id, &results_[0]);
    } else {
      decoded = wire::DecodePushBatchReply(data, msg.size(), limits_, &request_id, &results_);
    }
    if (decoded.ok()) {
      on_results(from, request_id, results_.data(), results_.size());
      return;
    }
    reply.request_id = request_id;
  } else {
    decoded = wire::DecodeReply(data, msg.size(), limits_, &reply);
  }
  auto found = requests_.find(reply.request_id);
  if (found == requests_.end()) return;  // for events already finished
  settle(reply.request_id);
  const std::vector<uint64_t> seqs = found->second.seqs;  // finish() may erase it
  for (uint64_t seq : seqs) {
    auto p = pending_.find(seq);
    if (p == pending_.end()) continue;  // finished already
    if (!decoded.ok()) {
      Ack ack;
      ack.status = Status::Corruption(from + ": malformed reply: " + decoded.message());
      finish(seq, std::move(ack));
      continue;
    }
    on_error(from, seq, p->second, reply);
  }
}

void Producer::Impl::on_results(const std::string& from, uint64_t request_id,
                                const wire::PushResult* results, size_t n) {
  auto found = requests_.find(request_id);
  if (found == requests_.end()) return;  // for events already finished
  settle(request_id);
  // Every event of the request is finished below, and the last finish()
  // erases the request: take its seqs rather than copy them.
  std::vector<uint64_t> seqs;
  seqs.swap(found->second.seqs);
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (pending_.find(seqs[i]) == pending_.end()) continue;  // finished already
    // An ok to any attempt: committed, whichever attempt it answers.
    Ack ack;
    if (n != seqs.size()) {
      ack.status =
          Status::Corruption(from + ": a reply of " + std::to_string(n) +
                             " results to a request of " + std::to_string(seqs.size()) + " events");
    } else {
      ack.index = results[i].index;
      ack.term = results[i].term;
      ack.duplicate = results[i].duplicate;
    }
    finish(seqs[i], std::move(ack));
  }
}

void Producer::Impl::on_error(const std::string& from, uint64_t seq, Pending& p,
                              const wire::ClientReply& reply) {
  if (!p.sent || reply.request_id != p.request_id) return;  // superseded attempt
  Status why = ReplyStatus(reply);
  if (why.IsInvalidInput()) {
    Ack ack;
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
  watch_connections(now);
  check_timeouts(now);
  give_up(now);
  send_due(now);
  if (drain() > 0) {
    send_due(Clock::now());  // what the replies let go
    return true;
  }
  Clock::time_point wake = std::min({until, next_send_due_, next_timeout_, now + kMaxPollWait});
  if (wake <= now) return false;
  std::vector<zmq::pollitem_t> items;
  items.reserve(2 * conns_.size());
  for (auto& [endpoint, c] : conns_) {
    items.push_back({c.socket->handle(), 0, ZMQ_POLLIN, 0});
    if (c.monitor) items.push_back({c.monitor->handle(), 0, ZMQ_POLLIN, 0});
  }
  auto wait = std::chrono::duration_cast<milliseconds>(wake - now) + milliseconds(1);
  zmq::poll(items, wait);
  watch_connections(Clock::now());
  if (drain() == 0) {
    send_due(Clock::now());  // what a lost connection sent back to wait
    return false;
  }
  send_due(Clock::now());
  return true;
}

Status Producer::Impl::push(std::string topic, std::string payload, uint64_t* seq,
                            milliseconds max_wait) {
  if (!options_error_.ok()) return options_error_;
  Status s = wire::CheckTopic(topic);
  if (!s.ok()) return s;
  s = wire::CheckPayloadSize(payload.size(), limits_);
  if (!s.ok()) return s;
  if (next_seq_ == 0) {  // wrapped past 2^64-1: no number left that the cluster would take
    return Status::InvalidInput("producer: no sequence number left after " +
                                std::to_string(next_seq_ - 1));
  }
  Clock::time_point deadline = DeadlineAfter(Clock::now(), max_wait);
  pump(Clock::now());  // take in what has arrived, so acks flow while pushing
  // The window bounds the span of numbers in flight, not only their count:
  // while one event is retried, the others must not run more than the
  // cluster's remembered window ahead of it, or its retry could no longer be
  // told from a new event ("too old") and would fail with its outcome
  // unknown. (The whole-node simulator found this: seed 13691 at
  // 2480eca, a push retried while a thousand later ones were acked.)
  while (!pending_.empty() && next_seq_ - pending_.begin()->first >= options_.window) {
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
  p.pushed_at = p.not_before;
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
