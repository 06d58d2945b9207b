#include "raftlog/core/types.h"

#include <sstream>

#include "raftlog/core/message.h"
#include "raftlog/core/raft.h"

namespace raftlog::core {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

const char* EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kNoop:
      return "noop";
    case EntryType::kConfig:
      return "config";
    case EntryType::kCommand:
      return "command";
  }
  return "unknown";
}

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kRequestVote:
      return "RequestVote";
    case MessageType::kRequestVoteReply:
      return "RequestVoteReply";
    case MessageType::kAppendEntries:
      return "AppendEntries";
    case MessageType::kAppendEntriesReply:
      return "AppendEntriesReply";
    case MessageType::kInstallSnapshot:
      return "InstallSnapshot";
    case MessageType::kInstallSnapshotReply:
      return "InstallSnapshotReply";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
    case MessageType::kTransferRequest:
      return "TransferRequest";
    case MessageType::kReadIndexRequest:
      return "ReadIndexRequest";
    case MessageType::kReadIndexReply:
      return "ReadIndexReply";
  }
  return "Unknown";
}

std::vector<NodeId> ClusterConfig::members() const {
  std::vector<NodeId> all = voters;
  all.insert(all.end(), voters_outgoing.begin(), voters_outgoing.end());
  all.insert(all.end(), learners.begin(), learners.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

const char* PhaseName(ConfigChange::Phase phase) {
  switch (phase) {
    case ConfigChange::Phase::kNone:
      return "stable";
    case ConfigChange::Phase::kCatchUp:
      return "catch-up";
    case ConfigChange::Phase::kJoint:
      return "joint";
    case ConfigChange::Phase::kFinal:
      return "final";
  }
  return "unknown";
}

std::string Describe(const ClusterConfig& c) {
  std::ostringstream out;
  auto list = [&](const char* name, const std::vector<NodeId>& ids) {
    out << name << "=[";
    for (size_t i = 0; i < ids.size(); ++i) out << (i ? "," : "") << ids[i];
    out << "]";
  };
  list("voters", c.voters);
  if (c.joint()) list(" outgoing", c.voters_outgoing);
  if (!c.learners.empty()) list(" learners", c.learners);
  return out.str();
}

namespace {

struct Describer {
  std::ostringstream& out;
  void operator()(const RequestVote& b) {
    out << (b.pre_vote ? "PreVote" : "RequestVote") << " last=" << b.last_log_index << "/"
        << b.last_log_term << (b.transfer ? " transfer" : "");
  }
  void operator()(const RequestVoteReply& b) {
    out << (b.pre_vote ? "PreVoteReply" : "RequestVoteReply")
        << (b.granted ? " granted" : " rejected");
  }
  void operator()(const AppendEntries& b) {
    out << "AppendEntries prev=" << b.prev_log_index << "/" << b.prev_log_term
        << " n=" << b.entries.size();
    if (!b.entries.empty()) {
      out << " [" << b.entries.front().index << ".." << b.entries.back().index << "]";
    }
    out << " commit=" << b.leader_commit << " seq=" << b.seq;
  }
  void operator()(const AppendEntriesReply& b) {
    out << "AppendEntriesReply " << (b.success ? "ok match=" : "reject at=") << b.match_index;
    if (!b.success) out << " hint=" << b.hint_index << "/" << b.hint_term;
    out << " seq=" << b.seq;
  }
  void operator()(const InstallSnapshot& b) {
    out << "InstallSnapshot " << b.snapshot.index << "/" << b.snapshot.term << " [" << b.offset
        << "+" << b.data.size() << " of " << b.snapshot.size << "]" << (b.done ? " done" : "")
        << " seq=" << b.seq;
  }
  void operator()(const InstallSnapshotReply& b) {
    out << "InstallSnapshotReply " << b.snapshot_index;
    if (b.installed) {
      out << " installed match=" << b.match_index;
    } else {
      out << " next=" << b.next_offset;
    }
    out << " seq=" << b.seq;
  }
  void operator()(const TimeoutNow&) { out << "TimeoutNow"; }
  void operator()(const TransferRequest&) { out << "TransferRequest"; }
  void operator()(const ReadIndexRequest& b) { out << "ReadIndexRequest ctx=" << b.ctx; }
  void operator()(const ReadIndexReply& b) {
    out << "ReadIndexReply ctx=" << b.ctx << (b.ok ? " index=" : " refused index=") << b.index;
  }
};

}  // namespace

std::string Describe(const Message& m) {
  std::ostringstream out;
  std::visit(Describer{out}, m.body);
  out << " " << m.from << "->" << m.to << " t" << m.term;
  return out.str();
}

std::string Describe(const Event& e) {
  std::ostringstream out;
  if (const auto* r = std::get_if<RoleChanged>(&e)) {
    out << "RoleChanged " << RoleName(r->role);
  } else if (const auto* t = std::get_if<TermChanged>(&e)) {
    out << "TermChanged t" << t->ballot.term << " voted_for=" << t->ballot.voted_for;
  } else if (const auto* l = std::get_if<NewLeaderElected>(&e)) {
    out << "NewLeaderElected " << l->leader << " t" << l->term;
  } else if (const auto* c = std::get_if<ConfigChanged>(&e)) {
    out << "ConfigChanged at " << c->index << " " << Describe(c->config);
    if (!c->aborted.empty()) out << " aborted: " << c->aborted;
  } else if (const auto* t = std::get_if<TransferAborted>(&e)) {
    out << "TransferAborted to " << t->target << ": " << t->reason;
  }
  return out.str();
}

}  // namespace raftlog::core
