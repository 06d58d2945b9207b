// Snapshots, retention and catch-up on real raftlogd processes
// (docs/snapshots.md): the disk stays bounded under retention, a follower
// far behind catches up through the leader's snapshot (also when it is
// killed in the middle of receiving it), and exactly-once holds for
// (producer, seq)s whose entries only a snapshot remembers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "client/client_internals.h"
#include "process_cluster.h"
#include "raftlog/producer.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"

namespace raftlog::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

core::NodeId WaitForLeader(ProcessCluster& c, std::chrono::milliseconds deadline = 10s) {
  core::NodeId leader = 0;
  ProcessCluster::wait_for([&] { return (leader = c.agreed_leader()) != 0; }, deadline);
  return leader;
}

wire::NodeStatus StatusOf(ProcessCluster& c, core::NodeId id, NodeCounters* counters = nullptr) {
  wire::NodeStatus st;
  Status s = c.status(id, &st, counters);
  EXPECT_TRUE(s.ok()) << "node " << id << ": " << s.ToString();
  return st;
}

uint64_t Counter(const NodeCounters& counters, const std::string& name) {
  for (const auto& [n, v] : counters) {
    if (n == name) return v;
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

// Waits until node id has applied everything through index.
bool WaitForApplied(ProcessCluster& c, core::NodeId id, core::LogIndex index,
                    std::chrono::milliseconds deadline) {
  return ProcessCluster::wait_for(
      [&] {
        wire::NodeStatus st;
        return c.status(id, &st).ok() && st.applied_index >= index;
      },
      deadline);
}

// Bytes of every file under dir.
uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (f.is_regular_file()) total += f.file_size();
  }
  return total;
}

// The files in a node's snapshot directory whose names end with suffix.
std::vector<std::string> SnapshotFiles(ProcessCluster& c, core::NodeId id,
                                       const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(c.data_dir(id) + "/snapshots", ec)) {
    const std::string name = f.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(f.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Node id's committed entries after its log head, through `to`; NotFound if
// the node compacted past `from` meanwhile (then ask again from the new head).
Status FetchAfterHead(ProcessCluster& c, core::NodeId id, core::LogIndex to, core::LogIndex* head,
                      std::vector<core::Entry>* out) {
  Status s;
  for (int attempt = 0; attempt < 10; ++attempt) {
    out->clear();
    wire::NodeStatus st;
    s = c.status(id, &st);
    if (!s.ok()) return s;
    *head = st.head_index;
    wire::FetchArgs args;
    args.from = st.head_index + 1;
    while (args.from <= to) {
      wire::FetchResult r;
      s = c.client().fetch(c.client_endpoint(id), args, &r);
      if (!s.ok() || r.entries.empty()) break;
      for (core::Entry& e : r.entries) {
        if (e.index <= to) out->push_back(std::move(e));
      }
      args.from = out->back().index + 1;
    }
    if (!s.IsNotFound()) return s;
  }
  return s;
}

// An acked event: who pushed it, and where it went.
struct Acked {
  std::string producer;
  uint64_t seq;
  core::LogIndex index;
};

// Pushes `count` events of `payload` from `producers` Producers (one thread
// each, `window` in flight each); every ack, or the first failure.
Status PushFromProducers(const std::vector<std::string>& endpoints, int producers, uint64_t count,
                         const std::string& payload, size_t window, std::vector<Acked>* acked) {
  std::vector<std::vector<Acked>> mine(static_cast<size_t>(producers));
  std::vector<Status> results(static_cast<size_t>(producers));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(producers));
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      const size_t k = static_cast<size_t>(p);
      ProducerOptions o;
      o.endpoints = endpoints;
      o.producer_id = "bulk-" + std::to_string(p);
      o.window = window;
      o.request_timeout = 10s;
      Producer producer(o);
      const uint64_t n = count / producers + (k < count % producers ? 1 : 0);
      Producer::Ack ack;
      auto collect = [&] {
        while (producer.poll_ack(&ack, 0ms)) {
          if (!ack.status.ok() && results[k].ok()) results[k] = ack.status;
          mine[k].push_back({o.producer_id, ack.seq, ack.index});
        }
      };
      for (uint64_t i = 0; i < n && results[k].ok(); ++i) {
        uint64_t seq = 0;
        Status s = producer.push("bulk", payload, &seq);
        if (!s.ok()) results[k] = s;
        collect();
      }
      Status s = producer.flush(120s);
      if (!s.ok() && results[k].ok()) results[k] = s;
      collect();
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t k = 0; k < mine.size(); ++k) {
    if (!results[k].ok())
      return Status::IOError("bulk-" + std::to_string(k) + ": " + results[k].ToString());
    acked->insert(acked->end(), mine[k].begin(), mine[k].end());
  }
  return Status::Ok();
}

