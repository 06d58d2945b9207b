// ToolProcess: one of the command-line tools run by a test, its stdout and
// stderr in files, its stdin a pipe the test writes to and closes when it
// chooses (or nothing). Stopped by PID (SIGKILL) if still running when
// destroyed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace raftlog::testing {

class ToolProcess {
 public:
  // Runs path with args; out_prefix + ".out" and ".err" receive its output.
  // With stdin_pipe its stdin is a pipe (write(), close_stdin()), else
  // /dev/null.
  ToolProcess(const std::string& path, const std::vector<std::string>& args,
              const std::string& out_prefix, bool stdin_pipe = false)
      : out_(out_prefix + ".out"), err_(out_prefix + ".err") {
    int fds[2] = {-1, -1};
    if (stdin_pipe && pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (stdin_pipe) {
      posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
    } else {
      posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    std::vector<std::string> all = {path};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(all.size() + 1);
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, path.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (stdin_pipe) {
      ::close(fds[0]);
      stdin_ = fds[1];
    }
  }
  ~ToolProcess() {
    close_stdin();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  ToolProcess(const ToolProcess&) = delete;
  ToolProcess& operator=(const ToolProcess&) = delete;

  bool started() const { return pid_ > 0; }
  bool write(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(stdin_, data.data() + done, data.size() - done);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // Still running (not exited, or exited and not reaped by wait())?
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  // The exit status, waiting up to deadline; -1 if it is still running.
  int wait(std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (running()) {
      if (std::chrono::steady_clock::now() >= end) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return exit_code_;
  }
  std::string out() const { return Read(out_); }
  std::string err() const { return Read(err_); }

  // Polls pred every 10 ms until it holds or the deadline passes.
  static bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds deadline) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }

 private:
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string out_, err_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int exit_code_ = -1;
};

}  // namespace raftlog::testing
