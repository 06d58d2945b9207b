// The allocation-free decoders of the hot paths against outside readings
// of the same frames: whatever the fast push decoders accept, the general
// ones accept with the same values; an event record or a PUB event is
// accepted exactly when msgpack-c reads a valid one, with the same values.
// Mutated frames cover the encodings nobody writes by hand.
#include <gtest/gtest.h>

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

// What the general path makes of a frame: ok and the push it describes.
bool GeneralPush(const std::string& frame, const DecodeLimits& limits, PushRequestView* out,
                 ClientRequest* request, PushArgs* args, AppendArgs* append) {
  if (!DecodeRequest(frame.data(), frame.size(), limits, request).ok()) return false;
  out->request_id = request->request_id;
  if (request->op == kPushOp) {
    if (!DecodePushArgs(request->args, args).ok()) return false;
    out->topic = args->topic;
    out->payload = args->payload;
    out->producer = args->producer;
    out->seq = args->seq;
    return true;
  }
  if (request->op == kAppendOp) {
    if (!DecodeAppendArgs(request->args, append).ok()) return false;
    out->append = true;
    out->topic = "default";
    out->payload = append->payload;
    return true;
  }
  return false;
}

// Fast accepts => general accepts, with the same fields.
void ExpectAgrees(const std::string& frame, const DecodeLimits& limits = {}) {
  PushRequestView fast;
  if (!DecodePushRequest(frame.data(), frame.size(), limits, &fast)) return;
  PushRequestView general;
  ClientRequest request;
  PushArgs args;
  AppendArgs append;
  ASSERT_TRUE(GeneralPush(frame, limits, &general, &request, &args, &append))
      << "only the fast decoder accepts a frame of " << frame.size() << " bytes";
  EXPECT_EQ(fast.request_id, general.request_id);
  EXPECT_EQ(fast.append, general.append);
  EXPECT_EQ(fast.topic, general.topic);
  EXPECT_EQ(fast.payload, general.payload);
  EXPECT_EQ(fast.producer, general.producer);
  EXPECT_EQ(fast.seq, general.seq);
}

Value::Map PushMap(const std::string& topic, const std::string& payload,
                   const std::string& producer = "", uint64_t seq = 0) {
  return EncodePushArgs(PushArgs{topic, payload, producer, seq});
}

TEST(PushRequestDecoder, DecodesPushesAndAppendsAsViews) {
  std::string frame = Request(7, kPushOp, PushMap("orders", std::string("a\0b", 3), "shop", 9));
  PushRequestView v;
  ASSERT_TRUE(DecodePushRequest(frame.data(), frame.size(), {}, &v));
  EXPECT_EQ(v.request_id, 7u);
  EXPECT_FALSE(v.append);
  EXPECT_EQ(v.topic, "orders");
  EXPECT_EQ(v.payload, std::string("a\0b", 3));
  EXPECT_EQ(v.producer, "shop");
  EXPECT_EQ(v.seq, 9u);
  EXPECT_GE(v.payload.data(), frame.data());  // a view into the frame
  EXPECT_LE(v.payload.data() + v.payload.size(), frame.data() + frame.size());
  ExpectAgrees(frame);

  frame = Request(8, kAppendOp, EncodeAppendArgs(AppendArgs{"x"}));
  ASSERT_TRUE(DecodePushRequest(frame.data(), frame.size(), {}, &v));
  EXPECT_TRUE(v.append);
  EXPECT_EQ(v.topic, "default");
  EXPECT_EQ(v.payload, "x");
  EXPECT_TRUE(v.producer.empty());
  ExpectAgrees(frame);
}

