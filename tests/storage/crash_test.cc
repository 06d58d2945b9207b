// Crash safety: storage_crash_writer (crash_writer.cc) appends synced
// batches and is killed with SIGKILL at random moments, many times over the
// same directory. After every kill the store must open, hold every entry the
// writer had reported as synced, intact, and be one contiguous run of
// indexes with non-decreasing terms.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <sstream>

#include "raftlog/storage/leveldb_store.h"
#include "test_util.h"

namespace raftlog::storage {
namespace {

using core::LogIndex;
using core::Term;
using Clock = std::chrono::steady_clock;

// What the writer has promised so far: these were durable when reported.
struct Promise {
  LogIndex last = 0;
  Term last_term = 0;
  LogIndex head = 0;
  int reports = 0;
};

// Reads the writer's report lines from a pipe.
class ReportReader {
 public:
  explicit ReportReader(int fd, Promise* promise) : fd_(fd), promise_(promise) {}
  ~ReportReader() { close(fd_); }

  // Reads whatever arrives until deadline. False once the writer's end closed.
  bool ReadUntil(Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      int n = poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
      if (n == 0) return true;  // deadline passed
      if (n < 0) continue;      // EINTR
      char buf[4096];
      ssize_t got = read(fd_, buf, sizeof buf);
      if (got <= 0) return false;
      pending_.append(buf, static_cast<size_t>(got));
      Parse();
    }
  }

  // Reads until the writer has made `reports` reports, or the deadline. False
  // if the writer died first.
  bool WaitForReports(int reports, Clock::time_point deadline) {
    while (promise_->reports < reports && Clock::now() < deadline) {
      if (!ReadUntil(std::min(deadline, Clock::now() + std::chrono::milliseconds(50)))) {
        return false;
      }
    }
    return promise_->reports >= reports;
  }

 private:
  void Parse() {
    size_t end;
    while ((end = pending_.find('\n')) != std::string::npos) {
      std::istringstream line(pending_.substr(0, end));
      pending_.erase(0, end + 1);
      char kind = 0;
      line >> kind;
      if (kind == 'A') {
        line >> promise_->last >> promise_->last_term;
      } else if (kind == 'C') {
        line >> promise_->head;
      }
      ++promise_->reports;
    }
  }

  int fd_;
  Promise* promise_;
  std::string pending_;
};

int Iterations() {
  const char* env = std::getenv("RAFTLOG_CRASH_ITERATIONS");
  return env != nullptr ? std::atoi(env) : RAFTLOG_CRASH_ITERATIONS;
}

// Opens the store after a crash and checks it against the promise.
void CheckAfterCrash(const std::string& dir, const Promise& promise) {
  std::unique_ptr<LogStore> store;
  Status s = OpenLevelDbLogStore(dir, {}, &store);
  ASSERT_TRUE(s.ok()) << s.message();
  const LogIndex head = store->head_index(), last = store->last_index();
  ASSERT_GE(last, promise.last) << "a reported append is missing";
  ASSERT_GE(head, promise.head) << "a reported compaction is undone";
  Term t = 0;
  ASSERT_TRUE(store->term(promise.last, &t).ok());
  EXPECT_GE(t, promise.last_term);
  core::HardState hs;
  ASSERT_TRUE(store->load_hard_state(&hs).ok());
  EXPECT_GE(hs.term, promise.last_term);

  Term prev_term = store->head_term();
  LogIndex next = head + 1;
  while (next <= last) {
    std::vector<core::Entry> out;
    s = store->entries(next, last + 1, 1 << 20, &out);
    ASSERT_TRUE(s.ok()) << s.message();
    for (const core::Entry& e : out) {
      ASSERT_EQ(e.index, next) << "the log is not contiguous";
      ASSERT_GE(e.term, prev_term) << "terms fall at entry " << e.index;
      ASSERT_EQ(e.data, testing::Payload(e.index, e.term, e.data.size()))
          << "entry " << e.index << " is not what was written";
      prev_term = e.term;
      ++next;
    }
  }
}

TEST(CrashTest, EveryReportedAppendSurvivesKill9AndTheLogStaysContiguous) {
  const int iterations = Iterations();
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::mt19937_64 rng(20261126);
  Promise promise;
  for (int it = 0; it < iterations; ++it) {
    SCOPED_TRACE("kill " + std::to_string(it) + " of " + std::to_string(iterations));
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    const std::string seed = std::to_string(rng());
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      dup2(fds[1], STDOUT_FILENO);
      execl(RAFTLOG_CRASH_WRITER, RAFTLOG_CRASH_WRITER, dir.path().c_str(), seed.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    ReportReader reader(fds[0], &promise);
    // Every fifth kill may land while the writer is still opening and
    // recovering; the others once it has reported some appends.
    const int reports_first = it % 5 == 0 ? 0 : 1 + static_cast<int>(rng() % 20);
    const bool alive = reader.WaitForReports(promise.reports + reports_first,
                                             Clock::now() + std::chrono::seconds(30));
    if (alive) reader.ReadUntil(Clock::now() + std::chrono::microseconds(rng() % 20000));
    kill(pid, SIGKILL);
    while (reader.ReadUntil(Clock::now() + std::chrono::seconds(10))) {
    }  // lines written before the kill count too
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer stopped by itself (status " << status << "); see its stderr";
    CheckAfterCrash(dir.path(), promise);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(promise.reports, iterations) << "the writer hardly wrote anything";
  RecordProperty("last_index", std::to_string(promise.last));
}

}  // namespace
}  // namespace raftlog::storage
