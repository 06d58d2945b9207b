// The core's rules one at a time: what each input produces in the Ready.
#include <gtest/gtest.h>

#include "harness.h"

namespace raftlog::core::testing {
namespace {

template <typename T>
int Count(const std::vector<Message>& ms) {
  int n = 0;
  for (const Message& m : ms) n += std::holds_alternative<T>(m.body) ? 1 : 0;
  return n;
}

TEST(Config, InvalidValuesAreRejectedByName) {
  Config cfg;
  EXPECT_TRUE(cfg.validate().IsInvalidInput()) << "id 0";
  cfg.id = 1;
  EXPECT_TRUE(cfg.validate().ok());
  cfg.election_ticks = 1;
  EXPECT_NE(cfg.validate().message().find("election_ticks"), std::string::npos);
}

TEST(Election, ThreeNodesElectOneLeaderWhoAppendsANoop) {
  Cluster c(3);
  c.elect(1);
  EXPECT_EQ(c.leader(), 1u);
  EXPECT_EQ(c.raft(1).term(), 1u);
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.raft(id).leader(), 1u);
    ASSERT_EQ(c.node(id).log.all().size(), 1u);
    EXPECT_EQ(c.node(id).log.all()[0].type, EntryType::kNoop);
    EXPECT_EQ(c.raft(id).commit_index(), 1u);
  }
}

TEST(Election, TimeoutStartsAnElectionWithinTwoElectionTimeouts) {
  Cluster c(3);
  c.tick(2, 20);  // randomized in [10, 20)
  EXPECT_NE(c.raft(2).role(), Role::kFollower);
  c.deliver_all();
  EXPECT_EQ(c.leader(), 2u);
}

TEST(Election, VoteGoesOutOnlyAfterTheBallotIsPersisted) {
  Cluster c(3, [](Config& cfg) { cfg.pre_vote = false; });
  ASSERT_TRUE(c.raft(1).start_election().ok());
  Ready candidate = c.raft(1).take_ready();
  // The candidate's own vote must be durable before it asks for others'.
  ASSERT_TRUE(candidate.hard_state.has_value());
  EXPECT_EQ(candidate.hard_state->voted_for, 1u);
  EXPECT_TRUE(candidate.must_sync);
  EXPECT_EQ(Count<RequestVote>(candidate.messages), 0);
  ASSERT_EQ(Count<RequestVote>(candidate.messages_after_persist), 2);

  ASSERT_TRUE(c.raft(2).step(candidate.messages_after_persist[0]).ok());
  Ready voter = c.raft(2).take_ready();
  ASSERT_TRUE(voter.hard_state.has_value());
  EXPECT_EQ(voter.hard_state->voted_for, 1u);
  EXPECT_TRUE(voter.must_sync);
  EXPECT_EQ(Count<RequestVoteReply>(voter.messages), 0);
  EXPECT_EQ(Count<RequestVoteReply>(voter.messages_after_persist), 1);
}

TEST(Election, NoVoteForACandidateWithAStalerLog) {
  // §5.4.1: node 2's last entry has a higher term; node 1 cannot have its vote.
  Cluster c({{1}, {2}, {1}}, {2, 2, 2}, [](Config& cfg) { cfg.pre_vote = false; });
  c.elect(1);
  EXPECT_EQ(c.raft(2).voted_for(), 0u);
  EXPECT_EQ(c.raft(3).voted_for(), 1u);
  EXPECT_EQ(c.leader(), 1u) << "node 3's vote is enough";
}

TEST(Election, OneVotePerTerm) {
  Cluster c(3, [](Config& cfg) { cfg.pre_vote = false; });
  ASSERT_TRUE(c.raft(1).start_election().ok());
  ASSERT_TRUE(c.raft(2).start_election().ok());
  c.process();
  // Node 3 hears node 1 first, then node 2 in the same term.
  c.deliver_if([](const Message& m) { return m.from == 1 && m.to == 3; });
  c.deliver_if([](const Message& m) { return m.from == 2 && m.to == 3; });
  EXPECT_EQ(c.raft(3).voted_for(), 1u);
}

