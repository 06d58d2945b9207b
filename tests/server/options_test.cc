// raftlogd's option parsing (ParseOptions, ParseMember, CheckEndpoint):
// what is refused, and how flags and the config file combine.
#include "server/options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace raftlog::server {
namespace {

namespace fs = std::filesystem;

const char* const kPeer1 = "1=tcp://127.0.0.1:7001,tcp://127.0.0.1:7101,tcp://127.0.0.1:7201";
const char* const kPeer2 = "2=tcp://127.0.0.1:7002,tcp://127.0.0.1:7102";

class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raftlog-options-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_config(const std::string& text) {
    std::string path = dir_ + "/node.conf";
    std::ofstream(path) << text;
    return path;
  }

  ParseResult parse(std::vector<std::string> args) {
    args.insert(args.begin(), "raftlogd");
    std::vector<const char*> argv;
    argv.reserve(args.size());
    for (const std::string& a : args) argv.push_back(a.c_str());
    options_ = ServerOptions();
    return ParseOptions(static_cast<int>(argv.size()), argv.data(), &options_);
  }

  // Parses a node 1 with peers 1 and 2 plus extra flags.
  ParseResult parse_with(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--id",   "1",    "--data-dir", dir_ + "/data",
                                     "--peer", kPeer1, "--peer",     kPeer2};
    args.insert(args.end(), extra.begin(), extra.end());
    return parse(args);
  }

  std::string dir_;
  ServerOptions options_;
};

TEST_F(OptionsTest, AcceptsAWellFormedNode) {
  ParseResult r = parse_with({});
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.status.ToString();
  ASSERT_EQ(options_.members.size(), 2u);
  EXPECT_EQ(options_.members[0].pub_endpoint, "tcp://127.0.0.1:7201");
  EXPECT_EQ(options_.members[1].client_endpoint, "tcp://127.0.0.1:7102");
  EXPECT_EQ(options_.members[1].pub_endpoint, "");
}

TEST_F(OptionsTest, EveryRaftSettingHasAnOption) {
  ParseResult r = parse_with({"--election-ticks",
                              "30",
                              "--heartbeat-ticks",
                              "3",
                              "--retransmit-ticks",
                              "7",
                              "--pre-vote",
                              "false",
                              "--check-quorum",
                              "false",
                              "--max-entries-per-msg",
                              "100",
                              "--max-bytes-per-msg",
                              "65536",
                              "--max-inflight-msgs",
                              "8",
                              "--max-inflight-bytes",
                              "1000000",
                              "--max-uncommitted-entries",
                              "5000",
                              "--max-committed-bytes-per-ready",
                              "123456"});
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.status.ToString();
  const core::Config& c = options_.raft;
  EXPECT_EQ(c.election_ticks, 30);
  EXPECT_EQ(c.heartbeat_ticks, 3);
  EXPECT_EQ(c.retransmit_ticks, 7);
  EXPECT_FALSE(c.pre_vote);
  EXPECT_FALSE(c.check_quorum);
  EXPECT_EQ(c.max_entries_per_msg, 100u);
  EXPECT_EQ(c.max_bytes_per_msg, 65536u);
  EXPECT_EQ(c.max_inflight_msgs, 8u);
  EXPECT_EQ(c.max_inflight_bytes, 1000000u);
  EXPECT_EQ(c.max_uncommitted_entries, 5000u);
  EXPECT_EQ(c.max_committed_bytes_per_ready, 123456u);
}

TEST_F(OptionsTest, RaftSettingsTheCoreRefusesAreNamedAsOptions) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--retransmit-ticks", "-1"}, "retransmit-ticks"},
      {{"--max-uncommitted-entries", "0"}, "max-uncommitted-entries"},
      {{"--max-inflight-bytes", "0"}, "max-inflight-bytes"},
  };
  for (const auto& [flags, word] : cases) {
    ParseResult r = parse_with(flags);
    EXPECT_EQ(r.action, ParseResult::Action::kExitError) << flags[0];
    EXPECT_NE(r.status.message().find(word), std::string::npos) << r.status.message();
  }
}

TEST_F(OptionsTest, ProducersExpireAfterAWeekOfLogTimeUnlessToldOtherwise) {
  ASSERT_EQ(parse_with({}).action, ParseResult::Action::kRun);
  EXPECT_EQ(options_.producer_expiry_s, 7u * 24 * 3600);
  ASSERT_EQ(parse_with({"--producer-expiry-s", "0"}).action, ParseResult::Action::kRun);
  EXPECT_EQ(options_.producer_expiry_s, 0u);
  ParseResult r = parse_with({"--producer-expiry-s", "315360001"});
  EXPECT_EQ(r.action, ParseResult::Action::kExitError);
  EXPECT_NE(r.status.message().find("producer-expiry-s must be at most"), std::string::npos)
      << r.status.message();
}

