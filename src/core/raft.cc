// The Raft rules. Section numbers refer to the Raft paper (Ongaro and
// Ousterhout, "In Search of an Understandable Consensus Algorithm") and the
// thesis (Ongaro, "Consensus: Bridging Theory and Practice").
#include "raftlog/core/raft.h"

#include <algorithm>
#include <string>

#include "core/progress.h"
#include "core/quorum.h"
#include "core/raft_log.h"

namespace raftlog::core {

// Deliberate bugs, compiled in only by the simulator's checker tests
// (tests/sim) to prove that the checker catches them. Never in a real build.
#ifdef RAFTLOG_BUG_COMMIT_OLD_TERM
constexpr bool kBugCommitOldTerm = true;
#else
constexpr bool kBugCommitOldTerm = false;
#endif
#ifdef RAFTLOG_BUG_VOTE_WITHOUT_UPTODATE_CHECK
constexpr bool kBugVoteWithoutUpToDateCheck = true;
#else
constexpr bool kBugVoteWithoutUpToDateCheck = false;
#endif
#ifdef RAFTLOG_BUG_VOTE_REPLY_BEFORE_PERSIST
constexpr bool kBugVoteReplyBeforePersist = true;
#else
constexpr bool kBugVoteReplyBeforePersist = false;
#endif
#ifdef RAFTLOG_BUG_APPEND_REPLY_BEFORE_PERSIST
constexpr bool kBugAppendReplyBeforePersist = true;
#else
constexpr bool kBugAppendReplyBeforePersist = false;
#endif
// A candidate wins with its own vote and any one other (a minority in 5 or 7).
#ifdef RAFTLOG_BUG_WIN_WITH_ONE_VOTE
constexpr bool kBugWinWithOneVote = true;
#else
constexpr bool kBugWinWithOneVote = false;
#endif
// A follower takes entries without checking the entry before them (§5.3).
#ifdef RAFTLOG_BUG_APPEND_WITHOUT_PREV_CHECK
constexpr bool kBugAppendWithoutPrevCheck = true;
#else
constexpr bool kBugAppendWithoutPrevCheck = false;
#endif
// A follower takes the leader's commit index even when it is lower (a
// delayed AppendEntries moves its commit index back).
#ifdef RAFTLOG_BUG_COMMIT_GOES_BACK
constexpr bool kBugCommitGoesBack = true;
#else
constexpr bool kBugCommitGoesBack = false;
#endif
// The leader counts a heartbeat as acknowledged by a quorum when it sends it.
#ifdef RAFTLOG_BUG_HEARTBEAT_ACK_AT_ONCE
constexpr bool kBugHeartbeatAckAtOnce = true;
#else
constexpr bool kBugHeartbeatAckAtOnce = false;
#endif
// Every 50th proposal is told an index one past its own.
#ifdef RAFTLOG_BUG_WRONG_PROPOSAL_ID
constexpr bool kBugWrongProposalId = true;
#else
constexpr bool kBugWrongProposalId = false;
#endif
// A follower installs a snapshot even when it is older than its commit
// index (its log goes back behind what it committed and applied).
#ifdef RAFTLOG_BUG_INSTALL_OLD_SNAPSHOT
constexpr bool kBugInstallOldSnapshot = true;
#else
constexpr bool kBugInstallOldSnapshot = false;
#endif

// A configuration takes effect only once committed (instead of once in
// the log): a leader counts a quorum of a configuration no longer in force.
#ifdef RAFTLOG_BUG_CONFIG_AT_COMMIT
constexpr bool kBugConfigAtCommit = true;
#else
constexpr bool kBugConfigAtCommit = false;
#endif
// While joint, a commit needs only a majority of the new voters.
#ifdef RAFTLOG_BUG_JOINT_NEW_MAJORITY_ONLY
constexpr bool kBugJointNewMajorityOnly = true;
#else
constexpr bool kBugJointNewMajorityOnly = false;
#endif

Status Config::validate() const {
  if (id == kNoNode) return Status::InvalidInput("config: id must be positive");
  if (heartbeat_ticks < 1) return Status::InvalidInput("config: heartbeat_ticks must be >= 1");
  if (election_ticks <= heartbeat_ticks) {
    return Status::InvalidInput("config: election_ticks must be > heartbeat_ticks");
  }
  if (retransmit_ticks < 0) return Status::InvalidInput("config: retransmit_ticks must be >= 0");
  if (max_entries_per_msg == 0 || max_bytes_per_msg == 0) {
    return Status::InvalidInput("config: max_entries_per_msg and max_bytes_per_msg must be > 0");
  }
  if (max_inflight_msgs == 0 || max_inflight_bytes == 0) {
    return Status::InvalidInput("config: max_inflight_msgs and max_inflight_bytes must be > 0");
  }
  if (max_uncommitted_entries == 0) {
    return Status::InvalidInput("config: max_uncommitted_entries must be > 0");
  }
  if (snapshot_chunk_bytes == 0) {
    return Status::InvalidInput("config: snapshot_chunk_bytes must be > 0");
  }
  if (catch_up_ticks < 0) return Status::InvalidInput("config: catch_up_ticks must be >= 0");
  return Status::Ok();
}

class Raft::Impl {
 public:
  Impl(const Config& config, const LogReader* log, const HardState& hs,
       const ClusterConfig& members);

  // --- inputs ---
  void tick();
  Status step(const Message& m);
  Status propose_command(std::string data, ProposalId* id);
  Status propose_config(const ClusterConfig& target, ProposalId* id);
  ConfigChange config_change() const;
  ClusterConfig config_at(LogIndex index) const;
  Status transfer_leadership(NodeId target);
  Status read_index(uint64_t ctx);
  Status heartbeat(uint64_t* seq);
  Status start_election();
  void on_persisted(LogIndex index, Term term);
  Status on_log_compacted(LogIndex index, Term term);
  void on_snapshot_installed(const SnapshotHead& snapshot);
  void on_snapshot_failed(const SnapshotHead& snapshot);
  bool has_ready() const;
  Ready take_ready();

  // After every input: a failed storage read stops the node.
  void check_log_error() {
    if (error_.ok() && !log_.error().ok()) {
      error_ = log_.error();
      pending_ = Ready();
    }
  }

  Config cfg_;
  RaftLog log_;
  // The configuration in force (thesis §4.1: the latest one in the log,
  // committed or not); what it is made of: the one in force at the log
  // head (the snapshot's, or the bootstrap members), then every
  // configuration entry above the head.
  ClusterConfig members_;
  ClusterConfig base_config_;
  std::vector<std::pair<LogIndex, ClusterConfig>> configs_;
  Status error_;

  Role role_ = Role::kFollower;
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId leader_ = kNoNode;
  LogIndex commit_ = 0;
  LogIndex applied_ = 0;
  HardState saved_hs_;  // the hard state last handed out (or loaded)

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  uint64_t rng_state_ = 0;

  std::map<NodeId, bool> votes_;         // candidates and pre-candidates
  std::map<NodeId, Progress> progress_;  // leaders: every member but this node
  uint64_t seq_ = 0;                     // heartbeat sequence, carried by every AppendEntries
  uint64_t heartbeat_ack_ = 0;           // highest seq a quorum echoed in this term
  bool flush_pending_ = false;           // leaders: something new to send to followers

  // Followers: the snapshot being received (chunks handed out up to
  // receive_offset_), and whether its last chunk was handed out and the
  // runtime is installing it (on_snapshot_installed / _failed). While
  // installing, AppendEntries are ignored and the node does not stand for
  // election: its log is about to be replaced.
  std::optional<SnapshotHead> receiving_;
  uint64_t receive_offset_ = 0;
  bool installing_ = false;
  NodeId snapshot_from_ = kNoNode;

  // Leaders: the transfer in progress, for how many ticks, and whether the
  // target was told to stand (TimeoutNow).
  NodeId transfer_target_ = kNoNode;
  int transfer_elapsed_ = 0;
  bool timeout_now_sent_ = false;