TEST(Election, ARejectedHigherTermVoteRequestDoesNotRestartTheTimer) {
  // §5.2: only the leader's messages and granting a vote restart the timer.
  Cluster c({{1, 1}, {1, 1}, {1}}, {1, 1, 1}, [](Config& cfg) { cfg.pre_vote = false; });
  c.tick(1, 9);  // node 1 is 9 ticks into its timeout (10..19)
  Message rv{3, 1, 5, RequestVote{1, 1, false, false}};  // node 3's log is behind
  ASSERT_TRUE(c.raft(1).step(rv).ok());
  EXPECT_EQ(c.raft(1).term(), 5u);
  EXPECT_EQ(c.raft(1).voted_for(), 0u) << "rejected";
  c.tick(1, 10);
  EXPECT_EQ(c.raft(1).role(), Role::kCandidate) << "its timer kept running";
}

TEST(Election, RestartedNodeKeepsTermAndVote) {
  Cluster c(3, [](Config& cfg) { cfg.pre_vote = false; });
  c.elect(1);
  c.crash(2);
  c.restart(2);
  EXPECT_EQ(c.raft(2).term(), 1u);
  EXPECT_EQ(c.raft(2).voted_for(), 1u);
  EXPECT_EQ(c.raft(2).role(), Role::kFollower);
}

TEST(Election, RestartedFollowerRejoinsWithoutAnElection) {
  Cluster c(3);
  c.elect(1);
  Term term = c.raft(1).term();
  c.crash(3);
  c.restart(3);
  for (int i = 0; i < 50; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.leader(), 1u);
  EXPECT_EQ(c.raft(1).term(), term);
  EXPECT_EQ(c.raft(3).leader(), 1u);
}

TEST(Replication, LeaderSendsBeforeItsOwnWriteAndCountsItselfOnlyOncePersisted) {
  Cluster c(3);
  c.elect(1);
  c.node(1).auto_persist = false;
  ProposalId id = c.propose(1, "a");
  EXPECT_EQ(id.index, 2u);
  // The AppendEntries left while the leader's write is still held.
  ASSERT_EQ(c.node(1).held.size(), 1u);
  EXPECT_EQ(c.node(1).held[0].entries.size(), 1u);
  int sent = 0;
  for (const Message& m : c.queue()) sent += m.type() == MessageType::kAppendEntries;
  EXPECT_EQ(sent, 2);

  // Node 2 acknowledges; node 3 does not. Leader not durable: 1 of 3 only.
  while (c.deliver_if([](const Message& m) { return m.to == 2 || m.from == 2; }) > 0) {
  }
  EXPECT_EQ(c.raft(1).progress()[1].match, 2u) << "node 2 acknowledged index 2";
  EXPECT_EQ(c.raft(1).commit_index(), 1u);
  c.persist_held(1);
  EXPECT_EQ(c.raft(1).commit_index(), 2u);
}

TEST(Replication, CommittedEntriesAreDeliveredOnceInOrder) {
  Cluster c(3);
  c.elect(1);
  for (int i = 0; i < 50; ++i) c.propose(1, "v" + std::to_string(i));
  c.deliver_all();
  c.tick_all(2);
  c.deliver_all();
  for (NodeId id : c.ids()) {
    const auto& applied = c.node(id).applied;
    ASSERT_EQ(applied.size(), 51u) << "node " << id;
    for (size_t i = 0; i < applied.size(); ++i) EXPECT_EQ(applied[i].index, i + 1);
    EXPECT_EQ(applied[1].data, "v0");
    EXPECT_EQ(applied[50].data, "v49");
  }
}

TEST(Replication, PipelinesUpToTheInflightWindow) {
  Cluster c(3, [](Config& cfg) {
    cfg.max_entries_per_msg = 1;
    cfg.max_inflight_msgs = 4;
  });
  c.elect(1);
  c.deliver_all();
  c.drop_all();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.raft(1).propose_command("p", nullptr).ok());
  c.process();
  int to_two = 0;
  for (const Message& m : c.queue()) to_two += m.to == 2;
  EXPECT_EQ(to_two, 4) << "four one-entry messages in flight, no acks yet";
  c.deliver_all();
  EXPECT_EQ(c.node(2).log.last_index(), 11u);
}

TEST(Replication, BatchesManyProposalsIntoOneMessage) {
  Cluster c(3);
  c.elect(1);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(c.raft(1).propose_command("p", nullptr).ok());
  c.process();
  int to_two = 0;
  for (const Message& m : c.queue()) to_two += m.to == 2;
  EXPECT_EQ(to_two, 1);
}

