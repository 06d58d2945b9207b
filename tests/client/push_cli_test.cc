// raftlog-push as scripts use it: its JSON lines, its inputs and its exit
// status, against real raftlogd processes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "push_testing.h"
#include "tool_process.h"

extern char** environ;

namespace raftlog::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs raftlog-push with args and stdin_data on its stdin, to completion (it
// has its own deadline, --timeout-ms).
ToolRun RunPush(const std::vector<std::string>& args, const std::string& stdin_data = "") {
  char tmpl[] = "/tmp/raftlog-push-test-XXXXXX";
  fs::path dir = mkdtemp(tmpl);
  std::ofstream(dir / "in", std::ios::binary) << stdin_data;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, (dir / "in").c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, (dir / "out").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, (dir / "err").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_strings = {RAFTLOG_PUSH_PATH};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  ToolRun run;
  pid_t pid = -1;
  int rc = posix_spawn(&pid, RAFTLOG_PUSH_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  run.out = ReadFile(dir / "out");
  run.err = ReadFile(dir / "err");
  fs::remove_all(dir);
  return run;
}

struct AckLine {
  uint64_t seq = 0;
  core::LogIndex index = 0;
  bool duplicate = false;
};

// Parses the ack lines; fails the test on any other line.
std::vector<AckLine> ParseAcks(const std::string& out) {
  static const std::regex kLine(R"(\{"seq":(\d+),"index":(\d+)(,"duplicate":true)?\})");
  std::vector<AckLine> acks;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, kLine)) << "not an ack line: " << line;
    if (m.empty()) continue;
    acks.push_back({std::stoull(m[1]), std::stoull(m[2]), m[3].matched});
  }
  return acks;
}

std::vector<std::string> EndpointFlags(const ProcessCluster& c) {
  std::vector<std::string> flags;
  for (const std::string& e : c.client_endpoints()) {
    flags.push_back("-e");
    flags.push_back(e);
  }
  return flags;
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class PushCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.start_all();
    leader_ = WaitForLeader(cluster_);
    ASSERT_NE(leader_, 0u);
  }

  // Every ack's event is in the leader's log once, at the acked index, with
  // the payload of event number seq - 1.
  void ExpectLogged(const std::string& producer, const std::vector<AckLine>& acks,
                    const std::vector<std::string>& payloads) {
    ASSERT_EQ(acks.size(), payloads.size());
    ASSERT_TRUE(
        WaitForEvents(cluster_, leader_, producer, payloads.size(), std::chrono::seconds(10)));
    auto logged = EventsOf(cluster_, leader_, producer);
    for (const AckLine& a : acks) {
      ASSERT_EQ(logged[a.seq].size(), 1u) << "seq " << a.seq;
      EXPECT_EQ(logged[a.seq][0].index, a.index);
      EXPECT_EQ(logged[a.seq][0].record.payload, payloads.at(a.seq - 1));
      EXPECT_EQ(logged[a.seq][0].record.topic, "cli");
    }
  }

  ProcessCluster cluster_{3};
  core::NodeId leader_ = 0;
};

