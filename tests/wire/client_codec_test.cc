// The client envelope and the status op: round trips of every value kind,
// strict rejection of everything else, and the typed bodies.

#include "raftlog/wire/client_codec.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/log_ops.h"
#include "wire/msgpack_util.h"

namespace raftlog::wire {
namespace {

std::string Frame(const std::function<void(detail::Packer&)>& fill) {
  std::string out;
  detail::StringSink sink(&out);
  detail::Packer pk(sink);
  fill(pk);
  return out;
}

void Str(detail::Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

Status Decode(const std::string& frame, ClientRequest* out, const DecodeLimits& limits = {}) {
  return DecodeRequest(frame.data(), frame.size(), limits, out);
}

// A request frame [1, 42, "op", args] whose args map fill writes.
std::string RequestWithArgs(const std::function<void(detail::Packer&)>& fill) {
  return Frame([&fill](detail::Packer& pk) {
    pk.pack_array(4);
    pk.pack_uint64(1);
    pk.pack_uint64(42);
    Str(pk, "op");
    fill(pk);
  });
}

void ExpectCorruption(const std::string& frame, std::initializer_list<const char*> fragments,
                      const DecodeLimits& limits = {}) {
  ClientRequest out;
  Status s = Decode(frame, &out, limits);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  for (const char* f : fragments) EXPECT_NE(s.message().find(f), std::string::npos) << s.ToString();
}

Value EveryKind() {
  Value nested = Value::MakeMap().Set("deep", Value::MakeArray({Value(), Value::Uint(1)}));
  return Value::MakeArray({Value(), Value::Bool(true), Value::Bool(false), Value::Int(-1),
                           Value::Int(std::numeric_limits<int64_t>::min()), Value::Uint(0),
                           Value::Uint(std::numeric_limits<uint64_t>::max()), Value::Str(""),
                           Value::Str("h\xc3\xa9llo"), Value::Bin(std::string("\0\xff", 2)),
                           Value::MakeArray(), Value::MakeMap(), nested});
}

TEST(ClientCodec, RequestWithEveryValueKindRoundTrips) {
  ClientRequest req{
      .request_id = 7, .op = "push", .args = {{"all", EveryKind()}, {"n", Value::Uint(3)}}};
  std::string frame;
  EncodeRequest(req, &frame);
  ClientRequest out;
  Status s = Decode(frame, &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, req);
}

TEST(ClientCodec, ReplyRoundTrips) {
  ClientReply reply{.request_id = std::numeric_limits<uint64_t>::max(),
                    .code = kBusy,
                    .body = {{"message", Value::Str("queue full")}}};
  std::string frame;
  EncodeReply(reply, &frame);
  ClientReply out;
  ASSERT_TRUE(DecodeReply(frame.data(), frame.size(), {}, &out).ok());
  EXPECT_EQ(out, reply);
}

TEST(ClientCodec, IntIsNormalizedSoRoundTripsAreExact) {
  EXPECT_EQ(Value::Int(5), Value::Uint(5));
  EXPECT_EQ(Value::Int(-5).kind(), Value::Kind::kInt);
}

TEST(ClientCodec, StatusRequestBytesMatchTheProtocolDocument) {
  std::string frame;
  EncodeRequest({.request_id = 1, .op = "status", .args = {}}, &frame);
  EXPECT_EQ(frame, std::string("\x94\x01\x01\xa6status\x80", 11));
}

TEST(ClientCodec, UnknownVersionIsNotSupportedAndKeepsNothing) {
  std::string frame = Frame([](detail::Packer& pk) {
    pk.pack_array(4);
    pk.pack_uint64(2);
    pk.pack_uint64(42);
    Str(pk, "status");
    pk.pack_map(0);
  });
  ClientRequest out;
  Status s = Decode(frame, &out);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_NE(s.message().find("unsupported version 2"), std::string::npos) << s.ToString();
}

TEST(ClientCodec, FailedRequestStillYieldsItsRequestId) {
  ClientRequest out;
  ASSERT_FALSE(Decode(RequestWithArgs([](detail::Packer& pk) { pk.pack_uint64(1); }), &out).ok());
  EXPECT_EQ(out.request_id, 42u);
  ASSERT_FALSE(Decode(Frame([](detail::Packer& pk) {
                        pk.pack_array(2);
                        pk.pack_uint64(1);
                        pk.pack_uint64(43);
                      }),
                      &out)
                   .ok());
  EXPECT_EQ(out.request_id, 43u);
}

TEST(ClientCodec, EnvelopeShapeErrors) {
  ExpectCorruption(Frame([](detail::Packer& pk) { pk.pack_map(0); }), {"expected array, got map"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     pk.pack_array(3);
                     pk.pack_uint64(1);
                     pk.pack_uint64(1);
                     Str(pk, "status");
                   }),
                   {"expected 4 fields, got 3"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     pk.pack_array(4);
                     pk.pack_uint64(1);
                     pk.pack_int64(-1);
                     Str(pk, "status");
                     pk.pack_map(0);
                   }),
                   {"'request_id'", "expected uint, got negative int"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     pk.pack_array(4);
                     pk.pack_uint64(1);
                     pk.pack_uint64(1);
                     pk.pack_bin(0);
                     pk.pack_map(0);
                   }),
                   {"'op'", "expected str, got bin"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     pk.pack_array(4);
                     pk.pack_uint64(1);
                     pk.pack_uint64(1);
                     Str(pk, "");
                     pk.pack_map(0);
                   }),
                   {"'op' is empty"});
  ExpectCorruption(RequestWithArgs([](detail::Packer& pk) { pk.pack_array(0); }),
                   {"args", "expected map, got array"});
}