TEST(Replication, LostMessagesAreRetransmitted) {
  Cluster c(3);
  c.elect(1);
  c.propose(1, "a");
  c.drop_all();  // every AppendEntries lost
  for (int i = 0; i < 10 && c.raft(1).commit_index() < 2; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.raft(1).commit_index(), 2u);
  EXPECT_EQ(c.node(3).log.last_index(), 2u);
}

TEST(Replication, NotLeaderCarriesTheLeaderHint) {
  Cluster c(3);
  c.elect(1);
  ProposalId id;
  Status s = c.raft(2).propose_command("x", &id);
  EXPECT_TRUE(s.IsNotLeader());
  EXPECT_EQ(s.leader_hint(), 1u);
}

TEST(Replication, BusyWhenTooManyEntriesAreUncommitted) {
  Cluster c(3, [](Config& cfg) { cfg.max_uncommitted_entries = 3; });
  c.elect(1);
  c.isolate(1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(c.raft(1).propose_command("x", nullptr).ok());
  EXPECT_TRUE(c.raft(1).propose_command("x", nullptr).IsBusy());
}

TEST(Replication, FollowerLearnsTheCommitIndexWithoutWaitingForAHeartbeat) {
  Cluster c(3);
  c.elect(1);
  c.propose(1, "a");
  c.deliver_all();  // no tick: only the leader's own sends
  EXPECT_EQ(c.raft(2).commit_index(), 2u);
  EXPECT_EQ(c.raft(3).commit_index(), 2u);
}

TEST(Replication, SlowerFollowerLearnsTheCommitIndexAsSoonAsItAcknowledges) {
  Cluster c(3);
  c.elect(1);
  c.propose(1, "a");
  // Node 2 acknowledges first and commits index 2; node 3's ack comes after.
  while (c.deliver_if([](const Message& m) { return m.to == 2 || m.from == 2 || m.to == 1; }) > 0) {
  }
  ASSERT_EQ(c.raft(1).commit_index(), 2u);
  c.deliver_all();  // node 3's entries and ack; no tick, so no heartbeat
  EXPECT_EQ(c.raft(3).commit_index(), 2u);
}

TEST(Replication, CommitOnlyHardStateNeedsNoSync) {
  Cluster c(3);
  c.elect(1);
  c.propose(1, "a");
  c.deliver_all();
  bool saw_commit_only = false;
  for (const WriteRecord& w : c.node(2).writes) {
    if (w.entries > 0) {
      EXPECT_TRUE(w.must_sync);
    }
    if (w.hard_state && w.entries == 0 && w.commit == 2) {
      saw_commit_only = true;
      EXPECT_FALSE(w.must_sync);
    }
  }
  EXPECT_TRUE(saw_commit_only);
}

TEST(Heartbeat, AckedByAQuorumOnlyAfterTheCall) {
  Cluster c(3);
  c.elect(1);
  c.deliver_all();
  uint64_t seq = 0;
  ASSERT_TRUE(c.raft(1).heartbeat(&seq).ok());
  EXPECT_LT(c.raft(1).last_heartbeat_ack(), seq);
  c.isolate(3);
  c.deliver_all();
  EXPECT_GE(c.raft(1).last_heartbeat_ack(), seq) << "node 2 and the leader are a quorum";
  EXPECT_EQ(c.raft(2).last_heartbeat_ack(), 0u) << "meaningless on followers";
  EXPECT_TRUE(c.raft(2).heartbeat(&seq).IsNotLeader());
}

TEST(CheckQuorum, LeaderWithoutAQuorumStepsDown) {
  Cluster c(3);
  c.elect(1);
  c.isolate(1);
  for (int i = 0; i < 25; ++i) c.tick(1);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).leader(), 0u);
}

TEST(CheckQuorum, LeaderWithAQuorumStays) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 50; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.leader(), 1u);
}

TEST(CheckQuorum, FollowerOfALiveLeaderIgnoresVoteRequests) {
  Cluster c(3);
  c.elect(1);
  Term term = c.raft(2).term();
  Message rv{3, 2, term + 5, RequestVote{100, term + 4, false, false}};
  ASSERT_TRUE(c.raft(2).step(rv).ok());
  EXPECT_EQ(c.raft(2).term(), term);
  EXPECT_EQ(c.raft(2).leader(), 1u);
}

