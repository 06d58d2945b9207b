// ProcessCluster: real raftlogd processes for integration tests, on
// 127.0.0.1 (ports picked free at construction) or, with
// Network::kNamespaces, each node on a test host of its own (netns.h: its
// own address, fixed ports, a link the test can cut). Data and logs go to a
// temporary directory removed afterwards. Every process started is stopped
// by PID in the destructor (SIGKILL, then reaped).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/client.h"

namespace raftlog::testing {

struct ClusterTiming {
  int tick_ms = 20;
  int election_ticks = 10;
  int heartbeat_ticks = 2;
  std::chrono::milliseconds max_election_timeout() const {
    return std::chrono::milliseconds(2 * election_ticks * tick_ms);
  }
};

class NetLab;

enum class Network { kLoopback, kNamespaces };

class ProcessCluster {
 public:
  ProcessCluster(int size, ClusterTiming timing = {}, std::vector<std::string> extra_flags = {},
                 Network network = Network::kLoopback);
  ~ProcessCluster();

  int size() const { return static_cast<int>(nodes_.size()); }
  const ClusterTiming& timing() const { return timing_; }

  void start(core::NodeId id);
  void start_all();
  // Sends sig; for SIGKILL and SIGTERM also waits for the exit and returns
  // the exit status (as waitpid reports it), else 0. For SIGSTOP it returns
  // once the process is stopped: from then on it runs no code.
  int signal(core::NodeId id, int sig);
  bool running(core::NodeId id) const;
  pid_t pid(core::NodeId id) const;
  // Network::kNamespaces only: takes node id's link down (a real partition:
  // its connections stay half-open), and brings it back.
  void cut(core::NodeId id);
  void heal(core::NodeId id);

  std::string client_endpoint(core::NodeId id) const;
  std::string peer_endpoint(core::NodeId id) const;
  std::string pub_endpoint(core::NodeId id) const;
  std::vector<std::string> pub_endpoints() const;
  // A node's config file (peer lines name every endpoint), for -c in tools.
  std::string config_path(core::NodeId id) const;
  std::string data_dir(core::NodeId id) const;
  std::string log_text(core::NodeId id) const;
  std::vector<std::string> client_endpoints() const;
  // The member's address as raftlog-ctl add-node takes it: ID=PEER,CLIENT,PUB.
  std::string member_spec(core::NodeId id) const;

  // A node that is no member yet: its config file names only itself and
  // sets join (raftlogd --join), with the cluster's timing and extra flags.
  // Ports are picked free, or those of node `ports_of` (a stopped node,
  // forgotten first: a replacement on the same machine and ports).
  void add_joining(core::NodeId id, core::NodeId ports_of = 0);
  // Drops a stopped node from the cluster (it is no longer started,
  // asked or listed).
  void forget(core::NodeId id);
  std::vector<core::NodeId> ids() const;

  Client& client() { return *client_; }
  Status status(core::NodeId id, wire::NodeStatus* out, NodeCounters* counters = nullptr);

  // The leader every running node agrees on (same leader, same term), or 0.
  core::NodeId agreed_leader();
  // Polls pred every 10 ms until it holds or the deadline passes.
  static bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds deadline);
  // Every committed entry node id holds, from index 1.
  Status fetch_all(core::NodeId id, std::vector<core::Entry>* out);

 private:
  struct Node {
    core::NodeId id;
    int peer_port;
    int client_port;
    int pub_port;
    pid_t pid = -1;
  };

  std::string host(core::NodeId id) const;

  ClusterTiming timing_;
  std::vector<std::string> extra_flags_;
  std::unique_ptr<NetLab> lab_;
  std::string dir_;
  std::map<core::NodeId, Node> nodes_;
  std::map<core::NodeId, Node> ports_;  // every node's ports, forgotten ones too
  std::unique_ptr<Client> client_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

}  // namespace raftlog::testing