  // Leaders: a membership change waiting for its new voters to catch up
  // (the sum of their match indexes, and for how long it has not grown).
  struct CatchUp {
    ClusterConfig target;
    LogIndex progress = 0;
    int stalled_ticks = 0;
  };
  std::optional<CatchUp> catch_up_;

  // Leaders: reads waiting for a heartbeat round (sequence number seq) to
  // confirm this node still leads; from: who asked (this node or a
  // follower).
  struct PendingRead {
    uint64_t ctx;
    LogIndex index;
    uint64_t seq;
    NodeId from;
  };
  std::deque<PendingRead> reads_;
  bool read_round_pending_ = false;

  Ready pending_;

 private:
  // --- role changes ---
  // reset_timer=false for a term learned from a vote request: only hearing
  // the leader or granting a vote restarts the election timer (§5.2), so a
  // candidate that cannot win does not hold back the ones that can.
  void become_follower(Term term, NodeId leader, bool reset_timer = true);
  void become_pre_candidate();
  void become_candidate(bool transfer = false);
  void become_leader();
  void campaign();
  void set_role(Role role);
  void set_leader(NodeId leader);
  void reset_election_timer();
  uint64_t next_random();
  // A voter of the configuration in force, or of the last committed one:
  // a leader that appended a configuration without itself and lost
  // office before that one committed may hold the only log the others
  // can vote for (thesis §4.2.2: it may stand and lead again, and steps
  // down once the new configuration commits). Without it a joint
  // cluster whose outgoing half needs this node's vote stays leaderless.
  bool promotable() const {
    return members_.is_voter(cfg_.id) || config_at(commit_).is_voter(cfg_.id);
  }

  // --- message handling ---
  void handle_lower_term(const Message& m);
  void handle_request_vote(const Message& m, const RequestVote& rv);
  void handle_vote_reply(const Message& m, const RequestVoteReply& r);
  void handle_append_entries(const Message& m, const AppendEntries& ae);
  // A message from this term's leader: follow it (and restart the election timer).
  void follow(NodeId leader);
  // A reply from a follower (leaders only; nullptr otherwise, or for a
  // non-member): it is active, and echoes heartbeat `seq`.
  Progress* reply_from(NodeId from, uint64_t seq);
  void handle_append_reply(const Message& m, const AppendEntriesReply& r);
  void handle_install_snapshot(const Message& m, const InstallSnapshot& is);
  void handle_install_reply(const Message& m, const InstallSnapshotReply& r);
  bool in_leader_lease() const;

  // --- configuration ---
  const ClusterConfig& latest_config() const {
    return configs_.empty() ? base_config_ : configs_.back().second;
  }
  LogIndex latest_config_index() const { return configs_.empty() ? 0 : configs_.back().first; }
  // The configuration in force changed (or may have): take it on.
  void update_members(LogIndex index);
  // Leaders, after every input: the next step of a membership change
  // (joint after catch-up, final after joint), and stepping down once a
  // configuration without this node as a voter is committed.
  void maintain();
  void tick_catch_up();
  // A new voter may vote once it answered this leader's appends (it is
  // reachable and its log matches) and is within catch_up_lag entries.
  bool caught_up(NodeId id) const;
  void abort_catch_up(const std::string& why);
  void append_config(const ClusterConfig& config, ProposalId* id);
  void handle_timeout_now(const Message& m);
  void maybe_send_timeout_now();
  void abort_transfer(const std::string& why);
  void serve_read(uint64_t ctx, NodeId from);
  void answer_read(uint64_t ctx, NodeId from, LogIndex index, bool ok);
  void release_reads();

  // --- leader ---
  void append_local(EntryType type, std::string data, const ClusterConfig* config = nullptr);
  bool maybe_commit();
  LogIndex match_of(NodeId id) const;
  void flush();
  // Sends the next AppendEntries the window allows; true if it carried
  // entries and another may follow.
  bool send_append(NodeId to, Progress& pr);
  // An empty AppendEntries at the match index: heartbeat and commit news.
  void send_anchored(NodeId to, Progress& pr);
  // kSnapshot: the next chunk, if none is out and the throttle allows.
  void send_snapshot_chunk(NodeId to, Progress& pr);
  void send_heartbeats();
  void update_heartbeat_ack();
  void tick_leader();

  void send(NodeId to, Message::Body body);
  int retransmit_ticks() const {
    return cfg_.retransmit_ticks > 0 ? cfg_.retransmit_ticks : std::max(2, cfg_.election_ticks / 2);
  }
};

// ---------------------------------------------------------------------------
// Construction and inputs

Raft::Impl::Impl(const Config& config, const LogReader* log, const HardState& hs,
                 const ClusterConfig& members)
    : cfg_(config), log_(log), base_config_(members) {
  error_ = cfg_.validate();
  if (error_.ok()) error_ = log_.error();
  SnapshotHead snap;
  if (log->snapshot(&snap).ok() && !snap.config.voters.empty()) base_config_ = snap.config;
  std::vector<Entry> found;
  if (Status s = log->config_entries(&found); !s.ok() && error_.ok()) error_ = s;
  for (Entry& e : found) configs_.emplace_back(e.index, std::move(e.config));
  members_ = latest_config();
  term_ = hs.term;
  vote_ = hs.voted_for;
  // A commit index beyond the durable log would be a lie; the store clamps it.
  commit_ = std::min(std::max(hs.commit, log_.head_index()), log_.last_index());
  applied_ = std::max(std::min(cfg_.applied, commit_), log_.head_index());
  saved_hs_ = HardState{term_, vote_, commit_};
  rng_state_ = cfg_.random_seed ^ (cfg_.id * 0x9E3779B97F4A7C15ULL);
  reset_election_timer();
}

void Raft::Impl::tick() {
  if (!error_.ok()) return;
  if (role_ == Role::kLeader) {
    tick_leader();
  } else {
    ++election_elapsed_;
    if (promotable() && !installing_ && election_elapsed_ >= randomized_election_timeout_) {
      campaign();
    }
  }
  maintain();
  check_log_error();
}

Status Raft::Impl::step(const Message& m) {
  if (!error_.ok()) return error_;
  if (m.to != cfg_.id) {
    return Status::InvalidInput("message for node " + std::to_string(m.to) + " stepped into node " +
                                std::to_string(cfg_.id));
  }
  if (m.from == kNoNode || m.from == cfg_.id) {
    return Status::InvalidInput("message from invalid sender " + std::to_string(m.from));
  }

  const auto* rv = std::get_if<RequestVote>(&m.body);
  const auto* rv_reply = std::get_if<RequestVoteReply>(&m.body);
  if (m.term > term_) {
    if (rv != nullptr && !rv->transfer && in_leader_lease()) {
      // §6 / thesis §4.2.3: a node that hears from a live leader ignores
      // vote requests, so a removed or partitioned node cannot disrupt it.
      return Status::Ok();
    }
    // A pre-vote request carries the term its sender would stand in, and a
    // granted pre-vote echoes it: neither changes anyone's term.
    bool future_term = (rv != nullptr && rv->pre_vote) ||
                       (rv_reply != nullptr && rv_reply->pre_vote && rv_reply->granted);
    if (!future_term) {
      bool from_leader = std::holds_alternative<AppendEntries>(m.body) ||
                         std::holds_alternative<InstallSnapshot>(m.body) ||
                         std::holds_alternative<TimeoutNow>(m.body);
      become_follower(m.term, from_leader ? m.from : kNoNode, /*reset_timer=*/rv == nullptr);
    }
  } else if (m.term < term_) {
    handle_lower_term(m);
    check_log_error();
    return Status::Ok();
  }

  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, RequestVote>) {
          handle_request_vote(m, body);
        } else if constexpr (std::is_same_v<T, RequestVoteReply>) {
          handle_vote_reply(m, body);
        } else if constexpr (std::is_same_v<T, AppendEntries>) {
          handle_append_entries(m, body);
        } else if constexpr (std::is_same_v<T, AppendEntriesReply>) {
          handle_append_reply(m, body);
        } else if constexpr (std::is_same_v<T, InstallSnapshot>) {
          handle_install_snapshot(m, body);
        } else if constexpr (std::is_same_v<T, InstallSnapshotReply>) {
          handle_install_reply(m, body);
        } else if constexpr (std::is_same_v<T, TimeoutNow>) {
          handle_timeout_now(m);
        } else if constexpr (std::is_same_v<T, TransferRequest>) {
          // A follower asks to take over: a transfer to it, if this node
          // leads and it may (a voter); otherwise it finds out by timing out.
          if (role_ == Role::kLeader) (void)transfer_leadership(m.from);
        } else if constexpr (std::is_same_v<T, ReadIndexRequest>) {
          if (role_ == Role::kLeader) {
            serve_read(body.ctx, m.from);
          } else {
            send(m.from, ReadIndexReply{body.ctx, 0, false});
          }
        } else if constexpr (std::is_same_v<T, ReadIndexReply>) {
          if (m.from == leader_) pending_.read_states.push_back({body.ctx, body.index, body.ok});
        }
      },
      m.body);
  maintain();
  check_log_error();
  return error_;
}

