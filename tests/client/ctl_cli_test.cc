// raftlog-ctl against real raftlogd processes: fetch served by whichever
// node answers, printed as raftlog-sub prints events; status asking the
// nodes in parallel.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "json_testing.h"
#include "push_testing.h"
#include "raftlog/producer.h"
#include "tool_process.h"

namespace raftlog::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class CtlCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raftlog-ctl-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    cluster_.start_all();
    leader_ = WaitForLeader(cluster_);
    ASSERT_NE(leader_, 0u);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<ToolProcess> ctl(const std::vector<std::string>& args) {
    return std::make_unique<ToolProcess>(RAFTLOG_CTL_PATH, args,
                                         dir_ + "/ctl" + std::to_string(++runs_));
  }

  std::string dir_;
  int runs_ = 0;
  ProcessCluster cluster_{3};
  core::NodeId leader_ = 0;
};

TEST_F(CtlCliTest, FetchSkipsADeadNodeAndPrintsEventsAsJsonLines) {
  ProducerOptions o;
  o.endpoints = cluster_.client_endpoints();
  o.producer_id = "ctl-events";
  Producer producer(o);
  uint64_t seq = 0;
  ASSERT_TRUE(producer.push("orders", "say \"hi\"", &seq).ok());
  ASSERT_TRUE(producer.push("orders", std::string("\x00\xff", 2), &seq).ok());
  ASSERT_TRUE(producer.flush(10s).ok());
  std::map<uint64_t, Producer::Ack> acks;
  Producer::Ack ack;
  while (producer.poll_ack(&ack, 0ms)) acks[ack.seq] = ack;
  ASSERT_EQ(acks.size(), 2u);
  // Node 1, the first endpoint of every config file, is down; node 2 has
  // the events.
  ASSERT_TRUE(WaitForEvents(cluster_, 2, "ctl-events", 2, 10s));
  cluster_.signal(1, SIGKILL);

  auto run = ctl({"-c", cluster_.config_path(2), "--timeout-ms", "1000", "fetch", "--from", "1"});
  ASSERT_EQ(run->wait(), 0) << run->err();
  EXPECT_NE(run->err().find(cluster_.client_endpoint(1)), std::string::npos) << run->err();

  std::istringstream lines(run->out());
  std::map<uint64_t, JsonObject> events;  // by seq
  core::LogIndex expected_index = 1;
  for (std::string line; std::getline(lines, line); ++expected_index) {
    std::optional<JsonObject> j = ParseFlatJson(line);
    ASSERT_TRUE(j.has_value()) << "not a JSON object: " << line;
    ASSERT_EQ(j->count("index"), 1u) << line;
    EXPECT_EQ(j->at("index").number(), expected_index) << line;
    EXPECT_EQ(j->count("term"), 1u) << line;
    if (j->count("type")) {  // not an event: the leader's noop (no config changes here)
      EXPECT_EQ(j->at("type").text, "noop") << line;
      EXPECT_EQ(j->size(), 3u) << line;
      continue;
    }
    for (const char* key : {"topic", "producer", "seq", "timestamp"}) {
      EXPECT_EQ(j->count(key), 1u) << key << " missing: " << line;
    }
    if (j->at("producer").text == "ctl-events") events[j->at("seq").number()] = *j;
  }
  EXPECT_GE(expected_index, 4u) << "a noop and two events at least: " << run->out();
  ASSERT_EQ(events.size(), 2u) << run->out();
  for (const auto& [s, j] : events) {
    EXPECT_EQ(j.at("index").number(), acks.at(s).index);
    EXPECT_EQ(j.at("term").number(), acks.at(s).term);
    EXPECT_EQ(j.at("topic").text, "orders");
    EXPECT_GT(j.at("timestamp").number(), 0u);
  }
  EXPECT_EQ(events.at(1).at("payload").text, "say \"hi\"");
  EXPECT_EQ(events.at(1).count("payload_b64"), 0u);
  EXPECT_EQ(events.at(2).at("payload_b64").text, "AP8=");
  EXPECT_EQ(events.at(2).count("payload"), 0u);
}

TEST_F(CtlCliTest, FetchFailsWithExit1WhenNoNodeAnswers) {
  for (core::NodeId id = 1; id <= 3; ++id) cluster_.signal(id, SIGKILL);
  auto run = ctl({"-c", cluster_.config_path(1), "--timeout-ms", "300", "fetch", "--from", "1"});
  EXPECT_EQ(run->wait(), 1);
  for (core::NodeId id = 1; id <= 3; ++id) {
    EXPECT_NE(run->err().find(cluster_.client_endpoint(id)), std::string::npos) << run->err();
  }
  EXPECT_EQ(run->out(), "");
}

// Two dead nodes cost one timeout, not two: the nodes are asked in parallel.
TEST_F(CtlCliTest, StatusAsksTheNodesInParallel) {
  cluster_.signal(1, SIGKILL);
  cluster_.signal(2, SIGKILL);
  const auto timeout = 3000ms;
  Clock::time_point start = Clock::now();
  auto run = ctl(
      {"-c", cluster_.config_path(3), "--timeout-ms", std::to_string(timeout.count()), "status"});
  EXPECT_EQ(run->wait(), 1) << run->err();
  auto took = Clock::now() - start;
  EXPECT_LT(took, 2 * timeout);
  std::string out = run->out();
  // The table's line for a node's endpoint.
  auto line_of = [&](core::NodeId id) {
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(cluster_.client_endpoint(id) + " ") != std::string::npos) return line;
    }
    return std::string();
  };
  EXPECT_NE(line_of(1).find("unreachable"), std::string::npos) << out;
  EXPECT_NE(line_of(2).find("unreachable"), std::string::npos) << out;
  EXPECT_FALSE(line_of(3).empty()) << out;
  EXPECT_EQ(line_of(3).find("unreachable"), std::string::npos) << out;
}

TEST(CtlCliUsageTest, RefusesNegativeNumbersAndBadEndpoints) {
  char tmpl[] = "/tmp/raftlog-ctl-usage-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  int n = 0;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"-e", "tcp://127.0.0.1:7101", "fetch", "--from", "-1"},
           {"-e", "tcp://127.0.0.1:7101", "fetch", "--max-count", "-5"},
           {"-e", "tcp://127.0.0.1:7101", "--timeout-ms", "0", "status"},
           {"-e", "127.0.0.1:7101", "status"},
           {"-e", "tcp://127.0.0.1:99999", "status"},
       }) {
    ToolProcess run(RAFTLOG_CTL_PATH, args, dir + "/run" + std::to_string(++n));
    EXPECT_EQ(run.wait(), 2) << args[args.size() - 1] << ": " << run.err();
    EXPECT_FALSE(run.err().empty());
    EXPECT_EQ(run.out(), "");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace raftlog::testing