TEST(PushRequestDecoder, LeavesEverythingUnusualOrWrongToTheGeneralDecoder) {
  const std::vector<std::string> refused = {
      Request(1, kStatusOp, {}),
      Request(1, kPushOp, PushMap("", "x")),                      // empty topic
      Request(1, kPushOp, PushMap("_raftlog.heartbeat", "x")),    // reserved topic
      Request(1, kPushOp, PushMap(std::string(1025, 't'), "x")),  // topic too long
      Request(1, kPushOp, PushMap("t", "x", std::string(257, 'p'), 1)),
      Request(1, kPushOp, {{"topic", Value::Str("t")}}),    // no payload
      Request(1, kPushOp, {{"payload", Value::Bin("x")}}),  // no topic
      Request(1, kPushOp, PushMap("t", "x", "p", 0)),       // seq 0
      Request(1, kPushOp,
              {{"topic", Value::Str("t")},
               {"payload", Value::Bin("x")},
               {"seq", Value::Uint(3)}}),  // seq alone
      Request(1, kPushOp, {{"topic", Value::Str("t")}, {"payload", Value::Uint(3)}}),
      Request(1, kPushOp,
              {{"topic", Value::Str("t")},
               {"payload", Value::Bin("x")},
               {"extra", Value::Uint(1)}}),  // allowed, but the slow path's
      Request(1, kAppendOp, {{"payload", Value::Bin("x")}, {"topic", Value::Str("t")}}),
  };
  for (const std::string& frame : refused) {
    PushRequestView v;
    EXPECT_FALSE(DecodePushRequest(frame.data(), frame.size(), {}, &v));
  }
  // The extra key is fine for the general decoder: it takes that push.
  PushRequestView general;
  ClientRequest request;
  PushArgs args;
  AppendArgs append;
  EXPECT_TRUE(GeneralPush(refused[10], {}, &general, &request, &args, &append));
}

TEST(PushRequestDecoder, HoldsToTheLimits) {
  DecodeLimits limits;
  limits.max_entry_bytes = 16;
  limits.max_string_bytes = 8;
  std::string frame = Request(1, kPushOp, PushMap("t", std::string(17, 'x')));
  PushRequestView v;
  EXPECT_FALSE(DecodePushRequest(frame.data(), frame.size(), limits, &v));
  ClientRequest request;
  Status s = DecodeRequest(frame.data(), frame.size(), limits, &request);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.message(), "client request: args.payload: a bin of 17 bytes is over the limit of 16");
  frame = Request(1, kPushOp, PushMap("topic-of-9", "x"));
  EXPECT_FALSE(DecodePushRequest(frame.data(), frame.size(), limits, &v));
  EXPECT_FALSE(DecodeRequest(frame.data(), frame.size(), limits, &request).ok());
  frame = Request(1, kPushOp, PushMap("t", std::string(16, 'x')));
  EXPECT_TRUE(DecodePushRequest(frame.data(), frame.size(), limits, &v));
  ExpectAgrees(frame, limits);
  // A string over the limit refuses the frame, even if the key comes again.
  frame = Request(1, kPushOp,
                  {{"topic", Value::Str("topic-of-9")},
                   {"topic", Value::Str("t")},
                   {"payload", Value::Bin("x")}});
  EXPECT_FALSE(DecodePushRequest(frame.data(), frame.size(), limits, &v));
  uint64_t id = 0;
  std::string_view producer;
  std::vector<PushEventView> events;
  frame = Request(1, kPushBatchOp,
                  {{"events", Value::MakeArray({Value::MakeMap({{"topic", Value::Str("topic-of-9")},
                                                                {"topic", Value::Str("t")},
                                                                {"payload", Value::Bin("x")}})})}});
  EXPECT_FALSE(DecodePushBatchRequest(frame.data(), frame.size(), limits, &id, &producer, &events));
}