TEST(Step, RejectsMisaddressedMessages) {
  Cluster c(3);
  Message m{2, 3, 1, AppendEntries{}};
  EXPECT_TRUE(c.raft(1).step(m).IsInvalidInput());
  Message self{1, 1, 1, AppendEntries{}};
  EXPECT_TRUE(c.raft(1).step(self).IsInvalidInput());
}

TEST(Step, StaleLeaderLearnsTheNewTermFromARejection) {
  Cluster c(3);
  c.elect(1);
  Message old{1, 2, 0, AppendEntries{}};  // a message from before any term
  ASSERT_TRUE(c.raft(2).step(old).ok());
  Ready r = c.raft(2).take_ready();
  std::vector<Message> all = r.messages;
  all.insert(all.end(), r.messages_after_persist.begin(), r.messages_after_persist.end());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].term, c.raft(2).term());
  EXPECT_FALSE(std::get<AppendEntriesReply>(all[0].body).success);
}

TEST(SingleNode, ElectsItselfAndCommitsOncePersisted) {
  Cluster c(1);
  c.tick(1, 20);
  EXPECT_EQ(c.leader(), 1u);
  c.propose(1, "solo");
  EXPECT_EQ(c.raft(1).commit_index(), 2u);
  ASSERT_EQ(c.node(1).applied.size(), 2u);
  EXPECT_EQ(c.node(1).applied[1].data, "solo");
}

TEST(Events, ReportRoleTermAndLeaderChanges) {
  Cluster c(3);
  c.elect(1);
  bool role = false, term = false, leader = false;
  for (const Event& e : c.node(1).events) {
    if (auto* r = std::get_if<RoleChanged>(&e)) role |= r->role == Role::kLeader;
    if (auto* t = std::get_if<TermChanged>(&e)) term |= t->ballot == Ballot{1, 1};
    if (auto* l = std::get_if<NewLeaderElected>(&e)) leader |= l->leader == 1;
  }
  EXPECT_TRUE(role && term && leader);
  bool follower_saw_leader = false;
  for (const Event& e : c.node(2).events) {
    if (auto* l = std::get_if<NewLeaderElected>(&e)) follower_saw_leader |= l->leader == 1;
  }
  EXPECT_TRUE(follower_saw_leader);
}

TEST(Restart, CommitIndexSurvivesSoNothingIsRedeliveredPastApplied) {
  // What the application had applied when it stopped: Config::applied.
  LogIndex applied = 0;
  Cluster c(3, [&applied](Config& cfg) { cfg.applied = applied; });
  c.elect(1);
  c.propose(1, "a");
  c.propose(1, "b");
  c.deliver_all();
  ASSERT_EQ(c.node(2).applied.size(), 3u);  // the leader's Noop, a, b
  ASSERT_EQ(c.raft(2).commit_index(), 3u);

  // Node 2's application had applied through "a" (index 2) when it crashed.
  c.crash(2);
  applied = 2;
  c.restart(2);
  EXPECT_EQ(c.raft(2).commit_index(), 3u) << "recovered from the hard state";
  // At once, before hearing from the leader: the one committed entry past
  // applied, and none at or before it.
  ASSERT_EQ(c.node(2).applied.size(), 1u);
  EXPECT_EQ(c.node(2).applied[0].index, 3u);
  EXPECT_EQ(c.node(2).applied[0].data, "b");
  EXPECT_EQ(c.raft(2).applied_index(), 3u);

  // Then new entries, each once; nothing older comes again.
  c.propose(1, "c");
  c.deliver_all();
  ASSERT_EQ(c.node(2).applied.size(), 2u);
  EXPECT_EQ(c.node(2).applied[1].index, 4u);
  EXPECT_EQ(c.node(2).applied[1].data, "c");

  // Applied as far as the commit index: a restart delivers nothing again.
  c.crash(2);
  applied = 4;
  c.restart(2);
  EXPECT_EQ(c.raft(2).commit_index(), 4u);
  EXPECT_TRUE(c.node(2).applied.empty());
  c.tick_all(3);  // heartbeats come and go
  c.deliver_all();
  EXPECT_TRUE(c.node(2).applied.empty());
}

}  // namespace
}  // namespace raftlog::core::testing