TEST_F(PushCliTest, PrintsAJsonLinePerAckAndTheOriginalsOnARerun) {
  auto args =
      Concat(EndpointFlags(cluster_), {"--topic", "cli", "--producer", "cli-args", "a", "b", "c"});
  ToolRun first = RunPush(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto acks = ParseAcks(first.out);
  ASSERT_EQ(acks.size(), 3u);
  for (const AckLine& a : acks) EXPECT_FALSE(a.duplicate);
  ExpectLogged("cli-args", acks, {"a", "b", "c"});

  // The same producer and numbers again: nothing new is appended.
  ToolRun second = RunPush(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto again = ParseAcks(second.out);
  ASSERT_EQ(again.size(), 3u);
  std::map<uint64_t, core::LogIndex> original;
  for (const AckLine& a : acks) original[a.seq] = a.index;
  for (const AckLine& a : again) {
    EXPECT_TRUE(a.duplicate);
    EXPECT_EQ(a.index, original[a.seq]);
  }
  EXPECT_EQ(EventsOf(cluster_, leader_, "cli-args").size(), 3u);
}

TEST_F(PushCliTest, ReadsLinesFromStdinAndTheClusterFromAConfigFile) {
  char tmpl[] = "/tmp/raftlog-push-conf-XXXXXX";
  fs::path dir = mkdtemp(tmpl);
  {
    std::ofstream conf(dir / "node.conf");
    conf << "id = 1\n";
    for (core::NodeId id = 1; id <= 3; ++id) {
      conf << "peer = " << id << "=" << cluster_.peer_endpoint(id) << ","
           << cluster_.client_endpoint(id) << "\n";
    }
  }
  ToolRun run = RunPush({"-c", (dir / "node.conf").string(), "--topic", "cli", "--producer",
                         "cli-lines", "--first-seq", "10"},
                        "one\ntwo\n\nfour");
  fs::remove_all(dir);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto acks = ParseAcks(run.out);
  ASSERT_EQ(acks.size(), 4u);
  std::map<uint64_t, core::LogIndex> acked;  // numbered from --first-seq
  for (const AckLine& a : acks) acked[a.seq] = a.index;
  auto logged = EventsOf(cluster_, leader_, "cli-lines");
  const std::map<uint64_t, std::string> expected = {
      {10, "one"}, {11, "two"}, {12, ""}, {13, "four"}};
  ASSERT_EQ(logged.size(), expected.size());
  for (const auto& [seq, payload] : expected) {
    ASSERT_EQ(logged[seq].size(), 1u) << "seq " << seq;
    EXPECT_EQ(logged[seq][0].index, acked[seq]);
    EXPECT_EQ(logged[seq][0].record.payload, payload);
  }
}

TEST_F(PushCliTest, ReadsLengthPrefixedRecordsWithBinary) {
  std::vector<std::string> payloads = {std::string("a\nb\0c", 5), "", std::string(300, '\xff')};
  std::string input;
  for (const std::string& p : payloads) {
    uint32_t n = p.size();
    input += {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
              static_cast<char>(n)};
    input += p;
  }
  ToolRun run = RunPush(
      Concat(EndpointFlags(cluster_), {"--topic", "cli", "--producer", "cli-binary", "--binary"}),
      input);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ExpectLogged("cli-binary", ParseAcks(run.out), payloads);
}

TEST_F(PushCliTest, QuietPrintsOneSummaryLine) {
  std::string input;
  for (int i = 0; i < 500; ++i) input += "event-" + std::to_string(i) + "\n";
  ToolRun run = RunPush(
      Concat(EndpointFlags(cluster_), {"--topic", "cli", "--window", "16", "--quiet"}), input);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  static const std::regex kSummary(
      R"(\{"acked":500,"failed":0,"seconds":[0-9.]+,"events_per_second":[0-9.]+\}\n)");
  EXPECT_TRUE(std::regex_match(run.out, kSummary)) << run.out;
}

TEST_F(PushCliTest, ExitsOneWhenTheClusterCannotCommitBeforeTheDeadline) {
  for (core::NodeId id = 1; id <= 3; ++id) cluster_.signal(id, SIGKILL);
  ToolRun run = RunPush(
      Concat(EndpointFlags(cluster_), {"--topic", "cli", "--timeout-ms", "1000", "x", "y"}));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("2 of 2 events not acknowledged within 1000 ms"), std::string::npos)
      << run.err;
}

size_t Lines(const std::string& out) {
  return static_cast<size_t>(std::count(out.begin(), out.end(), '\n'));
}

std::string Record(const std::string& payload) {
  uint32_t n = payload.size();
  return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                     static_cast<char>(n >> 8), static_cast<char>(n)} +
         payload;
}

