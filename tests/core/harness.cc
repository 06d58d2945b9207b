#include "harness.h"

#include "storage/crc32c.h"

namespace raftlog::core::testing {

Status MemLog::term(LogIndex index, Term* term) const {
  if (index == snapshot_.index) {
    *term = snapshot_.term;
    return Status::Ok();
  }
  if (index < snapshot_.index || index > last_index()) {
    return Status::NotFound("no entry " + std::to_string(index));
  }
  *term = entries_[index - snapshot_.index - 1].term;
  return Status::Ok();
}

Status MemLog::entries(LogIndex lo, LogIndex hi, size_t max_bytes, std::vector<Entry>* out) const {
  EXPECT_GT(lo, snapshot_.index) << "read below the log head";
  size_t bytes = 0;
  for (LogIndex i = lo; i < hi && i <= last_index(); ++i) {
    const Entry& e = entries_[i - snapshot_.index - 1];
    if (i > lo && bytes + e.byte_size() > max_bytes) break;
    bytes += e.byte_size();
    out->push_back(e);
  }
  return Status::Ok();
}

Status MemLog::snapshot(SnapshotHead* out) const {
  if (snapshot_.index == 0) return Status::NotFound("no snapshot");
  *out = snapshot_;
  return Status::Ok();
}

Status MemLog::snapshot_data(const SnapshotHead& snap, uint64_t offset, size_t max,
                             std::string* out) const {
  if (snap != snapshot_) return Status::NotFound("not the current snapshot");
  *out = snapshot_data_.substr(std::min<uint64_t>(offset, snapshot_data_.size()), max);
  return Status::Ok();
}

void MemLog::write(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  EXPECT_GT(entries.front().index, snapshot_.index) << "write below the log head";
  entries_.resize(entries.front().index - snapshot_.index - 1);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
}

void MemLog::compact(const SnapshotHead& head, std::string data) {
  entries_.erase(entries_.begin(), entries_.begin() + (head.index - snapshot_.index));
  snapshot_ = head;
  snapshot_data_ = std::move(data);
}

void MemLog::install(const SnapshotHead& head, std::string data) {
  entries_.clear();
  snapshot_ = head;
  snapshot_data_ = std::move(data);
}

std::string SnapshotOf(const std::vector<Entry>& applied) {
  std::string out;
  for (const Entry& e : applied) out += e.data + ";";
  return out;
}

std::vector<Term> MemLog::terms() const {
  std::vector<Term> out;
  for (const Entry& e : entries_) out.push_back(e.term);
  return out;
}

std::vector<Entry> LogWithTerms(const std::vector<Term>& terms) {
  std::vector<Entry> out;
  for (size_t i = 0; i < terms.size(); ++i) {
    Entry e;
    e.index = i + 1;
    e.term = terms[i];
    e.type = EntryType::kCommand;
    e.data = "e" + std::to_string(i + 1) + "t" + std::to_string(terms[i]);
    out.push_back(e);
  }
  return out;
}

Cluster::Cluster(int n, std::function<void(Config&)> tweak) : size_(n), tweak_(std::move(tweak)) {
  for (int i = 1; i <= n; ++i) add_node(i, {}, 0);
}

Cluster::Cluster(const std::vector<std::vector<Term>>& logs, const std::vector<Term>& terms,
                 std::function<void(Config&)> tweak)
    : size_(static_cast<int>(logs.size())), tweak_(std::move(tweak)) {
  for (size_t i = 0; i < logs.size(); ++i) add_node(i + 1, LogWithTerms(logs[i]), terms[i]);
}

void Cluster::add_node(NodeId id, const std::vector<Entry>& log, Term term) {
  auto n = std::make_unique<Node>();
  n->id = id;
  n->log.write(log);
  n->hard_state.term = term;
  start(*n);
  nodes_[id] = std::move(n);
}

void Cluster::start(Node& n) {
  Config cfg;
  cfg.id = n.id;
  cfg.election_ticks = 10;
  cfg.heartbeat_ticks = 1;
  cfg.random_seed = n.id * 7919;
  if (tweak_) tweak_(cfg);
  ClusterConfig members;
  if (!n.joining) {
    for (int i = 1; i <= size_; ++i) members.voters.push_back(i);
  }
  n.raft = std::make_unique<Raft>(cfg, &n.log, n.hard_state, members);
  EXPECT_TRUE(n.raft->status().ok()) << n.raft->status().ToString();
}

void Cluster::add_joining(NodeId id) {
  auto n = std::make_unique<Node>();
  n->id = id;
  n->joining = true;
  start(*n);
  nodes_[id] = std::move(n);
}

std::vector<NodeId> Cluster::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

void Cluster::apply_ready(Node& n, Ready& r, bool persist) {
  for (Message& m : r.messages) queue_.push_back(std::move(m));
  r.messages.clear();
  for (Event& e : r.events) n.events.push_back(e);
  r.events.clear();
  for (ReadState& rs : r.read_states) n.reads.push_back(rs);
  r.read_states.clear();
  if (!persist) return;
  n.writes.push_back(WriteRecord{r.must_sync, r.hard_state.has_value(), r.entries.size(),
                                 r.hard_state ? r.hard_state->commit : 0});
  if (r.hard_state) n.hard_state = *r.hard_state;
  n.log.write(r.entries);
  if (!r.entries.empty()) n.raft->on_persisted(r.entries.back().index, r.entries.back().term);
  for (SnapshotChunk& c : r.snapshot_chunks) {
    if (c.offset == 0) n.receiving.clear();
    EXPECT_EQ(c.offset, n.receiving.size()) << "chunks out of order";
    n.receiving += c.data;
    if (!c.done) continue;
    if (n.corrupt_next_snapshot && !n.receiving.empty()) {
      n.receiving[0] ^= 1;
      n.corrupt_next_snapshot = false;
    }
    const bool good = n.receiving.size() == c.snapshot.size &&
                      storage::Crc32c(n.receiving.data(), n.receiving.size()) == c.snapshot.crc;
    if (!good) {
      ++n.snapshots_failed;
      n.raft->on_snapshot_failed(c.snapshot);
      continue;
    }
    // Installed: the log and the state are the snapshot's.
    n.state = n.receiving;
    n.applied.clear();
    n.log.install(c.snapshot, std::move(n.receiving));
    n.receiving.clear();
    ++n.snapshots_installed;
    n.raft->on_snapshot_installed(c.snapshot);
  }
  for (Message& m : r.messages_after_persist) queue_.push_back(std::move(m));
  for (Entry& e : r.committed) n.applied.push_back(std::move(e));
}

void Cluster::process() {
  bool again = true;
  while (again) {
    again = false;
    for (auto& [id, n] : nodes_) {
      if (down_.count(id)) continue;
      while (n->raft->has_ready()) {
        Ready r = n->raft->take_ready();
        if (n->auto_persist) {
          apply_ready(*n, r, true);
        } else {
          apply_ready(*n, r, false);
          n->held.push_back(std::move(r));
        }
        again = true;
      }
    }
  }
}

void Cluster::persist_held(NodeId id) {
  Node& n = node(id);
  std::vector<Ready> held = std::move(n.held);
  n.held.clear();
  for (Ready& r : held) apply_ready(n, r, true);
  process();
}

int Cluster::deliver_if(const std::function<bool(const Message&)>& pred) {
  process();
  int count = 0;
  std::deque<Message> keep;
  std::deque<Message> now;
  now.swap(queue_);
  for (Message& m : now) {
    if (!pred(m)) {
      keep.push_back(std::move(m));
      continue;
    }
    if (down_.count(m.to) || down_.count(m.from) || cut_.count({m.from, m.to})) continue;
    delivered.push_back(m);
    EXPECT_TRUE(node(m.to).raft->step(m).ok());
    ++count;
  }
  // What the deliveries caused goes after what was kept waiting.
  for (Message& m : queue_) keep.push_back(std::move(m));
  queue_.swap(keep);
  process();
  return count;
}

int Cluster::deliver_all(int max_rounds) {
  int total = 0;
  for (int round = 0; round < max_rounds; ++round) {
    process();
    if (queue_.empty()) break;
    total += deliver_if([](const Message&) { return true; });
  }
  return total;
}

void Cluster::tick(NodeId id, int times) {
  for (int i = 0; i < times; ++i) {
    if (!down_.count(id)) raft(id).tick();
  }
  process();
}

void Cluster::tick_all(int times) {
  for (int i = 0; i < times; ++i) {
    for (auto& [id, n] : nodes_) {
      if (!down_.count(id)) n->raft->tick();
    }
    process();
  }
}

void Cluster::elect(NodeId id) {
  ASSERT_TRUE(raft(id).start_election().ok());
  deliver_all();
}

void Cluster::elect_only(NodeId id) {
  ASSERT_TRUE(raft(id).start_election().ok());
  auto is_election = [](const Message& m) {
    return m.type() == MessageType::kRequestVote || m.type() == MessageType::kRequestVoteReply;
  };
  while (deliver_if(is_election) > 0) {
  }
}

void Cluster::cut(NodeId a, NodeId b, bool both_ways) {
  cut_.insert({a, b});
  if (both_ways) cut_.insert({b, a});
}

void Cluster::isolate(NodeId id) {
  for (NodeId other : ids()) {
    if (other != id) cut(id, other);
  }
}

void Cluster::restart(NodeId id) {
  down_.erase(id);
  Node& n = node(id);
  n.applied.clear();
  n.state = n.log.snapshot_bytes();
  start(n);
  process();
}

NodeId Cluster::leader() const {
  NodeId found = 0;
  Term best = 0;
  for (const auto& [id, n] : nodes_) {
    if (down_.count(id) || n->raft->role() != Role::kLeader) continue;
    if (n->raft->term() > best) {
      best = n->raft->term();
      found = id;
    }
  }
  return found;
}

void Cluster::snapshot(NodeId id) {
  Node& n = node(id);
  process();
  ASSERT_FALSE(n.applied.empty()) << "nothing applied to snapshot";
  const std::string data = state(id);
  SnapshotHead head;
  head.index = n.applied.back().index;
  head.term = n.applied.back().term;
  head.config = n.raft->cluster_config();
  head.size = data.size();
  head.crc = storage::Crc32c(data.data(), data.size());
  n.log.compact(head, data);
  n.state = data;
  n.applied.clear();
  ASSERT_TRUE(n.raft->on_log_compacted(head.index, head.term).ok());
  process();
}

std::string Cluster::state(NodeId id) {
  Node& n = node(id);
  return n.state + SnapshotOf(n.applied);
}

ProposalId Cluster::propose(NodeId id, const std::string& data) {
  ProposalId pid;
  Status s = raft(id).propose_command(data, &pid);
  EXPECT_TRUE(s.ok()) << s.ToString();
  process();
  return pid;
}

}  // namespace raftlog::core::testing
