// FakeNode: a raftlog node as a subscriber sees it, in process. An XPUB
// socket the test publishes on (an XPUB, not a PUB, so that a test can wait
// until a subscription has arrived instead of sleeping), and a ROUTER on a
// thread of its own serving `fetch` from a log the test fills. Both bind
// 127.0.0.1 on free ports.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "raftlog/core/types.h"
#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

namespace raftlog::testing {

// A node as a subscriber sees it: a PUB stream and a fetch server.
class FakeNode {
 public:
  FakeNode() : FakeNode("tcp://127.0.0.1:*", "tcp://127.0.0.1:*") {}
  // Bound to these endpoints (e.g. ones a subscriber was told of before the
  // node came up).
  FakeNode(const std::string& pub_endpoint, const std::string& client_endpoint)
      : context_(1), pub_(context_, zmq::socket_type::xpub) {
    pub_.set(zmq::sockopt::xpub_verbose, 1);  // report every subscriber's subscription
    pub_.set(zmq::sockopt::linger, 0);
    pub_.bind(pub_endpoint);
    pub_endpoint_ = pub_.get(zmq::sockopt::last_endpoint);
    zmq::socket_t router(context_, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.bind(client_endpoint);
    client_endpoint_ = router.get(zmq::sockopt::last_endpoint);
    server_ = std::thread([this, r = std::move(router)]() mutable { serve(r); });
  }
  ~FakeNode() {
    stop_ = true;
    server_.join();
  }

  const std::string& pub_endpoint() const { return pub_endpoint_; }
  const std::string& client_endpoint() const { return client_endpoint_; }

  // The committed log that fetch serves.
  // An event from producer "p" with seq = index, timestamp 1000 + index and
  // payload "payload <index>".
  void commit_event(core::LogIndex index, const std::string& topic, core::Term term = 1) {
    commit_payload(index, topic, "payload " + std::to_string(index), term);
  }
  void commit_payload(core::LogIndex index, const std::string& topic, const std::string& payload,
                      core::Term term = 1) {
    std::string data;
    wire::EncodeEventRecord(wire::EventRecord{topic, "p", index, 1000 + index, payload}, &data);
    std::lock_guard<std::mutex> lock(mu_);
    log_[index] = core::Entry{index, term, core::EntryType::kCommand, data, {}};
  }
  void commit_noop(core::LogIndex index) {
    std::lock_guard<std::mutex> lock(mu_);
    log_[index] = core::Entry{index, 1, core::EntryType::kNoop, "", {}};
  }
  void compact_through(core::LogIndex head) {
    std::lock_guard<std::mutex> lock(mu_);
    head_ = head;
    log_.erase(log_.begin(), log_.upper_bound(head));
  }
  std::vector<core::LogIndex> fetches() {
    std::lock_guard<std::mutex> lock(mu_);
    return fetch_froms_;
  }

  // Waits until a subscriber's subscription reached the publisher.
  bool wait_for_subscriber(std::chrono::milliseconds deadline) {
    zmq::pollitem_t item{pub_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, deadline) == 0) return false;
    zmq::message_t m;
    return pub_.recv(m).has_value() && m.size() >= 1 && m.data<char>()[0] == 1;
  }

  // Publishes the committed event at index as raftlogd does.
  void publish(core::LogIndex index, core::LogIndex prev_index) {
    core::Entry e;
    {
      std::lock_guard<std::mutex> lock(mu_);
      e = log_.at(index);
    }
    wire::EventRecord rec;
    if (!wire::DecodeEventRecord(e.data.data(), e.data.size(), {}, &rec).ok()) return;
    std::string frame;
    wire::EncodePublishedEvent(
        wire::PublishedEventView{index, e.term, rec.timestamp_ms, rec.payload, rec.producer,
                                 rec.seq, prev_index},
        &frame);
    send(rec.topic, frame);
  }
  void publish_heartbeat(core::LogIndex last_index) {
    std::string frame;
    wire::EncodePublishedHeartbeat({last_index, last_index, 1}, &frame);
    send(wire::kHeartbeatTopic, frame);
  }
  void send(const std::string& topic, const std::string& frame) {
    pub_.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    pub_.send(zmq::buffer(frame), zmq::send_flags::none);
  }

 private:
  void serve(zmq::socket_t& router) {
    while (!stop_) {
      zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(10)) == 0) continue;
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(router, std::back_inserter(frames))) continue;
      wire::ClientRequest request;
      if (frames.size() != 2 ||
          !wire::DecodeRequest(frames[1].data<char>(), frames[1].size(), {}, &request).ok()) {
        continue;
      }
      std::string reply;
      wire::EncodeReply(answer(request), &reply);
      router.send(frames[0], zmq::send_flags::sndmore);
      router.send(zmq::buffer(reply), zmq::send_flags::none);
    }
  }

  wire::ClientReply answer(const wire::ClientRequest& request) {
    wire::FetchArgs args;
    if (request.op != wire::kFetchOp || !wire::DecodeFetchArgs(request.args, &args).ok()) {
      return wire::ErrorReply(request.request_id, Status::InvalidInput("fetch only"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    fetch_froms_.push_back(args.from);
    if (args.from <= head_) {
      wire::ClientReply r = wire::ErrorReply(request.request_id, Status::NotFound("compacted"));
      r.body.emplace_back("earliest", wire::Value::Uint(head_ + 1));
      return r;
    }
    wire::FetchResult result;
    result.head_index = head_;
    result.commit_index = log_.empty() ? head_ : log_.rbegin()->first;
    for (core::LogIndex i = args.from; log_.count(i) && result.entries.size() < args.max_count;
         ++i) {
      result.entries.push_back(log_.at(i));
    }
    wire::ClientReply r;
    r.request_id = request.request_id;
    r.body = wire::EncodeFetchResult(result);
    return r;
  }

  zmq::context_t context_;
  zmq::socket_t pub_;
  std::string pub_endpoint_, client_endpoint_;
  std::thread server_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<core::LogIndex, core::Entry> log_;  // guarded by mu_
  core::LogIndex head_ = 0;                    // guarded by mu_
  std::vector<core::LogIndex> fetch_froms_;    // guarded by mu_
};

}  // namespace raftlog::testing