// One push_batch of `events` events (seq 1..events) as `producer`, sent to
// *endpoint first (the leader, as far as the last call knew) and then to the
// running nodes, following redirects; *endpoint is where it succeeded.
Status PushBatch(ProcessCluster& c, const std::string& producer, uint64_t events,
                 std::string* endpoint) {
  wire::PushBatchArgs args{producer, {}};
  for (uint64_t seq = 1; seq <= events; ++seq) args.events.push_back({"many", "x", seq});
  Status last;
  for (int attempt = 0; attempt < 50; ++attempt) {
    wire::ClientReply reply;
    last = ClientInternals::Call(c.client(), *endpoint, wire::kPushBatchOp,
                                 wire::EncodePushBatchArgs(args), &reply);
    if (last.ok()) last = ReplyStatus(reply);
    if (last.ok()) return last;
    wire::NotLeaderInfo info;
    if (last.IsNotLeader() && wire::DecodeNotLeaderBody(reply.body, &info).ok() &&
        !info.leader_endpoint.empty()) {
      *endpoint = info.leader_endpoint;
    } else {
      const core::NodeId id = static_cast<core::NodeId>(attempt % c.size()) + 1;
      if (c.running(id)) *endpoint = c.client_endpoint(id);
      ProcessCluster::wait_for([] { return false; }, 50ms);  // an election: wait a moment
    }
  }
  return last;
}

// Has every running node take a snapshot now; the answers by node.
std::map<core::NodeId, wire::SnapshotResult> SnapshotAll(ProcessCluster& c) {
  std::map<core::NodeId, wire::SnapshotResult> out;
  for (core::NodeId id = 1; id <= static_cast<core::NodeId>(c.size()); ++id) {
    if (!c.running(id)) continue;
    Status s = c.client().snapshot(c.client_endpoint(id), 30s, &out[id]);
    EXPECT_TRUE(s.ok()) << "node " << id << ": " << s.ToString();
  }
  return out;
}

// 1. Under retention the disk stays bounded while the history grows, a
// follower down all along catches up through a snapshot, and every acked
// push is in each node's retained log exactly once, at its acked index.
TEST(Snapshot, RetentionBoundsTheDiskAndAFollowerFarBehindCatchesUpThroughASnapshot) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr uint64_t kPushes = 200'000;
  constexpr uint64_t kRetain = 20'000;
  constexpr uint64_t kEvery = 10'000;
#else
  constexpr uint64_t kPushes = 1'000'000;
  constexpr uint64_t kRetain = 100'000;
  constexpr uint64_t kEvery = 50'000;
