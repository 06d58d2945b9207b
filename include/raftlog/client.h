// raftlog::Client: requests to the client endpoints of a raftlog cluster
// (docs/protocol.md). It knows the cluster's client endpoints, sends each
// request to the node it believes leads, and follows not_leader redirects
// by itself. Replies are matched to requests by id; late replies to
// requests that timed out are discarded.
//
// Not thread-safe: one thread uses a Client.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/status.h"
#include "raftlog/wire/op_types.h"

namespace raftlog {

struct ClientOptions {
  // The client endpoints of the cluster's nodes, e.g. tcp://127.0.0.1:7101.
  std::vector<std::string> endpoints;
  // How long one request waits for its reply before it is tried elsewhere.
  std::chrono::milliseconds request_timeout{2000};
};

// A node's counters (transport drops, rejected requests...), name and
// value, in the order the node sent them.
using NodeCounters = std::vector<std::pair<std::string, uint64_t>>;

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The status of the node at endpoint. counters, if given, receives the
  // node's counters. IOError when no reply comes within request_timeout;
  // Busy, at once, when a signal interrupts the wait.
  Status status(const std::string& endpoint, wire::NodeStatus* out,
                NodeCounters* counters = nullptr);

  // Appends payload through the leader (found by trying the endpoints and
  // following redirects) and waits for the commit, up to deadline in all.
  // NotLeader/Busy/timeouts are retried until the deadline. A retry after an
  // unknown outcome can append twice: exactly-once needs producer ids.
  Status append(const std::string& payload, std::chrono::milliseconds deadline,
                wire::AppendResult* out);

  // Has the node at endpoint take a snapshot now (raftlog-ctl snapshot);
  // waits up to `timeout` for it to be durable.
  Status snapshot(const std::string& endpoint, std::chrono::milliseconds timeout,
                  wire::SnapshotResult* out);

  // Committed entries from the node at endpoint.
  Status fetch(const std::string& endpoint, const wire::FetchArgs& args, wire::FetchResult* out);

  // Membership (docs/operations.md): sent to the leader (found like
  // append's), and answered once the leader accepted the change, which then
  // goes on by itself (new voters catch up first); poll status for the
  // outcome. Elections and unanswered requests are retried up to deadline;
  // every other answer is final: InvalidInput (what is wrong with the
  // request: "node 7 is not a member"), Busy ("a configuration change is
  // already in progress"). A request whose reply was lost and that is
  // retried may be refused as already done ("node 4 is already a voter").
  Status add_learner(const wire::MemberEndpoints& member, std::chrono::milliseconds deadline,
                     wire::ChangeResult* out);
  Status add_node(const wire::MemberEndpoints& member, std::chrono::milliseconds deadline,
                  wire::ChangeResult* out);
  Status promote(core::NodeId id, std::chrono::milliseconds deadline, wire::ChangeResult* out);
  Status remove_node(core::NodeId id, std::chrono::milliseconds deadline, wire::ChangeResult* out);
  // Asks the leader to hand leadership to `id` (kNoNode: the most up-to-date
  // other voter); *target is the node it hands over to.
  Status transfer_leader(core::NodeId id, std::chrono::milliseconds deadline, core::NodeId* target);
  // A linearizable read point from the node at endpoint: an index it has
  // applied through, confirmed by the leader after the call was made.
  // Busy when the leader could not confirm one (retry).
  Status read_index(const std::string& endpoint, core::LogIndex* index);

 private:
  friend class ClientInternals;  // raw requests: src/client/client_internals.h
  class Impl;
  Status change(const char* op, const wire::MemberEndpoints& member, bool with_endpoints,
                std::chrono::milliseconds deadline, wire::ChangeResult* out);
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftlog
