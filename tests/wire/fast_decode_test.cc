// The allocation-free decoders of the hot paths: push, append and
// push_batch requests and their ok replies, event records and PUB events.
// Each is the only decoder of its format, so each is held to an outside
// reading of the same frame: a client frame to the general envelope
// decoder (DecodeRequest, DecodeReply), which must accept exactly the
// frames the typed decoder does not call malformed, refuse the others with
// the same error, and hold the same values; a fixed-shape frame to
// msgpack-c's own parse. Mutated frames cover the encodings nobody writes
// by hand.
#include <gtest/gtest.h>

#include <functional>
#include <msgpack.hpp>
#include <optional>
#include <random>

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

namespace raftlog::wire {
namespace {

std::string Request(uint64_t id, const std::string& op, const Value::Map& args) {
  std::string out;
  EncodeRequest(ClientRequest{id, op, args}, &out);
  return out;
}

std::string Reply(uint64_t id, const Value::Map& body) {
  std::string out;
  EncodeReply(ClientReply{id, kOk, body}, &out);
  return out;
}

// Mutates frame by one to three edits: flips, truncations, appended bytes,
// small changes to a byte (lengths, type codes).
void Mutate(std::mt19937_64& rng, std::string* frame) {
  const std::string seed = *frame;
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 4) {
      case 0:
        (*frame)[rng() % frame->size()] = static_cast<char>(rng());
        break;
      case 1:
        frame->resize(rng() % frame->size());
        break;
      case 2:
        frame->push_back(static_cast<char>(rng()));
        break;
      default:
        (*frame)[rng() % frame->size()] += static_cast<char>(1 + rng() % 3);
        break;
    }
    if (frame->empty()) *frame = seed;
  }
}

// A typed decoder's verdict on a client frame against the general one's:
// the same error and request id for a frame the general decoder refuses;
// for one it takes, either a broken rule of the op (an error of code
// rule_code: InvalidInput in a request, Corruption in a reply) or what
// check() expects of the general decoder's map.
void ExpectSameFrameRules(const Status& typed, uint64_t typed_id, const Status& general,
                          uint64_t general_id, Status::Code rule_code,
                          const std::function<void()>& check) {
  EXPECT_EQ(typed_id, general_id);
  if (!general.ok()) {
    EXPECT_EQ(typed.ToString(), general.ToString());
  } else if (!typed.ok()) {
    EXPECT_EQ(typed.code(), rule_code) << typed.ToString();
  } else {
    check();
  }
}

std::string_view StrOf(const Value::Map& map, const char* key) {
  const Value* v = Value::Find(map, key);
  return v != nullptr ? std::string_view(v->as_str()) : std::string_view();
}

uint64_t UintOf(const Value::Map& map, const char* key) {
  const Value* v = Value::Find(map, key);
  return v != nullptr ? v->as_uint() : 0;
}

// A push or append request through DecodePushRequest and DecodeRequest.
Status ExpectPushAgrees(const std::string& frame, const DecodeLimits& limits = {},
                        PushRequestView* out = nullptr) {
  PushRequestView push;
  Status s = DecodePushRequest(frame.data(), frame.size(), limits, &push);
  ClientRequest request;
  Status general = DecodeRequest(frame.data(), frame.size(), limits, &request);
  ExpectSameFrameRules(
      s, push.request_id, general, request.request_id, Status::Code::kInvalidInput, [&] {
        EXPECT_EQ(push.append, request.op == kAppendOp);
        EXPECT_EQ(push.payload, StrOf(request.args, "payload"));
        EXPECT_EQ(push.topic, push.append ? "default" : StrOf(request.args, "topic"));
        EXPECT_EQ(push.producer, push.append ? "" : StrOf(request.args, "producer"));
        EXPECT_EQ(push.seq, push.append ? 0 : UintOf(request.args, "seq"));
      });
  if (out != nullptr) *out = push;
  return s;
}

Value::Map PushMap(const std::string& topic, const std::string& payload,
                   const std::string& producer = "", uint64_t seq = 0) {
  return EncodePushArgs(PushArgs{topic, payload, producer, seq});
}

TEST(PushRequestDecoder, DecodesPushesAndAppendsAsViews) {
  std::string frame = Request(7, kPushOp, PushMap("orders", std::string("a\0b", 3), "shop", 9));
  PushRequestView v;
  ASSERT_TRUE(ExpectPushAgrees(frame, {}, &v).ok());
  EXPECT_EQ(v.request_id, 7u);
  EXPECT_FALSE(v.append);
  EXPECT_EQ(v.topic, "orders");
  EXPECT_EQ(v.payload, std::string("a\0b", 3));
  EXPECT_EQ(v.producer, "shop");
  EXPECT_EQ(v.seq, 9u);
  EXPECT_GE(v.payload.data(), frame.data());  // a view into the frame
  EXPECT_LE(v.payload.data() + v.payload.size(), frame.data() + frame.size());

  frame = Request(8, kAppendOp, EncodeAppendArgs(AppendArgs{"x"}));
  ASSERT_TRUE(ExpectPushAgrees(frame, {}, &v).ok());
  EXPECT_TRUE(v.append);
  EXPECT_EQ(v.topic, "default");
  EXPECT_EQ(v.payload, "x");
  EXPECT_TRUE(v.producer.empty());
}

TEST(PushRequestDecoder, IgnoresKeysTheOpDoesNotKnow) {
  PushRequestView v;  // views into frame
  std::string frame = Request(1, kPushOp,
                              {{"topic", Value::Str("t")},
                               {"payload", Value::Str("lenient")},
                               {"extra", Value::MakeArray({Value::Int(-1), Value()})}});
  ASSERT_TRUE(ExpectPushAgrees(frame, {}, &v).ok());
  EXPECT_EQ(v.payload, "lenient");
  frame = Request(2, kAppendOp, {{"payload", Value::Bin("x")}, {"topic", Value::Str("t")}});
  ASSERT_TRUE(ExpectPushAgrees(frame, {}, &v).ok());
  EXPECT_EQ(v.topic, "default");
}

TEST(PushRequestDecoder, RefusesRuleBreakersWithTheReason) {
  const std::vector<std::pair<std::string, const char*>> refused = {
      {Request(1, kPushOp, PushMap("", "x")), "push: topic must be 1..1024 bytes"},
      {Request(1, kPushOp, PushMap("_raftlog.heartbeat", "x")),
       "push: topics starting with '_raftlog.' are reserved"},
      {Request(1, kPushOp, PushMap(std::string(1025, 't'), "x")),
       "push: topic must be 1..1024 bytes"},
      {Request(1, kPushOp, PushMap("t", "x", std::string(257, 'p'), 1)),
       "push: 'producer' must be a str of 1..256 bytes"},
      {Request(1, kPushOp, {{"topic", Value::Str("t")}}), "push: 'payload' (bin) is required"},
      {Request(1, kPushOp, {{"payload", Value::Bin("x")}}), "push: 'topic' (str) is required"},
      {Request(1, kPushOp, PushMap("t", "x", "p", 0)),
       "push: 'seq' (uint >= 1) is required with 'producer'"},
      {Request(1, kPushOp,
               {{"topic", Value::Str("t")},
                {"payload", Value::Bin("x")},
                {"producer", Value::Str("p")}}),
       "push: 'seq' (uint >= 1) is required with 'producer'"},
      {Request(1, kPushOp,
               {{"topic", Value::Str("t")}, {"payload", Value::Bin("x")}, {"seq", Value::Uint(3)}}),
       "push: 'seq' without 'producer'"},
      {Request(1, kPushOp, {{"topic", Value::Str("t")}, {"payload", Value::Uint(3)}}),
       "push: 'payload' (bin) is required"},
      {Request(1, kPushOp, {{"topic", Value::Bin("t")}, {"payload", Value::Bin("x")}}),
       "push: 'topic' (str) is required"},
      {Request(1, kAppendOp, {{"topic", Value::Str("t")}}), "append: missing 'payload'"},
      {Request(1, kAppendOp, {{"payload", Value::Bool(true)}}),
       "append: 'payload' must be bin or str"},
  };
  for (const auto& [frame, why] : refused) {
    Status s = ExpectPushAgrees(frame);
    EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
    EXPECT_EQ(s.message(), why);
  }
}