Status Raft::Impl::propose_command(std::string data, ProposalId* id) {
  if (!error_.ok()) return error_;
  if (role_ != Role::kLeader) return Status::NotLeader(leader_);
  if (transfer_target_ != kNoNode) {
    return Status::Busy("leadership is being handed to node " + std::to_string(transfer_target_));
  }
  if (log_.last_index() - commit_ >= cfg_.max_uncommitted_entries) {
    return Status::Busy("too many uncommitted entries (" +
                        std::to_string(log_.last_index() - commit_) + ")");
  }
  append_local(EntryType::kCommand, std::move(data));
  if (id != nullptr) {
    const LogIndex off = kBugWrongProposalId && log_.last_index() % 50 == 0 ? 1 : 0;
    *id = ProposalId{term_, log_.last_index() + off};
  }
  return Status::Ok();
}

namespace {

bool SameSet(std::vector<NodeId> a, std::vector<NodeId> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

bool Contains(const std::vector<NodeId>& v, NodeId id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

Status CheckTarget(const ClusterConfig& target) {
  if (target.voters.empty())
    return Status::InvalidInput("a configuration needs at least one voter");
  if (!target.voters_outgoing.empty()) {
    return Status::InvalidInput(
        "the joint phase is the leader's to add: name only voters and learners");
  }
  std::vector<NodeId> all = target.voters;
  all.insert(all.end(), target.learners.begin(), target.learners.end());
  std::sort(all.begin(), all.end());
  if (all.front() == kNoNode) return Status::InvalidInput("node id 0 is not a node");
  if (auto dup = std::adjacent_find(all.begin(), all.end()); dup != all.end()) {
    return Status::InvalidInput("node " + std::to_string(*dup) +
                                " is named twice (a node is a voter or a learner, once)");
  }
  return Status::Ok();
}

}  // namespace

Status Raft::Impl::propose_config(const ClusterConfig& target, ProposalId* id) {
  if (!error_.ok()) return error_;
  if (role_ != Role::kLeader) return Status::NotLeader(leader_);
  Status s = CheckTarget(target);
  if (!s.ok()) return s;
  if (transfer_target_ != kNoNode) {
    return Status::Busy("leadership is being handed to node " + std::to_string(transfer_target_));
  }
  const ConfigChange now = config_change();
  if (now.phase != ConfigChange::Phase::kNone) {
    return Status::Busy(std::string("a configuration change is already in progress (") +
                        PhaseName(now.phase) + " phase)");
  }
  if (log_.term(commit_) != term_) {
    // Thesis §4.1 erratum: a change waits for the new leader's first commit.
    return Status::Busy("this leader has not committed an entry of its term yet");
  }
  if (id != nullptr) *id = ProposalId{};
  std::vector<NodeId> new_voters;
  for (NodeId v : target.voters) {
    if (!Contains(members_.voters, v)) new_voters.push_back(v);
  }
  if (!new_voters.empty()) {
    // Catch-up: the new voters receive the log as learners first.
    ClusterConfig staging = members_;
    staging.context = target.context;
    for (NodeId v : new_voters) {
      if (!Contains(staging.learners, v)) staging.learners.push_back(v);
    }
    catch_up_ = CatchUp{target, 0, 0};
    if (staging != members_) append_config(staging, id);
  } else if (SameSet(target.voters, members_.voters)) {
    append_config(target, id);  // learners (or the context) only: no quorum changes
  } else {
    ClusterConfig joint = target;
    joint.voters_outgoing = members_.voters;
    append_config(joint, id);
  }
  maintain();
  check_log_error();
  return error_;
}

void Raft::Impl::append_config(const ClusterConfig& config, ProposalId* id) {
  append_local(EntryType::kConfig, std::string(), &config);
  if (id != nullptr) *id = ProposalId{term_, log_.last_index()};
}

ConfigChange Raft::Impl::config_change() const {
  ConfigChange c;
  if (catch_up_) {
    c.phase = ConfigChange::Phase::kCatchUp;
    c.target = catch_up_->target;
    for (NodeId v : c.target.voters) {
      if (Contains(members_.voters, v)) continue;
      auto it = progress_.find(v);
      const LogIndex match = it == progress_.end() ? 0 : it->second.match;
      c.behind.emplace_back(v, log_.last_index() - std::min(match, log_.last_index()));
    }
  } else if (members_.joint()) {
    c.phase = ConfigChange::Phase::kJoint;
    c.target = members_;
    c.target.voters_outgoing.clear();
  } else if (latest_config_index() > commit_) {
    c.phase = ConfigChange::Phase::kFinal;
    c.target = members_;
  }
  return c;
}

ClusterConfig Raft::Impl::config_at(LogIndex index) const {
  for (auto it = configs_.rbegin(); it != configs_.rend(); ++it) {
    if (it->first <= index) return it->second;
  }
  return base_config_;
}

void Raft::Impl::update_members(LogIndex index) {
  const ClusterConfig* now = &latest_config();
  if (kBugConfigAtCommit) {
    now = &base_config_;
    for (auto it = configs_.rbegin(); it != configs_.rend(); ++it) {
      if (it->first <= commit_) {
        now = &it->second;
        break;
      }
    }
  }
  if (*now == members_) return;
  members_ = *now;
  pending_.events.emplace_back(ConfigChanged{members_, index, std::string()});
  if (role_ != Role::kLeader) return;
  for (NodeId id : members_.members()) {
    if (id != cfg_.id && progress_.find(id) == progress_.end()) {
      progress_[id].become_probe(log_.last_index() + 1);
    }
  }
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = members_.is_member(it->first) ? std::next(it) : progress_.erase(it);
  }
  if (transfer_target_ != kNoNode && !members_.is_voter(transfer_target_)) {
    abort_transfer("node " + std::to_string(transfer_target_) + " is no longer a voter");
  }
  // Another quorum may already hold more, or have echoed a newer heartbeat.
  update_heartbeat_ack();
  if (maybe_commit()) flush_pending_ = true;
  flush_pending_ = true;
}

void Raft::Impl::maintain() {
  if (kBugConfigAtCommit) update_members(latest_config_index());
  if (role_ != Role::kLeader || !error_.ok()) return;
  const bool committed = latest_config_index() <= commit_;
  if (!committed) return;
  if (members_.joint()) {
    // The joint configuration is committed: the final one follows (also
    // when a new leader finds a committed joint one in its log).
    ClusterConfig final_config = members_;
    final_config.voters_outgoing.clear();
    append_config(final_config, nullptr);
    return;
  }
  if (!members_.is_voter(cfg_.id)) {
    // Thesis §4.2.2: a leader that is not a voter of the committed
    // configuration steps down. The most up-to-date voter is told to stand
    // at once, so the cluster need not wait for an election timeout.
    NodeId best = kNoNode;
    for (const auto& [id, pr] : progress_) {
      if (members_.is_voter(id) && pr.match == log_.last_index()) best = id;
    }
    if (best != kNoNode) send(best, TimeoutNow{});
    become_follower(term_, kNoNode);
    return;
  }
  if (catch_up_) {
    for (NodeId v : catch_up_->target.voters) {
      if (!Contains(members_.voters, v) && !caught_up(v)) return;
    }
    ClusterConfig joint = catch_up_->target;
    joint.voters_outgoing = members_.voters;
    catch_up_.reset();
    append_config(joint, nullptr);
  }
}

void Raft::Impl::tick_catch_up() {
  if (!catch_up_) return;
  LogIndex sum = 0;
  std::string behind;
  for (NodeId v : catch_up_->target.voters) {
    if (Contains(members_.voters, v)) continue;
    auto it = progress_.find(v);
    const LogIndex match = it == progress_.end() ? 0 : it->second.match;
    sum += match;
    if (!caught_up(v)) {
      if (!behind.empty()) behind += "; ";
      behind += "node " + std::to_string(v) +
                " is not caught up: " + std::to_string(log_.last_index() - match) +
                " entries behind";
    }
  }
  if (sum > catch_up_->progress) {
    catch_up_->progress = sum;
    catch_up_->stalled_ticks = 0;
    return;
  }
  const int limit = cfg_.catch_up_ticks > 0 ? cfg_.catch_up_ticks : 10 * cfg_.election_ticks;
  if (++catch_up_->stalled_ticks >= limit) {
    abort_catch_up((behind.empty() ? std::string("no progress") : behind) + " (no progress for " +
                   std::to_string(limit) + " ticks)");
  }
}

bool Raft::Impl::caught_up(NodeId id) const {
  auto it = progress_.find(id);
  return it != progress_.end() && it->second.state == Progress::State::kReplicate &&
         it->second.match + cfg_.catch_up_lag >= log_.last_index();
}

void Raft::Impl::abort_catch_up(const std::string& why) {
  catch_up_.reset();
  // The learners added for the change stay learners.
  pending_.events.emplace_back(ConfigChanged{members_, latest_config_index(), why});
}

Status Raft::Impl::transfer_leadership(NodeId target) {
  if (!error_.ok()) return error_;
  if (role_ != Role::kLeader) {
    if (target != cfg_.id) {
      return Status::InvalidInput("only the leader hands leadership to another node");
    }
    if (!promotable()) return Status::InvalidInput("this node is not a voter");
    if (leader_ == kNoNode) return Status::NotLeader(kNoNode);
    send(leader_, TransferRequest{});
    return Status::Ok();
  }
  if (target == cfg_.id) return Status::Ok();  // nothing to hand over
  if (!members_.is_voter(target)) {
    return Status::InvalidInput("node " + std::to_string(target) + " is not a voter");
  }
  if (transfer_target_ == target) return Status::Ok();
  if (transfer_target_ != kNoNode) {
    return Status::Busy("leadership is being handed to node " + std::to_string(transfer_target_));
  }
  transfer_target_ = target;
  transfer_elapsed_ = 0;
  timeout_now_sent_ = false;
  // A target behind is sent what it lacks now, not after a retransmit
  // timeout: every tick of the transfer is a tick without proposals.
  if (Progress& pr = progress_[target];
      pr.state == Progress::State::kReplicate && pr.match < log_.last_index()) {
    pr.become_probe(pr.match + 1);
  }
  maybe_send_timeout_now();
  flush_pending_ = true;  // brings the target up to date
  check_log_error();
  return error_;
}

void Raft::Impl::maybe_send_timeout_now() {
  if (transfer_target_ == kNoNode || timeout_now_sent_) return;
  auto it = progress_.find(transfer_target_);
  if (it == progress_.end() || it->second.match < log_.last_index()) return;
  timeout_now_sent_ = true;
  send(transfer_target_, TimeoutNow{});
}

void Raft::Impl::abort_transfer(const std::string& why) {
  const NodeId target = transfer_target_;
  transfer_target_ = kNoNode;
  pending_.events.emplace_back(TransferAborted{target, why});
}

void Raft::Impl::handle_timeout_now(const Message& m) {
  // m.term == term_: from this term's leader, which brought this log up to
  // date. Stand at once, with no pre-vote, in a vote that may disturb it.
  if (role_ == Role::kLeader || m.from != leader_ || !promotable() || installing_) return;
  become_candidate(/*transfer=*/true);
}

Status Raft::Impl::read_index(uint64_t ctx) {
  if (!error_.ok()) return error_;
  if (role_ == Role::kLeader) {
    serve_read(ctx, cfg_.id);
  } else if (leader_ != kNoNode) {
    send(leader_, ReadIndexRequest{ctx});
  } else {
    return Status::NotLeader(kNoNode);
  }
  check_log_error();
  return error_;
}

void Raft::Impl::serve_read(uint64_t ctx, NodeId from) {
  // Thesis §6.4: the commit index is a read index only once it includes an
  // entry of this leader's term (then it covers everything committed before).
  if (log_.term(commit_) != term_) {
    answer_read(ctx, from, 0, false);
    return;
  }
  reads_.push_back(PendingRead{ctx, commit_, seq_ + 1, from});
  read_round_pending_ = true;
}

void Raft::Impl::answer_read(uint64_t ctx, NodeId from, LogIndex index, bool ok) {
  if (from == cfg_.id) {
    pending_.read_states.push_back(ReadState{ctx, index, ok});
  } else {
    send(from, ReadIndexReply{ctx, index, ok});
  }
}

void Raft::Impl::release_reads() {
  while (!reads_.empty() && reads_.front().seq <= heartbeat_ack_) {
    const PendingRead r = reads_.front();
    reads_.pop_front();
    answer_read(r.ctx, r.from, r.index, true);
  }
}

Status Raft::Impl::heartbeat(uint64_t* seq) {
  if (!error_.ok()) return error_;
  if (role_ != Role::kLeader) return Status::NotLeader(leader_);
  send_heartbeats();
  if (seq != nullptr) *seq = seq_;
  check_log_error();
  return error_;
}

Status Raft::Impl::start_election() {
  if (!error_.ok()) return error_;
  if (role_ == Role::kLeader) return Status::InvalidInput("already the leader");
  if (!promotable()) return Status::InvalidInput("not a voter in the current configuration");
  campaign();
  check_log_error();
  return error_;
}

void Raft::Impl::on_persisted(LogIndex index, Term term) {
  if (!error_.ok()) return;
  log_.stable_to(index, term);
  if (role_ == Role::kLeader && maybe_commit()) flush_pending_ = true;
  maintain();
  check_log_error();
}

Status Raft::Impl::on_log_compacted(LogIndex index, Term term) {
  if (!error_.ok()) return error_;
  if (index <= log_.head_index()) return Status::Ok();
  if (index > applied_ || index > log_.persisted_index() || log_.term(index) != term) {
    return Status::InvalidInput("log head " + std::to_string(index) + "/" + std::to_string(term) +
                                " is not an applied entry of this log (applied " +
                                std::to_string(applied_) + ", term there " +
                                std::to_string(log_.term(index)) + ")");
  }
  log_.compacted(index, term);
  // Configurations at or below the new head fold into the one in force there.
  while (!configs_.empty() && configs_.front().first <= index) {
    base_config_ = std::move(configs_.front().second);
    configs_.erase(configs_.begin());
  }
  check_log_error();
  return error_;
}

void Raft::Impl::on_snapshot_installed(const SnapshotHead& snapshot) {
  if (!error_.ok() || !installing_ || receiving_ != snapshot) return;
  installing_ = false;
  receiving_.reset();
  log_.restore(snapshot.index, snapshot.term);
  commit_ = kBugInstallOldSnapshot ? snapshot.index : std::max(commit_, snapshot.index);
  applied_ = snapshot.index;
  // The log was replaced: the snapshot's configuration is the one in force.
  if (!snapshot.config.voters.empty()) base_config_ = snapshot.config;
  configs_.clear();
  update_members(snapshot.index);
  // Durable already: the answer goes at once.
  if (snapshot_from_ != kNoNode) {
    InstallSnapshotReply reply;
    reply.snapshot_index = snapshot.index;
    reply.installed = true;
    reply.match_index = snapshot.index;
    pending_.messages.push_back(Message{cfg_.id, snapshot_from_, term_, reply});
  }
  check_log_error();
}

void Raft::Impl::on_snapshot_failed(const SnapshotHead& snapshot) {
  if (!error_.ok() || !installing_ || receiving_ != snapshot) return;
  // The leader's next chunk is answered with offset 0: it starts over.
  installing_ = false;
  receiving_.reset();
  receive_offset_ = 0;
}

bool Raft::Impl::has_ready() const {
  if (!error_.ok()) return false;
  return !pending_.empty() || log_.has_unhanded() || flush_pending_ || read_round_pending_ ||
         HardState{term_, vote_, commit_} != saved_hs_ ||
         (!installing_ && applied_ < std::min(commit_, log_.persisted_index()));
}

Ready Raft::Impl::take_ready() {
  if (!error_.ok()) return Ready();
  if (read_round_pending_) {
    // One heartbeat round confirms every read asked for since the last Ready.
    read_round_pending_ = false;
    if (role_ == Role::kLeader) send_heartbeats();
  }
  if (flush_pending_) flush();
  Ready ready = std::move(pending_);
  pending_ = Ready();
  HardState hs{term_, vote_, commit_};
  if (hs != saved_hs_) {
    ready.must_sync = hs.term != saved_hs_.term || hs.voted_for != saved_hs_.voted_for;
    ready.hard_state = hs;
    saved_hs_ = hs;
  }
  ready.entries = log_.take_unhanded();
  if (!ready.entries.empty()) ready.must_sync = true;
  // Deliver only what is committed and durable here: a node must never
  // apply an entry that a crash could take back from its own log. Nothing
  // while a snapshot is being installed: a runtime that pipelines applies
  // this Ready's entries after the install, which already covers them all
  // (the snapshot is past commit_), and they would take its state back.
  LogIndex deliverable = std::min(commit_, log_.persisted_index());
  if (applied_ < deliverable && !installing_) {
    ready.committed =
        log_.entries(applied_ + 1, deliverable + 1, cfg_.max_committed_bytes_per_ready);
    if (!ready.committed.empty()) applied_ = ready.committed.back().index;
  }
  log_.release_to(applied_);
  check_log_error();
  if (!error_.ok()) return Ready();
  return ready;
}

// ---------------------------------------------------------------------------
// Roles

void Raft::Impl::set_role(Role role) {
  if (role_ == role) return;
  role_ = role;
  pending_.events.emplace_back(RoleChanged{role});
}

void Raft::Impl::set_leader(NodeId leader) {
  if (leader_ == leader) return;
  leader_ = leader;
  if (leader != kNoNode) pending_.events.emplace_back(NewLeaderElected{leader, term_});
}

uint64_t Raft::Impl::next_random() {
  // splitmix64: small, fast, and fully determined by the injected seed.
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void Raft::Impl::reset_election_timer() {
  election_elapsed_ = 0;
  randomized_election_timeout_ =
      cfg_.election_ticks + static_cast<int>(next_random() % cfg_.election_ticks);
}

void Raft::Impl::become_follower(Term term, NodeId leader, bool reset_timer) {
  if (term > term_) {
    term_ = term;
    vote_ = kNoNode;
    leader_ = kNoNode;
    pending_.events.emplace_back(TermChanged{Ballot{term_, vote_}});
  }
  set_role(Role::kFollower);
  set_leader(leader);
  progress_.clear();
  votes_.clear();
  flush_pending_ = false;
  heartbeat_ack_ = 0;
  transfer_target_ = kNoNode;
  catch_up_.reset();
  // Reads this node was confirming fail here (the reader asks again);
  // a follower's time out there.
  for (const PendingRead& r : reads_) {
    if (r.from == cfg_.id) pending_.read_states.push_back({r.ctx, 0, false});
  }
  reads_.clear();
  read_round_pending_ = false;
  if (reset_timer) reset_election_timer();
}

void Raft::Impl::campaign() {
  if (cfg_.pre_vote) {
    become_pre_candidate();
  } else {
    become_candidate();
  }
}

void Raft::Impl::become_pre_candidate() {
  // Thesis §9.6: ask first whether an election could be won, without
  // touching the term, so a node cut off from the cluster does not come back
  // with a term that deposes a healthy leader.
  set_role(Role::kPreCandidate);
  set_leader(kNoNode);
  votes_.clear();
  votes_[cfg_.id] = true;
  reset_election_timer();
  if (TallyVotes(members_, votes_) == VoteResult::kWon) {
    become_candidate();
    return;
  }
  for (NodeId id : members_.members()) {
    if (id == cfg_.id || !members_.is_voter(id)) continue;
    Message m{cfg_.id, id, term_ + 1,
              RequestVote{log_.last_index(), log_.last_term(), /*pre_vote=*/true, false}};
    pending_.messages.push_back(std::move(m));
  }
}

void Raft::Impl::become_candidate(bool transfer) {
  set_role(Role::kCandidate);
  term_ += 1;
  vote_ = cfg_.id;
  leader_ = kNoNode;
  pending_.events.emplace_back(TermChanged{Ballot{term_, vote_}});
  votes_.clear();
  votes_[cfg_.id] = true;
  reset_election_timer();
  if (TallyVotes(members_, votes_) == VoteResult::kWon) {
    become_leader();
    return;
  }
  for (NodeId id : members_.members()) {
    if (id == cfg_.id || !members_.is_voter(id)) continue;
    send(id, RequestVote{log_.last_index(), log_.last_term(), false, transfer});
  }
}

void Raft::Impl::become_leader() {
  set_role(Role::kLeader);
  set_leader(cfg_.id);
  votes_.clear();
  progress_.clear();
  for (NodeId id : members_.members()) {
    if (id == cfg_.id) continue;
    Progress& pr = progress_[id];
    pr.become_probe(log_.last_index() + 1);
  }
  heartbeat_ack_ = 0;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  transfer_target_ = kNoNode;
  catch_up_.reset();
  // §5.4.2 / §8: a new leader commits entries from earlier terms only by
  // committing one of its own; the Noop makes that happen at once.
  append_local(EntryType::kNoop, std::string());
}

// ---------------------------------------------------------------------------
// Messages

void Raft::Impl::send(NodeId to, Message::Body body) {
  Message m{cfg_.id, to, term_, std::move(body)};
  // Vote grants, vote requests (our own vote) and append acknowledgements
  // promise state that must be durable before anyone may rely on them.
  bool after_persist = false;
  if (const auto* rv = std::get_if<RequestVote>(&m.body)) {
    after_persist = !rv->pre_vote;
  } else if (const auto* r = std::get_if<RequestVoteReply>(&m.body)) {
    after_persist = !r->pre_vote && !kBugVoteReplyBeforePersist;
  } else if (const auto* r = std::get_if<AppendEntriesReply>(&m.body)) {
    // An acknowledgement promises the log through match_index is durable
    // here. One that promises no more than is already durable goes at once:
    // a slow write (a large entry) must not hold back the answers to
    // heartbeats that keep the leader in office (check-quorum).
    after_persist =
        !kBugAppendReplyBeforePersist && !(r->success && r->match_index <= log_.persisted_index());
  } else if (const auto* r = std::get_if<InstallSnapshotReply>(&m.body)) {
    // The same promise for an installed snapshot's match; a chunk's answer
    // waits for the chunk to be written, so a transfer goes at the pace of
    // the follower's disk.
    after_persist = !(r->installed && r->match_index <= log_.persisted_index());
  }
  (after_persist ? pending_.messages_after_persist : pending_.messages).push_back(std::move(m));
}

bool Raft::Impl::in_leader_lease() const {
  return cfg_.check_quorum && leader_ != kNoNode && election_elapsed_ < cfg_.election_ticks;
}

void Raft::Impl::handle_lower_term(const Message& m) {
  if (const auto* is = std::get_if<InstallSnapshot>(&m.body)) {
    InstallSnapshotReply reply;
    reply.snapshot_index = is->snapshot.index;
    send(m.from, reply);
  } else if (std::holds_alternative<AppendEntries>(m.body)) {
    // A deposed leader (perhaps back from a partition) learns the newer
    // term from the rejection and steps down.
    send(m.from, AppendEntriesReply{false, 0, 0, 0, 0});
  } else if (const auto* rv = std::get_if<RequestVote>(&m.body)) {
    // Tell a stale (pre-)candidate the current term so it stops standing.
    Message reply{cfg_.id, m.from, term_, RequestVoteReply{false, rv->pre_vote}};
    pending_.messages.push_back(std::move(reply));
  }
  // Stale replies are dropped.
}

void Raft::Impl::handle_request_vote(const Message& m, const RequestVote& rv) {
  // Can this node give its vote for m.term? For a real vote: only once per
  // term and not while it follows a leader of that term. A pre-vote is a
  // question about a future term and binds nothing.
  bool can_vote = vote_ == m.from || (vote_ == kNoNode && leader_ == kNoNode) ||
                  (rv.pre_vote && m.term > term_);
  bool up_to_date =
      kBugVoteWithoutUpToDateCheck || log_.is_up_to_date(rv.last_log_index, rv.last_log_term);
  bool granted = can_vote && up_to_date;
  if (rv.pre_vote) {
    Term reply_term = granted ? m.term : term_;
    pending_.messages.push_back(
        Message{cfg_.id, m.from, reply_term, RequestVoteReply{granted, true}});
    return;
  }
  if (granted) {
    if (vote_ != m.from) {
      vote_ = m.from;
      pending_.events.emplace_back(TermChanged{Ballot{term_, vote_}});
    }
    reset_election_timer();
  }
  send(m.from, RequestVoteReply{granted, false});
}

void Raft::Impl::handle_vote_reply(const Message& m, const RequestVoteReply& r) {
  if (r.pre_vote) {
    if (role_ != Role::kPreCandidate) return;
    // A granted pre-vote echoes term_ + 1; a rejection carries the voter's term.
    if (r.granted && m.term != term_ + 1) return;
  } else if (role_ != Role::kCandidate) {
    return;
  }
  votes_.emplace(m.from, r.granted);
  VoteResult result = TallyVotes(members_, votes_);
  if (kBugWinWithOneVote && r.granted && m.from != cfg_.id) result = VoteResult::kWon;
  switch (result) {
    case VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        become_candidate();
      } else {
        become_leader();
      }
      break;
    case VoteResult::kLost:
      become_follower(term_, kNoNode);
      break;
    case VoteResult::kPending:
      break;
  }
}

void Raft::Impl::handle_append_entries(const Message& m, const AppendEntries& ae) {
  // m.term == term_ here: m.from is this term's leader.
  follow(m.from);
  if (installing_) return;  // the log is being replaced; the leader sends again
  AppendEntriesReply reply;
  reply.seq = ae.seq;
  if (ae.prev_log_index < commit_) {
    // Everything through commit_ matches the leader (leader completeness);
    // tell it so rather than re-checking entries that may be compacted.
    reply.success = true;
    reply.match_index = commit_;
  } else if (log_.match_term(ae.prev_log_index, ae.prev_log_term) ||
             (kBugAppendWithoutPrevCheck && ae.prev_log_index <= log_.last_index())) {
    LogIndex last_new = ae.prev_log_index + ae.entries.size();
    // Skip what this log already holds; a different term at an index means
    // the rest of this log diverged and gives way to the leader's (§5.3).
    auto first_new = ae.entries.begin();
    while (first_new != ae.entries.end() && log_.match_term(first_new->index, first_new->term)) {
      ++first_new;
    }
    if (first_new != ae.entries.end()) {
      if (first_new->index <= commit_) {
        error_ = Status::InconsistentState("leader " + std::to_string(m.from) +
                                           " overwrites committed entry " +
                                           std::to_string(first_new->index));
        return;
      }
      // Configurations from the first new entry on are replaced too: a
      // truncated one goes, an appended one takes effect at once.
      const LogIndex from = first_new->index;
      bool changed = false;
      while (!configs_.empty() && configs_.back().first >= from) {
        configs_.pop_back();
        changed = true;
      }
      for (auto it = first_new; it != ae.entries.end(); ++it) {
        if (it->type == EntryType::kConfig) {
          configs_.emplace_back(it->index, it->config);
          changed = true;
        }
      }
      log_.truncate_and_append(first_new, ae.entries.end());
      if (changed) update_members(latest_config_index());
    }
    commit_ = kBugCommitGoesBack ? std::min(ae.leader_commit, last_new)
                                 : std::max(commit_, std::min(ae.leader_commit, last_new));
    reply.success = true;
    reply.match_index = last_new;
  } else {
    auto [hint_index, hint_term] = log_.find_conflict_by_term(
        std::min(ae.prev_log_index, log_.last_index()), ae.prev_log_term);
    reply.match_index = ae.prev_log_index;
    reply.hint_index = hint_index;
    reply.hint_term = hint_term;
  }
  send(m.from, reply);
}

void Raft::Impl::follow(NodeId leader) {
  if (role_ != Role::kFollower || leader_ != leader) {
    become_follower(term_, leader);
  } else {
    election_elapsed_ = 0;
  }
}

Progress* Raft::Impl::reply_from(NodeId from, uint64_t seq) {
  if (role_ != Role::kLeader) return nullptr;
  auto it = progress_.find(from);
  if (it == progress_.end()) return nullptr;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (seq > pr.acked_seq) {
    pr.acked_seq = seq;
    update_heartbeat_ack();
  }
  return &pr;
}

void Raft::Impl::handle_append_reply(const Message& m, const AppendEntriesReply& r) {
  Progress* heard = reply_from(m.from, r.seq);
  if (heard == nullptr) return;
  Progress& pr = *heard;
  if (pr.state == Progress::State::kSnapshot) {
    // Heartbeats go on during a transfer. One that shows the follower holds
    // everything up to the head after all (its commit index) ends it.
    if (r.success && pr.maybe_update(r.match_index) && pr.match >= log_.head_index()) {
      pr.become_probe(pr.match + 1);
      if (maybe_commit()) flush_pending_ = true;
      flush_pending_ = true;
    }
    return;
  }
  if (!r.success) {
    // Skip back a whole term at a time: the follower said which term it has
    // at hint_index; resume after the last index of ours with a term no
    // newer than that.
    LogIndex probe = r.hint_index;
    if (r.hint_term > 0) probe = log_.find_conflict_by_term(r.hint_index, r.hint_term).first;
    if (pr.maybe_decrease(r.match_index, probe)) {
      flush_pending_ = true;
    } else if (pr.state == Progress::State::kProbe && pr.probe_sent &&
               pr.ticks_since_ack >= retransmit_ticks()) {
      // A heartbeat refused while the probe has been out for a retransmit
      // timeout: the probe was lost (as below, for a heartbeat answered).
      // A heartbeat anchored below the log head is always refused (the
      // leader no longer knows the term there), so without this a lost
      // probe to a follower that needs the snapshot is never sent again.
      pr.probe_sent = false;
      flush_pending_ = true;
    }
    return;
  }
  if (pr.maybe_update(r.match_index)) {
    // Only progress resets the retransmit timer: a heartbeat answered while
    // entries are lost in flight must not hide the loss.
    pr.ticks_since_ack = 0;
    if (pr.state == Progress::State::kProbe) pr.become_replicate();
    if (m.from == transfer_target_) maybe_send_timeout_now();
    if (maybe_commit()) flush_pending_ = true;
    flush_pending_ = true;
  } else if (pr.state == Progress::State::kProbe) {
    if (r.match_index + 1 >= pr.next) {
      // The follower holds everything before the probe point: nothing to
      // find, stream from here.
      pr.become_replicate();
      flush_pending_ = true;
    } else if (pr.ticks_since_ack >= retransmit_ticks()) {
      // The follower answers heartbeats but not the probe, which has been
      // out for a retransmit timeout: it was lost. Not sooner: a probe of a
      // large entry may take the follower a while to write, and sending it
      // again would only queue another copy ahead of the heartbeats.
      pr.probe_sent = false;
      flush_pending_ = true;
    }
  }
}

// ---------------------------------------------------------------------------
// Leader

void Raft::Impl::append_local(EntryType type, std::string data, const ClusterConfig* config) {
  Entry e;
  e.index = log_.last_index() + 1;
  e.term = term_;
  e.type = type;
  e.data = std::move(data);
  if (config != nullptr) e.config = *config;
  const LogIndex index = e.index;
  log_.append(std::move(e));
  flush_pending_ = true;
  if (config != nullptr) {
    configs_.emplace_back(index, *config);
    update_members(index);
  }
}

LogIndex Raft::Impl::match_of(NodeId id) const {
  // The leader counts its own entries only once they are durable.
  if (id == cfg_.id) return log_.persisted_index();
  auto it = progress_.find(id);
  return it == progress_.end() ? 0 : it->second.match;
}

bool Raft::Impl::maybe_commit() {
  ClusterConfig bugged;
  if (kBugJointNewMajorityOnly && members_.joint()) {
    bugged.voters = members_.voters;
  }
  const ClusterConfig& quorum = bugged.voters.empty() ? members_ : bugged;
  LogIndex index = QuorumValue(quorum, [&](NodeId id) { return match_of(id); });
  if (index <= commit_) return false;
  // §5.4.2: count replicas only for an entry of the current term; earlier
  // entries commit with it.
  if (!kBugCommitOldTerm && log_.term(index) != term_) return false;
  commit_ = index;
  return true;
}

void Raft::Impl::flush() {
  flush_pending_ = false;
  for (auto& [id, pr] : progress_) {
    bool sent = false;
    while (send_append(id, pr)) sent = true;
    // A follower with nothing new still learns the new commit index at once,
    // so that it (and its subscribers) need not wait for a heartbeat.
    if (!sent && pr.state == Progress::State::kReplicate &&
        std::min(commit_, pr.match) > pr.commit_sent) {
      send_anchored(id, pr);
    }
  }
}

bool Raft::Impl::send_append(NodeId to, Progress& pr) {
  if (pr.state == Progress::State::kSnapshot) {
    send_snapshot_chunk(to, pr);
    return false;
  }
  if (pr.paused(cfg_.max_inflight_msgs, cfg_.max_inflight_bytes)) return false;
  LogIndex last = log_.last_index();
  AppendEntries ae;
  ae.prev_log_index = pr.next - 1;
  if (ae.prev_log_index < log_.head_index()) {
    // The entries it needs are compacted away: it gets the snapshot (§7).
    SnapshotHead head;
    Status s = log_.reader()->snapshot(&head);
    if (!s.ok() || head.index < log_.head_index()) {
      error_ = Status::InconsistentState("follower " + std::to_string(to) + " needs entry " +
                                         std::to_string(pr.next) + ", before the log head " +
                                         std::to_string(log_.head_index()) +
                                         ", and the store has no snapshot there: " + s.ToString());
      return false;
    }
    pr.become_snapshot(head);
    send_snapshot_chunk(to, pr);
    return false;
  }
  ae.prev_log_term = log_.term(ae.prev_log_index);
  if (pr.next <= last) {
    LogIndex hi = std::min(last + 1, pr.next + cfg_.max_entries_per_msg);
    ae.entries = log_.entries(pr.next, hi, cfg_.max_bytes_per_msg);
  }
  bool probing = pr.state == Progress::State::kProbe;
  if (ae.entries.empty() && !probing) return false;
  ae.leader_commit = commit_;
  ae.seq = seq_;
  // A follower can learn a commit index only as far as what it holds.
  pr.commit_sent =
      std::min(commit_, ae.entries.empty() ? ae.prev_log_index : ae.entries.back().index);
  if (probing) {
    pr.probe_sent = true;
    pr.ticks_since_ack = 0;  // counts how long the probe is out (tick_leader)
  } else if (!ae.entries.empty()) {
    size_t bytes = 0;
    for (const Entry& e : ae.entries) bytes += e.byte_size();
    pr.next = ae.entries.back().index + 1;
    pr.inflights.add(ae.entries.back().index, bytes);
  }
  bool sent_entries = !ae.entries.empty();
  send(to, std::move(ae));
  // Keep going only while pipelining entries; a probe goes alone.
  return sent_entries && !probing;
}

void Raft::Impl::send_snapshot_chunk(NodeId to, Progress& pr) {
  if (pr.chunk_sent) return;
  if (cfg_.snapshot_bytes_per_tick > 0 && pr.snapshot_credit <= 0) return;  // next tick
  InstallSnapshot is;
  Status s = log_.reader()->snapshot_data(pr.snapshot, pr.snapshot_offset,
                                          cfg_.snapshot_chunk_bytes, &is.data);
  if (s.IsNotFound()) {
    // The store took a newer snapshot meanwhile: send that one.
    SnapshotHead head;
    s = log_.reader()->snapshot(&head);
    if (s.ok() && head != pr.snapshot) {
      pr.become_snapshot(head);
      s = log_.reader()->snapshot_data(pr.snapshot, 0, cfg_.snapshot_chunk_bytes, &is.data);
    }
  }
  if (!s.ok()) {
    error_ = Status::InconsistentState("reading snapshot " + std::to_string(pr.snapshot.index) +
                                       " for follower " + std::to_string(to) + ": " + s.ToString());
    return;
  }
  is.snapshot = pr.snapshot;
  is.offset = pr.snapshot_offset;
  is.done = is.offset + is.data.size() >= pr.snapshot.size;
  is.seq = seq_;
  pr.chunk_sent = true;
  pr.ticks_since_ack = 0;
  pr.snapshot_credit -= static_cast<int64_t>(is.data.size());
  send(to, std::move(is));
}

void Raft::Impl::handle_install_snapshot(const Message& m, const InstallSnapshot& is) {
  // m.term == term_ here: m.from is this term's leader.
  follow(m.from);
  if (installing_) return;  // the runtime is installing the last one; it is answered then
  InstallSnapshotReply reply;
  reply.snapshot_index = is.snapshot.index;
  reply.seq = is.seq;
  const bool in_log = log_.match_term(is.snapshot.index, is.snapshot.term);
  if ((is.snapshot.index <= commit_ && !kBugInstallOldSnapshot) || in_log) {
    // Nothing to install: this log holds what the snapshot covers (§7:
    // a log that has the snapshot's last entry keeps what follows it).
    receiving_.reset();
    reply.installed = true;
    reply.match_index = in_log ? std::max(commit_, is.snapshot.index) : commit_;
    send(m.from, reply);
    return;
  }
  if (receiving_ != is.snapshot) {
    if (is.offset != 0) {  // a transfer this node has no start of: from the start
      reply.next_offset = 0;
      send(m.from, reply);
      return;
    }
    receiving_ = is.snapshot;
    receive_offset_ = 0;
  }
  const bool fits = is.offset + is.data.size() <= is.snapshot.size &&
                    is.done == (is.offset + is.data.size() == is.snapshot.size);
  if (is.offset != receive_offset_ || !fits) {
    // Sent again, or out of order: say what this node has.
    reply.next_offset = receive_offset_;
    send(m.from, reply);
    return;
  }
  pending_.snapshot_chunks.push_back(SnapshotChunk{is.snapshot, is.offset, is.data, is.done});
  receive_offset_ += is.data.size();
  if (is.done) {
    installing_ = true;
    snapshot_from_ = m.from;
    return;  // answered by on_snapshot_installed
  }
  reply.next_offset = receive_offset_;
  send(m.from, reply);
}

void Raft::Impl::handle_install_reply(const Message& m, const InstallSnapshotReply& r) {
  Progress* heard = reply_from(m.from, r.seq);
  if (heard == nullptr) return;
  Progress& pr = *heard;
  if (r.installed) {
    // Its log matches this one through match_index: replicate from there.
    pr.maybe_update(r.match_index);
    if (pr.state == Progress::State::kSnapshot) pr.become_probe(pr.match + 1);
    if (maybe_commit()) flush_pending_ = true;
    flush_pending_ = true;
    return;
  }
  if (pr.state != Progress::State::kSnapshot || r.snapshot_index != pr.snapshot.index) return;
  pr.snapshot_offset = std::min(r.next_offset, pr.snapshot.size);
  pr.chunk_sent = false;
  pr.ticks_since_ack = 0;
  flush_pending_ = true;
}

void Raft::Impl::send_heartbeats() {
  ++seq_;
  // Always an empty AppendEntries, never entries: a follower that cannot
  // take what is being replicated (a frame over its limit, a lossy link)
  // still hears its leader and stays a follower. A probing follower's
  // answer re-opens its probe (handle_append_reply), so a lost probe is
  // re-sent once per heartbeat, after the follower has shown it is there.
  for (auto& [id, pr] : progress_) send_anchored(id, pr);
  update_heartbeat_ack();  // a single-node cluster acknowledges itself
}

void Raft::Impl::send_anchored(NodeId to, Progress& pr) {
  // Anchored at the match index, which the follower is known to hold, so it
  // is no false mismatch when it overtakes entries still in flight. A match
  // this log was compacted past has no term here any more: anchored at 0,
  // which every log holds (the follower needs the snapshot, which its probe
  // or the retransmit timeout sends). Its term read as 0 was a mismatch the
  // follower refused, and a leader that ignores refusals at or below the
  // match (stale) never heard from the follower again.
  AppendEntries ae;
  ae.prev_log_index = pr.match < log_.head_index() ? 0 : pr.match;
  ae.prev_log_term = log_.term(ae.prev_log_index);
  ae.leader_commit = commit_;
  ae.seq = seq_;
  pr.commit_sent = std::min(commit_, pr.match);
  send(to, std::move(ae));
}

void Raft::Impl::update_heartbeat_ack() {
  const uint64_t acked =
      kBugHeartbeatAckAtOnce ? seq_ : QuorumValue(members_, [&](NodeId id) -> uint64_t {
        if (id == cfg_.id) return seq_;
        auto it = progress_.find(id);
        return it == progress_.end() ? 0 : it->second.acked_seq;
      });
  heartbeat_ack_ = std::max(heartbeat_ack_, acked);
  release_reads();
}

void Raft::Impl::tick_leader() {
  ++election_elapsed_;
  ++heartbeat_elapsed_;
  if (election_elapsed_ >= cfg_.election_ticks) {
    election_elapsed_ = 0;
    if (cfg_.check_quorum) {
      bool active = QuorumSatisfies(members_, [&](NodeId id) {
        if (id == cfg_.id) return true;
        auto it = progress_.find(id);
        return it != progress_.end() && it->second.recent_active;
      });
      if (!active) {
        // §6.2 of the thesis: a leader cut off from a quorum steps down, so
        // clients stop talking to it and a new leader can be found.
        become_follower(term_, kNoNode);
        return;
      }
      for (auto& [id, pr] : progress_) pr.recent_active = false;
    }
  }
  for (auto& [id, pr] : progress_) {
    if (pr.state == Progress::State::kSnapshot) {
      if (cfg_.snapshot_bytes_per_tick > 0) {
        // At most one tick's worth saved up, so a pause never turns into a burst.
        const auto per_tick = static_cast<int64_t>(cfg_.snapshot_bytes_per_tick);
        pr.snapshot_credit = std::min(pr.snapshot_credit + per_tick, per_tick);
      }
      if (pr.chunk_sent && ++pr.ticks_since_ack >= retransmit_ticks()) {
        pr.chunk_sent = false;  // lost: the same chunk again
        pr.ticks_since_ack = 0;
      }
      if (!pr.chunk_sent) flush_pending_ = true;
      continue;
    }
    if (pr.state == Progress::State::kProbe) {
      if (pr.probe_sent) ++pr.ticks_since_ack;
      continue;
    }
    if (pr.inflights.empty()) continue;
    if (++pr.ticks_since_ack >= retransmit_ticks()) {
      // Nothing acknowledged for a while with messages out: assume they were
      // lost and probe again from what the follower is known to hold.
      pr.become_probe(pr.match + 1);
      flush_pending_ = true;
    }
  }
  if (heartbeat_elapsed_ >= cfg_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    send_heartbeats();
  }
  if (transfer_target_ != kNoNode && ++transfer_elapsed_ >= cfg_.election_ticks) {
    abort_transfer("node " + std::to_string(transfer_target_) +
                   " did not take over within an election timeout");
  }
  tick_catch_up();
}

// ---------------------------------------------------------------------------
// Raft: the public face, forwarding to Impl.

Raft::Raft(const Config& config, const LogReader* log, const HardState& hard_state,
           const ClusterConfig& members)
    : impl_(std::make_unique<Impl>(config, log, hard_state, members)) {}
Raft::~Raft() = default;

Status Raft::status() const {
  return impl_->error_;
}
void Raft::tick() {
  impl_->tick();
}
Status Raft::step(const Message& m) {
  return impl_->step(m);
}
Status Raft::propose_command(std::string data, ProposalId* id) {
  return impl_->propose_command(std::move(data), id);
}
Status Raft::propose_config(const ClusterConfig& target, ProposalId* id) {
  return impl_->propose_config(target, id);
}
ConfigChange Raft::config_change() const {
  return impl_->config_change();
}
ClusterConfig Raft::config_at(LogIndex index) const {
  return impl_->config_at(index);
}
Status Raft::transfer_leadership(NodeId target) {
  return impl_->transfer_leadership(target);
}
NodeId Raft::transfer_target() const {
  return impl_->transfer_target_;
}
Status Raft::read_index(uint64_t ctx) {
  return impl_->read_index(ctx);
}
Status Raft::heartbeat(uint64_t* seq) {
  return impl_->heartbeat(seq);
}
uint64_t Raft::last_heartbeat_ack() const {
  return impl_->role_ == Role::kLeader ? impl_->heartbeat_ack_ : 0;
}
Status Raft::start_election() {
  return impl_->start_election();
}
bool Raft::has_ready() const {
  return impl_->has_ready();
}
Ready Raft::take_ready() {
  return impl_->take_ready();
}
void Raft::on_persisted(LogIndex index, Term term) {
  impl_->on_persisted(index, term);
}
Status Raft::on_log_compacted(LogIndex head_index, Term head_term) {
  return impl_->on_log_compacted(head_index, head_term);
}
void Raft::on_snapshot_installed(const SnapshotHead& snapshot) {
  impl_->on_snapshot_installed(snapshot);
}
void Raft::on_snapshot_failed(const SnapshotHead& snapshot) {
  impl_->on_snapshot_failed(snapshot);
}

NodeId Raft::id() const {
  return impl_->cfg_.id;
}
Role Raft::role() const {
  return impl_->role_;
}
Term Raft::term() const {
  return impl_->term_;
}
NodeId Raft::voted_for() const {
  return impl_->vote_;
}
NodeId Raft::leader() const {
  return impl_->leader_;
}
LogIndex Raft::commit_index() const {
  return impl_->commit_;
}
LogIndex Raft::applied_index() const {
  return impl_->applied_;
}
LogIndex Raft::last_index() const {
  return impl_->log_.last_index();
}
Term Raft::last_term() const {
  return impl_->log_.last_term();
}
LogIndex Raft::persisted_index() const {
  return impl_->log_.persisted_index();
}
const ClusterConfig& Raft::cluster_config() const {
  return impl_->members_;
}

Status Raft::entries(LogIndex lo, LogIndex hi, size_t max_bytes, std::vector<Entry>* out) const {
  const RaftLog& log = impl_->log_;
  if (lo <= log.head_index() || lo > hi || hi > log.last_index() + 1) {
    return Status::InvalidInput("entries [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                ") outside the log (" + std::to_string(log.head_index()) + ", " +
                                std::to_string(log.last_index()) + "]");
  }
  *out = log.entries(lo, hi, max_bytes);
  return log.error();
}

std::vector<PeerProgress> Raft::progress() const {
  std::vector<PeerProgress> out;
  if (impl_->role_ != Role::kLeader) return out;
  out.push_back(PeerProgress{impl_->cfg_.id, impl_->log_.persisted_index(),
                             impl_->log_.last_index() + 1, true, true, 0});
  for (const auto& [id, pr] : impl_->progress_) {
    out.push_back(PeerProgress{id, pr.match, pr.next, pr.state == Progress::State::kReplicate,
                               pr.recent_active, pr.inflights.count()});
  }
  return out;
}

}  // namespace raftlog::core
