// raftlog-sub, the CLI, against a fake node (fake_node.h): its output
// format, its exit statuses, and its position file across runs.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
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

// A tcp endpoint on 127.0.0.1 where nothing listens (a port that was free a
// moment ago).
std::string DeadEndpoint() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    ADD_FAILURE() << "no free port on 127.0.0.1";
    return "tcp://127.0.0.1:0";
  }
  close(fd);
  return "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds deadline) {
  auto end = Clock::now() + deadline;
  while (!pred()) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

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
           cluster({"--from", "-1"}),
           cluster({"--count", "-3"}),
           {"--pub", "127.0.0.1:7201", "--endpoint", node_.client_endpoint()},
           {"--pub", node_.pub_endpoint(), "--endpoint", "tcp://127.0.0.1:99999"},
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

// A cluster that never answers is not an empty topic: raftlog-sub says so,
// naming the endpoints, and --idle-exit-ms ends it with status 1.
TEST_F(SubCliTest, ReportsAClusterThatNeverAnswersAndExits1) {
  const std::string pub = DeadEndpoint(), client = DeadEndpoint();
  for (const std::vector<std::string>& start :
       std::vector<std::vector<std::string>>{{"--from", "1"}, {"--from-latest"}}) {
    SCOPED_TRACE(start[0]);
    std::vector<std::string> args = {"--pub", pub, "--endpoint", client, "--idle-exit-ms", "2500"};
    args.insert(args.end(), start.begin(), start.end());
    SubProcess sub(dir_, args);
    EXPECT_EQ(sub.wait(20s), 1) << sub.err();
    std::string err = sub.err();
    EXPECT_NE(err.find("no node answers"), std::string::npos) << err;
    EXPECT_NE(err.find("no node answered within 2500 ms"), std::string::npos) << err;
    EXPECT_NE(err.find(pub), std::string::npos) << err;
    EXPECT_NE(err.find(client), std::string::npos) << err;
    EXPECT_EQ(sub.out(), "");
  }
}

// It keeps trying: once a node comes up, the events flow.
TEST_F(SubCliTest, KeepsTryingUntilANodeAnswers) {
  const std::string pub = DeadEndpoint(), client = DeadEndpoint();
  SubProcess sub(dir_, {"--pub", pub, "--endpoint", client, "--from", "1", "--count", "2"});
  ASSERT_TRUE(WaitFor([&] { return sub.err().find("no node answers") != std::string::npos; }, 20s))
      << sub.err();
  FakeNode late(pub, client);
  late.commit_event(1, "t");
  late.commit_event(2, "t");
  ASSERT_EQ(sub.wait(20s), 0) << sub.err();
  EXPECT_NE(sub.out().find("\"payload\":\"payload 2\""), std::string::npos) << sub.out();
  EXPECT_NE(sub.err().find("a node answers again"), std::string::npos) << sub.err();
}

// SIGINT in the middle of fetching from nodes that do not answer (each
// would cost a 1 s timeout) exits at once, not after trying every node.
TEST_F(SubCliTest, SigintWhileFetchingExitsAtOnce) {
  zmq::context_t context(1);
  zmq::socket_t silent(context, zmq::socket_type::router);  // takes requests, never answers
  silent.set(zmq::sockopt::linger, 0);
  std::vector<std::string> args = {"--pub", DeadEndpoint(), "--from", "1"};
  for (int i = 0; i < 8; ++i) {
    silent.bind("tcp://127.0.0.1:*");
    args.push_back("--endpoint");
    args.push_back(silent.get(zmq::sockopt::last_endpoint));
  }
  SubProcess sub(dir_, args);
  // A fetch request has arrived: raftlog-sub is waiting for its reply.
  zmq::pollitem_t item{silent.handle(), 0, ZMQ_POLLIN, 0};
  ASSERT_EQ(zmq::poll(&item, 1, 10s), 1);
  Clock::time_point start = Clock::now();
  sub.signal(SIGINT);
  EXPECT_EQ(sub.wait(20s), 0) << sub.err();
  // Trying the other 7 nodes would take 7 s.
  EXPECT_LT(Clock::now() - start, 3s);
}

}  // namespace
}  // namespace raftlog::testing