TEST(PushRequestDecoder, CallsMalformedFramesWhatTheGeneralDecoderDoes) {
  const std::string good = Request(5, kPushOp, PushMap("t", "x"));
  const std::vector<std::pair<std::string, std::string>> malformed = {
      {good + "x", "client request: 1 trailing bytes after the message"},
      {good.substr(0, good.size() - 1), "client request: args.payload: truncated frame (" +
                                            std::to_string(good.size() - 1) + " bytes)"},
      {Request(5, kPushOp,
               {{"topic", Value::Str("t")}, {"payload", Value::Bin("x")}, {"topic", Value()}}),
       "client request: args: duplicate map key \"topic\""},
      {Request(5, kPushOp,
               {{"topic", Value::Str("t")},
                {"payload", Value::Bin("x")},
                {"x", Value::MakeMap({{"a", Value()}, {"a", Value()}})}}),
       "client request: args.x: duplicate map key \"a\""},
  };
  for (const auto& [frame, why] : malformed) {
    Status s = ExpectPushAgrees(frame);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(s.message(), why);
    PushRequestView v;
    (void)DecodePushRequest(frame.data(), frame.size(), {}, &v);
    EXPECT_EQ(v.request_id, 5u);  // an error reply still finds its request
  }
  std::string v2 = good;
  v2[1] = 2;
  Status s = ExpectPushAgrees(v2);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_EQ(s.message(), "client request: unsupported version 2 (this node speaks 1)");
}

TEST(PushRequestDecoder, HoldsToTheLimits) {
  DecodeLimits limits;
  limits.max_entry_bytes = 16;
  limits.max_string_bytes = 8;
  Status s = ExpectPushAgrees(Request(1, kPushOp, PushMap("t", std::string(17, 'x'))), limits);
  EXPECT_EQ(s.ToString(),
            "Corruption: client request: args.payload: a bin of 17 bytes is over the limit of 16");
  s = ExpectPushAgrees(Request(1, kPushOp, PushMap("topic-of-9", "x")), limits);
  EXPECT_EQ(s.message(), "client request: args.topic: a str of 10 bytes is over the limit of 8");
  EXPECT_TRUE(
      ExpectPushAgrees(Request(1, kPushOp, PushMap("t", std::string(16, 'x'))), limits).ok());
  // A string over the limit refuses the frame, even if the key comes again.
  s = ExpectPushAgrees(Request(1, kPushOp,
                               {{"topic", Value::Str("topic-of-9")},
                                {"topic", Value::Str("t")},
                                {"payload", Value::Bin("x")}}),
                       limits);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  uint64_t id = 0;
  std::string_view producer;
  std::vector<PushEventView> events;
  const std::string frame =
      Request(1, kPushBatchOp,
              {{"events", Value::MakeArray({Value::MakeMap({{"topic", Value::Str("topic-of-11")},
                                                            {"topic", Value::Str("t")},
                                                            {"payload", Value::Bin("x")}})})}});
  limits.max_string_bytes = 10;  // "push_batch" itself is a str of 10
  s = DecodePushBatchRequest(frame.data(), frame.size(), limits, &id, &producer, &events);
  EXPECT_EQ(s.message(),
            "client request: args.events[0].topic: a str of 11 bytes is over the limit of 10");
}

TEST(PushRequestDecoder, AgreesWithTheGeneralDecoderUnderMutation) {
  const std::vector<std::string> seeds = {
      Request(1, kPushOp, PushMap("orders", "payload-bytes", "shop-1", 1)),
      Request(300, kPushOp, PushMap("t", "")),
      Request(70000, kAppendOp, EncodeAppendArgs(AppendArgs{"abc"})),
      Request(uint64_t{1} << 40, kPushOp, PushMap("o", std::string(300, 'x'), "p", 1u << 20)),
      Request(9, kPushOp,
              {{"extra", Value::MakeMap({{"k", Value::MakeArray({Value::Int(-7)})}})},
               {"topic", Value::Str("t")},
               {"payload", Value::Str("s")}}),
  };
  std::mt19937_64 rng(20261202);
  int accepted = 0, rules = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string frame = seeds[i % seeds.size()];
    Mutate(rng, &frame);
    uint64_t id = 0;
    std::string_view op;
    if (!PeekHead(frame.data(), frame.size(), &id, &op) || (op != kPushOp && op != kAppendOp)) {
      continue;  // not a push: the server takes it to DecodeRequest
    }
    Status s = ExpectPushAgrees(frame);
    accepted += s.ok();
    rules += s.IsInvalidInput();
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(accepted, 1000);  // the mutations do reach every verdict
  EXPECT_GT(rules, 100);
}

