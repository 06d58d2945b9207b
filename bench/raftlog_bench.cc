// raftlog-bench: throughput and latency of a raftlog cluster. Starts a local
// cluster of --nodes raftlogd processes (or attaches to one with
// --endpoint), drives it with raftlog_load.h's producers and subscribers,
// and prints events/s, MB/s, ack latency percentiles and end-to-end latency
// (push → delivery at a subscriber); --json prints one JSON line instead.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <climits>
#include <filesystem>
#include <iostream>

#include "local_cluster.h"
#include "raftlog_load.h"

namespace po = boost::program_options;
using namespace raftlog::bench;

namespace {

// raftlogd beside this binary's build tree (build/bench/raftlog-bench →
// build/src/server/raftlogd), else the compiled-in path.
std::string DefaultRaftlogd() {
  char self[PATH_MAX] = {};
  if (readlink("/proc/self/exe", self, sizeof(self) - 1) > 0) {
    auto p = std::filesystem::path(self).parent_path().parent_path() / "src/server/raftlogd";
    if (std::filesystem::exists(p)) return p.string();
  }
  return RAFTLOGD_PATH;
}

}  // namespace

int main(int argc, char** argv) {
  LoadOptions load;
  LocalClusterOptions cluster;
  std::string fsync = "on", label = "raftlog";
  bool json = false, keep = false;
  po::options_description desc(
      "raftlog-bench: drives a raftlog cluster, prints throughput and latency.\n"
      "Closed loop: --producers P --window W (P x W pushes in flight).\n"
      "Open loop: --rate R (events/s; latency from the intended send time).\nOptions");
  desc.add_options()("help", "this text")(
      "endpoint", po::value(&load.client_endpoints)->composing(),
      "attach to a running cluster: a node's client endpoint (repeat); no local cluster")(
      "pub", po::value(&load.pub_endpoints)->composing(),
      "with --endpoint: a node's PUB endpoint for subscribers (repeat)")(
      "nodes", po::value(&cluster.nodes)->default_value(3), "local cluster size")(
      "data-dir", po::value(&cluster.dir)->default_value("raftlog-bench-data"),
      "local cluster's directory (wiped; put it on the disk to measure)")(
      "raftlogd", po::value(&cluster.raftlogd)->default_value(DefaultRaftlogd()),
      "raftlogd binary")("fsync", po::value(&fsync)->default_value("on"),
                         "on, or off (local cluster under eatmydata)")(
      "producers,P", po::value(&load.producers)->default_value(1), "producer threads")(
      "window,W", po::value(&load.window)->default_value(1), "pushes in flight per producer")(
      "rate", po::value(&load.rate)->default_value(0), "open loop: events/s in all; 0 = closed")(
      "payload", po::value(&load.payload_bytes)->default_value(256), "bytes per event (>= 8)")(
      "topics", po::value(&load.topics)->default_value(1), "topics, round-robin")(
      "subscribers", po::value(&load.subscribers)->default_value(1), "subscriber threads")(
      "warmup", po::value(&load.warmup_s)->default_value(1), "seconds not measured first")(
      "duration", po::value(&load.duration_s)->default_value(5), "seconds measured")(
      "label", po::value(&label)->default_value("raftlog"), "system name in the JSON line")(
      "keep-data", po::bool_switch(&keep), "leave the local cluster's data directory")(
      "json", po::bool_switch(&json), "one JSON line instead of text");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (fsync != "on" && fsync != "off") throw std::invalid_argument("--fsync is on or off");
    if (load.producers < 1 || load.window < 1 || load.topics < 1 || load.subscribers < 0 ||
        cluster.nodes < 1)
      throw std::invalid_argument("--producers, --window, --topics, --nodes are >= 1");
  } catch (const std::exception& e) {
    std::cerr << "raftlog-bench: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  cluster.fsync = fsync == "on";

  std::unique_ptr<LocalCluster> local;
  if (load.client_endpoints.empty()) {
    local = std::make_unique<LocalCluster>(cluster);
    raftlog::Status s = local->start(std::chrono::seconds(15));
    if (!s.ok()) {
      std::cerr << "raftlog-bench: " << s.message() << "\n";
      return 1;
    }
    load.client_endpoints = local->client_endpoints();
    load.pub_endpoints = local->pub_endpoints();
  } else if (!WaitForLeader(load.client_endpoints, std::chrono::seconds(15))) {
    std::cerr << "raftlog-bench: the cluster has no leader\n";
    return 1;
  }
  if (load.pub_endpoints.empty()) load.subscribers = 0;

  LoadResult r = RunLoad(load);
  if (local) {
    local->stop();
    if (!keep) std::filesystem::remove_all(cluster.dir);
  }
  if (!r.first_error.empty()) std::cerr << "raftlog-bench: first error: " << r.first_error << "\n";
  const int inflight = load.producers * static_cast<int>(load.window);
  if (json) {
    char extra[512];
    std::snprintf(extra, sizeof(extra),
                  "\"producers\":%d,\"window\":%zu,\"rate\":%.0f,\"payload\":%zu,\"topics\":%d,"
                  "\"subscribers\":%d,\"nodes\":%zu,\"fsync\":\"%s\",\"e2e_p50_us\":%.1f,"
                  "\"e2e_p90_us\":%.1f,\"e2e_p99_us\":%.1f,\"e2e_p999_us\":%.1f,"
                  "\"e2e_max_us\":%.1f,\"e2e_missing\":%llu,\"client_cpu_s\":%.2f",
                  load.producers, load.window, load.rate, load.payload_bytes, load.topics,
                  load.subscribers, load.client_endpoints.size(), fsync.c_str(), r.e2e.p50_us,
                  r.e2e.p90_us, r.e2e.p99_us, r.e2e.p999_us, r.e2e.max_us,
                  static_cast<unsigned long long>(r.e2e_missing), r.client_cpu_s);
    std::cout << SummaryJson(label, inflight, r.ack, r.errors, extra) << std::endl;
  } else {
    std::cout << "raftlog-bench: " << load.client_endpoints.size() << " nodes, fsync " << fsync
              << ", " << load.producers << " producers x " << load.window << " in flight"
              << (load.rate > 0
                      ? ", open loop at " + std::to_string(static_cast<long long>(load.rate)) + "/s"
                      : "")
              << ", " << load.payload_bytes << " B, " << load.topics << " topics, "
              << load.subscribers << " subscribers\n"
              << SummaryText("acks", r.ack);
    if (load.subscribers > 0)
      std::cout << SummaryText("push -> subscriber", r.e2e)
                << "  deliveries missing: " << r.e2e_missing << "\n";
    std::cout << "  failed events: " << r.errors << ", load generator CPU: " << r.client_cpu_s
              << " s\n";
  }
  return r.ack.count == 0 ? 1 : 0;
}