TEST(ClientCodec, ValueErrorsNameThePath) {
  ExpectCorruption(RequestWithArgs([](detail::Packer& pk) {
                     pk.pack_map(1);
                     Str(pk, "xs");
                     pk.pack_array(2);
                     pk.pack_uint64(1);
                     pk.pack_double(2.5);
                   }),
                   {"args.xs[1]", "float64 is not allowed"});
  ExpectCorruption(RequestWithArgs([](detail::Packer& pk) {
                     pk.pack_map(1);
                     pk.pack_uint64(1);
                     pk.pack_uint64(1);
                   }),
                   {"map key 0: expected str, got uint"});
  ExpectCorruption(RequestWithArgs([](detail::Packer& pk) {
                     pk.pack_map(2);
                     Str(pk, "a");
                     pk.pack_nil();
                     Str(pk, "a");
                     pk.pack_nil();
                   }),
                   {"duplicate map key \"a\""});
  ExpectCorruption(RequestWithArgs([](detail::Packer& pk) {
                     pk.pack_map(1);
                     Str(pk, "e");
                     pk.pack_ext(1, 1);
                     pk.pack_ext_body("x", 1);
                   }),
                   {"args.e: ext is not allowed"});
}

TEST(ClientCodec, Limits) {
  DecodeLimits limits;
  limits.max_string_bytes = 3;
  ExpectCorruption(RequestWithArgs([](detail::Packer& pk) {
                     pk.pack_map(1);
                     Str(pk, "k");
                     Str(pk, "long");
                   }),
                   {"args.k: a str of 4 bytes is over the limit of 3"}, limits);
  limits = {};
  limits.max_container_length = 4;
  ExpectCorruption(RequestWithArgs([](detail::Packer& pk) {
                     pk.pack_map(1);
                     Str(pk, "k");
                     pk.pack_array(5);
                     for (int i = 0; i < 5; ++i) pk.pack_nil();
                   }),
                   {"args.k: an array of 5 elements is over the limit of 4"}, limits);
  limits.max_container_length = 3;  // the envelope's 4
  ExpectCorruption(RequestWithArgs([](detail::Packer& pk) { pk.pack_map(0); }),
                   {"client request: an array of 4 elements is over the limit of 3"}, limits);
  limits = {};
  limits.max_depth = 3;  // envelope, args, one more level
  std::string three = RequestWithArgs([](detail::Packer& pk) {
    pk.pack_map(1);
    Str(pk, "k");
    pk.pack_array(0);
  });
  ClientRequest out;
  EXPECT_TRUE(Decode(three, &out, limits).ok());
  ExpectCorruption(RequestWithArgs([](detail::Packer& pk) {
                     pk.pack_map(1);
                     Str(pk, "k");
                     pk.pack_array(1);
                     pk.pack_array(0);
                   }),
                   {"args.k[0]: nested deeper than the limit of 3 levels"}, limits);
  limits = {};
  limits.max_frame_bytes = 4;
  ExpectCorruption(three, {"exceeds the limit of 4"}, limits);
}

