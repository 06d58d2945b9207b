#include "process_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "netns.h"

extern char** environ;

namespace raftlog::testing {

namespace fs = std::filesystem;

int FreePort() {
  static std::set<int> handed_out;  // never hand out one port twice in a process
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      throw std::runtime_error("cannot bind a port on 127.0.0.1");
    }
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    int port = ntohs(addr.sin_port);
    if (handed_out.insert(port).second) return port;
  }
}

ProcessCluster::ProcessCluster(int size, ClusterTiming timing, std::vector<std::string> extra_flags,
                               Network network)
    : timing_(timing), extra_flags_(std::move(extra_flags)) {
  char tmpl[] = "/tmp/raftlog-it-XXXXXX";
  dir_ = mkdtemp(tmpl);
  if (network == Network::kNamespaces) {
    lab_ = std::make_unique<NetLab>(size);
    for (int i = 1; i <= size; ++i)
      nodes_[i] = Node{static_cast<core::NodeId>(i), 7001, 7101, 7201};
  } else {
    for (int i = 1; i <= size; ++i)
      nodes_[i] = Node{static_cast<core::NodeId>(i), FreePort(), FreePort(), FreePort()};
  }
  ports_ = nodes_;
  for (auto& [id, n] : nodes_) {
    std::ofstream conf(config_path(id));
    conf << "id = " << id << "\n"
         << "data-dir = " << data_dir(id) << "\n"
         << "tick-ms = " << timing_.tick_ms << "\n"
         << "election-ticks = " << timing_.election_ticks << "\n"
         << "heartbeat-ticks = " << timing_.heartbeat_ticks << "\n";
    for (auto& [pid, p] : nodes_) {
      conf << "peer = " << pid << "=" << peer_endpoint(pid) << "," << client_endpoint(pid) << ","
           << pub_endpoint(pid) << "\n";
    }
  }
  ClientOptions copts;
  copts.endpoints = client_endpoints();
  copts.request_timeout = std::chrono::milliseconds(1000);
  client_ = std::make_unique<Client>(copts);
}