TEST(PushRequestDecoder, AcceptsNothingTheGeneralDecoderRefusesUnderMutation) {
  const std::vector<std::string> seeds = {
      Request(1, kPushOp, PushMap("orders", "payload-bytes", "shop-1", 1)),
      Request(300, kPushOp, PushMap("t", "")),
      Request(70000, kAppendOp, EncodeAppendArgs(AppendArgs{"abc"})),
      Request(uint64_t{1} << 40, kPushOp, PushMap("o", std::string(300, 'x'), "p", 1u << 20)),
  };
  std::mt19937_64 rng(20261202);
  int accepted = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string frame = seeds[i % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0:  // flip a byte
          frame[rng() % frame.size()] = static_cast<char>(rng());
          break;
        case 1:  // truncate
          frame.resize(rng() % frame.size());
          break;
        case 2:  // append
          frame.push_back(static_cast<char>(rng()));
          break;
        default:  // a small change to one byte (lengths, type codes)
          frame[rng() % frame.size()] += static_cast<char>(1 + rng() % 3);
          break;
      }
      if (frame.empty()) frame = seeds[0];
    }
    PushRequestView v;
    if (DecodePushRequest(frame.data(), frame.size(), {}, &v)) ++accepted;
    ExpectAgrees(frame);
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(accepted, 100);  // the mutations do reach the accepting paths
}

