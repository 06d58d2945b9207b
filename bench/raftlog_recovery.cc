// raftlog-recovery: how recovery cost grows with the log. On a local
// cluster it
//   1. fills the log with --entries events (a few Producers, many in flight;
//      --producer-ids of them in all, for a producer table of that size)
//      while one follower is down, and measures each data directory;
//   2. catch-up: a follower stopped before the fill is started again, and
//      timed until it holds the whole log (entries/s, MB/s). With
//      --retain-entries the leader has compacted past it: it first gets the
//      leader's snapshot (its size, and the time until it is installed, are
//      reported), then the entries after it. (A new member would be the
//      cleaner case, but the client endpoint has no membership change yet.)
//   3. node restart: the caught-up follower is stopped (SIGTERM) and
//      started, and timed until it has applied what was committed before
//      it stopped: it loads its latest snapshot and replays the log after;
//   4. cluster restart: stops every node, starts them all and times until a
//      push is acknowledged again (an election included), once as they are
//      and once after `raftlog-ctl snapshot` (a snapshot at the tail).
// Prints text, or one JSON line with --json.
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "latency.h"
#include "local_cluster.h"
#include "raftlog/client.h"
#include "raftlog/producer.h"
#include "server/data_dir.h"

namespace po = boost::program_options;
using namespace raftlog;
using namespace raftlog::bench;
using std::chrono::milliseconds;

namespace {

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Pushes `count` events from `producers` threads, 256 in flight each, as
// `ids` producer ids in all (a thread's ids one after the other).
Status Fill(const std::vector<std::string>& endpoints, uint64_t count, size_t payload_bytes,
            int producers, int ids) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(producers));
  std::vector<Status> results(static_cast<size_t>(producers));
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      const std::string payload(payload_bytes, 'f');
      Status& result = results[static_cast<size_t>(p)];
      for (int id = p; id < ids && result.ok(); id += producers) {
        ProducerOptions o;
        o.endpoints = endpoints;
        o.producer_id = "fill-" + std::to_string(id);
        o.window = 256;
        o.request_timeout = milliseconds(10000);
        Producer producer(o);
        const uint64_t mine = count / ids + (static_cast<uint64_t>(id) < count % ids ? 1 : 0);
        Producer::Ack ack;
        for (uint64_t i = 0; i < mine && result.ok(); ++i) {
          uint64_t seq = 0;
          Status s = producer.push("fill", payload, &seq);
          if (!s.ok()) result = s;
          while (producer.poll_ack(&ack, milliseconds(0))) {
            if (!ack.status.ok()) result = ack.status;
          }
        }
        Status s = producer.flush(milliseconds(60000));
        if (!s.ok() && result.ok()) result = s;
      }
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

uint64_t Counter(const NodeCounters& counters, const std::string& name) {
  for (const auto& [n, v] : counters) {
    if (n == name) return v;
  }
  return 0;
}

std::string JsonArray(const std::vector<uint64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i ? "," : "") + std::to_string(values[i]);
  }
  return out + "]";
}

// Stops node id (SIGTERM), starts it again and times until it has applied
// what was committed before it stopped; negative if not within timeout.
// *replayed: the entries after its latest snapshot, which it applies again.
double RestartNode(LocalCluster& local, Client& client, const std::vector<std::string>& endpoints,
                   int id, Clock::duration timeout, uint64_t* replayed) {
  const std::string& endpoint = endpoints[static_cast<size_t>(id - 1)];
  wire::NodeStatus before, leader;
  NodeCounters counters;
  if (!client.status(endpoint, &before, &counters).ok() ||
      !LeaderStatus(client, endpoints, &leader))
    return -1;
  *replayed = before.last_index - Counter(counters, "snapshot_index");
  local.stop_node(id);
  const auto t0 = Clock::now();
  if (!local.restart_node(id).ok()) return -1;
  while (Clock::now() - t0 < timeout) {
    std::this_thread::sleep_for(milliseconds(2));
    wire::NodeStatus st;
    if (client.status(endpoint, &st).ok() && st.applied_index >= leader.commit_index) {
      return Seconds(t0);
    }
  }
  return -1;
}

// Stops every node, starts them all and times until a push is acked again;
// negative if none is within timeout.
double RestartCluster(LocalCluster& local, const std::vector<std::string>& endpoints,
                      Clock::duration timeout) {
  local.stop();
  const auto t0 = Clock::now();
  if (!local.start_stopped().ok()) return -1;
  ProducerOptions po;
  po.endpoints = endpoints;
  po.request_timeout = milliseconds(500);
  Producer probe(po);
  uint64_t seq = 0;
  probe.push("probe", "after restart", &seq);
  Producer::Ack ack;
  bool acked = false;
  while (!acked && Clock::now() - t0 < timeout) acked = probe.poll_ack(&ack, milliseconds(10));
  if (!acked || !ack.status.ok()) return -1;
  return Seconds(t0);
}

}  // namespace

