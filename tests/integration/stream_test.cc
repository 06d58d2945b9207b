// The whole path as users run it: raftlog-push and raftlog-sub (the CLIs)
// against a 3-node raftlogd cluster whose leader is SIGKILLed mid-stream.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "process_cluster.h"
#include "raftlog/wire/event_ops.h"

extern char** environ;

namespace raftlog::testing {
namespace {

using namespace std::chrono_literals;

// A child process with stdin/stdout redirected to files, stopped by PID.
class Child {
 public:
  Child(std::vector<std::string> args, const std::string& in, const std::string& out) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (!in.empty()) posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, (out + ".err").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Waits up to deadline for the exit; its status, or -1 if still running.
  int wait(std::chrono::milliseconds deadline) {
    int status = -1;
    bool done = ProcessCluster::wait_for(
        [&] { return pid_ <= 0 || waitpid(pid_, &status, WNOHANG) == pid_; }, deadline);
    if (!done) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void stop(int sig) {
    if (pid_ > 0) {
      kill(pid_, sig);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

uint64_t Field(const std::string& json, const std::string& key) {
  std::smatch m;
  std::regex re("\"" + key + "\":([0-9]+)");
  return std::regex_search(json, m, re) ? std::stoull(m[1]) : 0;
}

std::string StrField(const std::string& json, const std::string& key) {
  std::smatch m;
  std::regex re("\"" + key + "\":\"([^\"]*)\"");
  return std::regex_search(json, m, re) ? std::string(m[1]) : std::string();
}

TEST(Stream, LeaderKilledDuringA100kPushLosesAndDuplicatesNothing) {
  ProcessCluster c(3);
  c.start_all();
  core::NodeId leader = 0;
  ASSERT_TRUE(ProcessCluster::wait_for([&] { return (leader = c.agreed_leader()) != 0; }, 10s));
  const int kEvents = 100000;
  std::string dir = c.data_dir(1) + "-stream";
  ASSERT_EQ(system(("mkdir -p " + dir).c_str()), 0);
  {
    std::ofstream events(dir + "/events.txt");
    for (int i = 1; i <= kEvents; ++i) events << "event-" << i << "\n";
  }
  // The subscriber follows node 3's config: every node's PUB, every client endpoint.
  Child sub({RAFTLOG_SUB_PATH, "-c", c.config_path(3), "--from", "1", "--topic", "orders",
             "--idle-exit-ms", "8000"},
            "", dir + "/sub.jsonl");
  ASSERT_TRUE(sub.started());
  Child push({RAFTLOG_PUSH_PATH, "-c", c.config_path(1), "--topic", "orders", "--producer",
              "stream-test", "--window", "64", "--timeout-ms", "120000"},
             dir + "/events.txt", dir + "/acks.jsonl");
  ASSERT_TRUE(push.started());

  // Kill the leader once a fifth of the events are acknowledged.
  ASSERT_TRUE(ProcessCluster::wait_for(
      [&] { return Lines(dir + "/acks.jsonl").size() >= kEvents / 5; }, 60s));
  c.signal(leader, SIGKILL);
  EXPECT_EQ(push.wait(180s), 0) << "every event acknowledged before the deadline";
  c.start(leader);  // back as a follower; it catches up

  // Acks: one per seq, distinct indexes.
  std::map<uint64_t, uint64_t> index_of_seq;
  std::set<uint64_t> acked_indexes;
  for (const std::string& line : Lines(dir + "/acks.jsonl")) {
    uint64_t seq = Field(line, "seq"), index = Field(line, "index");
    ASSERT_TRUE(index_of_seq.emplace(seq, index).second) << "seq " << seq << " acked twice";
    ASSERT_TRUE(acked_indexes.insert(index).second) << "index " << index << " acked twice";
  }
  ASSERT_EQ(index_of_seq.size(), static_cast<size_t>(kEvents));

  // Every node's log: each seq exactly once, at its acked index, nothing else.
  core::LogIndex last = *acked_indexes.rbegin();
  for (core::NodeId id = 1; id <= 3; ++id) {
    ASSERT_TRUE(ProcessCluster::wait_for(
        [&] {
          wire::NodeStatus st;
          return c.status(id, &st).ok() && st.applied_index >= last;
        },
        60s))
        << "node " << id;
    std::vector<core::Entry> log;
    ASSERT_TRUE(c.fetch_all(id, &log).ok());
    std::set<uint64_t> seen;
    for (const core::Entry& e : log) {
      if (e.type != core::EntryType::kCommand) continue;
      wire::EventRecord r;
      ASSERT_TRUE(wire::DecodeEventRecord(e.data.data(), e.data.size(), {}, &r).ok());
      ASSERT_EQ(r.producer, "stream-test");
      ASSERT_TRUE(seen.insert(r.seq).second) << "node " << id << ": seq " << r.seq << " twice";
      ASSERT_EQ(r.payload, "event-" + std::to_string(r.seq)) << "never pushed";
      ASSERT_EQ(index_of_seq.at(r.seq), e.index) << "node " << id << " seq " << r.seq;
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(kEvents)) << "node " << id;
  }

  // The subscriber: every event once, in log order.
  EXPECT_EQ(sub.wait(60s), 0);
  std::vector<std::string> delivered = Lines(dir + "/sub.jsonl");
  ASSERT_EQ(delivered.size(), static_cast<size_t>(kEvents));
  uint64_t prev = 0;
  for (const std::string& line : delivered) {
    uint64_t index = Field(line, "index");
    uint64_t seq = Field(line, "seq");
    ASSERT_GT(index, prev) << "in order, no duplicate";
    prev = index;
    ASSERT_EQ(index_of_seq.at(seq), index);
    ASSERT_EQ(StrField(line, "payload"), "event-" + std::to_string(seq));
  }
  ASSERT_EQ(system(("rm -rf " + dir).c_str()), 0);
}

TEST(Stream, ASubscriberBehindTheLogHeadSaysSoOrSkipsAheadWhenTold) {
  // Snapshots every 200 entries and 100 kept: the log head moves up in
  // steps of about 1024 entries.
  ProcessCluster c(3, {}, {"--snapshot-every", "200", "--retain-entries", "100"});
  c.start_all();
  ASSERT_TRUE(ProcessCluster::wait_for([&] { return c.agreed_leader() != 0; }, 10s));
  std::string dir = c.data_dir(1) + "-behind";
  ASSERT_EQ(system(("mkdir -p " + dir).c_str()), 0);
  {
    std::ofstream events(dir + "/events.txt");
    for (int i = 1; i <= 3000; ++i) events << "e" << i << "\n";
  }
  Child push(
      {RAFTLOG_PUSH_PATH, "-c", c.config_path(1), "--topic", "t", "--window", "256", "--quiet"},
      dir + "/events.txt", dir + "/acks.jsonl");
  ASSERT_EQ(push.wait(60s), 0);
  // Every node compacted past index 1 (the position file says 0).
  core::LogIndex earliest = 0;
  ASSERT_TRUE(ProcessCluster::wait_for(
      [&] {
        core::LogIndex lowest = UINT64_MAX;
        for (core::NodeId id = 1; id <= 3; ++id) {
          wire::NodeStatus st;
          if (!c.status(id, &st).ok()) return false;
          lowest = std::min(lowest, st.head_index);
        }
        earliest = lowest + 1;
        return lowest > 1;
      },
      30s));
  { std::ofstream(dir + "/position") << "0\n"; }
  // Without the flag: it says so and exits 1, printing nothing.
  Child strict({RAFTLOG_SUB_PATH, "-c", c.config_path(2), "--position-file", dir + "/position",
                "--idle-exit-ms", "5000"},
               "", dir + "/strict.jsonl");
  EXPECT_EQ(strict.wait(30s), 1);
  EXPECT_TRUE(Lines(dir + "/strict.jsonl").empty());
  std::ifstream err(dir + "/strict.jsonl.err");
  const std::string why((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_NE(why.find("was compacted; the earliest index held is"), std::string::npos) << why;
  // With --skip-compacted: it says what it skips and goes on from the
  // earliest index held, every event after it once and in order.
  Child skip({RAFTLOG_SUB_PATH, "-c", c.config_path(2), "--position-file", dir + "/position",
              "--skip-compacted", "--idle-exit-ms", "3000"},
             "", dir + "/skip.jsonl");
  EXPECT_EQ(skip.wait(60s), 0);
  std::vector<std::string> got = Lines(dir + "/skip.jsonl");
  ASSERT_FALSE(got.empty());
  EXPECT_GE(Field(got.front(), "index"), earliest);
  uint64_t prev = 0;
  for (const std::string& line : got) {
    ASSERT_GT(Field(line, "index"), prev);
    prev = Field(line, "index");
  }
  EXPECT_EQ(StrField(got.back(), "payload"), "e3000");
  std::ifstream skip_err(dir + "/skip.jsonl.err");
  const std::string said((std::istreambuf_iterator<char>(skip_err)),
                         std::istreambuf_iterator<char>());
  EXPECT_NE(said.find("skipping to"), std::string::npos) << said;
  // Its position file moved on past the skip.
  std::ifstream pos(dir + "/position");
  uint64_t position = 0;
  pos >> position;
  EXPECT_EQ(position, prev);
  ASSERT_EQ(system(("rm -rf " + dir).c_str()), 0);
}

}  // namespace
}  // namespace raftlog::testing