#endif
  constexpr int kProducers = 8;
  ProcessCluster c(
      3, {},
      {"--retain-entries", std::to_string(kRetain), "--snapshot-every", std::to_string(kEvery)});
  c.start_all();
  const core::NodeId first_leader = WaitForLeader(c);
  ASSERT_NE(first_leader, 0u);
  const core::NodeId follower = first_leader % 3 + 1;
  const core::LogIndex stopped_at = StatusOf(c, follower).last_index;
  ASSERT_EQ(WEXITSTATUS(c.signal(follower, SIGTERM)), 0);

  const auto start = std::chrono::steady_clock::now();
  std::vector<Acked> acked;
  ASSERT_TRUE(
      PushFromProducers(c.client_endpoints(), kProducers, kPushes, "0123456789abcdef", 1024, &acked)
          .ok());
  ASSERT_EQ(acked.size(), kPushes);
  std::cout << kPushes << " pushes acked in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
            << " s\n";
  core::LogIndex last = 0;
  for (const Acked& a : acked) last = std::max(last, a.index);

  const size_t log_before_restart = c.log_text(follower).size();
  c.start(follower);
  core::NodeId leader = WaitForLeader(c, 20s);
  ASSERT_NE(leader, 0u);
  const core::LogIndex commit = StatusOf(c, leader).commit_index;
  ASSERT_GE(commit, last);
  for (core::NodeId id = 1; id <= 3; ++id) {
    ASSERT_TRUE(WaitForApplied(c, id, commit, 120s)) << "node " << id;
  }
  // The restarted follower took the leader's snapshot, not the whole log.
  const wire::NodeStatus caught_up = StatusOf(c, follower);
  EXPECT_GT(caught_up.head_index, stopped_at);
  EXPECT_GE(caught_up.commit_index, commit);
  EXPECT_GE(Occurrences(c.log_text(follower).substr(log_before_restart), "snapshot loaded"), 1u)
      << c.log_text(follower).substr(log_before_restart);

  // Every acked push once, at its acked index, in each node's retained log.
  std::map<core::LogIndex, const Acked*> by_index;
  for (const Acked& a : acked) {
    ASSERT_TRUE(by_index.emplace(a.index, &a).second) << "two pushes acked at " << a.index;
  }
  uint64_t entry_bytes = 0, entries = 0;
  for (core::NodeId id = 1; id <= 3; ++id) {
    core::LogIndex head = 0;
    std::vector<core::Entry> log;
    Status s = FetchAfterHead(c, id, commit, &head, &log);
    ASSERT_TRUE(s.ok()) << "node " << id << ": " << s.ToString();
    ASSERT_GT(head, 0u) << "node " << id << " never compacted";
    ASSERT_EQ(log.size(), commit - head) << "node " << id << ": a hole after its head";
    std::set<std::pair<std::string, uint64_t>> seen;
    for (const core::Entry& e : log) {
      entry_bytes += e.data.size();
      ++entries;
      if (e.type != core::EntryType::kCommand) continue;
      wire::EventRecord r;
      ASSERT_TRUE(wire::DecodeEventRecord(e.data.data(), e.data.size(), {}, &r).ok()) << e.index;
      ASSERT_TRUE(seen.insert({r.producer, r.seq}).second)
          << "node " << id << ": " << r.producer << " seq " << r.seq << " twice";
      auto it = by_index.find(e.index);
      ASSERT_NE(it, by_index.end()) << "node " << id << ": never acked at " << e.index;
      ASSERT_EQ(r.producer, it->second->producer) << "node " << id << " index " << e.index;
      ASSERT_EQ(r.seq, it->second->seq) << "node " << id << " index " << e.index;
    }
    size_t expected = 0;
    for (const Acked& a : acked) expected += a.index > head ? 1 : 0;
    EXPECT_EQ(seen.size(), expected) << "node " << id << ": acked pushes after " << head;
  }

  // The disk: the retained entries, what piles up between two snapshots and
  // a compaction step, the snapshots; at most twice that for LevelDB's own
  // files. Far below what the whole history takes.
  const uint64_t per_entry = entry_bytes / entries + 32;  // a LevelDB key and the entry's header
  const uint64_t held = kRetain + kEvery + std::max<uint64_t>(1024, kEvery / 4);
  const uint64_t bound = 2 * held * per_entry + (uint64_t{2} << 20);
  ASSERT_LT(bound, kPushes * per_entry / 2) << "the bound would not tell retention from none";
  for (core::NodeId id = 1; id <= 3; ++id) {
    const uint64_t bytes = DirBytes(c.data_dir(id));
    std::cout << "node " << id << ": " << bytes << " bytes on disk (bound " << bound
              << ", the whole history about " << kPushes * per_entry << ")\n";
    EXPECT_LT(bytes, bound) << "node " << id;
  }
}

// 2. A follower SIGKILLed while it writes its leader's snapshot starts
// again, takes the snapshot whole, and ends in its leader's state.
TEST(Snapshot, AFollowerKilledWhileReceivingASnapshotFinishesItAndMatchesTheLeader) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr int kProducers = 1000;
  constexpr const char* kBytesPerSecond = "16384";
#else
  constexpr int kProducers = 3000;
  constexpr const char* kBytesPerSecond = "65536";