TEST(PushReplyEncoder, WritesWhatTheGeneralEncoderWrites) {
  for (bool with_duplicate : {true, false}) {
    PushResult r{uint64_t{1} << 33, 70000, true};
    std::string fast;
    EncodePushReply(1234567, r, with_duplicate, &fast);
    EXPECT_EQ(fast,
              Reply(1234567, with_duplicate ? EncodePushResult(r)
                                            : EncodeAppendResult(AppendResult{r.index, r.term})));
  }
}

TEST(PushRequestEncoder, WritesWhatTheGeneralEncoderWrites) {
  for (const PushArgs& args :
       {PushArgs{"orders", std::string("a\0b", 3), "shop-1", 1u << 20}, PushArgs{"t", "", "", 0}}) {
    std::string fast;
    EncodePushRequest({99, false, args.topic, args.payload, args.producer, args.seq}, &fast);
    EXPECT_EQ(fast, Request(99, kPushOp, EncodePushArgs(args)));
  }
}

// An ok reply through DecodePushReply and DecodeReply.
Status ExpectPushReplyAgrees(const std::string& frame, PushResult* out = nullptr) {
  uint64_t id = 0;
  PushResult r;
  Status s = DecodePushReply(frame.data(), frame.size(), {}, &id, &r);
  ClientReply reply;
  Status general = DecodeReply(frame.data(), frame.size(), {}, &reply);
  ExpectSameFrameRules(s, id, general, reply.request_id, Status::Code::kCorruption, [&] {
    EXPECT_EQ(reply.code, kOk);
    EXPECT_EQ(r.index, UintOf(reply.body, "index"));
    EXPECT_EQ(r.term, UintOf(reply.body, "term"));
    const Value* dup = Value::Find(reply.body, "duplicate");
    EXPECT_EQ(r.duplicate, dup != nullptr && dup->as_bool());
  });
  if (out != nullptr) *out = r;
  return s;
}

TEST(PushReplyDecoder, ReadsOkRepliesAndSaysWhatIsWrongWithTheRest) {
  std::string bytes;
  EncodePushReply(77, {12, 3, true}, true, &bytes);
  PushResult r;
  ASSERT_TRUE(ExpectPushReplyAgrees(bytes, &r).ok());
  EXPECT_EQ(r.index, 12u);
  EXPECT_EQ(r.term, 3u);
  EXPECT_TRUE(r.duplicate);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_TRUE(ExpectPushReplyAgrees(bytes.substr(0, cut)).IsCorruption()) << cut;
  }
  // An append's reply, and keys a later server may add.
  ASSERT_TRUE(ExpectPushReplyAgrees(Reply(5, {{"index", Value::Uint(1)},
                                              {"term", Value::Uint(2)},
                                              {"later", Value::Str("x")}}),
                                    &r)
                  .ok());
  EXPECT_FALSE(r.duplicate);
  std::string error;
  EncodeReply(ErrorReply(77, Status::NotLeader(2)), &error);
  uint64_t id = 0;
  EXPECT_EQ(DecodePushReply(error.data(), error.size(), {}, &id, &r).message(),
            "push reply: expected code 'ok', got 'not_leader'");
  EXPECT_EQ(ExpectPushReplyAgrees(Reply(5, {{"index", Value::Uint(1)}})).message(),
            "push reply: 'index' and 'term' (uint) are required");
  EXPECT_EQ(ExpectPushReplyAgrees(Reply(5, {{"index", Value::Uint(1)},
                                            {"term", Value::Uint(2)},
                                            {"duplicate", Value::Uint(0)}}))
                .message(),
            "push reply: 'duplicate' must be a bool");
  std::mt19937_64 rng(7);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string frame = bytes;
    Mutate(rng, &frame);
    std::string_view code;
    if (PeekHead(frame.data(), frame.size(), &id, &code) && code != kOk) continue;
    accepted += ExpectPushReplyAgrees(frame).ok();
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(accepted, 100);
}

