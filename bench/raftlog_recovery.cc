// raftlog-recovery: how recovery cost grows with the log. On a local
// cluster it
//   1. fills the log with --entries events (a few Producers, many in flight)
//      while one follower is down;
//   2. catch-up: a follower stopped before the fill is started again, and
//      timed until it holds the whole log (entries/s, MB/s). (A new member
//      would be the cleaner case, but the client endpoint has no membership
//      change yet, and a wiped follower is never re-sent what the leader
//      knows it had.)
//   3. restart: stops every node (SIGTERM), starts them all and times until
//      a push is acknowledged again (raftlogd re-reads the log at start-up to
//      rebuild its producer table, so this grows with the log).
// Prints text, or one JSON line with --json.
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "latency.h"
#include "local_cluster.h"
#include "raftlog/client.h"
#include "raftlog/producer.h"

namespace po = boost::program_options;
using namespace raftlog;
using namespace raftlog::bench;
using std::chrono::milliseconds;

namespace {

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Pushes `count` events from `producers` threads, 256 in flight each.
Status Fill(const std::vector<std::string>& endpoints, uint64_t count, size_t payload_bytes,
            int producers) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(producers));
  std::vector<Status> results(static_cast<size_t>(producers));
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      ProducerOptions o;
      o.endpoints = endpoints;
      o.window = 256;
      o.request_timeout = milliseconds(10000);
      Producer producer(o);
      const std::string payload(payload_bytes, 'f');
      uint64_t mine = count / producers + (static_cast<uint64_t>(p) < count % producers ? 1 : 0);
      Producer::Ack ack;
      for (uint64_t i = 0; i < mine; ++i) {
        uint64_t seq = 0;
        Status s = producer.push("fill", payload, &seq);
        if (!s.ok()) {
          results[static_cast<size_t>(p)] = s;
          return;
        }
        while (producer.poll_ack(&ack, milliseconds(0))) {
          if (!ack.status.ok()) results[static_cast<size_t>(p)] = ack.status;
        }
      }
      Status s = producer.flush(milliseconds(60000));
      if (!s.ok()) results[static_cast<size_t>(p)] = s;
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& s : results)
    if (!s.ok()) return s;
  return Status::Ok();
}

// The leader's status, polling every endpoint.
bool LeaderStatus(Client& client, const std::vector<std::string>& endpoints,
                  wire::NodeStatus* out) {
  for (const std::string& e : endpoints) {
    if (client.status(e, out).ok() && out->role == core::Role::kLeader) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  LocalClusterOptions cluster;
  uint64_t entries = 1000000;
  size_t payload = 256;
  int producers = 2;
  double timeout_s = 600;
  bool json = false;
  po::options_description desc("raftlog-recovery: catch-up and restart time against log length");
  desc.add_options()("help", "this text")("entries", po::value(&entries)->default_value(entries),
                                          "events in the log")(
      "payload", po::value(&payload)->default_value(payload), "bytes per event")(
      "producers", po::value(&producers)->default_value(producers), "threads filling the log")(
      "nodes", po::value(&cluster.nodes)->default_value(3), "cluster size (>= 2)")(
      "data-dir", po::value(&cluster.dir)->default_value("raftlog-recovery-data"),
      "the cluster's directory (wiped, then removed)")(
      "raftlogd", po::value(&cluster.raftlogd)->default_value(RAFTLOGD_PATH), "raftlogd binary")(
      "timeout", po::value(&timeout_s)->default_value(timeout_s), "seconds per phase at most")(
      "json", po::bool_switch(&json), "one JSON line instead of text");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (cluster.nodes < 2 || producers < 1) throw std::invalid_argument("--nodes >= 2");
  } catch (const std::exception& e) {
    std::cerr << "raftlog-recovery: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  const auto timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  auto fail = [](const std::string& what) {
    std::cerr << "raftlog-recovery: " << what << "\n";
    return 1;
  };

  LocalCluster local(cluster);
  Status s = local.start(milliseconds(15000));
  if (!s.ok()) return fail(s.message());
  const std::vector<std::string> endpoints = local.client_endpoints();
  ClientOptions co;
  co.endpoints = endpoints;
  co.request_timeout = milliseconds(2000);
  Client client(co);

  // A follower is down while the log fills: then it must catch up on all of it.
  wire::NodeStatus leader;
  if (!LeaderStatus(client, endpoints, &leader)) return fail("no leader");
  const int follower = leader.id == 1 ? 2 : 1;
  local.stop_node(follower);
  auto t0 = Clock::now();
  s = Fill(endpoints, entries, payload, producers);
  if (!s.ok()) return fail("filling the log: " + s.message());
  const double fill_s = Seconds(t0);

  if (!LeaderStatus(client, endpoints, &leader)) return fail("no leader after the fill");
  const core::LogIndex target = leader.last_index;
  t0 = Clock::now();
  s = local.restart_node(follower);
  if (!s.ok()) return fail(s.message());
  bool caught_up = false;
  while (!caught_up && Clock::now() - t0 < timeout) {
    std::this_thread::sleep_for(milliseconds(20));
    wire::NodeStatus st;
    caught_up = client.status(endpoints[static_cast<size_t>(follower - 1)], &st).ok() &&
                st.last_index >= target;
  }
  if (!caught_up) return fail("the follower did not catch up in time");
  const double catchup_s = Seconds(t0);

  // Restart of the whole cluster, until a push is acked again.
  local.stop();
  t0 = Clock::now();
  s = local.start_stopped();
  if (!s.ok()) return fail(s.message());
  ProducerOptions po;
  po.endpoints = endpoints;
  po.request_timeout = milliseconds(500);
  Producer probe(po);
  uint64_t seq = 0;
  probe.push("probe", "after restart", &seq);
  Producer::Ack ack;
  bool acked = false;
  while (!acked && Clock::now() - t0 < timeout) acked = probe.poll_ack(&ack, milliseconds(100));
  if (!acked || !ack.status.ok()) return fail("no push acked after the restart");
  const double restart_s = Seconds(t0);
  local.stop();
  std::filesystem::remove_all(cluster.dir);

  const double mb = static_cast<double>(entries) * static_cast<double>(payload) / 1e6;
  if (json) {
    std::printf(
        "{\"entries\":%llu,\"payload\":%zu,\"nodes\":%d,\"fill_s\":%.2f,\"fill_per_s\":%.0f,"
        "\"catchup_s\":%.2f,\"catchup_per_s\":%.0f,\"catchup_mb_per_s\":%.1f,"
        "\"restart_s\":%.2f}\n",
        static_cast<unsigned long long>(entries), payload, cluster.nodes, fill_s,
        static_cast<double>(entries) / fill_s, catchup_s, static_cast<double>(target) / catchup_s,
        mb / catchup_s, restart_s);
  } else {
    std::printf(
        "raftlog-recovery: %llu entries of %zu B, %d nodes\n"
        "  fill:     %.2f s (%.0f events/s)\n"
        "  catch-up: %.2f s for a follower that missed it all (%.0f entries/s, %.1f MB/s of "
        "payload)\n"
        "  restart:  %.2f s from starting every node to the first ack\n",
        static_cast<unsigned long long>(entries), payload, cluster.nodes, fill_s,
        static_cast<double>(entries) / fill_s, catchup_s, static_cast<double>(target) / catchup_s,
        mb / catchup_s, restart_s);
  }
  return 0;
}