#endif
  constexpr uint64_t kEventsEach = 32;
  // Snapshots only when asked; then the log goes up to the snapshot. Small
  // chunks, slowly: the transfer takes seconds.
  ProcessCluster c(3, {},
                   {"--snapshot-every", "0", "--retain-entries", "1", "--snapshot-chunk-bytes",
                    "4096", "--snapshot-bytes-per-second", kBytesPerSecond});
  c.start_all();
  core::NodeId leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  const core::NodeId follower = leader % 3 + 1;
  ASSERT_EQ(WEXITSTATUS(c.signal(follower, SIGTERM)), 0);

  // Thousands of producers: a producer table of some hundreds of KB.
  std::string endpoint = c.client_endpoint(leader);
  for (int p = 0; p < kProducers; ++p) {
    char name[32];
    std::snprintf(name, sizeof(name), "producer-%05d", p);
    Status s = PushBatch(c, name, kEventsEach, &endpoint);
    ASSERT_TRUE(s.ok()) << name << ": " << s.ToString();
  }
  leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  const std::map<core::NodeId, wire::SnapshotResult> taken = SnapshotAll(c);
  ASSERT_EQ(taken.size(), 2u);
  const wire::SnapshotResult& snap = taken.at(leader);
  std::cout << "snapshot at " << snap.index << ": " << snap.bytes << " bytes\n";
  ASSERT_GT(snap.bytes, 16u * 4096) << "too small to be caught in the middle";
  // A few events after the snapshot (through the log, for the follower):
  // with one after it, retain-entries 1 lets the log go up to the snapshot.
  ASSERT_TRUE(PushBatch(c, "after", 10, &endpoint).ok());
  ASSERT_TRUE(
      ProcessCluster::wait_for([&] { return StatusOf(c, leader).head_index >= snap.index; }, 30s))
      << "the leader did not compact";

  // The follower starts receiving it; killed once the temporary file is there.
  c.start(follower);
  ASSERT_TRUE(
      ProcessCluster::wait_for([&] { return !SnapshotFiles(c, follower, ".tmp").empty(); }, 30s))
      << "no snapshot transfer seen\n"
      << c.log_text(follower);
  c.signal(follower, SIGKILL);
  ASSERT_TRUE(SnapshotFiles(c, follower, ".snap").empty()) << "the transfer was already over";
  ASSERT_FALSE(SnapshotFiles(c, follower, ".tmp").empty());

  const size_t log_before_restart = c.log_text(follower).size();
  c.start(follower);
  const core::LogIndex commit = StatusOf(c, leader).commit_index;
  ASSERT_TRUE(WaitForApplied(c, follower, commit, 120s)) << c.log_text(follower);
  EXPECT_EQ(Occurrences(c.log_text(follower).substr(log_before_restart), "snapshot loaded"), 1u)
      << c.log_text(follower).substr(log_before_restart);
  EXPECT_TRUE(SnapshotFiles(c, follower, ".tmp").empty()) << "a temporary file left";
  EXPECT_EQ(StatusOf(c, follower).head_index, snap.index);

  leader = WaitForLeader(c);
  ASSERT_NE(leader, 0u);
  const core::LogIndex after = StatusOf(c, leader).commit_index;
  for (core::NodeId id = 1; id <= 3; ++id) ASSERT_TRUE(WaitForApplied(c, id, after, 30s)) << id;

  // The same state on all three: the same producer table, and each node's
  // own snapshot of it now, byte for byte (the encoding is deterministic).
  NodeCounters leader_counters;
  StatusOf(c, leader, &leader_counters);
  EXPECT_EQ(Counter(leader_counters, "producers"), static_cast<uint64_t>(kProducers) + 1);
  for (core::NodeId id = 1; id <= 3; ++id) {
    NodeCounters counters;
    StatusOf(c, id, &counters);
    EXPECT_EQ(Counter(counters, "producers"), Counter(leader_counters, "producers")) << id;
    EXPECT_EQ(Counter(counters, "producer_slots"), Counter(leader_counters, "producer_slots"))
        << id;
  }
  const std::map<core::NodeId, wire::SnapshotResult> now = SnapshotAll(c);
  ASSERT_EQ(now.size(), 3u);
  for (core::NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(now.at(id).index, after) << "node " << id;
    EXPECT_EQ(now.at(id).bytes, now.at(leader).bytes) << "node " << id;
  }
  const std::string leader_file = SnapshotFiles(c, leader, ".snap").back();
  const std::string follower_file = SnapshotFiles(c, follower, ".snap").back();
  EXPECT_EQ(fs::path(follower_file).filename(), fs::path(leader_file).filename());
  EXPECT_TRUE(ReadFile(follower_file) == ReadFile(leader_file)) << "the snapshots differ";
  EXPECT_TRUE(SnapshotFiles(c, follower, ".tmp").empty());
}

