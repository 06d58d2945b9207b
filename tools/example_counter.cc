// A replicated counter: the smallest application embedding ReplicatedLog.
//
// Three nodes run in this one process (one thread each), each with its own
// LevelDB directory and ZeroMQ sockets on 127.0.0.1, just as three processes
// would. Whoever leads proposes "add N" commands; every node applies the
// committed commands to its own counter, in log order. The program exits 0
// once all three counters agree on the expected total.
//
//   raftlog-example-counter [--increments N] [--base-port P] [--dir DIR]
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "net/zmq_transport.h"
#include "raftlog/replicated_log.h"
#include "raftlog/storage/leveldb_store.h"

using namespace std::chrono_literals;

namespace {

struct CounterNode {
  raftlog::core::NodeId id = 0;
  std::unique_ptr<raftlog::ReplicatedLog> log;
  int64_t counter = 0;  // the replicated state: the sum of every committed "add"
  raftlog::core::LogIndex applied = 0;
};

raftlog::Status OpenNode(zmq::context_t* ctx, const std::string& dir, int base_port,
                         raftlog::core::NodeId id, CounterNode* node) {
  std::unique_ptr<raftlog::storage::LogStore> store;
  raftlog::Status s =
      raftlog::storage::OpenLevelDbLogStore(dir + "/node" + std::to_string(id), {}, &store);
  if (!s.ok()) return s;
  raftlog::net::ZmqTransportOptions t;
  t.self = id;
  t.bind_endpoint = "tcp://127.0.0.1:" + std::to_string(base_port + id);
  for (raftlog::core::NodeId peer = 1; peer <= 3; ++peer) {
    if (peer != id)
      t.peers.push_back({peer, "tcp://127.0.0.1:" + std::to_string(base_port + peer)});
  }
  std::unique_ptr<raftlog::net::ZmqTransport> transport;
  s = raftlog::net::ZmqTransport::Create(ctx, t, &transport);
  if (!s.ok()) return s;

  raftlog::ReplicatedLogOptions o;
  o.core.id = id;
  o.core.election_ticks = 10;
  o.core.heartbeat_ticks = 2;
  o.core.random_seed = id;
  o.tick_interval = 20ms;
  o.members.voters = {1, 2, 3};
  o.resume_from_commit = false;  // the counter lives in memory: rebuild it from the log
  node->id = id;
  return raftlog::ReplicatedLog::Open(o, std::move(store), std::move(transport), &node->log);
}

// Applies committed entries: "add N" adds N. Noops and configs change nothing.
void Apply(CounterNode& node) {
  raftlog::Event event;
  while (node.log->next_event(&event)) {
    if (const auto* c = std::get_if<raftlog::Committed>(&event)) {
      node.applied = c->index;
      if (c->entry.type == raftlog::core::EntryType::kCommand &&
          c->entry.data.rfind("add ", 0) == 0) {
        node.counter += std::atoll(c->entry.data.c_str() + 4);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int increments = 100;
  int base_port = 17300;
  std::string dir = "/tmp/raftlog-example-counter";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--increments")) increments = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--base-port")) base_port = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  zmq::context_t ctx(1);
  std::vector<CounterNode> nodes(3);
  for (int i = 0; i < 3; ++i) {
    raftlog::Status s = OpenNode(&ctx, dir, base_port, i + 1, &nodes[i]);
    if (!s.ok()) {
      std::fprintf(stderr, "node %d: %s\n", i + 1, s.ToString().c_str());
      return 1;
    }
  }

  const int64_t expected = int64_t{increments} * (increments + 1) / 2;  // add 1, add 2, ...
  std::mutex mu;  // guards the counters for the summary below
  std::atomic<bool> done{false};
  std::atomic<int> proposed{0};
  std::vector<std::thread> threads;
  threads.reserve(nodes.size());
  for (CounterNode& node : nodes) {
    threads.emplace_back([&, n = &node] {
      while (!done) {
        raftlog::Status s = n->log->run_once(5ms);
        if (!s.ok()) {
          std::fprintf(stderr, "node %llu stopped: %s\n", static_cast<unsigned long long>(n->id),
                       s.ToString().c_str());
          return;
        }
        // The leader proposes the next increment while some remain.
        if (n->log->local_node().role == raftlog::core::Role::kLeader) {
          int next = proposed.load() + 1;
          if (next <= increments &&
              n->log->propose_command("add " + std::to_string(next), nullptr).ok()) {
            proposed = next;
          }
        }
        std::lock_guard<std::mutex> lock(mu);
        Apply(*n);
      }
    });
  }

  auto deadline = std::chrono::steady_clock::now() + 30s;
  bool agreed = false;
  while (!agreed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    std::lock_guard<std::mutex> lock(mu);
    agreed = true;
    for (const CounterNode& n : nodes) agreed = agreed && n.counter == expected;
  }
  done = true;
  for (std::thread& t : threads) t.join();
  for (const CounterNode& n : nodes) {
    std::printf("node %llu: counter %lld (applied through index %llu)\n",
                static_cast<unsigned long long>(n.id), static_cast<long long>(n.counter),
                static_cast<unsigned long long>(n.applied));
  }
  std::filesystem::remove_all(dir);
  if (!agreed) {
    std::printf("the counters did not reach %lld within 30 s\n", static_cast<long long>(expected));
    return 1;
  }
  std::printf("all three nodes agree: %lld\n", static_cast<long long>(expected));
  return 0;
}