// msgpack-c's own reading of a fixed-shape frame: the array, if it parses
// whole and has n elements. Its limits refuse only what no such array holds
// (a longer array, a map, an ext, nesting), so that msgpack-c does not
// allocate for the billions of elements a mutated header may claim.
std::optional<msgpack::object_handle> ParseRow(const std::string& frame, uint32_t n) {
  try {
    size_t offset = 0;
    const msgpack::unpack_limit limit(n, 0, UINT32_MAX, UINT32_MAX, 0, 1);
    msgpack::object_handle h =
        msgpack::unpack(frame.data(), frame.size(), offset, nullptr, nullptr, limit);
    if (offset != frame.size() || h.get().type != msgpack::type::ARRAY ||
        h.get().via.array.size != n) {
      return std::nullopt;
    }
    return h;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool IsUint(const msgpack::object& o) {
  return o.type == msgpack::type::POSITIVE_INTEGER;
}
bool IsStr(const msgpack::object& o) {
  return o.type == msgpack::type::STR;
}
bool IsPayload(const msgpack::object& o) {
  return IsStr(o) || o.type == msgpack::type::BIN;
}
std::string_view View(const msgpack::object& o) {
  return {o.via.str.ptr, o.via.str.size};
}

TEST(EventRecordDecoder, AcceptsExactlyTheRecordsMsgpackCReads) {
  std::vector<std::string> seeds(3);
  EncodeEventRecord(EventRecord{"orders", "shop-1", 42, 1795697262697, "abc"}, &seeds[0]);
  EncodeEventRecord(EventRecord{"t", "", 0, 0, std::string(300, 'x')}, &seeds[1]);
  // A lenient str payload, and a seq packed as a signed int.
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(6);
  pk.pack_uint64(1);
  pk.pack(std::string("t"));
  pk.pack(std::string("p"));
  pk.pack_int32(5);
  pk.pack_uint64(9);
  pk.pack(std::string("as str"));
  seeds[2].assign(buf.data(), buf.size());
  EventRecordView v;
  ASSERT_TRUE(DecodeEventRecord(seeds[2].data(), seeds[2].size(), {}, &v).ok());
  EXPECT_EQ(v.seq, 5u);
  EXPECT_EQ(v.payload, "as str");

  std::mt19937_64 rng(42);
  int accepted = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string frame = seeds[i % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 2);
    for (int e = 0; e < edits && !frame.empty(); ++e) {
      if (rng() % 2) {
        frame[rng() % frame.size()] = static_cast<char>(rng());
      } else {
        frame[rng() % frame.size()] += static_cast<char>(1 + rng() % 3);
      }
    }
    EventRecordView view;
    Status s = DecodeEventRecord(frame.data(), frame.size(), {}, &view);
    std::optional<msgpack::object_handle> row = ParseRow(frame, 6);
    const msgpack::object* f = row ? row->get().via.array.ptr : nullptr;
    const bool valid = f != nullptr && IsUint(f[0]) && f[0].via.u64 == kEventRecordVersion &&
                       IsStr(f[1]) && IsStr(f[2]) && IsUint(f[3]) && IsUint(f[4]) &&
                       IsPayload(f[5]);
    ASSERT_EQ(s.ok(), valid) << s.ToString();
    if (!s.ok()) continue;
    ++accepted;
    EXPECT_EQ(view.topic, View(f[1]));
    EXPECT_EQ(view.producer, View(f[2]));
    EXPECT_EQ(view.seq, f[3].via.u64);
    EXPECT_EQ(view.timestamp_ms, f[4].via.u64);
    EXPECT_EQ(view.payload, View(f[5]));
  }
  EXPECT_GT(accepted, 100);
}

TEST(PublishedEventViewDecoder, AcceptsExactlyTheEventsMsgpackCReads) {
  std::vector<std::string> seeds(2);
  EncodePublishedEvent(PublishedEvent{17, 3, 1795697262697, "payload", "shop-1", 9, 12}, &seeds[0]);
  EncodePublishedEvent(PublishedEvent{1u << 20, 70000, 0, std::string(300, 'x'), "", 0, 0},
                       &seeds[1]);
  std::mt19937_64 rng(99);
  int accepted = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string frame = seeds[i % seeds.size()];
    frame[rng() % frame.size()] += static_cast<char>(1 + rng() % 3);
    if (rng() % 2) frame[rng() % frame.size()] = static_cast<char>(rng());
    PublishedEventView view;
    Status s = DecodePublishedEvent(frame.data(), frame.size(), {}, &view);
    std::optional<msgpack::object_handle> row = ParseRow(frame, 7);
    const msgpack::object* f = row ? row->get().via.array.ptr : nullptr;
    const bool valid = f != nullptr && IsUint(f[0]) && IsUint(f[1]) && IsUint(f[2]) &&
                       IsPayload(f[3]) && IsStr(f[4]) && IsUint(f[5]) && IsUint(f[6]) &&
                       f[6].via.u64 < f[0].via.u64;
    ASSERT_EQ(s.ok(), valid) << s.ToString();
    if (!s.ok()) continue;
    ++accepted;
    EXPECT_EQ(view.index, f[0].via.u64);
    EXPECT_EQ(view.term, f[1].via.u64);
    EXPECT_EQ(view.timestamp_ms, f[2].via.u64);
    EXPECT_EQ(view.payload, View(f[3]));
    EXPECT_EQ(view.producer, View(f[4]));
    EXPECT_EQ(view.seq, f[5].via.u64);
    EXPECT_EQ(view.prev_index, f[6].via.u64);
  }
  EXPECT_GT(accepted, 100);
}