// Pushes seqs first..first+count-1 as producer with the Producer library;
// the acks by seq.
std::map<uint64_t, Producer::Ack> PushAs(ProcessCluster& c, const std::string& producer,
                                         uint64_t first, uint64_t count) {
  ProducerOptions o;
  o.endpoints = c.client_endpoints();
  o.producer_id = producer;
  o.first_seq = first;
  o.window = 256;
  Producer p(o);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t seq = 0;
    EXPECT_TRUE(p.push("kept", "event-" + std::to_string(first + i), &seq).ok());
  }
  Status s = p.flush(60s);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::map<uint64_t, Producer::Ack> acks;
  Producer::Ack ack;
  while (p.poll_ack(&ack, 0ms)) {
    EXPECT_TRUE(ack.status.ok()) << producer << " seq " << ack.seq << ": " << ack.status.ToString();
    acks[ack.seq] = ack;
  }
  EXPECT_EQ(acks.size(), count);
  return acks;
}

// 3. A retried (producer, seq) whose entry was compacted away is still
// answered with its original index: from the snapshot the log became, and
// after a restart from the snapshot file.
TEST(Snapshot, ARetryOfAnEventOnlyTheSnapshotRemembersGetsItsOriginalIndex) {
  constexpr uint64_t kKept = 20;
  ProcessCluster c(3, {}, {"--snapshot-every", "0", "--retain-entries", "1"});
  c.start_all();
  ASSERT_NE(WaitForLeader(c), 0u);
  const std::map<uint64_t, Producer::Ack> first = PushAs(c, "kept", 1, kKept);
  ASSERT_EQ(first.size(), kKept);
  core::LogIndex last_kept = 0;
  for (const auto& [seq, ack] : first) {
    ASSERT_FALSE(ack.duplicate);
    last_kept = std::max(last_kept, ack.index);
  }
  ASSERT_EQ(PushAs(c, "other", 1, 100).size(), 100u);
  const std::map<core::NodeId, wire::SnapshotResult> taken = SnapshotAll(c);
  ASSERT_EQ(taken.size(), 3u);
  // retain-entries 1 keeps the newest entry: once one follows the
  // snapshot, the log goes up to the snapshot.
  ASSERT_EQ(PushAs(c, "other", 101, 1).size(), 1u);
  for (core::NodeId id = 1; id <= 3; ++id) {
    ASSERT_TRUE(
        ProcessCluster::wait_for([&] { return StatusOf(c, id).head_index > last_kept; }, 30s))
        << "node " << id << " did not compact";
    // The entries are gone from the log: only the snapshot knows them.
    wire::FetchArgs args;
    args.from = first.begin()->second.index;
    wire::FetchResult r;
    EXPECT_TRUE(c.client().fetch(c.client_endpoint(id), args, &r).IsNotFound()) << "node " << id;
  }

  auto expect_originals = [&](const std::map<uint64_t, Producer::Ack>& retried) {
    ASSERT_EQ(retried.size(), kKept);
    for (const auto& [seq, ack] : retried) {
      EXPECT_TRUE(ack.duplicate) << "seq " << seq << " appended again at " << ack.index;
      EXPECT_EQ(ack.index, first.at(seq).index) << "seq " << seq;
      EXPECT_EQ(ack.term, first.at(seq).term) << "seq " << seq;
    }
  };
  expect_originals(PushAs(c, "kept", 1, kKept));

  // Every node restarts from its snapshot file.
  std::vector<size_t> log_sizes;
  for (core::NodeId id = 1; id <= 3; ++id) {
    log_sizes.push_back(c.log_text(id).size());
    ASSERT_EQ(WEXITSTATUS(c.signal(id, SIGTERM)), 0);
  }
  c.start_all();
  ASSERT_NE(WaitForLeader(c), 0u);
  for (core::NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(Occurrences(c.log_text(id).substr(log_sizes[id - 1]), "snapshot loaded"), 1u)
        << "node " << id;
    EXPECT_GT(StatusOf(c, id).head_index, last_kept) << "node " << id;
  }
  expect_originals(PushAs(c, "kept", 1, kKept));
  // The next seq is a new event.
  const std::map<uint64_t, Producer::Ack> next = PushAs(c, "kept", kKept + 1, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_FALSE(next.begin()->second.duplicate);
}

}  // namespace
}  // namespace raftlog::testing
