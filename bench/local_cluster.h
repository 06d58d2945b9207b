// LocalCluster: raftlogd processes on 127.0.0.1 for raftlog-bench. Each node
// gets free ports and its own data directory under a base directory (which
// should be on the disk being measured: not a tmpfs). Every process started
// is stopped by PID in stop() and the destructor.
//
// fsync off runs raftlogd under eatmydata(1), which turns fsync and
// fdatasync into no-ops: raftlogd itself has no option to skip them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "raftlog/status.h"

namespace raftlog::bench {

struct LocalClusterOptions {
  int nodes = 3;
  std::string dir;       // data directories and logs go here; wiped first
  std::string raftlogd;  // path of the raftlogd binary
  bool fsync = true;
  std::vector<std::string> extra_flags;  // appended to every raftlogd command line
};

class LocalCluster {
 public:
  explicit LocalCluster(LocalClusterOptions options);
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Starts every node and waits (up to deadline) until all agree on a leader.
  Status start(std::chrono::milliseconds deadline);
  // SIGTERM, then SIGKILL after 5 s; reaps.
  void stop();
  // Starts node id (1-based) again, on its old data (stopping it first).
  Status restart_node(int id);
  void stop_node(int id);
  // Starts every stopped node on its old data; does not wait.
  Status start_stopped();
  std::string data_dir(int id) const;

  std::vector<std::string> client_endpoints() const;
  std::vector<std::string> pub_endpoints() const;

 private:
  struct Node {
    int peer_port, client_port, pub_port;
    pid_t pid = -1;
  };
  Status spawn(int id);

  LocalClusterOptions options_;
  std::vector<Node> nodes_;
};

// Polls every endpoint's status until all report the same leader; false at
// the deadline.
bool WaitForLeader(const std::vector<std::string>& client_endpoints,
                   std::chrono::milliseconds deadline);

}  // namespace raftlog::bench