TEST(ClientCodec, TruncationsAndTrailingBytesAreErrors) {
  std::string frame;
  EncodeRequest({.request_id = 9, .op = "push", .args = {{"all", EveryKind()}}}, &frame);
  for (size_t n = 0; n < frame.size(); ++n) {
    ClientRequest out;
    EXPECT_TRUE(Decode(frame.substr(0, n), &out).IsCorruption()) << n;
  }
  ExpectCorruption(frame + "x", {"1 trailing bytes"});
}

TEST(ClientCodec, NestingBombIsRejected) {
  std::string frame = RequestWithArgs([](detail::Packer& pk) {
    pk.pack_map(1);
    Str(pk, "k");
  });
  frame += std::string(100000, '\x91');
  ExpectCorruption(frame, {"args.k[0][0][0][0][0][0]: nested deeper than the limit of 8 levels"});
}

// ---- error replies ----

TEST(ClientCodec, ErrorReplyCarriesTheCodeAndMessage) {
  ClientReply r = ErrorReply(5, Status::Busy("too many proposals"));
  EXPECT_EQ(r.request_id, 5u);
  EXPECT_EQ(r.code, kBusy);
  EXPECT_EQ(Value::MakeMap(r.body).Find("message")->as_str(), "too many proposals");
  EXPECT_EQ(ErrorReply(1, Status::InvalidInput("x")).code, kInvalidInput);
  EXPECT_EQ(ErrorReply(1, Status::NotSupported("x")).code, kInvalidInput);
  EXPECT_EQ(ErrorReply(1, Status::NotFound("x")).code, kNotFound);
  EXPECT_EQ(ErrorReply(1, Status::IOError("x")).code, kError);
  EXPECT_EQ(ReplyCodeFor(Status::Ok()), std::string(kOk));
}

TEST(ClientCodec, NotLeaderReplyCarriesTheLeader) {
  ClientReply r = ErrorReply(5, Status::NotLeader(3));
  EXPECT_EQ(r.code, kNotLeader);
  NotLeaderInfo info;
  ASSERT_TRUE(DecodeNotLeaderBody(r.body, &info).ok());
  EXPECT_EQ(info.leader, 3u);
  EXPECT_EQ(info.leader_endpoint, "");
  NotLeaderInfo full{.leader = 2, .leader_endpoint = "tcp://10.0.0.2:7001", .message = "m"};
  NotLeaderInfo back;
  ASSERT_TRUE(DecodeNotLeaderBody(EncodeNotLeaderBody(full), &back).ok());
  EXPECT_EQ(back, full);
}

// ---- status op ----

NodeStatus LeaderStatus() {
  NodeStatus s{.id = 1,
               .role = core::Role::kLeader,
               .term = 4,
               .leader = 1,
               .commit_index = 90,
               .applied_index = 88,
               .head_index = 50,
               .last_index = 100,
               .peers = {}};
  s.peers = {{.id = 2, .match = 100, .next = 101, .lag = 0, .replicating = true, .active = true},
             {.id = 3, .match = 60, .next = 61, .lag = 40, .replicating = false, .active = false}};
  return s;
}

