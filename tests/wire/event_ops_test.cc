// The event layer's encodings (docs/protocol.md "Event records", "Op push",
// "The PUB stream"): round trips, and strict rejection of everything else.
#include "raftlog/wire/event_ops.h"

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "raftlog/wire/client_codec.h"

namespace raftlog::wire {
namespace {

std::string Pack(const msgpack::type::tuple<uint64_t, std::string, std::string, uint64_t, uint64_t,
                                            std::string>& t) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, t);
  return std::string(buf.data(), buf.size());
}

TEST(EventRecord, RoundTripsIncludingBinaryPayloads) {
  EventRecord r{"orders.eu", "shop-1", 42, 1795697262697, std::string("a\0b\xff", 4)};
  std::string bytes;
  EncodeEventRecord(r, &bytes);
  EventRecord back;
  ASSERT_TRUE(DecodeEventRecord(bytes.data(), bytes.size(), {}, &back).ok());
  EXPECT_EQ(back, r);
}

TEST(EventRecord, RejectsOtherVersionsShapesAndTypes) {
  EventRecord back;
  std::string v2 = Pack({2, "t", "", 0, 1, "x"});
  EXPECT_EQ(DecodeEventRecord(v2.data(), v2.size(), {}, &back).code(), Status::Code::kNotSupported);
  // The version packed as an int8 (0xd0), which msgpack-c reads as unsigned too.
  const std::string signed_v2("\x96\xd0\x02\xa1t\xa0\x00\x01\xc4\x01x", 11);
  EXPECT_EQ(DecodeEventRecord(signed_v2.data(), signed_v2.size(), {}, &back).code(),
            Status::Code::kNotSupported);
  std::string good;
  EncodeEventRecord(EventRecord{"t", "p", 1, 2, "x"}, &good);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeEventRecord(good.data(), cut, {}, &back).ok()) << "cut at " << cut;
  }
  EXPECT_EQ(DecodeEventRecord(good.data(), good.size() - 1, {}, &back).message(),
            "event record field 'payload': truncated frame (" + std::to_string(good.size() - 1) +
                " bytes)");
  std::string trailing = good + "x";
  EXPECT_EQ(DecodeEventRecord(trailing.data(), trailing.size(), {}, &back).message(),
            "event record: 1 trailing bytes after the message");
  msgpack::sbuffer wrong;
  msgpack::pack(
      wrong, msgpack::type::tuple<uint64_t, uint64_t, std::string, uint64_t, uint64_t, std::string>(
                 1, 7, "", 0, 1, "x"));
  Status s = DecodeEventRecord(wrong.data(), wrong.size(), {}, &back);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "event record field 'topic': expected str, got uint");
  EXPECT_EQ(DecodeEventRecord("\x93\x01\x01\x01", 4, {}, &back).message(),
            "event record: expected an array of 6, got 3 elements");
  EXPECT_EQ(DecodeEventRecord("\x80", 1, {}, &back).message(),
            "event record: expected array, got map");
  DecodeLimits limits;
  limits.max_string_bytes = 2;
  std::string long_topic;
  EncodeEventRecord(EventRecord{"abc", "", 0, 0, "x"}, &long_topic);
  EXPECT_EQ(DecodeEventRecord(long_topic.data(), long_topic.size(), limits, &back).message(),
            "event record field 'topic': a str of 3 bytes is over the limit of 2");
  limits.max_frame_bytes = 4;
  EXPECT_EQ(DecodeEventRecord(long_topic.data(), long_topic.size(), limits, &back).message(),
            "event record: frame of " + std::to_string(long_topic.size()) +
                " bytes exceeds the limit of 4");
}

TEST(PublishedEvent, RoundTripsAndChainsBackwardsOnly) {
  PublishedEvent e{17, 3, 1795697262697, "payload", "shop-1", 9, 12};
  std::string bytes;
  EncodePublishedEvent(e, &bytes);
  PublishedEvent back;
  ASSERT_TRUE(DecodePublishedEvent(bytes.data(), bytes.size(), {}, &back).ok());
  EXPECT_EQ(back, e);
  e.prev_index = 17;  // not before its own index
  bytes.clear();
  EncodePublishedEvent(e, &bytes);
  Status s = DecodePublishedEvent(bytes.data(), bytes.size(), {}, &back);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "published event: prev_index must be below index");
}