TEST_F(OptionsTest, TheProducerWindowIsWithinTheProtocolsBounds) {
  ASSERT_EQ(parse_with({}).action, ParseResult::Action::kRun);
  EXPECT_EQ(options_.producer_window, 1024u);
  ASSERT_EQ(parse_with({"--producer-window", "65536"}).action, ParseResult::Action::kRun);
  EXPECT_EQ(options_.producer_window, 65536u);
  for (const char* bad : {"1023", "65537", "0"}) {
    ParseResult r = parse_with({"--producer-window", bad});
    EXPECT_EQ(r.action, ParseResult::Action::kExitError) << bad;
    EXPECT_NE(r.status.message().find("producer-window must be 1024..65536"), std::string::npos)
        << r.status.message();
  }
}

TEST_F(OptionsTest, RetentionIsUnsetUnlessGivenAndEveryLimitParses) {
  ASSERT_EQ(parse_with({}).action, ParseResult::Action::kRun);
  EXPECT_FALSE(options_.retention.limits_set());
  EXPECT_EQ(options_.retention.snapshot_every, 100000u);
  ASSERT_EQ(parse_with({"--retain-entries", "5000", "--retain-bytes", "1000000", "--retain-age",
                        "12h", "--snapshot-every", "0"})
                .action,
            ParseResult::Action::kRun);
  EXPECT_EQ(options_.retention.retain_entries, 5000u);
  EXPECT_EQ(options_.retention.retain_bytes, 1000000u);
  EXPECT_EQ(options_.retention.retain_age_ms, 12u * 3600 * 1000);
  EXPECT_EQ(options_.retention.snapshot_every, 0u);
  for (const char* bad : {"7x", "d", "-1h", "0s", "999999999999d", "1.5h"}) {
    EXPECT_EQ(parse_with({"--retain-age", bad}).action, ParseResult::Action::kExitError) << bad;
  }
  EXPECT_EQ(parse_with({"--retain-age", "12"}).action, ParseResult::Action::kRun) << "seconds";
  EXPECT_EQ(options_.retention.retain_age_ms, 12000u);
}

TEST(ParseDurationTest, UnitsAndErrors) {
  uint64_t ms = 0;
  ASSERT_TRUE(ParseDuration("250ms", &ms).ok());
  EXPECT_EQ(ms, 250u);
  ASSERT_TRUE(ParseDuration("90s", &ms).ok());
  EXPECT_EQ(ms, 90000u);
  ASSERT_TRUE(ParseDuration("30m", &ms).ok());
  EXPECT_EQ(ms, 1800000u);
  ASSERT_TRUE(ParseDuration("7d", &ms).ok());
  EXPECT_EQ(ms, 7u * 86400 * 1000);
  Status s = ParseDuration("7w", &ms);
  EXPECT_TRUE(s.IsInvalidInput());
  EXPECT_NE(s.message().find("unknown unit 'w'"), std::string::npos) << s.message();
  EXPECT_NE(ParseDuration("h", &ms).message().find("no number"), std::string::npos);
}

TEST_F(OptionsTest, SnapshotChunksFitInAPeerFrameAndTheThrottleIsPerTick) {
  ParseResult r = parse_with({"--snapshot-chunk-bytes", "67108864"});
  EXPECT_EQ(r.action, ParseResult::Action::kExitError);
  EXPECT_NE(r.status.message().find("snapshot-chunk-bytes must be at most max-frame-bytes"),
            std::string::npos)
      << r.status.message();
  EXPECT_EQ(parse_with({"--snapshot-chunk-bytes", "0"}).action, ParseResult::Action::kExitError);
  ASSERT_EQ(parse_with({"--snapshot-chunk-bytes", "65536", "--snapshot-bytes-per-second", "1000000",
                        "--tick-ms", "50"})
                .action,
            ParseResult::Action::kRun);
  EXPECT_EQ(options_.raft.snapshot_chunk_bytes, 65536u);
  EXPECT_EQ(options_.raft.snapshot_bytes_per_tick, 50000u);
  ASSERT_EQ(parse_with({}).action, ParseResult::Action::kRun);
  EXPECT_EQ(options_.raft.snapshot_bytes_per_tick, 0u) << "no limit unless given";
}

TEST_F(OptionsTest, RefusesBadEndpointsInPeerLines) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1=tcp://127.0.0.1:99999,tcp://127.0.0.1:7101", "port"},
      {"1=tcp://127.0.0.1:0,tcp://127.0.0.1:7101", "port"},
      {"1=tcp://127.0.0.1:-5,tcp://127.0.0.1:7101", "port"},
      {"1=tcp://127.0.0.1:*,tcp://127.0.0.1:7101", "wildcard"},
      {"1=127.0.0.1:7001,tcp://127.0.0.1:7101", "tcp://"},
      {"1=tcp://127.0.0.1:7001,udp://127.0.0.1:7101", "tcp://"},
      {"1=tcp://127.0.0.1:7001,inproc://x", "tcp://"},
      {"1=tcp://:7001,tcp://127.0.0.1:7101", "no host"},
      {"1=tcp://127.0.0.1,tcp://127.0.0.1:7101", "port"},
      {"1=tcp://127.0.0.1:7001,tcp://127.0.0.1:7101,tcp://127.0.0.1:7201,tcp://127.0.0.1:7301",
       "4 endpoints"},
      {"1=tcp://127.0.0.1:7001,tcp://127.0.0.1:7101,tcp://127.0.0.1:7201,", "4 endpoints"},
      {"1=tcp://127.0.0.1:7001,", "empty client endpoint"},
  };
  for (const auto& [peer, why] : cases) {
    ParseResult r = parse({"--id", "1", "--data-dir", dir_, "--peer", peer});
    EXPECT_EQ(r.action, ParseResult::Action::kExitError) << peer;
    EXPECT_NE(r.status.message().find(why), std::string::npos)
        << peer << ": " << r.status.message();
  }
}