TEST(PushReplyEncoder, WritesWhatTheGeneralEncoderWrites) {
  for (bool with_duplicate : {true, false}) {
    PushResult r{uint64_t{1} << 33, 70000, true};
    std::string fast;
    EncodePushReply(1234567, r, with_duplicate, &fast);
    ClientReply reply;
    reply.request_id = 1234567;
    reply.body =
        with_duplicate ? EncodePushResult(r) : EncodeAppendResult(AppendResult{r.index, r.term});
    std::string general;
    EncodeReply(reply, &general);
    EXPECT_EQ(fast, general);
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

TEST(PushReplyDecoder, ReadsOkRepliesAndLeavesTheRestToTheGeneralDecoder) {
  std::string bytes;
  EncodePushReply(77, {12, 3, true}, true, &bytes);
  uint64_t id = 0;
  PushResult r;
  ASSERT_TRUE(DecodePushReply(bytes.data(), bytes.size(), &id, &r));
  EXPECT_EQ(id, 77u);
  EXPECT_EQ(r.index, 12u);
  EXPECT_EQ(r.term, 3u);
  EXPECT_TRUE(r.duplicate);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(DecodePushReply(bytes.data(), cut, &id, &r)) << cut;
  }
  std::string error;
  EncodeReply(ErrorReply(77, Status::NotLeader(2)), &error);
  EXPECT_FALSE(DecodePushReply(error.data(), error.size(), &id, &r));
  ClientReply no_term;
  no_term.request_id = 5;
  no_term.body = {{"index", Value::Uint(1)}};
  std::string partial;
  EncodeReply(no_term, &partial);
  EXPECT_FALSE(DecodePushReply(partial.data(), partial.size(), &id, &r));
  // Whatever it reads under mutation, the general decoders read the same.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string frame = bytes;
    frame[rng() % frame.size()] = static_cast<char>(rng());
    if (!DecodePushReply(frame.data(), frame.size(), &id, &r)) continue;
    ClientReply reply;
    ASSERT_TRUE(DecodeReply(frame.data(), frame.size(), {}, &reply).ok());
    ASSERT_EQ(reply.code, kOk);
    PushResult general;
    ASSERT_TRUE(DecodePushResult(reply.body, &general).ok());
    EXPECT_EQ(reply.request_id, id);
    EXPECT_EQ(general.index, r.index);
    EXPECT_EQ(general.term, r.term);
    EXPECT_EQ(general.duplicate, r.duplicate);
  }
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

// Fast batch decoder accepts => the general path accepts, with the same events.
void ExpectBatchAgrees(const std::string& frame) {
  uint64_t id = 0;
  std::string_view producer;
  std::vector<PushEventView> fast;
  if (!DecodePushBatchRequest(frame.data(), frame.size(), {}, &id, &producer, &fast)) return;
  ClientRequest request;
  ASSERT_TRUE(DecodeRequest(frame.data(), frame.size(), {}, &request).ok());
  ASSERT_EQ(request.op, kPushBatchOp);
  EXPECT_EQ(request.request_id, id);
  PushBatchArgs general;
  Status s = DecodePushBatchArgs(request.args, &general);
  ASSERT_TRUE(s.ok()) << "only the fast decoder accepts: " << s.ToString();
  EXPECT_EQ(general.producer, producer);
  ASSERT_EQ(general.events.size(), fast.size());
  for (size_t i = 0; i < fast.size(); ++i) {
    EXPECT_EQ(general.events[i].topic, fast[i].topic);
    EXPECT_EQ(general.events[i].payload, fast[i].payload);
    EXPECT_EQ(general.events[i].seq, fast[i].seq);
  }
}

TEST(PushBatchCodec, FastEncoderAndDecoderAgreeWithTheGeneralOnes) {
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
    ASSERT_TRUE(DecodePushBatchRequest(fast.data(), fast.size(), {}, &id, &producer, &back));
    EXPECT_EQ(id, 5u);
    EXPECT_EQ(back.size(), args.events.size());
    ExpectBatchAgrees(fast);
  }
  // Rule breakers go to the general path, which refuses them.
  for (const PushBatchArgs& args :
       {PushBatchArgs{"p", {{"t", "x", 0}}}, PushBatchArgs{"p", {{"_raftlog.x", "x", 1}}},
        PushBatchArgs{"p", {}}}) {
    std::string frame = Request(1, kPushBatchOp, EncodePushBatchArgs(args));
    uint64_t id = 0;
    std::string_view producer;
    std::vector<PushEventView> back;
    EXPECT_FALSE(DecodePushBatchRequest(frame.data(), frame.size(), {}, &id, &producer, &back));
  }
  std::mt19937_64 rng(11);
  int accepted = 0;
  const std::string seed = Request(3, kPushBatchOp, EncodePushBatchArgs(with));
  for (int i = 0; i < 40000; ++i) {
    std::string frame = seed;
    frame[rng() % frame.size()] += static_cast<char>(1 + rng() % 3);
    if (rng() % 2) frame[rng() % frame.size()] = static_cast<char>(rng());
    uint64_t id = 0;
    std::string_view producer;
    std::vector<PushEventView> back;
    if (DecodePushBatchRequest(frame.data(), frame.size(), {}, &id, &producer, &back)) ++accepted;
    ExpectBatchAgrees(frame);
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(accepted, 100);
}

TEST(PushBatchCodec, ReplyEncoderAndDecoderAgreeWithTheGeneralOnes) {
  const std::vector<PushResult> results = {
      {12, 3, false}, {13, 3, true}, {uint64_t{1} << 40, 9, false}};
  std::string fast;
  EncodePushBatchReply(44, results, &fast);
  ClientReply reply;
  reply.request_id = 44;
  reply.body = EncodePushBatchResult(results);
  std::string general;
  EncodeReply(reply, &general);
  EXPECT_EQ(fast, general);
  std::mt19937_64 rng(13);
  for (int i = 0; i < 20000; ++i) {
    std::string frame = fast;
    frame[rng() % frame.size()] = static_cast<char>(rng());
    uint64_t id = 0;
    std::vector<PushResult> back;
    if (!DecodePushBatchReply(frame.data(), frame.size(), &id, &back)) continue;
    ClientReply r;
    ASSERT_TRUE(DecodeReply(frame.data(), frame.size(), {}, &r).ok());
    ASSERT_EQ(r.code, kOk);
    std::vector<PushResult> g;
    ASSERT_TRUE(DecodePushBatchResult(r.body, &g).ok());
    EXPECT_EQ(r.request_id, id);
    ASSERT_EQ(g.size(), back.size());
    for (size_t k = 0; k < g.size(); ++k) {
      EXPECT_EQ(g[k].index, back[k].index);
      EXPECT_EQ(g[k].term, back[k].term);
      EXPECT_EQ(g[k].duplicate, back[k].duplicate);
    }
  }
}

}  // namespace
}  // namespace raftlog::wire