// Status bodies travel inside a reply; check them through the whole envelope.
NodeStatus ThroughTheWire(const NodeStatus& s) {
  std::string frame;
  EncodeReply({.request_id = 1, .code = kOk, .body = EncodeStatusBody(s)}, &frame);
  ClientReply reply;
  EXPECT_TRUE(DecodeReply(frame.data(), frame.size(), {}, &reply).ok());
  NodeStatus out;
  Status st = DecodeStatusBody(reply.body, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TEST(StatusOp, LeaderStatusRoundTrips) {
  EXPECT_EQ(ThroughTheWire(LeaderStatus()), LeaderStatus());
}

TEST(StatusOp, FollowerStatusHasNoPeers) {
  for (core::Role role :
       {core::Role::kFollower, core::Role::kPreCandidate, core::Role::kCandidate}) {
    NodeStatus s = LeaderStatus();
    s.role = role;
    Value::Map body = EncodeStatusBody(s);
    EXPECT_EQ(Value::MakeMap(body).Find("peers"), nullptr);
    s.peers.clear();
    EXPECT_EQ(ThroughTheWire(s), s);
  }
}

TEST(StatusOp, BodyUsesTheDocumentedKeys) {
  Value body = Value::MakeMap(EncodeStatusBody(LeaderStatus()));
  for (const char* key :
       {"id", "term", "leader", "commit_index", "applied_index", "head_index", "last_index"}) {
    ASSERT_NE(body.Find(key), nullptr) << key;
    EXPECT_EQ(body.Find(key)->kind(), Value::Kind::kUint) << key;
  }
  EXPECT_EQ(body.Find("role")->as_str(), "leader");
  const Value& peer = body.Find("peers")->as_array().at(1);
  EXPECT_EQ(peer.Find("lag")->as_uint(), 40u);
  EXPECT_EQ(peer.Find("replicating")->kind(), Value::Kind::kBool);
}

TEST(StatusOp, UnknownKeysAreIgnored) {
  Value::Map body = EncodeStatusBody(LeaderStatus());
  body.emplace_back("added_later", Value::Str("x"));
  NodeStatus out;
  ASSERT_TRUE(DecodeStatusBody(body, &out).ok());
  EXPECT_EQ(out, LeaderStatus());
}

TEST(StatusOp, BadBodiesAreErrors) {
  auto expect_error = [](const Value::Map& body, const char* fragment) {
    NodeStatus out;
    Status s = DecodeStatusBody(body, &out);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(fragment), std::string::npos) << s.ToString();
  };
  Value::Map body = EncodeStatusBody(LeaderStatus());
  Value::Map missing(body.begin() + 1, body.end());
  expect_error(missing, "missing key 'id'");
  Value::Map wrong = body;
  wrong[2].second = Value::Str("4");
  expect_error(wrong, "key 'term': expected uint, got str");
  Value::Map role = body;
  role[1].second = Value::Str("king");
  expect_error(role, "unknown role \"king\"");
  Value::Map peers = body;
  peers.back().second = Value::MakeArray({Value::Uint(2)});
  expect_error(peers, "peers[0]: expected map");
  peers.back().second = Value::MakeMap();
  expect_error(peers, "key 'peers': expected array, got map");
}

TEST(SnapshotOp, ResultRoundTripsWithTheDocumentedKeysAndMissingKeysAreErrors) {
  const SnapshotResult r{123456789, 7, 1ull << 33};
  const Value::Map body = EncodeSnapshotResult(r);
  ASSERT_EQ(body.size(), 3u);
  EXPECT_EQ(body[0].first, "index");
  EXPECT_EQ(body[1].first, "term");
  EXPECT_EQ(body[2].first, "bytes");
  SnapshotResult back;
  ASSERT_TRUE(DecodeSnapshotResult(body, &back).ok());
  EXPECT_EQ(back.index, r.index);
  EXPECT_EQ(back.term, r.term);
  EXPECT_EQ(back.bytes, r.bytes);
  for (size_t drop = 0; drop < body.size(); ++drop) {
    Value::Map partial = body;
    partial.erase(partial.begin() + static_cast<ptrdiff_t>(drop));
    EXPECT_FALSE(DecodeSnapshotResult(partial, &back).ok()) << body[drop].first;
  }
}

}  // namespace
}  // namespace raftlog::wire
