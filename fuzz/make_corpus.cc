// Writes the seed corpus under fuzz/corpus/<target>/: a valid encoding of
// every message type and a few edge cases each decoder must reject. The
// files are checked in; rerun after a format change:
//   build/fuzz/make_fuzz_corpus fuzz/corpus

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"
#include "raftlog/wire/peer_codec.h"

namespace {

using namespace raftlog;
using namespace raftlog::wire;
namespace fs = std::filesystem;

fs::path root;

void Write(const char* target, const std::string& name, const std::string& bytes) {
  fs::create_directories(root / target);
  std::ofstream(root / target / name, std::ios::binary) << bytes;
}

core::Message Make(core::Message::Body body) {
  core::Message m;
  m.from = 1;
  m.to = 2;
  m.term = 5;
  m.body = std::move(body);
  return m;
}

core::Entry MakeEntry(core::LogIndex index, core::EntryType type, std::string data = "") {
  core::Entry e;
  e.index = index;
  e.term = 5;
  e.type = type;
  e.data = std::move(data);
  return e;
}

void PeerSeeds() {
  const char* t = "peer_message";
  Write(t, "request_vote",
        EncodeMessage(Make(core::RequestVote{.last_log_index = 300, .last_log_term = 4})));
  Write(t, "request_vote_pre_vote_transfer",
        EncodeMessage(Make(core::RequestVote{
            .last_log_index = 7, .last_log_term = 3, .pre_vote = true, .transfer = true})));
  Write(t, "request_vote_reply", EncodeMessage(Make(core::RequestVoteReply{.granted = true})));
  Write(t, "heartbeat", EncodeMessage(Make(core::AppendEntries{.entries = {}, .seq = 12})));
  core::Entry config = MakeEntry(11, core::EntryType::kConfig);
  config.config.voters = {1, 2, 3};
  config.config.voters_outgoing = {1, 2, 4};
  config.config.learners = {5};
  core::AppendEntries ae;
  ae.prev_log_index = 9;
  ae.prev_log_term = 4;
  ae.leader_commit = 9;
  ae.seq = 13;
  ae.entries = {MakeEntry(10, core::EntryType::kNoop), config,
                MakeEntry(12, core::EntryType::kCommand, std::string("ev\0\xff", 4))};
  const std::string append = EncodeMessage(Make(ae));
  Write(t, "append_entries", append);
  Write(
      t, "append_entries_reply_success",
      EncodeMessage(Make(core::AppendEntriesReply{.success = true, .match_index = 12, .seq = 13})));
  Write(t, "append_entries_reply_reject",
        EncodeMessage(Make(core::AppendEntriesReply{
            .success = false, .match_index = 9, .hint_index = 6, .hint_term = 3, .seq = 14})));
  core::InstallSnapshot is;
  is.snapshot.index = 100;
  is.snapshot.term = 4;
  is.snapshot.config.voters = {1, 2, 3};
  is.snapshot.size = 9;
  is.snapshot.crc = 0x12345678;
  is.offset = 4;
  is.data = std::string("st\0te", 5);
  is.done = true;
  is.seq = 15;
  Write(t, "install_snapshot", EncodeMessage(Make(is)));
  Write(t, "install_snapshot_reply",
        EncodeMessage(Make(core::InstallSnapshotReply{
            .snapshot_index = 100, .next_offset = 4, .installed = false, .seq = 15})));
  core::Message big = Make(core::AppendEntriesReply{.match_index = ~0ull, .seq = ~0ull});
  big.term = ~0ull;
  big.from = ~0ull;
  Write(t, "max_integers", EncodeMessage(big));
  // Rejected: another version, a truncation, a trailing byte, deep nesting.
  Write(t, "version_2", std::string("\x95\x02\x02\x05\x01\x02", 6));
  Write(t, "truncated", append.substr(0, append.size() / 2));
  Write(t, "trailing_byte", append + '\0');
  Write(t, "nested", std::string(32, '\x91') + '\x01');
}

std::string Request(const ClientRequest& r) {
  std::string out;
  EncodeRequest(r, &out);
  return out;
}

std::string Reply(const ClientReply& r) {
  std::string out;
  EncodeReply(r, &out);
  return out;
}

Value EveryKind() {
  return Value::MakeArray({Value(), Value::Bool(true), Value::Int(-1000), Value::Uint(1u << 20),
                           Value::Str("s"), Value::Bin(std::string("\0\x01", 2)),
                           Value::MakeArray({Value::Uint(1)}),
                           Value::MakeMap().Set("k", Value::Str("v"))});
}

void ClientSeeds() {
  const char* t = "client_request";
  const std::string status = Request({.request_id = 1, .op = kStatusOp, .args = {}});
  Write(t, "status", status);
  Write(
      t, "append",
      Request({.request_id = 3, .op = kAppendOp, .args = EncodeAppendArgs({.payload = "event"})}));
  Write(t, "fetch",
        Request({.request_id = 4,
                 .op = kFetchOp,
                 .args = EncodeFetchArgs({.from = 1, .max_count = 10, .max_bytes = 4096})}));
  Write(t, "every_kind", Request({.request_id = 2, .op = "echo", .args = {{"v", EveryKind()}}}));
  Write(t, "version_2", std::string("\x94\x02\x01\xa6status\x80", 11));
  Write(t, "truncated", status.substr(0, status.size() - 1));
  Write(t, "duplicate_key", std::string("\x94\x01\x01\xa1x\x82\xa1k\xc0\xa1k\xc0", 12));
  Write(t, "float_arg", std::string("\x94\x01\x01\xa1x\x81\xa1k\xcb\x3f\xf8\0\0\0\0\0\0", 17));

  t = "client_reply";
  NodeStatus leader{
      .id = 1,
      .role = core::Role::kLeader,
      .term = 4,
      .leader = 1,
      .commit_index = 90,
      .applied_index = 90,
      .head_index = 50,
      .last_index = 100,
      .peers = {
          {.id = 2, .match = 100, .next = 101, .lag = 0, .replicating = true, .active = true},
          {.id = 3, .match = 60, .next = 61, .lag = 40, .replicating = false, .active = true}}};
  Write(t, "status_leader",
        Reply({.request_id = 1, .code = kOk, .body = EncodeStatusBody(leader)}));
  NodeStatus follower = leader;
  follower.id = 2;
  follower.role = core::Role::kFollower;
  Write(t, "status_follower",
        Reply({.request_id = 1, .code = kOk, .body = EncodeStatusBody(follower)}));
  Write(t, "not_leader",
        Reply({.request_id = 3,
               .code = kNotLeader,
               .body = EncodeNotLeaderBody({.leader = 1,
                                            .leader_endpoint = "tcp://127.0.0.1:7101",
                                            .message = "not the leader"})}));
  Write(
      t, "append_result",
      Reply({.request_id = 3, .code = kOk, .body = EncodeAppendResult({.index = 12, .term = 5})}));
  FetchResult fetched{.entries = {MakeEntry(11, core::EntryType::kNoop),
                                  MakeEntry(12, core::EntryType::kCommand, "event")},
                      .commit_index = 12,
                      .head_index = 10};
  Write(t, "fetch_result",
        Reply({.request_id = 4, .code = kOk, .body = EncodeFetchResult(fetched)}));
  Write(t, "busy", Reply(ErrorReply(4, Status::Busy("too many proposals in flight"))));
  Write(t, "every_kind", Reply({.request_id = 5, .code = kOk, .body = {{"v", EveryKind()}}}));
  Write(t, "version_2", std::string("\x94\x02\x01\xa2ok\x80", 7));
  Write(t, "push_result",
        Reply({.request_id = 6, .code = kOk, .body = EncodePushResult({12, 5, true})}));
}

void EventSeeds() {
  Write("client_request", "push",
        Request({.request_id = 7,
                 .op = kPushOp,
                 .args = EncodePushArgs({"orders", "event", "shop-1", 42})}));
  Write(
      "client_request", "push_batch",
      Request({.request_id = 8,
               .op = kPushBatchOp,
               .args = EncodePushBatchArgs(
                   {"shop-1", {{"orders", "a", 43}, {"orders.eu", std::string("b\0", 2), 44}}})}));
  Write("client_reply", "push_batch_result",
        Reply({.request_id = 8,
               .code = kOk,
               .body = EncodePushBatchResult({{13, 5, false}, {14, 5, true}})}));
  const char* t = "pub_stream";
  std::string record;
  EncodeEventRecord(EventRecord{"orders", "shop-1", 42, 1795697262697, std::string("p\0q", 3)},
                    &record);
  Write(t, "event_record", record);
  std::string event;
  EncodePublishedEvent(PublishedEvent{17, 3, 1795697262697, "payload", "shop-1", 42, 12}, &event);
  Write(t, "published_event", event);
  std::string heartbeat;
  EncodePublishedHeartbeat({17, 20, 3}, &heartbeat);
  Write(t, "heartbeat", heartbeat);
  Write(t, "event_record_version_2", std::string("\x96\x02\xa1t\xa0\x00\x01\xc4\x00", 9));
  Write(t, "truncated", event.substr(0, event.size() - 2));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  root = argv[1];
  PeerSeeds();
  ClientSeeds();
  EventSeeds();
  return 0;
}
