// A small, fully controlled cluster for scenario tests: in-memory durable
// logs, a message queue the test delivers by hand, and partitions. Unlike the
// simulator (tests/sim) nothing here is random: each test scripts its story.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raftlog/core/raft.h"

namespace raftlog::core::testing {

// A durable log kept in memory, with a snapshot below its head. Writes
// are durable at once.
class MemLog : public LogReader {
 public:
  LogIndex head_index() const override { return snapshot_.index; }
  Term head_term() const override { return snapshot_.term; }
  LogIndex last_index() const override { return snapshot_.index + entries_.size(); }
  Status term(LogIndex index, Term* term) const override;
  Status entries(LogIndex lo, LogIndex hi, size_t max_bytes,
                 std::vector<Entry>* out) const override;
  Status snapshot(SnapshotHead* out) const override;
  Status snapshot_data(const SnapshotHead& snap, uint64_t offset, size_t max,
                       std::string* out) const override;

  // Deletes from entries.front().index on, then appends.
  void write(const std::vector<Entry>& entries);
  // Entries after the head (all of them while nothing was compacted).
  const std::vector<Entry>& all() const { return entries_; }
  std::vector<Term> terms() const;
  // Keeps `data` as the snapshot through head.index and drops the log up to it.
  void compact(const SnapshotHead& head, std::string data);
  // Replaces the whole log with a snapshot (a follower installing one).
  void install(const SnapshotHead& head, std::string data);
  const std::string& snapshot_bytes() const { return snapshot_data_; }

 private:
  SnapshotHead snapshot_;
  std::string snapshot_data_;
  std::vector<Entry> entries_;  // head + 1 ...
};

// The data of a test snapshot through `applied`: each entry's data and a ';'.
std::string SnapshotOf(const std::vector<Entry>& applied);

// Builds a log whose entry i (1-based) has terms[i-1], with recognisable data.
std::vector<Entry> LogWithTerms(const std::vector<Term>& terms);

// What one Ready asked the runtime to write.
struct WriteRecord {
  bool must_sync = false;
  bool hard_state = false;
  size_t entries = 0;
  LogIndex commit = 0;
};

struct Node {
  NodeId id = 0;
  MemLog log;
  HardState hard_state;
  std::unique_ptr<Raft> raft;
  std::vector<Entry> applied;  // every committed entry delivered, in order (after the snapshot)
  std::string state;           // the snapshot it started from or installed ("" if none)
  std::string receiving;       // chunks of a snapshot being received
  bool corrupt_next_snapshot = false;  // flip a byte of the next received snapshot
  int snapshots_installed = 0;
  int snapshots_failed = 0;
  std::vector<Event> events;
  std::vector<ReadState> reads;  // every ReadState handed out
  bool joining = false;          // started knowing no members (waits to be added)
  std::vector<WriteRecord> writes;
  bool auto_persist = true;  // persist each Ready at once (else: held in `held`)
  std::vector<Ready> held;   // taken but not yet persisted
};

class Cluster {
 public:
  // Nodes 1..n, all voters, empty logs, every node configured by `tweak`.
  explicit Cluster(int n, std::function<void(Config&)> tweak = {});
  // Nodes with the given initial logs and terms (node i+1 gets logs[i]).
  Cluster(const std::vector<std::vector<Term>>& logs, const std::vector<Term>& terms,
          std::function<void(Config&)> tweak = {});

  // A node that knows no members yet (a new one, waiting to be added).
  void add_joining(NodeId id);

  Node& node(NodeId id) { return *nodes_.at(id); }
  Raft& raft(NodeId id) { return *nodes_.at(id)->raft; }
  std::vector<NodeId> ids() const;

  // Drains every node's Ready: persist (unless the node holds its writes),
  // queue its messages, record commits and events.
  void process();
  // Persists and releases the Readies a node was holding.
  void persist_held(NodeId id);
  // Delivers queued messages (and the replies they cause) until none is
  // left, at most max_rounds passes. Returns how many were delivered.
  int deliver_all(int max_rounds = 1000);
  // Delivers only the queued messages that match `pred`; the rest stay queued.
  int deliver_if(const std::function<bool(const Message&)>& pred);
  void drop_all() { queue_.clear(); }
  const std::deque<Message>& queue() const { return queue_; }

  void tick(NodeId id, int times = 1);
  void tick_all(int times = 1);
  // Node `id` stands for election and every message is delivered.
  void elect(NodeId id);
  // Node `id` stands; only election messages are delivered, so what the
  // new leader sends afterwards stays queued for the test to direct.
  void elect_only(NodeId id);

  // Messages from a to b (and b to a, when both) are dropped.
  void cut(NodeId a, NodeId b, bool both_ways = true);
  void isolate(NodeId id);
  void heal() { cut_.clear(); }

  // Stops a node (losing what it had not persisted) and starts it again from its durable state.
  void crash(NodeId id) {
    down_.insert(id);
    node(id).held.clear();
  }
  void restart(NodeId id);

  NodeId leader() const;  // the unique leader of the highest term, 0 if none
  ProposalId propose(NodeId id, const std::string& data);
  // Node `id` snapshots what it applied and compacts its log up to it.
  void snapshot(NodeId id);
  // A node's state: its snapshot, then what it applied after it.
  std::string state(NodeId id);

  // Messages delivered so far, by type, for counting round trips.
  std::vector<Message> delivered;

 private:
  void add_node(NodeId id, const std::vector<Entry>& log, Term term);
  void start(Node& n);
  void apply_ready(Node& n, Ready& r, bool persist);

  int size_ = 0;
  std::function<void(Config&)> tweak_;
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  std::deque<Message> queue_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::set<NodeId> down_;
};

}  // namespace raftlog::core::testing
