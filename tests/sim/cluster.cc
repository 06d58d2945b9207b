#include "cluster.h"

#include <algorithm>

namespace raftlog::sim {
namespace {

core::ClusterConfig Members(int n) {
  core::ClusterConfig c;
  for (int i = 1; i <= n; ++i) c.voters.push_back(i);
  return c;
}

std::string DescribeWrite(const PendingWrite& w) {
  std::string out;
  if (w.hard_state) out = Cat("hard state ", DescribeHardState(*w.hard_state));
  if (!w.entries.empty()) {
    out += Cat(out.empty() ? "" : ", ", "entries ", w.entries.front().index, "..",
               w.entries.back().index, " (last ", DescribeEntry(w.entries.back()), ")");
  }
  for (const core::SnapshotChunk& c : w.snapshot_chunks) {
    out += Cat(out.empty() ? "" : ", ", "snapshot ", c.snapshot.index, "/", c.snapshot.term,
               " bytes ", c.offset, "..", c.offset + c.data.size(), " of ", c.snapshot.size,
               c.done ? " (last)" : "");
  }
  return Cat(out, w.must_sync ? ", synced" : "");
}

}  // namespace

Cluster::Cluster(const RunOptions& options)
    : options_(options),
      rng_(options.seed),
      scenario_(Scenario::FromSeed(rng_, options.sizes)),
      network_(scenario_.links) {
  const core::ClusterConfig members = Members(scenario_.nodes);
  // Spare ids start as joining nodes: empty configuration, waiting to be added.
  for (int i = 1; i <= scenario_.total_nodes(); ++i) {
    const core::ClusterConfig bootstrap = i <= scenario_.nodes ? members : core::ClusterConfig{};
    nodes_.push_back(std::make_unique<Node>(i, bootstrap, scenario_.core));
    checker_.add_node(nodes_.back().get(), bootstrap);
  }
  retired_.assign(nodes_.size(), false);
  result_.scenario = scenario_.describe();
}

void Cluster::schedule(Time delay, Event e) {
  queue_.emplace(std::make_pair(now_ + delay, next_seq_++), std::move(e));
}

RunResult Cluster::run() {
  trace("seed ", options_.seed, ": ", scenario_.describe());
  for (auto& n : nodes_) {
    n->start(rng_.next());
    checker_.restarted(*n);
    // Ticks start out of phase, as real clocks would.
    schedule(rng_.between(1, kUnitsPerTick), {Kind::kTick, n->id(), n->incarnation()});
  }
  if (scenario_.crash_every > 0) schedule(scenario_.crash_every, {Kind::kCrash});
  if (scenario_.partition_every > 0) schedule(scenario_.partition_every, {Kind::kPartition});
  schedule(rng_.between(1, scenario_.propose_every), {Kind::kPropose});
  if (scenario_.snapshot_every > 0) schedule(scenario_.snapshot_every, {Kind::kSnapshot});
  if (scenario_.change_every > 0) schedule(scenario_.change_every, {Kind::kChange});

  while (!checker_.failed() && !finished_) {
    if (!healed_ && result_.steps >= options_.steps) heal();
    step();
  }
  result_.ok = !checker_.failed();
  result_.violation = checker_.violation();
  result_.time = now_;
  result_.committed = checker_.committed_index();
  result_.max_term = checker_.max_leader_term();
  result_.old_term_commits = checker_.old_term_commits();
  result_.heartbeats_acked = checker_.heartbeats_acked();
  result_.config_committed = checker_.config_entries_committed();
  result_.reads_checked = checker_.reads_checked();
  return result_;
}

void Cluster::step() {
  auto handle = queue_.extract(queue_.begin());
  now_ = handle.key().first;
  Event& e = handle.mapped();
  checker_.set_now(now_);
  ++result_.steps;
  switch (e.kind) {
    case Kind::kDeliver:
      on_deliver(e);
      break;
    case Kind::kTick:
      on_tick(e);
      break;
    case Kind::kDiskDone:
      on_disk_done(e);
      break;
    case Kind::kCrash:
      on_crash(e);
      break;
    case Kind::kRestart:
      on_restart(e.node);
      break;
    case Kind::kPartition:
      on_partition();
      break;
    case Kind::kPropose:
      on_propose();
      break;
    case Kind::kSnapshot:
      on_snapshot();
      break;
    case Kind::kClient:
      on_client();
      break;
    case Kind::kChange:
      on_change();
      break;
  }
  checker_.after_step();
}

// --- The runtime ------------------------------------------------------------

void Cluster::drain(Node& n) {
  // A core that always has another Ready would hang the run.
  for (int rounds = 0; n.up() && n.raft().has_ready(); ++rounds) {
    if (checker_.failed()) return;
    if (rounds == 1000) {
      checker_.fail("runtime-contract", Cat("n", n.id(), " has_ready() stays true"));
      return;
    }
    core::Ready rd = n.raft().take_ready();
    for (const core::Event& ev : rd.events) {
      if (tracing()) trace("n", n.id(), " ", core::Describe(ev));
      const auto* role = std::get_if<core::RoleChanged>(&ev);
      if (role != nullptr && role->role == core::Role::kLeader && !healed_ &&
          rng_.chance(scenario_.crash_new_leader_ppm)) {
        schedule(rng_.between(1, 10 * kUnitsPerTick),
                 {Kind::kCrash, n.id(), n.incarnation(), {}, "new leader"});
      }
      if (std::holds_alternative<core::TransferAborted>(ev)) ++result_.transfers_aborted;
    }
    for (const core::ReadState& rs : rd.read_states) {
      if (tracing()) {
        trace("n", n.id(), " read ", rs.ctx, rs.ok ? Cat(" at index ", rs.index) : " refused");
      }
      checker_.read_state(n, rs);
    }
    // 1. Messages that need nothing persisted go out at once.
    for (const core::Message& m : rd.messages) send(m);

    // 2. The write is queued; the runtime's view of the log and hard state
    // changes now, the disk's when the write completes.
    PendingWrite w;
    w.hard_state = rd.hard_state;
    w.must_sync = rd.must_sync;
    w.entries = std::move(rd.entries);
    w.snapshot_chunks = std::move(rd.snapshot_chunks);
    if (!w.snapshot_chunks.empty() && !healed_ && rng_.chance(scenario_.crash_snapshot_ppm)) {
      // Before, while or after the chunk reaches the disk: a transfer cut
      // short, or its last chunk written and the install not yet reported.
      schedule(rng_.between(0, scenario_.disk_max),
               {Kind::kCrash, n.id(), n.incarnation(), {}, "writing a snapshot chunk"});
    }
    w.after_persist = std::move(rd.messages_after_persist);
    w.committed = std::move(rd.committed);
    if (w.hard_state) {
      const core::HardState& old = n.written_hard_state();
      const core::HardState& hs = *w.hard_state;
      if (hs.voted_for != old.voted_for && hs.voted_for != core::kNoNode && !healed_ &&
          rng_.chance(scenario_.crash_voter_ppm)) {
        schedule(rng_.between(0, scenario_.disk_max),
                 {Kind::kCrash, n.id(), n.incarnation(), {}, "writing a vote"});
      }
    }
    const bool fits = checker_.write_taken(n, n.written_hard_state(), w.hard_state, w.must_sync,
                                           w.entries, &n.log());
    if (w.hard_state) n.set_written_hard_state(*w.hard_state);
    if (!fits) return;

    // 3-5 happen when the write is durable. Writes complete in order; one
    // that writes nothing completes with the one before it.
    if (n.pending().empty() && !w.touches_disk()) {
      complete_write(n, std::move(w));
      continue;
    }
    Time done = now_;
    if (w.touches_disk()) done += rng_.between(scenario_.disk_min, scenario_.disk_max);
    if (!n.pending().empty()) done = std::max(done, n.pending().back().done_at);
    w.done_at = done;
    n.pending().push_back(std::move(w));
    schedule(done - now_, {Kind::kDiskDone, n.id(), n.incarnation()});
  }
}

void Cluster::persisted(Node& n, const PendingWrite& w) {
  if (tracing() && w.touches_disk()) trace("n", n.id(), " disk: ", DescribeWrite(w));
  // A vote on disk is a promise even if no reply went out before a crash.
  if (w.hard_state && w.hard_state->voted_for != core::kNoNode) {
    checker_.vote_granted(n.id(), w.hard_state->term, w.hard_state->voted_for, "on disk");
  }
  if (w.failed) {
    ++result_.snapshots_failed;
    trace("n", n.id(), " snapshot ", w.failed->index, "/", w.failed->term,
          " fails its check: not installed");
  }
  if (w.installed) {
    // The disk replaced the log and the state: so does the runtime's view,
    // once the checker has seen what it replaces.
    ++result_.snapshots_installed;
    AppState state;
    core::Term term = 0;
    const bool decoded = n.stored_state(&state, &term);
    checker_.snapshot_held(n, *w.installed, decoded, state.applied(), term, state.digest(),
                           /*install=*/true);
    n.install_log(*w.installed, state.digest());
    checker_.log_changed(n, w.installed->index);
    trace("n", n.id(), " snapshot ", w.installed->index, "/", w.installed->term,
          " installed: the log and the state are replaced");
  }
}

void Cluster::complete_write(Node& n, PendingWrite w) {
  // 3. Acks and vote grants: what they promise is on disk now.
  for (const core::Message& m : w.after_persist) send(m);
  // 4. The core may now read these entries back from storage.
  if (!w.entries.empty()) n.raft().on_persisted(w.entries.back().index, w.entries.back().term);
  // 5. Apply.
  for (const core::Entry& e : w.committed) {
    checker_.applied(n, e);
    n.apply(e);
  }
  if (!w.committed.empty()) {
    checker_.state_is(n, n.applied(), n.app().digest());
    trace("n", n.id(), " apply ", w.committed.front().index, "..", w.committed.back().index,
          " (last ", DescribeEntry(w.committed.back()), ")");
  }
  // A snapshot transfer the write ended: the application takes the
  // installed state (after the entries above, all below the snapshot), and
  // the core learns the outcome.
  if (w.installed) {
    AppState state;
    core::Term term = 0;
    if (n.stored_state(&state, &term)) n.install_state(std::move(state));
    checker_.state_is(n, n.applied(), n.app().digest());
    n.raft().on_snapshot_installed(*w.installed);
  } else if (w.failed) {
    n.raft().on_snapshot_failed(*w.failed);
  }
}

void Cluster::send(const core::Message& m) {
  if (m.type() == core::MessageType::kRequestVoteReply) {
    const auto& reply = std::get<core::RequestVoteReply>(m.body);
    if (reply.granted && !reply.pre_vote) {
      checker_.vote_granted(m.from, m.term, m.to, "on the wire");
    }
  }
  const char* why = "";
  const std::vector<Time> delays = network_.route(rng_, m.from, m.to, &why);
  if (delays.empty()) {
    if (tracing()) trace("drop ", core::Describe(m), " (", why, ")");
    return;
  }
  if (delays.size() > 1 && tracing()) trace("duplicate ", core::Describe(m));
  const auto* chunk = std::get_if<core::InstallSnapshot>(&m.body);
  if (chunk != nullptr && !chunk->data.empty() && !healed_ &&
      rng_.chance(scenario_.corrupt_chunk_ppm)) {
    // One bit flipped on the wire: the store's check must refuse the snapshot.
    core::Message bad = m;
    auto& data = std::get<core::InstallSnapshot>(bad.body).data;
    data[rng_.below(data.size())] ^= static_cast<char>(1 << rng_.below(8));
    if (tracing()) trace("damage ", core::Describe(m));
    for (Time d : delays) schedule(d, {Kind::kDeliver, m.to, 0, bad});
    return;
  }
  for (Time d : delays) schedule(d, {Kind::kDeliver, m.to, 0, m});
}

// --- Events -----------------------------------------------------------------

void Cluster::on_deliver(Event& e) {
  Node& n = node(e.node);
  const core::Message& m = e.message;
  if (!n.up()) {
    if (tracing()) trace("lost ", core::Describe(m), " (n", n.id(), " is down)");
    return;
  }
  if (network_.blocked(m.from, m.to)) {
    if (tracing()) trace("drop ", core::Describe(m), " (partition)");
    return;
  }
  if (tracing()) trace("n", n.id(), " recv ", core::Describe(m));
  Status s = n.raft().step(m);
  if (!s.ok() && tracing()) trace("n", n.id(), " step: ", s.ToString());
  drain(n);
}

void Cluster::on_tick(Event& e) {
  Node& n = node(e.node);
  if (!n.up() || n.incarnation() != e.incarnation) return;
  n.raft().tick();
  drain(n);
  schedule(kUnitsPerTick, std::move(e));
}

void Cluster::on_disk_done(Event& e) {
  Node& n = node(e.node);
  if (!n.up() || n.incarnation() != e.incarnation) return;
  PendingWrite w = n.persist_front();
  persisted(n, w);
  complete_write(n, std::move(w));
  drain(n);
}

void Cluster::on_crash(Event& e) {
  if (healed_) return;
  if (e.node != core::kNoNode) {  // a targeted crash
    Node& n = node(e.node);
    if (n.up() && n.incarnation() == e.incarnation) crash(n, e.why);
    return;
  }
  schedule(rng_.between(scenario_.crash_every / 2, scenario_.crash_every * 3 / 2), {Kind::kCrash});
  std::vector<Node*> up, unpersisted;
  for (auto& n : nodes_) {
    if (!n->up()) continue;
    up.push_back(n.get());
    if (n->has_unpersisted_state()) unpersisted.push_back(n.get());
  }
  if (up.empty()) return;
  // Crashes with writes in flight are the interesting ones (a vote or an
  // entry the node has not yet been told is durable), so favour them; and
  // the leader, whose loss forces an election with a half-replicated tail.
  Node* victim = rng_.pick(up);
  const uint64_t r = rng_.below(100);
  Node* leader = current_leader();
  if (r < 45 && !unpersisted.empty()) {
    victim = rng_.pick(unpersisted);
  } else if (r < 75 && leader != nullptr) {
    victim = leader;
  }
  crash(*victim, "timer");
}

void Cluster::crash(Node& n, const char* why) {
  Node* victim = &n;
  const size_t queued = victim->pending().size();
  const size_t reach_disk = rng_.below(queued + 1);
  const bool lose_unsynced = rng_.chance(500000);
  for (size_t i = 0; i < reach_disk; ++i) persisted(*victim, victim->persist_front());
  // Half the crashes are power losses: what the node sent and the network
  // has not delivered yet is lost with it (a dying new leader's Noop...).
  size_t unsent = 0;
  if (rng_.chance(500000)) {
    for (auto it = queue_.begin(); it != queue_.end();) {
      const bool from_victim =
          it->second.kind == Kind::kDeliver && it->second.message.from == victim->id();
      it = from_victim ? (++unsent, queue_.erase(it)) : std::next(it);
    }
  }
  const core::LogIndex changed = victim->crash(lose_unsynced);
  ++result_.crashes;
  if (tracing()) {
    trace("n", victim->id(), " CRASH (", why, "): ", reach_disk, " of ", queued,
          " queued writes reached the disk, ", unsent, " messages in flight lost; durable ",
          DescribeHardState(victim->storage().hard_state()),
          " last=", victim->storage().last_index());
  }
  if (changed != 0) checker_.log_changed(*victim, changed);
  // Often back at once (before in-flight messages land), sometimes long gone.
  const uint64_t r2 = rng_.below(100);
  const Time down = r2 < 40   ? rng_.between(1, kUnitsPerTick)
                    : r2 < 80 ? rng_.between(kUnitsPerTick, 5 * kUnitsPerTick)
                              : rng_.between(5 * kUnitsPerTick, 40 * kUnitsPerTick);
  schedule(down, {Kind::kRestart, victim->id()});
}

void Cluster::on_restart(core::NodeId id) {
  Node& n = node(id);
  if (n.up() || retired_[id - 1]) return;  // healing restarted (or retired) it already
  n.start(rng_.next());
  checker_.restarted(n);
  if (tracing()) {
    trace("n", id, " RESTART from ", DescribeHardState(n.storage().hard_state()),
          " last=", n.storage().last_index());
  }
  schedule(rng_.between(1, kUnitsPerTick), {Kind::kTick, id, n.incarnation()});
  drain(n);
}

void Cluster::on_partition() {
  if (healed_) return;
  if (network_.partitioned()) {
    network_.heal();
    trace("PARTITION healed");
    schedule(rng_.between(scenario_.partition_every / 2, scenario_.partition_every * 3 / 2),
             {Kind::kPartition});
    return;
  }
  start_partition();
  ++result_.partitions;
  trace("PARTITION blocks ", network_.describe_blocks());
  schedule(rng_.between(2 * kUnitsPerTick, 40 * kUnitsPerTick), {Kind::kPartition});
}

void Cluster::start_partition() {
  const core::NodeId n = nodes_.size();
  auto isolate = [&](core::NodeId v, bool in, bool out) {
    for (core::NodeId x = 1; x <= n; ++x) {
      if (x == v) continue;
      if (in) network_.block(x, v);
      if (out) network_.block(v, x);
    }
  };
  Node* leader = current_leader();
  const core::NodeId some = rng_.between(1, n);
  const core::NodeId victim = leader != nullptr && rng_.chance(500000) ? leader->id() : some;
  switch (rng_.below(4)) {
    case 0:  // one node cut off both ways
      isolate(victim, true, true);
      break;
    case 1: {  // a minority and a majority
      const uint64_t minority = rng_.between(1, n / 2);
      std::vector<core::NodeId> ids;
      for (core::NodeId x = 1; x <= n; ++x) ids.push_back(x);
      for (uint64_t i = 0; i < minority; ++i) std::swap(ids[i], ids[i + rng_.below(n - i)]);
      for (uint64_t i = 0; i < minority; ++i) {
        for (uint64_t j = minority; j < n; ++j) {
          network_.block(ids[i], ids[j]);
          network_.block(ids[j], ids[i]);
        }
      }
      break;
    }
    case 2:  // one node hears but is not heard, or the other way round
      if (rng_.chance(500000)) {
        isolate(victim, true, false);
      } else {
        isolate(victim, false, true);
      }
      break;
    default:  // random one-way links
      for (core::NodeId a = 1; a <= n; ++a) {
        for (core::NodeId b = 1; b <= n; ++b) {
          if (a != b && rng_.chance(300000)) network_.block(a, b);
        }
      }
      if (!network_.partitioned()) network_.block(some, some == 1 ? 2 : 1);
      break;
  }
}

void Cluster::on_propose() {
  // Liveness is measured without background load: under a load above what
  // the scenario's batches, windows and disks can carry, no bound holds.
  if (healed_) return;
  schedule(rng_.between(1, 2 * scenario_.propose_every), {Kind::kPropose});
  std::vector<Node*> up;
  for (auto& n : nodes_) {
    if (n->up()) up.push_back(n.get());
  }
  if (up.empty()) return;
  Node* target = current_leader();
  std::vector<Node*> leaders;  // stale ones too, cut off from the rest
  for (Node* n : up) {
    if (n->raft().role() == core::Role::kLeader) leaders.push_back(n);
  }
  if (rng_.chance(scenario_.read_ppm)) {
    // A read: at a leader, stale ones too, or at any node (a follower asks its leader).
    read(!leaders.empty() && rng_.chance(500000) ? *rng_.pick(leaders) : *rng_.pick(up));
    return;
  }
  if (!leaders.empty() && rng_.chance(200000)) {
    // A ReadIndex-style heartbeat round instead of a proposal.
    target = rng_.pick(leaders);
    uint64_t seq = 0;
    if (target->raft().heartbeat(&seq).ok()) {
      checker_.heartbeat_sent(*target, target->raft().term(), seq);
      trace("n", target->id(), " heartbeat ", seq);
    }
    drain(*target);
    return;
  }
  if (target == nullptr || rng_.chance(300000)) target = rng_.pick(up);
  core::ProposalId id;
  bool accepted = false;
  propose(*target, Cat("p", ++proposal_seq_), &id, &accepted);
}

void Cluster::on_snapshot() {
  // Liveness is measured without new snapshots: a follower being sent one
  // would start over each time the leader took another.
  if (healed_) return;
  schedule(rng_.between(scenario_.snapshot_every / 2, scenario_.snapshot_every * 3 / 2),
           {Kind::kSnapshot});
  std::vector<Node*> ready;
  for (auto& n : nodes_) {
    if (n->up() && n->applied() > n->storage().head_index()) ready.push_back(n.get());
  }
  if (ready.empty()) return;
  Node& n = *rng_.pick(ready);
  // Half the time right up to what it applied; otherwise at an earlier
  // applied entry, keeping a tail of the log for followers a little behind.
  const core::LogIndex head = n.storage().head_index();
  const core::LogIndex index =
      rng_.chance(500000) ? n.applied() : rng_.between(head + 1, n.applied());
  core::SnapshotHead snap;
  Status s = n.take_snapshot(index, &snap);
  ++result_.snapshots_taken;
  AppState stored;
  core::Term term = 0;
  const bool decoded = n.stored_state(&stored, &term);
  checker_.snapshot_held(n, snap, decoded, stored.applied(), term, stored.digest(),
                         /*install=*/false);
  trace("n", n.id(), " snapshot ", snap.index, "/", snap.term, " (", snap.size, " bytes; applied ",
        n.applied(), ", log to ", n.log().last_index(), ")");
  if (!s.ok()) {
    checker_.fail("runtime-contract",
                  Cat("n", n.id(), " compacted its log through ", snap.index, "/", snap.term,
                      ", which the core refused: ", s.ToString()));
  }
  drain(n);
}

void Cluster::read(Node& n) {
  const uint64_t ctx = ++read_seq_;
  Status s = n.raft().read_index(ctx);
  if (s.ok()) {
    ++result_.reads;
    checker_.read_asked(ctx);
    trace("n", n.id(), " read_index ", ctx, " (committed through ", checker_.committed_index(),
          ")");
  }
  drain(n);
}

void Cluster::on_change() {
  // Liveness is measured with the membership as it is at healing.
  if (healed_) return;
  schedule(rng_.between(scenario_.change_every / 2, scenario_.change_every * 3 / 2),
           {Kind::kChange});
  Node* leader = current_leader();
  if (leader == nullptr) return;
  const core::ClusterConfig now = leader->raft().cluster_config();
  std::vector<core::NodeId> others;     // voters but the leader
  std::vector<core::NodeId> outsiders;  // no member: spares, removed nodes
  for (core::NodeId v : now.voters) {
    if (v != leader->id()) others.push_back(v);
  }
  for (auto& n : nodes_) {
    if (!now.is_member(n->id())) outsiders.push_back(n->id());
  }
  auto erase = [](std::vector<core::NodeId>* v, core::NodeId id) { std::erase(*v, id); };
  core::ClusterConfig target = now;
  target.voters_outgoing.clear();
  target.context = Cat("c", ++config_seq_);
  const char* what = nullptr;
  const uint64_t r = rng_.below(100);
  if (r < 14) {
    if (outsiders.empty()) return;
    what = "grow";
    target.voters.push_back(rng_.pick(outsiders));
  } else if (r < 24) {
    if (others.size() < 2) return;
    what = "shrink";
    erase(&target.voters, rng_.pick(others));
  } else if (r < 38) {
    if (outsiders.empty() || others.empty()) return;
    what = "replace";
    erase(&target.voters, rng_.pick(others));
    target.voters.push_back(rng_.pick(outsiders));
  } else if (r < 46) {
    if (others.size() < 2) return;
    what = "remove the leader";
    erase(&target.voters, leader->id());
  } else if (r < 54) {
    if (outsiders.empty()) return;
    what = "add a learner";
    target.learners.push_back(rng_.pick(outsiders));
  } else if (r < 62) {
    if (now.learners.empty()) return;
    what = "promote a learner";
    const core::NodeId l = rng_.pick(now.learners);
    erase(&target.learners, l);
    target.voters.push_back(l);
  } else if (r < 66) {
    if (now.learners.empty()) return;
    what = "remove a learner";
    erase(&target.learners, rng_.pick(now.learners));
  } else {
    // A leadership transfer: asked by the leader, or by a follower for itself.
    if (others.empty()) return;
    const core::NodeId to = rng_.pick(others);
    Node& asker = r < 83 ? *leader : node(to);
    if (!asker.up()) return;
    Status s = asker.raft().transfer_leadership(to);
    if (tracing()) trace("n", asker.id(), " transfer_leadership(", to, "): ", s.ToString());
    if (s.ok()) {
      ++result_.transfers;
      last_transfer_at_ = now_;
    }
    drain(asker);
    return;
  }
  // Usually the leader; sometimes any node (NotLeader, or a stale leader).
  Node* asked = leader;
  if (rng_.chance(100000)) {
    std::vector<Node*> up;
    for (auto& n : nodes_) {
      if (n->up()) up.push_back(n.get());
    }
    asked = rng_.pick(up);
  }
  core::ProposalId id;
  Status s = asked->raft().propose_config(target, &id);
  if (s.ok()) {
    ++result_.config_changes;
  } else {
    ++result_.config_refused;
  }
  if (tracing()) {
    trace("n", asked->id(), " propose_config (", what, ") ", core::Describe(target), ": ",
          s.ok() ? Cat("-> ", id.index, "/", id.term) : s.ToString());
  }
  drain(*asked);
}

bool Cluster::change_in_flight(Node& leader) const {
  if (leader.raft().transfer_target() != core::kNoNode) return true;
  if (leader.raft().config_change().phase != core::ConfigChange::Phase::kNone) return true;
  // A transfer asked just before healing may still be on the wire.
  const Time window =
      scenario_.links.long_delay_max + 2 * scenario_.core.election_ticks * kUnitsPerTick;
  return last_transfer_at_ > 0 && healed_at_ - last_transfer_at_ < window;
}

void Cluster::propose(Node& n, const std::string& payload, core::ProposalId* id, bool* accepted) {
  Status s = n.raft().propose_command(payload, id);
  *accepted = s.ok();
  if (s.ok()) {
    ++result_.proposals_accepted;
    checker_.proposal_accepted(*id, payload);
    trace("n", n.id(), " propose '", payload, "' -> ", id->index, "/", id->term);
  } else if (!s.IsNotLeader()) {  // NotLeader is routine; Busy is worth seeing
    if (tracing()) trace("n", n.id(), " propose '", payload, "': ", s.ToString());
  }
  drain(n);
}

Node* Cluster::current_leader() {
  core::Term top = 0;
  for (auto& n : nodes_) {
    if (n->up()) top = std::max(top, n->raft().term());
  }
  for (auto& n : nodes_) {
    if (n->up() && n->raft().term() == top && n->raft().role() == core::Role::kLeader) {
      return n.get();
    }
  }
  return nullptr;
}

// --- Healing and liveness ---------------------------------------------------

void Cluster::retire_removed() {
  // Nodes no configuration names any more are retired, as an operator
  // would once their removal is committed: a removed node that never
  // learned of it stands for election again and again (thesis §4.2.3).
  // Kept: the members of the committed configuration, and of the latest
  // configuration in their logs (a stale member may still need them).
  const core::ClusterConfig committed = checker_.committed_config();
  std::vector<bool> keep(nodes_.size(), false);
  for (core::NodeId id : committed.members()) keep[id - 1] = true;
  for (auto& n : nodes_) {
    if (!committed.is_member(n->id())) continue;
    for (core::NodeId id : checker_.config_of(*n).members()) keep[id - 1] = true;
  }
  for (auto& n : nodes_) {
    if (keep[n->id() - 1] || retired_[n->id() - 1]) continue;
    retired_[n->id() - 1] = true;
    ++result_.retired;
    if (n->up()) {
      const core::LogIndex changed = n->crash(/*lose_unsynced=*/false);
      if (changed != 0) checker_.log_changed(*n, changed);
    }
    trace("n", n->id(), " RETIRED: a member of no configuration");
  }
}

void Cluster::heal() {
  healed_ = true;
  healed_at_ = now_;
  network_.heal();
  LinkFaults calm = scenario_.links;
  calm.drop_ppm = 0;
  calm.duplicate_ppm = 0;
  calm.long_delay_ppm = 0;
  network_.set_faults(calm);
  trace("HEAL: the network is healed and crashes stop; liveness is checked from here");
  retire_removed();
  for (auto& n : nodes_) {
    if (!n->up()) on_restart(n->id());
  }
  schedule(kUnitsPerTick, {Kind::kClient});
}

Time Cluster::shipping_ticks(uint64_t entries) const {
  const uint64_t window = scenario_.core.max_entries_per_msg * scenario_.core.max_inflight_msgs;
  const Time round_trip = 2 * scenario_.links.max_delay + scenario_.disk_max;
  return (entries + window - 1) / window * round_trip / kUnitsPerTick;
}

Time Cluster::snapshot_ticks() const {
  uint64_t size = 0;
  for (const auto& n : nodes_) size = std::max(size, n->storage().snapshot_head().size);
  if (size == 0) return 0;
  const uint64_t chunk = scenario_.core.snapshot_chunk_bytes;
  const Time round_trip = 2 * scenario_.links.max_delay + scenario_.disk_max;
  Time ticks = (size + chunk - 1) / chunk * round_trip / kUnitsPerTick;
  const uint64_t throttle = scenario_.core.snapshot_bytes_per_tick;
  if (throttle > 0) ticks = std::max<Time>(ticks, size / throttle + 1);
  // A follower may find the leader's snapshot gone mid-transfer (a leader
  // change) and start over once.
  return 2 * ticks;
}

Time Cluster::leader_bound_ticks() const {
  const Time election_round_trip = 2 * (scenario_.links.max_delay + scenario_.disk_max);
  return kLeaderBaseTicks + 10 * election_round_trip / kUnitsPerTick;
}

void Cluster::on_client() {
  schedule(kUnitsPerTick, {Kind::kClient});
  retire_removed();
  Node* leader = current_leader();
  // A leader the configuration in force does not name as a voter is on
  // its way out (it steps down once its removal commits).
  if (leader != nullptr && !leader->raft().cluster_config().is_voter(leader->id())) {
    leader = nullptr;
  }
  if (leader_at_ == 0) {
    if (leader == nullptr) {
      if (now_ - healed_at_ > leader_bound_ticks() * kUnitsPerTick) {
        checker_.fail("liveness", Cat("no leader ", leader_bound_ticks(),
                                      " ticks after the network healed at t=", healed_at_));
      }
      return;
    }
    leader_at_ = now_;
    result_.leader_after_heal = (now_ - healed_at_) / kUnitsPerTick;
    result_.worst_bound_percent = result_.leader_after_heal * 100 / leader_bound_ticks();
    trace("liveness: n", leader->id(), " leads term ", leader->raft().term(), " in ",
          core::Describe(leader->raft().cluster_config()));
    // A membership change or a transfer in progress may cost one more
    // election: a leader whose removal commits steps down, and one handing
    // over refuses proposals (Busy) until the target took over or the
    // transfer was given up (an election timeout).
    if (change_in_flight(*leader)) extra_commit_ticks_ = leader_bound_ticks();
    for (int i = 0; i < kLivenessProposals; ++i) {
      ClientProposal p;
      p.payload = Cat("live", i + 1);
      p.first_try = now_ + i * kUnitsPerTick;
      const uint64_t backlog =
          leader->log().last_index() - checker_.committed_index() + kLivenessProposals;
      // A quorum may need a follower that must first be sent a snapshot.
      p.commit_bound =
          kCommitBaseTicks + shipping_ticks(backlog) + snapshot_ticks() + extra_commit_ticks_;
      p.apply_bound = p.commit_bound + shipping_ticks(leader->log().last_index() + backlog);
      client_.push_back(p);
    }
  }
  bool all_done = true;
  for (ClientProposal& p : client_) {
    if (p.done) continue;
    all_done = false;
    if (now_ < p.first_try) continue;
    const Time waited = (now_ - p.first_try) / kUnitsPerTick;
    if (p.proposed) {
      const core::Entry* c = checker_.committed(p.id.index);
      // Lost if another entry was committed there, or a later leader's log
      // does not have it (then it never will): the client retries.
      const bool superseded = leader != nullptr && leader->raft().term() > p.id.term &&
                              leader->log().term_at(p.id.index) != p.id.term;
      if ((c != nullptr && c->data != p.payload) || (c == nullptr && superseded)) {
        p.proposed = false;
        trace("liveness: '", p.payload, "' at ", p.id.index, " lost; retrying");
      } else if (c != nullptr) {
        if (!p.committed) {
          result_.max_commit_ticks = std::max(result_.max_commit_ticks, waited);
          result_.worst_bound_percent =
              std::max(result_.worst_bound_percent, waited * 100 / p.commit_bound);
        }
        p.committed = true;
        // Every member of the configuration in force (a node removed, or
        // never added, is not sent the log).
        const core::ClusterConfig members = checker_.committed_config();
        p.done = std::all_of(nodes_.begin(), nodes_.end(), [&](const auto& n) {
          return !members.is_member(n->id()) || n->applied() >= p.id.index;
        });
        if (p.done) {
          result_.max_apply_ticks = std::max(result_.max_apply_ticks, waited);
          result_.worst_bound_percent =
              std::max(result_.worst_bound_percent, waited * 100 / p.apply_bound);
          continue;
        }
      }
    }
    if (!p.proposed && leader != nullptr) propose(*leader, p.payload, &p.id, &p.proposed);
    if (!p.committed && waited > p.commit_bound) {
      checker_.fail("liveness", Cat("'", p.payload, "' (first proposed at t=", p.first_try,
                                    ") is not committed ", p.commit_bound, " ticks later"));
      return;
    }
    if (waited > p.apply_bound) {
      std::string applied;
      for (auto& n : nodes_) {
        applied += Cat(" n", n->id(), "=", n->up() ? Cat(n->applied()) : std::string("down"));
      }
      checker_.fail("liveness", Cat("'", p.payload, "' (first proposed at t=", p.first_try,
                                    ") is not applied on every node ", p.apply_bound,
                                    " ticks later; applied:", applied));
      return;
    }
  }
  finished_ = all_done;
}

}  // namespace raftlog::sim