int main(int argc, char** argv) {
  LocalClusterOptions cluster;
  uint64_t entries = 1000000;
  size_t payload = 256;
  int producers = 2;
  int producer_ids = 0;
  std::string snapshot_every, retain_entries, node_flags;
  double timeout_s = 600;
  bool json = false;
  po::options_description desc("raftlog-recovery: catch-up and restart time against log length");
  desc.add_options()("help", "this text")("entries", po::value(&entries)->default_value(entries),
                                          "events in the log")(
      "payload", po::value(&payload)->default_value(payload), "bytes per event")(
      "producers", po::value(&producers)->default_value(producers), "threads filling the log")(
      "producer-ids", po::value(&producer_ids)->default_value(0),
      "producer ids the fill uses in all (0: one per thread)")(
      "nodes", po::value(&cluster.nodes)->default_value(3), "cluster size (>= 2)")(
      "snapshot-every", po::value(&snapshot_every),
      "raftlogd --snapshot-every (unset: raftlogd's default)")(
      "retain-entries", po::value(&retain_entries),
      "raftlogd --retain-entries (unset: no compaction, the follower catches up on the log)")(
      "node-flags", po::value(&node_flags), "more raftlogd flags, separated by spaces")(
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
  if (producer_ids < producers) producer_ids = producers;
  if (!snapshot_every.empty())
    cluster.extra_flags.insert(cluster.extra_flags.end(), {"--snapshot-every", snapshot_every});
  if (!retain_entries.empty())
    cluster.extra_flags.insert(cluster.extra_flags.end(), {"--retain-entries", retain_entries});
  {
    std::istringstream in(node_flags);
    for (std::string flag; in >> flag;) cluster.extra_flags.push_back(flag);
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
  const std::string& follower_endpoint = endpoints[static_cast<size_t>(follower - 1)];
  local.stop_node(follower);
  // The producers know the running nodes, the leader first: a new Producer
  // whose first endpoint is the stopped node loses a few hundred ms finding
  // the leader, which with many producer ids slowed the fill several times.
  std::vector<std::string> running = {endpoints[leader.id - 1]};
  for (int id = 1; id <= cluster.nodes; ++id) {
    if (id != follower && id != static_cast<int>(leader.id))
      running.push_back(endpoints[static_cast<size_t>(id - 1)]);
  }
  auto t0 = Clock::now();
  s = Fill(running, entries, payload, producers, producer_ids);
  if (!s.ok()) return fail("filling the log: " + s.message());
  const double fill_s = Seconds(t0);

  if (!LeaderStatus(client, endpoints, &leader)) return fail("no leader after the fill");
  // The disk of every node: the follower's as it was before the fill.
  std::vector<uint64_t> disk_after_fill;
  for (int id = 1; id <= cluster.nodes; ++id)
    disk_after_fill.push_back(raftlog::server::DirectoryBytes(local.data_dir(id)));
  const core::LogIndex target = leader.last_index;
  const core::LogIndex leader_head = leader.head_index;
  t0 = Clock::now();
  s = local.restart_node(follower);
  if (!s.ok()) return fail(s.message());
  // Polled every 2 ms: when its head moves (a snapshot installed), and when
  // it holds the whole log.
  bool caught_up = false;
  double up_s = 0, snapshot_s = 0;
  uint64_t snapshot_bytes = 0;
  core::LogIndex snapshot_index = 0;
  while (!caught_up && Clock::now() - t0 < timeout) {
    std::this_thread::sleep_for(milliseconds(2));
    wire::NodeStatus st;
    NodeCounters counters;
    if (!client.status(follower_endpoint, &st, &counters).ok()) continue;
    if (up_s == 0) up_s = Seconds(t0);
    if (snapshot_index == 0 && st.head_index > 0) {
      snapshot_s = Seconds(t0);
      snapshot_index = st.head_index;
      snapshot_bytes = Counter(counters, "snapshot_bytes");
    }
    caught_up = st.last_index >= target;
  }
  if (!caught_up) return fail("the follower did not catch up in time");
  const double catchup_s = Seconds(t0);
  std::vector<uint64_t> disk_after_catchup;
  for (int id = 1; id <= cluster.nodes; ++id)
    disk_after_catchup.push_back(raftlog::server::DirectoryBytes(local.data_dir(id)));

  // One node's restart, as it is, then with a snapshot at its tail.
  uint64_t node_replayed = 0, node_replayed_at_tail = 0;
  const double node_restart_s =
      RestartNode(local, client, endpoints, follower, timeout, &node_replayed);
  if (node_restart_s < 0) return fail("the restarted node did not catch up in time");
  wire::SnapshotResult taken;
  s = client.snapshot(follower_endpoint, milliseconds(60000), &taken);
  if (!s.ok()) return fail("snapshot at " + follower_endpoint + ": " + s.ToString());
  const double node_restart_at_tail_s =
      RestartNode(local, client, endpoints, follower, timeout, &node_replayed_at_tail);
  if (node_restart_at_tail_s < 0) return fail("the restarted node did not catch up in time");

  // The whole cluster, as it is, then with a snapshot at the tail.
  NodeCounters leader_counters;
  if (!LeaderStatus(client, endpoints, &leader) ||
      !client.status(endpoints[leader.id - 1], &leader, &leader_counters).ok())
    return fail("no leader before the cluster restart");
  const uint64_t restart_replayed = leader.last_index - Counter(leader_counters, "snapshot_index");
  const double restart_s = RestartCluster(local, endpoints, timeout);
  if (restart_s < 0) return fail("no push acked after the restart");
  for (const std::string& e : endpoints) {
    wire::SnapshotResult r;
    s = client.snapshot(e, milliseconds(60000), &r);
    if (!s.ok()) return fail("snapshot at " + e + ": " + s.ToString());
  }
  const double restart_at_tail_s = RestartCluster(local, endpoints, timeout);
  if (restart_at_tail_s < 0) return fail("no push acked after the second restart");
  local.stop();
  std::filesystem::remove_all(cluster.dir);

  const double mb = static_cast<double>(entries) * static_cast<double>(payload) / 1e6;
  const uint64_t log_after_snapshot = snapshot_index > 0 ? target - snapshot_index : target;
  // The transfer's speed, from the follower's start to the snapshot
  // installed (its first status reply may come after that: no better
  // start to count from).
  const double snapshot_mb_per_s =
      snapshot_s > 0 ? static_cast<double>(snapshot_bytes) / 1e6 / snapshot_s : 0;
  using ull = unsigned long long;
  if (json) {
    std::printf(
        "{\"entries\":%llu,\"payload\":%zu,\"nodes\":%d,\"producer_ids\":%d,"
        "\"snapshot_every\":\"%s\",\"retain_entries\":\"%s\",\"fill_s\":%.2f,"
        "\"fill_per_s\":%.0f,\"disk_bytes\":%s,\"leader_head\":%llu,\"catchup_s\":%.2f,"
        "\"catchup_per_s\":%.0f,\"catchup_mb_per_s\":%.1f,\"up_s\":%.3f,\"snapshot_bytes\":%llu,"
        "\"snapshot_s\":%.3f,\"snapshot_mb_per_s\":%.1f,\"log_after_snapshot\":%llu,"
        "\"disk_bytes_after_catchup\":%s,\"node_restart_s\":%.3f,\"node_replayed\":%llu,"
        "\"node_restart_at_tail_s\":%.3f,\"node_replayed_at_tail\":%llu,\"restart_s\":%.2f,"
        "\"restart_replayed\":%llu,\"restart_at_tail_s\":%.2f}\n",
        static_cast<ull>(entries), payload, cluster.nodes, producer_ids, snapshot_every.c_str(),
        retain_entries.c_str(), fill_s, static_cast<double>(entries) / fill_s,
        JsonArray(disk_after_fill).c_str(), static_cast<ull>(leader_head), catchup_s,
        static_cast<double>(target) / catchup_s, mb / catchup_s, up_s,
        static_cast<ull>(snapshot_bytes), snapshot_s, snapshot_mb_per_s,
        static_cast<ull>(log_after_snapshot), JsonArray(disk_after_catchup).c_str(), node_restart_s,
        static_cast<ull>(node_replayed), node_restart_at_tail_s,
        static_cast<ull>(node_replayed_at_tail), restart_s, static_cast<ull>(restart_replayed),
        restart_at_tail_s);
  } else {
    std::printf(
        "raftlog-recovery: %llu entries of %zu B, %d nodes, %d producer ids\n"
        "  fill:     %.2f s (%.0f events/s); leader's log head %llu; disk %s bytes\n"
        "  catch-up: %.2f s for a follower that missed it all (%.0f entries/s, %.1f MB/s of "
        "payload)\n"
        "            first status reply after %.3f s; a snapshot of %llu bytes installed after "
        "%.3f s (%.1f "
        "MB/s from its start), then %llu entries through the log; disk then %s bytes\n"
        "  node restart: %.3f s until it applied the commit again (%llu entries after its "
        "snapshot); %.3f s after raftlog-ctl snapshot (%llu)\n"
        "  restart:  %.2f s from starting every node to the first ack (%llu entries after the "
        "leader's snapshot); %.2f s after raftlog-ctl snapshot\n",
        static_cast<ull>(entries), payload, cluster.nodes, producer_ids, fill_s,
        static_cast<double>(entries) / fill_s, static_cast<ull>(leader_head),
        JsonArray(disk_after_fill).c_str(), catchup_s, static_cast<double>(target) / catchup_s,
        mb / catchup_s, up_s, static_cast<ull>(snapshot_bytes), snapshot_s, snapshot_mb_per_s,
        static_cast<ull>(log_after_snapshot), JsonArray(disk_after_catchup).c_str(), node_restart_s,
        static_cast<ull>(node_replayed), node_restart_at_tail_s,
        static_cast<ull>(node_replayed_at_tail), restart_s, static_cast<ull>(restart_replayed),
        restart_at_tail_s);
  }
  return 0;
}
