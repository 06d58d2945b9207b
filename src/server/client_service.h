// ClientService: the node's client protocol (docs/protocol.md), served on
// the loop thread: status, push, push_batch and append (acknowledged once
// committed) and fetch (committed events; any node). It takes request
// frames and sends reply frames through a ReplyChannel, so that the same
// code serves raftlogd's ROUTER socket (ClientEndpoint) and the
// simulator's clients. What a push or a fetch means is the EventMachine's.
// Pushes, appends and push_batches are decoded straight from their frames
// (views); every other request through the general decoder.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "raftlog/replicated_log.h"
#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/event_ops.h"
#include "server/address_book.h"
#include "server/event_machine.h"
#include "server/log.h"

namespace raftlog::server {

// Where reply frames go: to the client `to.client` names.
class ReplyChannel {
 public:
  virtual ~ReplyChannel() = default;
  virtual void send(const ReplyTo& to, std::string_view frame) = 0;
};

struct ClientServiceOptions {
  wire::DecodeLimits limits;
  // Each member's client endpoint, named in not_leader replies when the
  // configuration in force carries no address book naming it.
  std::map<core::NodeId, std::string> client_endpoints;
  // How long a read_index waits for the leader's answer and this node's
  // apply before it is answered busy.
  std::chrono::milliseconds read_timeout{5000};
  // Milliseconds since the Unix epoch: the timestamp of each pushed event
  // (wall time, as a reader of the event expects). Unset: the system clock.
  std::function<uint64_t()> wall_ms;
};

struct ClientCounters {
  uint64_t requests = 0;
  uint64_t rejected_malformed = 0;  // undecodable frames or envelopes
};

class ClientService : public AckSink {
 public:
  ClientService(ClientServiceOptions options, ReplicatedLog* log, ReplyChannel* replies);
  // The event layer whose pushes this endpoint takes and answers; set
  // before the first request.
  void set_events(EventMachine* events) { events_ = events; }

  // One request frame from to.client (to.delimiter: it came with REQ's
  // empty frame, which the reply carries too).
  void on_request(ReplyTo to, std::string_view frame);
  // A message that is not one frame after the envelope (`frames` after the
  // routing id): refused with the reason.
  void on_misshapen(const ReplyTo& to, size_t frames);

  const ClientCounters& counters() const { return counters_; }
  // Who takes a snapshot when a client asks (op "snapshot"): raftlogd's
  // Snapshotter. Unset: the op is NotSupported.
  using SnapshotHandler =
      std::function<void(std::function<void(const Status&, const core::SnapshotHead&)> done)>;
  void set_snapshot_handler(SnapshotHandler handler) { snapshot_ = std::move(handler); }

  // Extra counters for the status reply (the peers', the event layer's).
  void set_extra_counters(std::function<wire::Value::Map()> extra) { extra_ = std::move(extra); }

  // Every ReplicatedLog event, after the event layer saw it: read_index
  // answers (ReadState, then the apply they wait for), and the
  // configuration changes status reports.
  void on_event(const Event& event);
  // Answers the reads that waited too long (call once per loop turn).
  void expire(std::chrono::steady_clock::time_point now);

  // The address book of the configuration in force (empty when it carries
  // none, or an unreadable one: *error then says why).
  const AddressBook& address_book(std::string* error = nullptr);

  // AckSink: the event layer's answers, framed and sent.
  void acked(const ReplyTo& to, const wire::PushResult& result) override;
  void failed(const ReplyTo& to, const Status& status) override;

 private:
  // A push_batch: one reply once every event is committed, or one error
  // reply as soon as one of them fails.
  struct Batch {
    ReplyTo to;
    size_t remaining;
    std::vector<wire::PushResult> results;
  };

  // A request that will not reach the event layer: malformed (counted,
  // logged), or breaking its op's rules (InvalidInput). Answered with the
  // reason.
  void reject(const ReplyTo& to, const Status& status);
  void handle(const ReplyTo& to, const wire::ClientRequest& request);
  wire::ClientReply handle_status(const wire::ClientRequest& request);
  wire::ClientReply handle_fetch(const wire::ClientRequest& request);
  void handle_push(ReplyTo to, const wire::PushRequestView& push);
  void handle_push_batch(const ReplyTo& to, std::string_view producer,
                         const std::vector<wire::PushEventView>& events);
  void handle_change(const ReplyTo& to, const wire::ClientRequest& request);
  void handle_transfer(const ReplyTo& to, const wire::ClientRequest& request);
  void handle_read_index(const ReplyTo& to, const wire::ClientRequest& request);
  void answer_reads();
  std::string client_endpoint_of(core::NodeId id);
  void send_reply(const ReplyTo& to, const wire::ClientReply& reply);
  wire::ClientReply error_reply(uint64_t request_id, const Status& status);

  ClientServiceOptions options_;
  ReplicatedLog* log_;
  ReplyChannel* replies_;
  EventMachine* events_ = nullptr;
  std::unordered_map<uint64_t, Batch> batches_;
  uint64_t next_batch_ = 1;
  std::vector<wire::PushEventView> batch_events_;  // of the batch being read
  ClientCounters counters_;
  WarnLimiter warnings_{10};
  std::function<wire::Value::Map()> extra_;
  SnapshotHandler snapshot_;
  std::string buffer_;
  // The address book decoded from the context it came from.
  std::string book_context_;
  AddressBook book_;
  std::string book_error_;
  bool book_decoded_ = false;
  // The configuration in force came from this entry; the last change this
  // node gave up, and why.
  core::LogIndex config_index_ = 0;
  std::string config_error_;
  // read_index requests: waiting for the leader (by ctx), then for this
  // node's apply (by index).
  struct PendingRead {
    ReplyTo to;
    std::chrono::steady_clock::time_point deadline;
    core::LogIndex index = 0;  // set once the leader answered
  };
  uint64_t next_read_ = 1;
  std::map<uint64_t, PendingRead> reads_;
};

}  // namespace raftlog::server
