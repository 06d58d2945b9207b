// raftlogd's start-up as a user meets it: the data directory is created when
// missing, and when it cannot be used the node says which and why (exit 1).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "process_cluster.h"

extern char** environ;

namespace raftlog::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// One single-node raftlogd, started in `cwd` with the given data-dir, its
// stderr and stdout in cwd/node.log. Killed (SIGKILL) and reaped by the
// destructor if still running.
class Node {
 public:
  Node(const fs::path& cwd, const std::string& data_dir) : cwd_(cwd) {
    client_endpoint_ = "tcp://127.0.0.1:" + std::to_string(FreePort());
    std::string peer = "1=tcp://127.0.0.1:" + std::to_string(FreePort()) + "," + client_endpoint_;
    std::vector<std::string> args = {RAFTLOGD_PATH, "--id",       "1",     "--peer",
                                     peer,          "--data-dir", data_dir};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path().c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    if (posix_spawn(&pid_, RAFTLOGD_PATH, &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Node() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool started() const { return pid_ > 0; }
  fs::path log_path() const { return cwd_ / "node.log"; }
  std::string log_text() const {
    std::ifstream in(log_path());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Waits for the process to exit; its waitpid status, or -1 if it was
  // still running at the deadline.
  int wait_exit(std::chrono::milliseconds deadline = 20s) {
    int status = -1;
    bool exited = ProcessCluster::wait_for(
        [&] { return pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_; }, deadline);
    if (!exited) return -1;
    pid_ = -1;
    return status;
  }

  // Waits until its client endpoint answers status; false at once if the
  // process exits.
  bool wait_serving(std::chrono::milliseconds deadline = 20s) {
    ClientOptions o;
    o.endpoints = {client_endpoint_};
    o.request_timeout = 500ms;
    Client client(o);
    bool serving = false;
    ProcessCluster::wait_for(
        [&] {
          int status = 0;
          if (pid_ <= 0 || waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return true;
          }
          wire::NodeStatus st;
          return serving = client.status(client_endpoint_, &st).ok();
        },
        deadline);
    return serving;
  }

  int terminate() {
    if (pid_ <= 0) return -1;  // never kill(-1, ...)
    kill(pid_, SIGTERM);
    return wait_exit();
  }

 private:
  fs::path cwd_;
  std::string client_endpoint_;
  pid_t pid_ = -1;
};

class RaftlogdDataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "raftlogd-test-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_ / "ro", fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }

  // Runs a node on data_dir that must fail to start: exit status 1, and
  // the log (stderr) holds `message`.
  void ExpectFailsWith(const std::string& data_dir, const std::string& message) {
    Node node(dir_, data_dir);
    ASSERT_TRUE(node.started());
    int status = node.wait_exit();
    ASSERT_NE(status, -1) << "still running with data-dir " << data_dir;
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 1);
    EXPECT_NE(node.log_text().find(message), std::string::npos) << "want: " << message << "\ngot:\n"
                                                                << node.log_text();
  }

  fs::path dir_;
};

TEST_F(RaftlogdDataDirTest, CreatesAMissingDataDirectoryAndItsParents) {
  // Relative, as in README.md's "Running a cluster", one level deeper.
  Node node(dir_, "data/cluster/node1");
  ASSERT_TRUE(node.started());
  ASSERT_TRUE(node.wait_serving()) << node.log_text();
  EXPECT_TRUE(fs::is_directory(dir_ / "data/cluster/node1"));
  EXPECT_TRUE(fs::exists(dir_ / "data/cluster/node1/CURRENT")) << "LevelDB opened it";
  int status = node.terminate();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(RaftlogdDataDirTest, ADataDirThatIsAFileIsNamedWithTheReason) {
  std::ofstream(dir_ / "node1") << "not a directory\n";
  std::string data_dir = (dir_ / "node1").string();
  ExpectFailsWith(data_dir, "cannot use data directory " + data_dir + ": Not a directory");
}

TEST_F(RaftlogdDataDirTest, ADataDirUnderAFileIsNamedWithTheReason) {
  // Works as root too: no permission check is involved.
  std::ofstream(dir_ / "file") << "not a directory\n";
  std::string data_dir = (dir_ / "file/data/node1").string();
  ExpectFailsWith(data_dir, "cannot create data directory " + data_dir + ": Not a directory");
}

TEST_F(RaftlogdDataDirTest, ADataDirInANonWritableDirectoryIsNamedWithTheReason) {
  if (geteuid() == 0) {
    GTEST_SKIP() << "running as root, which may write anywhere: the permission case needs an "
                    "unprivileged user (ADataDirUnderAFile covers the same error path)";
  }
  fs::create_directories(dir_ / "ro/existing");
  fs::permissions(dir_ / "ro/existing", fs::perms::owner_read | fs::perms::owner_exec);
  fs::permissions(dir_ / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  std::string missing = (dir_ / "ro/node1").string();
  ExpectFailsWith(missing, "cannot create data directory " + missing + ": Permission denied");
  std::string existing = (dir_ / "ro/existing").string();
  ExpectFailsWith(existing, "cannot use data directory " + existing + ": Permission denied");
}

}  // namespace
}  // namespace raftlog::testing
