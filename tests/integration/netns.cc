#include "netns.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace raftlog::testing {

namespace fs = std::filesystem;

void RunOrThrow(const std::vector<std::string>& argv);

namespace {

// Exit status of argv, with its stdout and stderr in *output.
int Run(const std::vector<std::string>& argv, std::string* output) {
  char tmpl[] = "/tmp/raftlog-netlab-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fd, STDERR_FILENO);
  std::vector<std::string> args = argv;
  std::vector<char*> raw;
  raw.reserve(args.size() + 1);
  for (std::string& a : args) raw.push_back(a.data());
  raw.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fd);
  int status = -1;
  if (rc == 0) waitpid(pid, &status, 0);
  std::ifstream in(tmpl);
  std::stringstream ss;
  ss << in.rdbuf();
  *output = ss.str();
  unlink(tmpl);
  if (rc != 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Removes the namespaces of labs whose test process is gone ("rl<pid>-...").
void RemoveStaleLabs() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/netns", ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() < 4 || n.compare(0, 2, "rl") != 0) continue;
    size_t dash = n.find('-');
    if (dash == std::string::npos || dash == 2) continue;
    const std::string pid = n.substr(2, dash - 2);
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (fs::exists("/proc/" + pid)) continue;
    std::string out;
    Run({"ip", "netns", "del", n}, &out);
  }
}

// ARP retries every 100 ms instead of every second on the lab's links, so
// that how soon traffic flows after heal() is the code's doing, not the
// neighbour cache's (a real network pays up to a second more once).
void FastArp(std::vector<std::string> prefix, const std::string& dev) {
  prefix.insert(prefix.end(),
                {"sh", "-c", "echo 100 > /proc/sys/net/ipv4/neigh/" + dev + "/retrans_time_ms"});
  RunOrThrow(prefix);
}

}  // namespace

void RunOrThrow(const std::vector<std::string>& argv) {
  std::string out;
  if (Run(argv, &out) != 0) throw std::runtime_error("'" + Join(argv) + "' failed: " + out);
}

bool NetLab::Available(std::string* why) {
  if (geteuid() != 0) {
    *why = "network namespaces need root";
    return false;
  }
  std::string out;
  const std::string probe = "rl" + std::to_string(getpid()) + "-probe";
  if (Run({"ip", "netns", "add", probe}, &out) != 0) {
    *why = "'ip netns add' failed: " + out;
    return false;
  }
  Run({"ip", "netns", "del", probe}, &out);
  return true;
}

NetLab::NetLab(int hosts)
    : prefix_("rl" + std::to_string(getpid()) + "-"), subnet_(20 + getpid() % 200), hosts_(hosts) {
  RemoveStaleLabs();
  built_ = true;  // from here on the destructor cleans up whatever was made
  try {
    const std::string sw = name("sw");
    RunOrThrow({"ip", "netns", "add", sw});
    RunOrThrow({"ip", "-n", sw, "link", "add", "br0", "type", "bridge"});
    RunOrThrow({"ip", "-n", sw, "link", "set", "br0", "up"});
    for (int h = 1; h <= hosts_; ++h) {
      const std::string ns = netns(h);
      RunOrThrow({"ip", "netns", "add", ns});
      RunOrThrow({"ip", "-n", ns, "link", "set", "lo", "up"});
      RunOrThrow({"ip", "-n", sw, "link", "add", "v" + std::to_string(h), "type", "veth", "peer",
                  "name", "eth0", "netns", ns});
      RunOrThrow({"ip", "-n", sw, "link", "set", "v" + std::to_string(h), "master", "br0", "up"});
      RunOrThrow({"ip", "-n", ns, "addr", "add", address(h) + "/24", "dev", "eth0"});
      RunOrThrow({"ip", "-n", ns, "link", "set", "eth0", "up"});
      FastArp({"ip", "netns", "exec", ns}, "eth0");
    }
    // The test process's own way in: one veth pair, its far end on the bridge.
    const std::string here = name("h");
    RunOrThrow({"ip", "link", "add", here, "type", "veth", "peer", "name", "vh", "netns", sw});
    RunOrThrow({"ip", "-n", sw, "link", "set", "vh", "master", "br0", "up"});
    RunOrThrow({"ip", "addr", "add", address(254) + "/24", "dev", here});
    RunOrThrow({"ip", "link", "set", here, "up"});
    FastArp({}, here);
  } catch (...) {
    remove();
    throw;
  }
}

NetLab::~NetLab() {
  remove();
}

void NetLab::remove() {
  if (!built_) return;
  built_ = false;
  std::string out;
  // The switch holds one end of every veth pair: deleting it deletes them all.
  Run({"ip", "netns", "del", name("sw")}, &out);
  Run({"ip", "link", "del", name("h")}, &out);
  for (int h = 1; h <= hosts_; ++h) Run({"ip", "netns", "del", netns(h)}, &out);
}

std::string NetLab::name(const std::string& what) const {
  return prefix_ + what;
}

std::string NetLab::netns(int host) const {
  return name("n" + std::to_string(host));
}

std::string NetLab::address(int host) const {
  return "169.254." + std::to_string(subnet_) + "." + std::to_string(host);
}

std::vector<std::string> NetLab::exec_prefix(int host) const {
  return {"ip", "netns", "exec", netns(host)};
}

void NetLab::cut(int host) {
  RunOrThrow({"ip", "-n", name("sw"), "link", "set", "v" + std::to_string(host), "down"});
}

void NetLab::heal(int host) {
  RunOrThrow({"ip", "-n", name("sw"), "link", "set", "v" + std::to_string(host), "up"});
}

}  // namespace raftlog::testing
