// NetLab: test hosts with their own addresses, for cutting real links.
//
// Each host is a Linux network namespace made by the test (`ip netns`),
// joined by a veth pair to a bridge in a "switch" namespace of its own; the
// test process itself joins that bridge too, through one veth pair whose
// other end is the only thing the lab adds to the test's own namespace, so
// it reaches every host directly. Addresses are link-local
// (169.254.N.host/24, N picked from the PID), reachable only inside the
// lab. cut(host) takes the host's link down at the switch: its packets go
// nowhere, its TCP connections stay open on both ends (half-open) until
// something notices, exactly as in a real partition. heal() brings it back.
// ARP retries every 100 ms on the lab's links (a second by default), so that
// recovery times measure the code, not the neighbour cache.
//
// Everything is removed in the destructor (deleting the switch namespace
// deletes every veth pair with it); labs left behind by a test process
// that was killed are removed by the next one. Needs root and iproute2.
#pragma once

#include <string>
#include <vector>

namespace raftlog::testing {

class NetLab {
 public:
  // Builds hosts 1..hosts. Throws std::runtime_error if a step fails.
  explicit NetLab(int hosts);
  ~NetLab();
  NetLab(const NetLab&) = delete;
  NetLab& operator=(const NetLab&) = delete;

  // Whether this process can build a lab (root, and `ip netns` works); if
  // not, why in *why.
  static bool Available(std::string* why);

  // The namespace to run host h's processes in, and its address.
  std::string netns(int host) const;
  std::string address(int host) const;
  // The argv prefix that runs a command in host h: ip netns exec NAME.
  std::vector<std::string> exec_prefix(int host) const;

  void cut(int host);
  void heal(int host);

 private:
  std::string name(const std::string& what) const;
  void remove();

  std::string prefix_;
  int subnet_ = 0;
  int hosts_ = 0;
  bool built_ = false;
};

// Runs argv (searched in PATH), waits; throws with its output if it fails.
void RunOrThrow(const std::vector<std::string>& argv);

}  // namespace raftlog::testing
