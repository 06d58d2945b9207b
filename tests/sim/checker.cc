#include "checker.h"

#include <algorithm>
#include <cstdint>

namespace raftlog::sim {
namespace {

// Bytes outside printable ASCII as \xNN (the whole node's entries are
// binary event records).
std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

}  // namespace

std::string DescribeEntry(const core::Entry& e) {
  std::string what;
  switch (e.type) {
    case core::EntryType::kNoop:
      what = "noop";
      break;
    case core::EntryType::kConfig:
      what = "config";
      break;
    case core::EntryType::kCommand:
      what = Cat("'", Printable(e.data.size() > 24 ? e.data.substr(0, 24) + "..." : e.data), "'");
      break;
  }
  return Cat(e.index, "/", e.term, " ", what);
}

std::string DescribeHardState(const core::HardState& hs) {
  return Cat("t", hs.term, " vote=", hs.voted_for, " commit=", hs.commit);
}

core::LogIndex& Checker::commit_seen(core::NodeId id) {
  // Sized on first use: the runtime adds its nodes after building the checker.
  if (commit_seen_.size() < nodes_.size()) commit_seen_.resize(nodes_.size(), 0);
  return commit_seen_[id - 1];
}

void Checker::fail(const std::string& invariant, const std::string& detail) {
  if (failed()) return;
  violation_ = {invariant, Cat("t=", now_, ": ", detail)};
}

bool Checker::write_taken(const NodeView& n, const core::HardState& told,
                          const std::optional<core::HardState>& hard_state, bool must_sync,
                          const std::vector<core::Entry>& entries, LogView* log) {
  if (hard_state && !must_sync &&
      (hard_state->term != told.term || hard_state->voted_for != told.voted_for)) {
    fail("runtime-contract", Cat("n", n.id(), " writes hard state ", DescribeHardState(*hard_state),
                                 " after ", DescribeHardState(told), " without must_sync"));
  }
  if (entries.empty()) return true;
  if (!must_sync) fail("runtime-contract", Cat("n", n.id(), " writes entries without must_sync"));
  before_write(n, entries);
  Status s = log->append(entries);
  if (!s.ok()) {
    fail("runtime-contract", Cat("n", n.id(), " Ready.entries: ", s.message()));
    return false;
  }
  log_changed(n, entries.front().index);
  check_config_append(n, entries);
  return true;
}

void Checker::check_config_append(const NodeView& n, const std::vector<core::Entry>& entries) {
  if (!n.up() || n.role() != core::Role::kLeader) return;
  bool own = false;
  for (const core::Entry& e : entries) {
    own = own || (e.type == core::EntryType::kConfig && e.term == n.term());
  }
  if (!own) return;
  // What the leader committed before appending is known now.
  observe_commits(n);
  for (const core::Entry& e : entries) {
    if (failed()) return;
    if (e.type != core::EntryType::kConfig || e.term != n.term()) continue;
    const core::Entry* before = n.log().config_before(e.index);
    if (before == nullptr || before->index <= committed_.size()) continue;
    fail("config-single-change",
         Cat("n", n.id(), " (leader of term ", n.term(), ") appends ", DescribeEntry(e), " ",
             core::Describe(e.config), " while ", DescribeEntry(*before), " ",
             core::Describe(before->config), " is not committed (committed through ",
             committed_.size(), ")"));
  }
}

const core::ClusterConfig& Checker::bootstrap(core::NodeId id) const {
  if (id <= bootstrap_.size() && bootstrap_[id - 1]) return *bootstrap_[id - 1];
  if (all_voters_.voters.size() != nodes_.size()) {
    auto& all = const_cast<core::ClusterConfig&>(all_voters_);
    all.voters.clear();
    for (const NodeView* v : nodes_) all.voters.push_back(v->id());
  }
  return all_voters_;
}

core::ClusterConfig Checker::committed_config_at(core::LogIndex index,
                                                 const core::ClusterConfig& bootstrap) const {
  auto it = std::upper_bound(committed_configs_.begin(), committed_configs_.end(), index,
                             [](core::LogIndex i, const auto& c) { return i < c.first; });
  return it == committed_configs_.begin() ? bootstrap : std::prev(it)->second;
}

core::ClusterConfig Checker::committed_config() const {
  return committed_configs_.empty() ? bootstrap(1) : committed_configs_.back().second;
}

core::ClusterConfig Checker::config_in(const LogView& log,
                                       const core::ClusterConfig& bootstrap) const {
  if (const core::Entry* e = log.latest_config()) return e->config;
  if (log.head_index() > 0) return committed_config_at(log.head_index(), this->bootstrap(1));
  return bootstrap;
}

template <class F>
bool Checker::quorum(const core::ClusterConfig& c, F holds) const {
  auto majority = [&](const std::vector<core::NodeId>& ids) {
    size_t n = 0;
    for (core::NodeId id : ids) n += holds(id) ? 1 : 0;
    return 2 * n > ids.size();
  };
  if (c.voters.empty()) return false;
  return majority(c.voters) && (c.voters_outgoing.empty() || majority(c.voters_outgoing));
}

void Checker::check_config_quorum(const NodeView& n) {
  if (leader_obs_.size() < nodes_.size()) leader_obs_.resize(nodes_.size());
  LeaderObs& obs = leader_obs_[n.id() - 1];
  const LogView& log = n.log();
  const core::LogIndex commit = n.commit_index();
  const bool same = obs.valid && obs.incarnation == n.incarnation() && obs.term == n.term();
  if (same && commit > obs.commit && commit > log.head_index()) {
    // The configurations in force during the step: the one at its start and
    // each one the leader appended since.
    std::vector<const core::ClusterConfig*> configs = {&obs.config};
    for (const core::Entry* e = log.latest_config(); e != nullptr && e->index > obs.last;
         e = log.config_before(e->index)) {
      configs.push_back(&e->config);
    }
    const core::Term term = log.term_at(commit);
    auto holds = [&](core::NodeId id) {
      return id >= 1 && id <= nodes_.size() && node(id).durably_holds(commit, term);
    };
    bool ok = false;
    for (const core::ClusterConfig* c : configs) ok = ok || quorum(*c, holds);
    if (!ok) {
      std::string holders;
      for (const NodeView* m : nodes_) {
        if (m->durably_holds(commit, term)) holders += Cat(" n", m->id());
      }
      fail("config-quorum",
           Cat("n", n.id(), " (leader of term ", n.term(), ") commits ", obs.commit, " -> ", commit,
               " but only", holders.empty() ? " no node" : holders, " hold ", commit, "/", term,
               " on disk: no quorum of ", core::Describe(*configs.back()),
               configs.size() > 1 ? Cat(" (nor of ", core::Describe(obs.config), ")") : ""));
      return;
    }
  }
  // The configuration changes only with the log.
  if (!same || obs.last != log.last_index() || obs.head != log.head_index()) {
    obs.config = config_of(n);
  }
  obs.valid = true;
  obs.incarnation = n.incarnation();
  obs.term = n.term();
  obs.commit = commit;
  obs.last = log.last_index();
  obs.head = log.head_index();
}

void Checker::read_asked(uint64_t ctx) {
  reads_[ctx] = {committed_.size(), now_};
}

void Checker::read_state(const NodeView& n, const core::ReadState& rs) {
  if (!rs.ok) return;
  auto it = reads_.find(rs.ctx);
  if (it == reads_.end()) return;
  ++reads_checked_;
  const auto [known, asked_at] = it->second;
  if (rs.index < known) {
    fail("read-index-safety", Cat("n", n.id(), " gets read index ", rs.index, " for read ", rs.ctx,
                                  " asked at t=", asked_at, ", when entries through ", known,
                                  " were already committed (a read there misses them)"));
  }
}

void Checker::before_write(const NodeView& n, const std::vector<core::Entry>& entries) {
  if (entries.empty()) return;
  const core::LogIndex first = entries.front().index;
  const core::LogIndex last = std::min<core::LogIndex>(n.log().last_index(), committed_.size());
  // Below the head there is nothing to remove (LogView::append refuses it).
  for (core::LogIndex i = std::max<core::LogIndex>(first, n.log().head_index() + 1); i <= last;
       ++i) {
    const core::Entry& old = *n.log().at(i);
    if (!(old == committed_[i - 1].entry)) continue;
    const size_t k = i - first;
    if (k >= entries.size() || !(entries[k] == old)) {
      fail("state-machine-safety",
           Cat("n", n.id(), " writes entries from ", first, " and so removes committed entry ",
               DescribeEntry(old), " from its log",
               k < entries.size() ? Cat(" (replaced by ", DescribeEntry(entries[k]), ")") : ""));
      return;
    }
  }
}

void Checker::log_changed(const NodeView& n, core::LogIndex from) {
  electable_dirty_ = true;
  const LogView& mine = n.log();
  for (const NodeView* other_ptr : nodes_) {
    const NodeView& other = *other_ptr;
    if (other.id() == n.id()) continue;
    const LogView& theirs = other.log();
    const core::LogIndex common = std::min(mine.last_index(), theirs.last_index());
    // A snapshot head counts as an entry: its prefix hash is the entries'
    // it covers. Below the higher head there is nothing to compare.
    const core::LogIndex head = std::max(mine.head_index(), theirs.head_index());
    for (core::LogIndex i = std::max<core::LogIndex>({from, 1, head}); i <= common; ++i) {
      if (mine.term_at(i) != theirs.term_at(i)) continue;
      if (mine.prefix_hash(i) == theirs.prefix_hash(i)) continue;
      std::string where;
      if (head > 0 && mine.prefix_hash(head) != theirs.prefix_hash(head)) {
        where = Cat("at or below ", head, " (covered by a snapshot)");
      } else {
        core::LogIndex d = head + 1;
        while (*mine.at(d) == *theirs.at(d)) ++d;
        where = Cat("at ", d, ": n", n.id(), " has ", DescribeEntry(*mine.at(d)), ", n", other.id(),
                    " has ", DescribeEntry(*theirs.at(d)));
      }
      fail("log-matching", Cat("n", n.id(), " and n", other.id(), " both have an entry ", i, "/",
                               mine.term_at(i), " but differ ", where));
      return;
    }
  }
}

void Checker::vote_granted(core::NodeId voter, core::Term term, core::NodeId candidate,
                           const char* how) {
  auto [it, inserted] = votes_.emplace(std::make_pair(voter, term), candidate);
  if (!inserted && it->second != candidate) {
    fail("vote-safety", Cat("n", voter, " votes for n", candidate, " in term ", term, " (", how,
                            ") after voting for n", it->second));
  }
}

void Checker::applied(const NodeView& n, const core::Entry& e) {
  if (e.index != n.applied() + 1) {
    fail("state-machine-safety", Cat("n", n.id(), " applies ", DescribeEntry(e), " after ",
                                     n.applied(), " (must be index after index)"));
    return;
  }
  const core::Entry* c = committed(e.index);
  if (c == nullptr) {
    fail("state-machine-safety", Cat("n", n.id(), " applies ", DescribeEntry(e),
                                     " though no node's commit index covers it"));
  } else if (!(*c == e)) {
    const Commit& first = committed_[e.index - 1];
    fail("state-machine-safety", Cat("n", n.id(), " applies ", DescribeEntry(e), " but ",
                                     DescribeEntry(*c), " was committed there (first seen by n",
                                     first.first_seen_by, " at t=", first.first_seen_at, ")"));
  }
}

void Checker::restarted(const NodeView& n) {
  commit_seen(n.id()) = n.durable_commit();
}

void Checker::snapshot_held(const NodeView& n, const core::SnapshotHead& head, bool decoded,
                            core::LogIndex state_index, core::Term state_term, uint64_t digest,
                            bool install) {
  const std::string what =
      Cat("n", n.id(), install ? " installs" : " takes", " snapshot ", head.index, "/", head.term);
  if (!decoded || state_index != head.index || state_term != head.term) {
    fail("snapshot-safety", Cat(what, " whose data is ",
                                decoded ? Cat("the state through ", state_index, "/", state_term)
                                        : std::string("no state")));
    return;
  }
  const core::Entry* c = committed(head.index);
  if (c == nullptr || c->term != head.term) {
    fail("snapshot-safety",
         Cat(what, " but ",
             c == nullptr ? Cat("only ", committed_.size(), " entries are committed")
                          : Cat(DescribeEntry(*c), " is committed there")));
    return;
  }
  if (digest != committed_hash_[head.index - 1]) {
    fail("snapshot-safety",
         Cat(what, " whose state is not the committed prefix's through ", head.index));
    return;
  }
  // Before the committed log's first config entry: the bootstrap members,
  // or none (a node that joined knows no configuration there, and its
  // snapshots, and those installed from it, carry an empty one).
  const bool before_configs =
      committed_configs_.empty() || committed_configs_.front().first > head.index;
  if (const core::ClusterConfig c = committed_config_at(head.index, bootstrap(1));
      head.config != c && !(before_configs && head.config == core::ClusterConfig{})) {
    fail("snapshot-safety", Cat(what, " with configuration ", core::Describe(head.config),
                                " but the committed log's is ", core::Describe(c)));
    return;
  }
  // An install replaces the whole log. In Raft it never takes away a
  // committed entry: a log holding one past the snapshot's head holds the
  // head too (log matching), and then nothing is installed (§7). A local
  // snapshot keeps the log after it.
  if (!install) return;
  const LogView& log = n.log();
  if (head.index < log.head_index()) {
    fail("state-machine-safety", Cat(what, " behind its own snapshot ", log.head_index(), "/",
                                     log.head_term(), " (its state goes back)"));
    return;
  }
  const core::LogIndex last = std::min<core::LogIndex>(log.last_index(), committed_.size());
  for (core::LogIndex i = std::max(head.index, log.head_index()) + 1; i <= last; ++i) {
    if (*log.at(i) == committed_[i - 1].entry) {
      fail("state-machine-safety", Cat(what, " and so removes committed entry ",
                                       DescribeEntry(*log.at(i)), " from its log"));
      return;
    }
  }
}

void Checker::state_is(const NodeView& n, core::LogIndex index, uint64_t digest) {
  if (index == 0) return;
  if (index > committed_.size() || digest != committed_hash_[index - 1]) {
    fail("state-machine-safety", Cat("n", n.id(), " has applied through ", index,
                                     " a state that is not the committed prefix's"));
  }
}

bool Checker::leader_seen(const NodeView& n, core::Term term) {
  auto [it, inserted] = leaders_.emplace(term, Leader{n.id(), now_});
  if (!inserted && it->second.id != n.id()) {
    fail("election-safety",
         Cat("n", n.id(), " and n", it->second.id, " are both leaders of term ", term));
    return false;
  }
  return true;
}

void Checker::after_step() {
  for (const NodeView* n : nodes_) {
    if (failed()) return;
    if (!n->up()) continue;
    if (!n->ok()) {
      fail("core-error", Cat("n", n->id(), " stopped: ", n->status().ToString()));
      return;
    }
    observe_commits(*n);
    if (n->role() != core::Role::kLeader) continue;
    if (!leader_seen(*n, n->term())) return;
    check_leader_completeness(*n);
    if (!failed()) check_config_quorum(*n);
  }
  if (!failed()) check_electable();
  if (!failed()) check_heartbeats();
}

void Checker::proposal_accepted(const core::ProposalId& id, const std::string& payload) {
  if (const core::Entry* c = committed(id.index)) {
    check_proposal(id, payload, *c);
  } else {
    proposals_[id.index].emplace_back(id.term, payload);
  }
}

void Checker::check_proposal(const core::ProposalId& id, const std::string& payload,
                             const core::Entry& committed) {
  if (committed.term != id.term) return;  // dropped: another term's entry won the index
  if (committed.type == core::EntryType::kCommand && committed.data == payload) return;
  fail("proposal-id", Cat("'", payload, "' was given id ", id.index, "/", id.term, " but ",
                          DescribeEntry(committed), " is committed there"));
}

void Checker::heartbeat_sent(const NodeView& n, core::Term term, uint64_t seq) {
  heartbeats_.push_back({n.id(), n.incarnation(), term, seq, now_});
}

void Checker::check_heartbeats() {
  if (acks_seen_.size() < nodes_.size()) acks_seen_.resize(nodes_.size(), {0, 0});
  for (const NodeView* n : nodes_) {
    if (!n->up() || n->role() != core::Role::kLeader) continue;
    auto& [term, ack] = acks_seen_[n->id() - 1];
    const uint64_t now_ack = n->last_heartbeat_ack();
    if (term == n->term() && now_ack < ack) {
      fail("read-index-safety", Cat("n", n->id(), " last_heartbeat_ack went back from ", ack,
                                    " to ", now_ack, " in term ", term));
      return;
    }
    term = n->term();
    ack = now_ack;
  }
  std::erase_if(heartbeats_, [&](const Heartbeat& h) {
    const NodeView& n = node(h.node);
    if (!n.up() || n.incarnation() != h.incarnation || n.term() != h.term) return true;
    if (n.last_heartbeat_ack() < h.seq) return false;
    // Acknowledged: a quorum was still in h.term after the call.
    ++heartbeats_acked_;
    for (auto it = leaders_.upper_bound(h.term); it != leaders_.end(); ++it) {
      if (it->second.since < h.sent_at) {
        fail("read-index-safety",
             Cat("n", h.node, " (term ", h.term, ") has heartbeat ", h.seq, " of t=", h.sent_at,
                 " acknowledged, but n", it->second.id, " was elected in term ", it->first,
                 " at t=", it->second.since));
        break;
      }
    }
    return true;
  });
}

void Checker::check_electable() {
  // A function of the logs and the committed entries only: while neither
  // changed, it holds as it did.
  if (!electable_dirty_) return;
  electable_dirty_ = false;
  const core::LogIndex committed = committed_.size();
  if (committed == 0) return;
  // Whether `voter` would find `candidate`'s log at least as up-to-date as
  // its own (§5.4.1). Down nodes count with their durable logs: they vote
  // again once restarted.
  auto would_vote = [](const LogView& candidate, const LogView& voter) {
    const core::Term ct = candidate.term_at(candidate.last_index());
    const core::Term vt = voter.term_at(voter.last_index());
    return ct > vt || (ct == vt && candidate.last_index() >= voter.last_index());
  };
  for (const NodeView* n : nodes_) {
    const LogView& log = n->log();
    if (has_committed_prefix(log, committed)) continue;
    // A candidate counts its votes by the configuration in its own log.
    const core::ClusterConfig config = config_of(*n);
    if (!config.is_voter(n->id())) continue;
    auto votes = [&](core::NodeId id) {
      return id >= 1 && id <= nodes_.size() && would_vote(log, node(id).log());
    };
    if (!quorum(config, votes)) continue;
    std::string voters;
    for (const NodeView* m : nodes_) {
      if (config.is_voter(m->id()) && would_vote(log, m->log())) voters += Cat(" n", m->id());
    }
    const core::LogIndex i = first_missing_commit(log);
    const Commit& c = committed_[i - 1];
    fail(
        "electable-without-commit",
        Cat("n", n->id(), " lacks committed entry ", DescribeEntry(c.entry), " (first seen by n",
            c.first_seen_by, " at t=", c.first_seen_at, "; its log ",
            i <= log.last_index() ? Cat("has ", DescribeEntry(*log.at(i))) : Cat("ends at ", i - 1),
            ") yet its log is as up-to-date as that of a quorum of ", core::Describe(config), ":",
            voters, " would vote for it"));
    return;
  }
}

void Checker::observe_commits(const NodeView& n) {
  core::LogIndex& seen = commit_seen(n.id());
  const core::LogIndex commit = n.commit_index();
  if (commit < seen) {
    fail("commit-monotonic",
         Cat("n", n.id(), " commit index went back from ", seen, " to ", commit));
    return;
  }
  const core::LogIndex head = n.log().head_index();
  if (commit < head) {
    fail("commit-monotonic",
         Cat("n", n.id(), " commit index ", commit, " is below its snapshot's head ", head));
    return;
  }
  if (commit > n.log().last_index()) {
    fail("state-machine-safety", Cat("n", n.id(), " commit index ", commit,
                                     " is beyond its log (last ", n.log().last_index(), ")"));
    return;
  }
  if (commit > seen && n.role() == core::Role::kLeader && n.log().term_at(commit) != n.term()) {
    ++old_term_commits_;
  }
  // Entries at or below the head are the committed ones (snapshot_held()
  // checked it): only the commit's term bound is news.
  if (seen < head && head <= committed_.size()) record_commit(n, committed_[head - 1].entry);
  for (core::LogIndex i = std::max(seen, head) + 1; i <= commit && !failed(); ++i) {
    record_commit(n, *n.log().at(i));
  }
  seen = commit;
}

void Checker::record_commit(const NodeView& n, const core::Entry& e) {
  const core::Term term = n.term();
  if (e.index <= committed_.size()) {
    Commit& c = committed_[e.index - 1];
    if (!(c.entry == e)) {
      fail("state-machine-safety",
           Cat("n", n.id(), " commits ", DescribeEntry(e), " but n", c.first_seen_by, " committed ",
               DescribeEntry(c.entry), " at t=", c.first_seen_at));
      return;
    }
    if (term >= c.term_bound) return;
    c.term_bound = term;
  } else {
    // Commit indexes only grow from what was already seen, so this is the next one.
    committed_.push_back({e, term, n.id(), now_});
    if (e.type == core::EntryType::kConfig) committed_configs_.emplace_back(e.index, e.config);
    electable_dirty_ = true;
    if (auto it = proposals_.find(e.index); it != proposals_.end()) {
      for (const auto& [t, payload] : it->second) check_proposal({t, e.index}, payload, e);
      proposals_.erase(it);
    }
    committed_hash_.push_back(ChainHash(committed_hash_.empty() ? 0 : committed_hash_.back(), e));
    bound_.push_back(UINT64_MAX);
  }
  for (size_t i = e.index; i > 0 && bound_[i - 1] > term; --i) bound_[i - 1] = term;
}

void Checker::check_leader_completeness(const NodeView& leader) {
  const core::Term term = leader.term();
  // Every entry committed in a term below this one: a prefix, as bound_ is sorted.
  const core::LogIndex must_have =
      std::lower_bound(bound_.begin(), bound_.end(), term) - bound_.begin();
  if (must_have == 0) return;
  const LogView& log = leader.log();
  if (has_committed_prefix(log, must_have)) return;
  const core::LogIndex i = first_missing_commit(log);
  const Commit& c = committed_[i - 1];
  fail("leader-completeness",
       Cat("n", leader.id(), " leads term ", term, " but its log ",
           i <= log.last_index() ? Cat("has ", DescribeEntry(*log.at(i))) : Cat("ends at ", i - 1),
           " where ", DescribeEntry(c.entry), " was committed in term <= ", bound_[i - 1],
           " (first seen by n", c.first_seen_by, " at t=", c.first_seen_at, ")"));
}

}  // namespace raftlog::sim

namespace raftlog::sim {

bool Checker::has_committed_prefix(const LogView& log, core::LogIndex index) const {
  if (index <= log.head_index()) return true;
  return log.last_index() >= index && log.prefix_hash(index) == committed_hash_[index - 1];
}

core::LogIndex Checker::first_missing_commit(const LogView& log) const {
  core::LogIndex i = log.head_index() + 1;
  while (i <= log.last_index() && i <= committed_.size() && *log.at(i) == committed_[i - 1].entry) {
    ++i;
  }
  return i;
}

}  // namespace raftlog::sim
