#include "local_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "raftlog/client.h"

namespace raftlog::bench {

namespace fs = std::filesystem;

namespace {

// A TCP port on 127.0.0.1 that was free a moment ago, never the same twice.
int FreePort() {
  static std::set<int> handed_out;
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      port = ntohs(addr.sin_port);
    close(fd);
    if (port != 0 && handed_out.insert(port).second) return port;
  }
}

std::string Endpoint(int port) {
  return "tcp://127.0.0.1:" + std::to_string(port);
}

}  // namespace

LocalCluster::LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {
  for (int i = 0; i < options_.nodes; ++i) nodes_.push_back({FreePort(), FreePort(), FreePort()});
}

LocalCluster::~LocalCluster() {
  stop();
}

std::vector<std::string> LocalCluster::client_endpoints() const {
  std::vector<std::string> out;
  for (const Node& n : nodes_) out.push_back(Endpoint(n.client_port));
  return out;
}

std::vector<std::string> LocalCluster::pub_endpoints() const {
  std::vector<std::string> out;
  for (const Node& n : nodes_) out.push_back(Endpoint(n.pub_port));
  return out;
}

Status LocalCluster::spawn(int id) {
  Node& n = nodes_[static_cast<size_t>(id - 1)];
  std::string base = data_dir(id);
  std::ofstream conf(base + ".conf");
  conf << "id = " << id << "\ndata-dir = " << base << "\nlog-level = warn\n";
  for (size_t j = 0; j < nodes_.size(); ++j) {
    conf << "peer = " << j + 1 << "=" << Endpoint(nodes_[j].peer_port) << ","
         << Endpoint(nodes_[j].client_port) << "," << Endpoint(nodes_[j].pub_port) << "\n";
  }
  conf.close();
  std::vector<std::string> args;
  if (!options_.fsync) args.push_back("eatmydata");
  args.insert(args.end(), {options_.raftlogd, "--config", base + ".conf"});
  args.insert(args.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string log = base + ".log";
  // fork/exec rather than posix_spawn: the child asks to be killed when the
  // benchmark dies, so an interrupted run leaves no raftlogd behind.
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execvp(argv[0], argv.data());
    _exit(127);
  }
  if (pid < 0) return Status::IOError("fork failed");
  n.pid = pid;
  // execvp's failure shows as an immediate exit 127.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    n.pid = -1;
    return Status::IOError("cannot start " + args[0] +
                           (options_.fsync ? "" : " (is eatmydata installed?)") + "; see " + log);
  }
  return Status::Ok();
}

Status LocalCluster::start(std::chrono::milliseconds deadline) {
  std::error_code ec;
  fs::remove_all(options_.dir, ec);
  fs::create_directories(options_.dir, ec);
  if (ec) return Status::IOError("cannot create " + options_.dir + ": " + ec.message());
  for (int id = 1; id <= options_.nodes; ++id) {
    Status s = spawn(id);
    if (!s.ok()) return s;
  }
  if (!WaitForLeader(client_endpoints(), deadline))
    return Status::IOError("no leader within the deadline; logs in " + options_.dir);
  return Status::Ok();
}

void LocalCluster::stop_node(int id) {
  Node& n = nodes_[static_cast<size_t>(id - 1)];
  if (n.pid <= 0) return;
  kill(n.pid, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (waitpid(n.pid, nullptr, WNOHANG) == n.pid) {
      n.pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(n.pid, SIGKILL);
  waitpid(n.pid, nullptr, 0);
  n.pid = -1;
}

Status LocalCluster::restart_node(int id) {
  stop_node(id);
  return spawn(id);
}

Status LocalCluster::start_stopped() {
  for (int id = 1; id <= static_cast<int>(nodes_.size()); ++id) {
    if (nodes_[static_cast<size_t>(id - 1)].pid > 0) continue;
    Status s = spawn(id);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

std::string LocalCluster::data_dir(int id) const {
  return options_.dir + "/node" + std::to_string(id);
}

void LocalCluster::stop() {
  for (int id = 1; id <= static_cast<int>(nodes_.size()); ++id) stop_node(id);
}

bool WaitForLeader(const std::vector<std::string>& client_endpoints,
                   std::chrono::milliseconds deadline) {
  ClientOptions o;
  o.endpoints = client_endpoints;
  o.request_timeout = std::chrono::milliseconds(300);
  Client client(o);
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    core::NodeId leader = 0;
    bool agree = true;
    for (const std::string& e : client_endpoints) {
      wire::NodeStatus st;
      if (!client.status(e, &st).ok() || st.leader == 0 || (leader != 0 && st.leader != leader)) {
        agree = false;
        break;
      }
      leader = st.leader;
    }
    if (agree) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace raftlog::bench
