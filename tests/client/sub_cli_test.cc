// raftlog-sub, the CLI, against a fake node (fake_node.h): its output
// format, its exit statuses, and its position file across runs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fake_node.h"

extern char** environ;

namespace raftlog::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// raftlog-sub with stdout and stderr in files; killed by PID if still running
// when destroyed.
class SubProcess {
 public:
  SubProcess(const std::string& dir, const std::vector<std::string>& args)
      : out_(dir + "/out" + std::to_string(++runs_)), err_(out_ + ".err") {
    std::vector<std::string> all = {RAFTLOG_SUB_PATH};
    all.insert(all.end(), args.begin(), args.end());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    std::vector<char*> argv;
    argv.reserve(all.size() + 1);
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, RAFTLOG_SUB_PATH, &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~SubProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The exit status, or -1 if it is still running after deadline.
  int wait(std::chrono::milliseconds deadline = 10s) {
    auto end = Clock::now() + deadline;
    while (pid_ > 0) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (Clock::now() >= end) return -1;
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  void signal(int sig) const { kill(pid_, sig); }
  std::string out() const { return ReadFile(out_); }
  std::string err() const { return ReadFile(err_); }

 private:
  static inline int runs_ = 0;
  std::string out_, err_;
  pid_t pid_ = -1;
};

class SubCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raftlog-sub-cli-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<std::string> cluster(std::vector<std::string> more) const {
    std::vector<std::string> args = {"--pub", node_.pub_endpoint(), "--endpoint",
                                     node_.client_endpoint()};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  std::string dir_;
  FakeNode node_;
};

TEST_F(SubCliTest, PrintsAJsonLinePerEventWithTextOrBase64Payloads) {
  node_.commit_payload(1, "orders", "say \"hi\"\tand \\ bye");
  node_.commit_payload(2, "orders", std::string("\x00\x01\xff", 3));  // not UTF-8
  node_.commit_payload(3, "users", "not asked for");
  node_.commit_payload(4, "orders", "h\xc3\xa9llo");  // UTF-8 text
  node_.commit_payload(5, "orders", "a\nb");          // a control character
  SubProcess sub(dir_, cluster({"--from", "1", "--topic", "ord", "--count", "4"}));
  ASSERT_EQ(sub.wait(), 0) << sub.err();
  EXPECT_EQ(sub.out(),
            R"({"index":1,"term":1,"topic":"orders","producer":"p","seq":1,"timestamp":1001,)"
            R"("payload":"say \"hi\"\tand \\ bye"})"
            "\n"
            R"({"index":2,"term":1,"topic":"orders","producer":"p","seq":2,"timestamp":1002,)"
            R"("payload_b64":"AAH/"})"
            "\n"
            R"({"index":4,"term":1,"topic":"orders","producer":"p","seq":4,"timestamp":1004,)"
            "\"payload\":\"h\xc3\xa9llo\"}\n"
            R"({"index":5,"term":1,"topic":"orders","producer":"p","seq":5,"timestamp":1005,)"
            R"("payload_b64":"YQpi"})"
            "\n");
}

TEST_F(SubCliTest, RawPrintsThePayloadBytesAndANewline) {
  node_.commit_payload(1, "t", "one");
  node_.commit_payload(2, "t", std::string("t\0o", 3));
  SubProcess sub(dir_, cluster({"--from", "1", "--raw", "--count", "2"}));
  ASSERT_EQ(sub.wait(), 0) << sub.err();
  EXPECT_EQ(sub.out(), std::string("one\nt\0o\n", 8));
}

TEST_F(SubCliTest, ACompactedStartExits1NamingTheEarliestIndexHeld) {
  for (core::LogIndex i = 1; i <= 120; ++i) node_.commit_event(i, "t");
  node_.compact_through(99);
  SubProcess sub(dir_, cluster({"--from", "5"}));
  EXPECT_EQ(sub.wait(), 1);
  EXPECT_NE(sub.err().find("index 5 was compacted; the earliest index held is 100"),
            std::string::npos)
      << sub.err();
  EXPECT_EQ(sub.out(), "");
}

TEST_F(SubCliTest, UsageErrorsExit2) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"--pub", "tcp://127.0.0.1:1"},  // no client endpoint
           cluster({"--from", "0"}),
           cluster({"--from", "2", "--from-latest"}),
           cluster({"-c", "some.conf"}),
           cluster({"--no-such-flag"}),
           {"-c", dir_ + "/missing.conf"},
       }) {
    SubProcess sub(dir_, args);
    EXPECT_EQ(sub.wait(), 2) << sub.err();
    EXPECT_FALSE(sub.err().empty());
  }
}

TEST_F(SubCliTest, APositionFileCarriesOverRunsAndSigterm) {
  for (core::LogIndex i = 1; i <= 10; ++i) node_.commit_event(i, "t");
  const std::string position = dir_ + "/position";
  auto indexes = [](const std::string& out) {
    std::vector<core::LogIndex> got;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      got.push_back(std::stoull(line.substr(line.find(':') + 1)));
    }
    return got;
  };
  std::vector<core::LogIndex> all;

  SubProcess first(dir_, cluster({"--position-file", position, "--from", "1", "--count", "4"}));
  ASSERT_EQ(first.wait(), 0) << first.err();
  EXPECT_EQ(ReadFile(position), "4\n");
  for (core::LogIndex i : indexes(first.out())) all.push_back(i);

  // Stopped by SIGTERM once it has printed the rest: it records 10.
  SubProcess second(dir_, cluster({"--position-file", position}));
  auto end = Clock::now() + 10s;
  while (indexes(second.out()).size() < 6 && Clock::now() < end) {
    std::this_thread::sleep_for(10ms);
  }
  second.signal(SIGTERM);
  ASSERT_EQ(second.wait(), 0) << second.err();
  EXPECT_EQ(ReadFile(position), "10\n");
  for (core::LogIndex i : indexes(second.out())) all.push_back(i);

  SubProcess third(dir_, cluster({"--position-file", position, "--idle-exit-ms", "300"}));
  ASSERT_EQ(third.wait(), 0) << third.err();
  EXPECT_EQ(third.out(), "");

  std::vector<core::LogIndex> want;
  for (core::LogIndex i = 1; i <= 10; ++i) want.push_back(i);
  EXPECT_EQ(all, want);
}

}  // namespace
}  // namespace raftlog::testing