ProcessCluster::~ProcessCluster() {
  for (auto& [id, n] : nodes_) {
    if (n.pid > 0) {
      ::kill(n.pid, SIGKILL);
      waitpid(n.pid, nullptr, 0);
      n.pid = -1;
    }
  }
  lab_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string ProcessCluster::host(core::NodeId id) const {
  return lab_ ? lab_->address(static_cast<int>(id)) : "127.0.0.1";
}

void ProcessCluster::cut(core::NodeId id) {
  if (!lab_) throw std::logic_error("cut() needs Network::kNamespaces");
  lab_->cut(static_cast<int>(id));
}

void ProcessCluster::heal(core::NodeId id) {
  if (!lab_) throw std::logic_error("heal() needs Network::kNamespaces");
  lab_->heal(static_cast<int>(id));
}

std::string ProcessCluster::config_path(core::NodeId id) const {
  return dir_ + "/node" + std::to_string(id) + ".conf";
}
std::string ProcessCluster::data_dir(core::NodeId id) const {
  return dir_ + "/data" + std::to_string(id);
}
std::string ProcessCluster::client_endpoint(core::NodeId id) const {
  return "tcp://" + host(id) + ":" + std::to_string(ports_.at(id).client_port);
}
std::string ProcessCluster::peer_endpoint(core::NodeId id) const {
  return "tcp://" + host(id) + ":" + std::to_string(ports_.at(id).peer_port);
}
std::string ProcessCluster::pub_endpoint(core::NodeId id) const {
  return "tcp://" + host(id) + ":" + std::to_string(ports_.at(id).pub_port);
}
std::vector<std::string> ProcessCluster::pub_endpoints() const {
  std::vector<std::string> out;
  for (const auto& [id, n] : nodes_) out.push_back(pub_endpoint(id));
  return out;
}
std::vector<std::string> ProcessCluster::client_endpoints() const {
  std::vector<std::string> out;
  for (const auto& [id, n] : nodes_) out.push_back(client_endpoint(id));
  return out;
}
std::string ProcessCluster::member_spec(core::NodeId id) const {
  return std::to_string(id) + "=" + peer_endpoint(id) + "," + client_endpoint(id) + "," +
         pub_endpoint(id);
}

void ProcessCluster::add_joining(core::NodeId id, core::NodeId ports_of) {
  if (lab_) throw std::logic_error("add_joining() needs Network::kLoopback");
  if (nodes_.count(id)) throw std::logic_error("node " + std::to_string(id) + " exists");
  Node n{id, 0, 0, 0};
  if (ports_of != 0) {
    const Node& old = ports_.at(ports_of);
    n.peer_port = old.peer_port;
    n.client_port = old.client_port;
    n.pub_port = old.pub_port;
  } else {
    n.peer_port = FreePort();
    n.client_port = FreePort();
    n.pub_port = FreePort();
  }
  nodes_[id] = n;
  ports_[id] = n;
  std::ofstream conf(config_path(id));
  conf << "id = " << id << "\n"
       << "data-dir = " << data_dir(id) << "\n"
       << "join = true\n"
       << "tick-ms = " << timing_.tick_ms << "\n"
       << "election-ticks = " << timing_.election_ticks << "\n"
       << "heartbeat-ticks = " << timing_.heartbeat_ticks << "\n"
       << "peer = " << member_spec(id) << "\n";
}

void ProcessCluster::forget(core::NodeId id) {
  Node& n = nodes_.at(id);
  if (n.pid > 0) throw std::logic_error("forget() a running node");
  nodes_.erase(id);
}

std::vector<core::NodeId> ProcessCluster::ids() const {
  std::vector<core::NodeId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

pid_t ProcessCluster::pid(core::NodeId id) const {
  return nodes_.at(id).pid;
}
bool ProcessCluster::running(core::NodeId id) const {
  return nodes_.at(id).pid > 0;
}

std::string ProcessCluster::log_text(core::NodeId id) const {
  std::ifstream in(dir_ + "/node" + std::to_string(id) + ".log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ProcessCluster::start(core::NodeId id) {
  Node& n = nodes_.at(id);
  if (n.pid > 0) return;
  std::string log = dir_ + "/node" + std::to_string(id) + ".log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // In a lab, `ip netns exec` execs raftlogd in place: the PID is the node's.
  std::vector<std::string> args;
  if (lab_) args = lab_->exec_prefix(static_cast<int>(id));
  args.insert(args.end(), {RAFTLOGD_PATH, "--config", config_path(id)});
  args.insert(args.end(), extra_flags_.begin(), extra_flags_.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = posix_spawnp(&n.pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " RAFTLOGD_PATH);
}

void ProcessCluster::start_all() {
  for (auto& [id, n] : nodes_) start(id);
}

int ProcessCluster::signal(core::NodeId id, int sig) {
  Node& n = nodes_.at(id);
  if (n.pid <= 0) return -1;
  ::kill(n.pid, sig);
  int status = 0;
  if (sig == SIGSTOP) {
    // Returns once it is stopped (or, should it have died meanwhile, reaped).
    waitpid(n.pid, &status, WUNTRACED);
    if (!WIFSTOPPED(status)) n.pid = -1;
    return 0;
  }
  if (sig != SIGKILL && sig != SIGTERM) return 0;
  waitpid(n.pid, &status, 0);
  n.pid = -1;
  return status;
}

Status ProcessCluster::status(core::NodeId id, wire::NodeStatus* out, NodeCounters* counters) {
  return client_->status(client_endpoint(id), out, counters);
}

core::NodeId ProcessCluster::agreed_leader() {
  core::NodeId leader = 0;
  core::Term term = 0;
  bool first = true;
  for (auto& [id, n] : nodes_) {
    if (n.pid <= 0) continue;
    wire::NodeStatus st;
    if (!status(id, &st).ok() || st.leader == 0) return 0;
    if (!first && (st.leader != leader || st.term != term)) return 0;
    leader = st.leader;
    term = st.term;
    first = false;
  }
  if (leader == 0 || nodes_.at(leader).pid <= 0) return 0;
  return leader;
}

bool ProcessCluster::wait_for(const std::function<bool()>& pred,
                              std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

Status ProcessCluster::fetch_all(core::NodeId id, std::vector<core::Entry>* out) {
  out->clear();
  wire::FetchArgs args;
  args.from = 1;
  args.max_count = 10000;
  for (;;) {
    wire::FetchResult r;
    Status s = client_->fetch(client_endpoint(id), args, &r);
    if (!s.ok()) return s;
    if (r.entries.empty()) return Status::Ok();
    args.from = r.entries.back().index + 1;
    for (core::Entry& e : r.entries) out->push_back(std::move(e));
  }
}

}  // namespace raftlog::testing