TEST_F(OptionsTest, RefusesABadEndpointInTheConfigFileToo) {
  std::string conf = write_config("id = 1\ndata-dir = " + dir_ +
                                  "\npeer = 1=tcp://127.0.0.1:99999,tcp://127.0.0.1:7101\n");
  ParseResult r = parse({"--config", conf});
  EXPECT_EQ(r.action, ParseResult::Action::kExitError);
  EXPECT_NE(r.status.message().find("99999"), std::string::npos) << r.status.message();
}

TEST_F(OptionsTest, AcceptsIpcEndpoints) {
  ParseResult r =
      parse({"--id", "1", "--data-dir", dir_, "--peer", "1=ipc://node1-peer,ipc://node1-client"});
  EXPECT_EQ(r.action, ParseResult::Action::kRun) << r.status.ToString();
}

TEST_F(OptionsTest, RefusesABadPubConnectEndpoint) {
  ParseResult r = parse_with({"--pub-connect", "127.0.0.1:7300"});
  EXPECT_EQ(r.action, ParseResult::Action::kExitError);
  EXPECT_NE(r.status.message().find("pub-connect"), std::string::npos) << r.status.message();
}

TEST_F(OptionsTest, RefusesNegativeUnsignedNumbers) {
  for (const char* option : {"--max-entries-per-msg", "--max-bytes-per-msg", "--max-inflight-msgs",
                             "--max-frame-bytes"}) {
    ParseResult r = parse_with({option, "-1"});
    EXPECT_EQ(r.action, ParseResult::Action::kExitError) << option;
    EXPECT_NE(r.status.message().find("negative"), std::string::npos)
        << option << ": " << r.status.message();
  }
  ParseResult r = parse({"--id", "-1", "--data-dir", dir_, "--peer", kPeer1});
  EXPECT_EQ(r.action, ParseResult::Action::kExitError);
  EXPECT_NE(r.status.message().find("negative"), std::string::npos) << r.status.message();

  std::string conf = write_config("max-inflight-msgs = -3\n");
  r = parse_with({"--config", conf});
  EXPECT_EQ(r.action, ParseResult::Action::kExitError);
  EXPECT_NE(r.status.message().find("max-inflight-msgs"), std::string::npos) << r.status.message();
}

TEST_F(OptionsTest, PeerFlagsReplaceTheConfigFilesPeers) {
  std::string conf =
      write_config("id = 1\ndata-dir = " + dir_ + "\npeer = " + kPeer1 + "\npeer = " + kPeer2 +
                   "\npeer = 3=tcp://127.0.0.1:7003,tcp://127.0.0.1:7103\n");
  // The file alone: three members.
  ParseResult r = parse({"--config", conf});
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.status.ToString();
  EXPECT_EQ(options_.members.size(), 3u);

  // A --peer flag naming a member the file names too: not "listed twice";
  // the flags are the whole peer list.
  r = parse({"--config", conf, "--peer", kPeer1, "--peer",
             "4=tcp://127.0.0.1:7004,tcp://127.0.0.1:7104"});
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.status.ToString();
  ASSERT_EQ(options_.members.size(), 2u);
  EXPECT_EQ(options_.members[0].id, 1u);
  EXPECT_EQ(options_.members[1].id, 4u);

  // Other flags override the file as before.
  r = parse({"--config", conf, "--data-dir", dir_ + "/other"});
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.status.ToString();
  EXPECT_EQ(options_.data_dir, dir_ + "/other");
}

TEST(CheckEndpointTest, WildcardPortsOnlyForBinds) {
  EXPECT_TRUE(CheckEndpoint("tcp://127.0.0.1:*", EndpointUse::kBind).ok());
  EXPECT_FALSE(CheckEndpoint("tcp://127.0.0.1:*", EndpointUse::kConnect).ok());
  EXPECT_TRUE(CheckEndpoint("tcp://[::1]:7001").ok());
  EXPECT_TRUE(CheckEndpoint("tcp://localhost:65535").ok());
  EXPECT_FALSE(CheckEndpoint("tcp://localhost:65536").ok());
  EXPECT_FALSE(CheckEndpoint("tcp://localhost:").ok());
  EXPECT_FALSE(CheckEndpoint("tcp://localhost:7x").ok());
  EXPECT_FALSE(CheckEndpoint("ipc://").ok());
  EXPECT_FALSE(CheckEndpoint("").ok());
}

}  // namespace
}  // namespace raftlog::server