// `tail -f app.log | raftlog-push`: each event goes out as it arrives, and
// its ack is printed while stdin is still open.
TEST_F(PushCliTest, PushesStdinAsItArrivesAndPrintsEachAckAtOnce) {
  for (bool binary : {false, true}) {
    SCOPED_TRACE(binary ? "--binary" : "lines");
    char tmpl[] = "/tmp/raftlog-push-stream-XXXXXX";
    fs::path dir = mkdtemp(tmpl);
    const std::string producer = binary ? "cli-stream-binary" : "cli-stream-lines";
    std::vector<std::string> args =
        Concat(EndpointFlags(cluster_), {"--topic", "cli", "--producer", producer});
    if (binary) args.push_back("--binary");
    ToolProcess push(RAFTLOG_PUSH_PATH, args, (dir / "push").string(), /*stdin_pipe=*/true);
    ASSERT_TRUE(push.started());
    auto feed = [&](const std::string& event) {
      return push.write(binary ? Record(event) : event + "\n");
    };
    ASSERT_TRUE(feed("first"));
    EXPECT_TRUE(ToolProcess::WaitFor([&] { return Lines(push.out()) == 1; }, 10s))
        << "no ack while stdin is open; stderr: " << push.err();
    EXPECT_TRUE(push.running());
    ASSERT_TRUE(feed("second"));
    EXPECT_TRUE(ToolProcess::WaitFor([&] { return Lines(push.out()) == 2; }, 10s)) << push.err();
    EXPECT_TRUE(push.running());
    push.close_stdin();
    EXPECT_EQ(push.wait(), 0) << push.err();
    ExpectLogged(producer, ParseAcks(push.out()), {"first", "second"});
    fs::remove_all(dir);
  }
}

// Past seq 2^64-1 there is no number left: the summary says so, rather
// than blaming a timeout.
TEST_F(PushCliTest, SaysWhyWhenTheSequenceNumbersRunOut) {
  ToolRun run =
      RunPush(Concat(EndpointFlags(cluster_), {"--topic", "cli", "--producer", "cli-last",
                                               "--first-seq", "18446744073709551615", "a", "b"}));
  EXPECT_EQ(run.exit_code, 1);
  auto acks = ParseAcks(run.out);
  ASSERT_EQ(acks.size(), 1u) << run.out;
  EXPECT_EQ(acks[0].seq, 18446744073709551615ull);
  EXPECT_NE(run.err.find("no sequence number left"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("1 of 2 events not pushed"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("not acknowledged within"), std::string::npos) << run.err;
}

TEST_F(PushCliTest, ExitsTwoOnUsageErrors) {
  auto endpoints = EndpointFlags(cluster_);
  EXPECT_EQ(RunPush(Concat(endpoints, {"x"})).exit_code, 2);  // no --topic
  EXPECT_EQ(RunPush({"--topic", "cli", "x"}).exit_code, 2);   // no cluster
  EXPECT_EQ(RunPush(Concat(endpoints, {"--topic", "_raftlog.x", "x"})).exit_code, 2);
  EXPECT_EQ(RunPush(Concat(endpoints, {"--topic", "cli", "--binary", "x"})).exit_code, 2);
  EXPECT_EQ(RunPush(Concat(endpoints, {"--topic", "cli", "--window", "0", "x"})).exit_code, 2);
  {
    // More in flight than every node remembers per producer.
    ToolRun run = RunPush(Concat(endpoints, {"--topic", "cli", "--window", "1025", "x"}));
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.err.find("at most 1024"), std::string::npos) << run.err;
  }
  // Negative numbers are refused, not wrapped around to 2^64-1.
  for (const char* option : {"--window", "--first-seq"}) {
    ToolRun run = RunPush(Concat(endpoints, {"--topic", "cli", option, "-1", "x"}));
    EXPECT_EQ(run.exit_code, 2) << option;
    EXPECT_NE(run.err.find(std::string(option) + ": '-1' is negative"), std::string::npos)
        << run.err;
    EXPECT_EQ(run.out, "");
  }
  // Endpoints are checked before anything is sent.
  for (const char* endpoint : {"127.0.0.1:7101", "tcp://127.0.0.1:99999", "tcp://:7101"}) {
    ToolRun run = RunPush({"-e", endpoint, "--topic", "cli", "x"});
    EXPECT_EQ(run.exit_code, 2) << endpoint;
    EXPECT_NE(run.err.find(endpoint), std::string::npos) << run.err;
  }
  // A record announcing 5 bytes with 2 present.
  EXPECT_EQ(RunPush(Concat(endpoints, {"--topic", "cli", "--binary"}), std::string("\0\0\0\5ab", 6))
                .exit_code,
            2);
}

}  // namespace
}  // namespace raftlog::testing