TEST(PublishedHeartbeat, RoundTrips) {
  PublishedHeartbeat hb{100, 120, 3};
  std::string bytes;
  EncodePublishedHeartbeat(hb, &bytes);
  PublishedHeartbeat back;
  ASSERT_TRUE(DecodePublishedHeartbeat(bytes.data(), bytes.size(), {}, &back).ok());
  EXPECT_EQ(back, hb);
  EXPECT_EQ(
      DecodePublishedHeartbeat(bytes.data(), bytes.size() - 1, {}, &back).message(),
      "heartbeat field 'node': truncated frame (" + std::to_string(bytes.size() - 1) + " bytes)");
  EXPECT_EQ(DecodePublishedHeartbeat("\x93\x01\x02\xff", 4, {}, &back).message(),
            "heartbeat field 'node': expected uint, got negative int");
}

std::string PushFrame(const Value::Map& args) {
  std::string out;
  EncodeRequest(ClientRequest{1, kPushOp, args}, &out);
  return out;
}

TEST(PushArgs, RoundTripAndEveryRule) {
  PushRequestView back;
  std::string frame = PushFrame(EncodePushArgs({"orders", "x", "p", 5}));
  ASSERT_TRUE(DecodePushRequest(frame.data(), frame.size(), {}, &back).ok());
  EXPECT_EQ(back.topic, "orders");
  EXPECT_EQ(back.producer, "p");
  EXPECT_EQ(back.seq, 5u);
  frame = PushFrame(EncodePushArgs({"orders", "x", "", 0}));
  ASSERT_TRUE(DecodePushRequest(frame.data(), frame.size(), {}, &back).ok());
  EXPECT_TRUE(back.producer.empty());

  auto rejected = [&](const Value::Map& m) {
    const std::string f = PushFrame(m);
    return DecodePushRequest(f.data(), f.size(), {}, &back).IsInvalidInput();
  };
  EXPECT_TRUE(rejected({{"payload", Value::Bin("x")}}));  // no topic
  EXPECT_TRUE(rejected({{"topic", Value::Str("")}, {"payload", Value::Bin("x")}}));
  EXPECT_TRUE(rejected(
      {{"topic", Value::Str(std::string(kMaxTopicBytes + 1, 't'))}, {"payload", Value::Bin("x")}}));
  EXPECT_TRUE(rejected({{"topic", Value::Str("_raftlog.x")}, {"payload", Value::Bin("x")}}));
  EXPECT_TRUE(rejected({{"topic", Value::Str("t")}}));  // no payload
  EXPECT_TRUE(rejected({{"topic", Value::Str("t")},
                        {"payload", Value::Bin("x")},
                        {"producer", Value::Str("p")}}));  // no seq
  EXPECT_TRUE(rejected({{"topic", Value::Str("t")},
                        {"payload", Value::Bin("x")},
                        {"producer", Value::Str("p")},
                        {"seq", Value::Uint(0)}}));
  EXPECT_TRUE(rejected({{"topic", Value::Str("t")},
                        {"payload", Value::Bin("x")},
                        {"seq", Value::Uint(3)}}));  // seq without producer
  EXPECT_TRUE(rejected({{"topic", Value::Str("t")},
                        {"payload", Value::Bin("x")},
                        {"producer", Value::Str(std::string(kMaxProducerBytes + 1, 'p'))},
                        {"seq", Value::Uint(1)}}));
}

TEST(PushResult, RoundTripsAndDuplicateDefaultsToFalse) {
  auto decode = [](const Value::Map& body, PushResult* out) {
    std::string frame;
    EncodeReply(ClientReply{3, kOk, body}, &frame);
    uint64_t id = 0;
    return DecodePushReply(frame.data(), frame.size(), {}, &id, out);
  };
  PushResult back;
  ASSERT_TRUE(decode(EncodePushResult({7, 2, true}), &back).ok());
  EXPECT_EQ(back.index, 7u);
  EXPECT_TRUE(back.duplicate);
  ASSERT_TRUE(decode({{"index", Value::Uint(7)}, {"term", Value::Uint(2)}}, &back).ok());
  EXPECT_FALSE(back.duplicate);
  EXPECT_TRUE(decode({{"index", Value::Uint(7)}}, &back).IsCorruption());
}

}  // namespace
}  // namespace raftlog::wire