// A push_batch request through DecodePushBatchRequest and DecodeRequest.
Status ExpectBatchAgrees(const std::string& frame) {
  uint64_t id = 0;
  std::string_view producer;
  std::vector<PushEventView> events;
  Status s = DecodePushBatchRequest(frame.data(), frame.size(), {}, &id, &producer, &events);
  ClientRequest request;
  Status general = DecodeRequest(frame.data(), frame.size(), {}, &request);
  ExpectSameFrameRules(s, id, general, request.request_id, Status::Code::kInvalidInput, [&] {
    EXPECT_EQ(request.op, kPushBatchOp);
    EXPECT_EQ(producer, StrOf(request.args, "producer"));
    const Value::Array& list = Value::Find(request.args, "events")->as_array();
    ASSERT_EQ(list.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].topic, StrOf(list[i].as_map(), "topic"));
      EXPECT_EQ(events[i].payload, StrOf(list[i].as_map(), "payload"));
      EXPECT_EQ(events[i].seq, UintOf(list[i].as_map(), "seq"));
    }
  });
  return s;
}

TEST(PushBatchCodec, EncoderAndDecoderAgreeWithTheGeneralOnes) {
  const PushBatchArgs with{"shop-1", {{"orders", "a", 1}, {"orders.eu", std::string(300, 'x'), 9}}};
  const PushBatchArgs without{"", {{"t", "", 0}}};
  for (const PushBatchArgs& args : {with, without}) {
    std::vector<PushEventView> views;
    for (const PushBatchEvent& e : args.events) views.push_back({e.topic, e.payload, e.seq});
    std::string fast;
    EncodePushBatchRequest(5, args.producer, views, &fast);
    EXPECT_EQ(fast, Request(5, kPushBatchOp, EncodePushBatchArgs(args)));
    uint64_t id = 0;
    std::string_view producer;
    std::vector<PushEventView> back;
    ASSERT_TRUE(DecodePushBatchRequest(fast.data(), fast.size(), {}, &id, &producer, &back).ok());
    EXPECT_EQ(id, 5u);
    EXPECT_EQ(back.size(), args.events.size());
    EXPECT_TRUE(ExpectBatchAgrees(fast).ok());
  }
  // The producer may come after the events, and keys nobody knows are ignored.
  EXPECT_TRUE(
      ExpectBatchAgrees(
          Request(6, kPushBatchOp,
                  {{"events", Value::MakeArray({Value::MakeMap({{"seq", Value::Uint(1)},
                                                                {"payload", Value::Bin("x")},
                                                                {"topic", Value::Str("t")},
                                                                {"later", Value::MakeArray()}})})},
                   {"producer", Value::Str("p")},
                   {"later", Value::Bool(true)}}))
          .ok());
  const std::vector<std::pair<Value::Map, const char*>> refused = {
      {EncodePushBatchArgs({"p", {{"t", "x", 0}}}),
       "push_batch: events[0]: 'seq' (uint >= 1) is required with 'producer'"},
      {EncodePushBatchArgs({"p", {{"t", "x", 1}, {"_raftlog.x", "x", 1}}}),
       "push_batch: events[1]: topics starting with '_raftlog.' are reserved"},
      {EncodePushBatchArgs({"p", {}}),
       "push_batch: 'events' (an array of 1..1024 maps) is required"},
      {EncodePushBatchArgs({std::string(257, 'p'), {{"t", "x", 1}}}),
       "push_batch: 'producer' must be a str of 1..256 bytes"},
      {{{"events", Value::MakeArray({Value::Str("t")})}}, "push_batch: events[0]: expected a map"},
      {{{"events", Value::MakeArray({Value::MakeMap({{"topic", Value::Str("t")}})})}},
       "push_batch: events[0]: 'payload' (bin) is required"},
      {{{"events", Value::MakeArray({Value::MakeMap({{"payload", Value::Bin("x")}})})}},
       "push_batch: events[0]: 'topic' (str) is required"},
      {{{"events", Value::MakeArray({Value::MakeMap({{"topic", Value::Str("t")},
                                                     {"payload", Value::Bin("x")},
                                                     {"seq", Value::Str("1")}})})}},
       "push_batch: events[0]: 'seq' must be a uint"},
      {{{"events", Value::MakeArray({Value::MakeMap({{"topic", Value::Str("t")},
                                                     {"payload", Value::Bin("x")},
                                                     {"seq", Value::Uint(1)}})})}},
       "push_batch: events[0]: 'seq' without 'producer'"},
  };
  for (const auto& [args, why] : refused) {
    Status s = ExpectBatchAgrees(Request(1, kPushBatchOp, args));
    EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
    EXPECT_EQ(s.message(), why);
  }
  std::mt19937_64 rng(11);
  int accepted = 0;
  const std::string seed = Request(3, kPushBatchOp, EncodePushBatchArgs(with));
  for (int i = 0; i < 40000; ++i) {
    std::string frame = seed;
    Mutate(rng, &frame);
    uint64_t id = 0;
    std::string_view op;
    if (!PeekHead(frame.data(), frame.size(), &id, &op) || op != kPushBatchOp) continue;
    accepted += ExpectBatchAgrees(frame).ok();
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(accepted, 100);
}

TEST(PushBatchCodec, ReplyEncoderAndDecoderAgreeWithTheGeneralOnes) {
  const std::vector<PushResult> results = {
      {12, 3, false}, {13, 3, true}, {uint64_t{1} << 40, 9, false}};
  std::string fast;
  EncodePushBatchReply(44, results, &fast);
  EXPECT_EQ(fast, Reply(44, EncodePushBatchResult(results)));
  uint64_t id = 0;
  std::vector<PushResult> back;
  std::string frame = Reply(44, {{"results", Value::MakeArray({Value::Uint(1)})}});
  EXPECT_EQ(DecodePushBatchReply(frame.data(), frame.size(), {}, &id, &back).message(),
            "push_batch reply: results[0]: expected a map");
  frame = Reply(44, {{"results", Value::MakeArray({Value::MakeMap({{"index", Value::Uint(1)}})})}});
  EXPECT_EQ(DecodePushBatchReply(frame.data(), frame.size(), {}, &id, &back).message(),
            "push_batch reply: results[0]: 'index' and 'term' (uint) are required");
  std::mt19937_64 rng(13);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    frame = fast;
    Mutate(rng, &frame);
    std::string_view code;
    if (PeekHead(frame.data(), frame.size(), &id, &code) && code != kOk) continue;
    Status s = DecodePushBatchReply(frame.data(), frame.size(), {}, &id, &back);
    ClientReply reply;
    Status general = DecodeReply(frame.data(), frame.size(), {}, &reply);
    ExpectSameFrameRules(s, id, general, reply.request_id, Status::Code::kCorruption, [&] {
      EXPECT_EQ(reply.code, kOk);
      const Value::Array& list = Value::Find(reply.body, "results")->as_array();
      ASSERT_EQ(list.size(), back.size());
      for (size_t k = 0; k < back.size(); ++k) {
        EXPECT_EQ(back[k].index, UintOf(list[k].as_map(), "index"));
        EXPECT_EQ(back[k].term, UintOf(list[k].as_map(), "term"));
        const Value* dup = list[k].Find("duplicate");
        EXPECT_EQ(back[k].duplicate, dup != nullptr && dup->as_bool());
      }
    });
    accepted += s.ok();
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(accepted, 100);
}

}  // namespace
}  // namespace raftlog::wire
