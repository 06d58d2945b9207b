// The peer codec: every message type survives a round trip, the bytes are
// those docs/protocol.md shows, and every kind of bad frame is an error that
// says what is wrong.

#include "raftlog/wire/peer_codec.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <random>

#include "wire/msgpack_util.h"

namespace raftlog::wire {
namespace {

using core::AppendEntries;
using core::AppendEntriesReply;
using core::Entry;
using core::EntryType;
using core::InstallSnapshot;
using core::InstallSnapshotReply;
using core::Message;
using core::RequestVote;
using core::RequestVoteReply;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

Message Make(Message::Body body, core::Term term = 3) {
  Message m;
  m.from = 1;
  m.to = 2;
  m.term = term;
  m.body = std::move(body);
  return m;
}

Entry MakeEntry(core::LogIndex index, core::Term term, EntryType type, std::string data = "") {
  Entry e;
  e.index = index;
  e.term = term;
  e.type = type;
  e.data = std::move(data);
  return e;
}

Entry ConfigEntry(core::LogIndex index) {
  Entry e = MakeEntry(index, 2, EntryType::kConfig);
  e.config.voters = {1, 2, 3};
  e.config.voters_outgoing = {1, 2, 4};
  e.config.learners = {5};
  e.config.context = std::string("endpoints\0\xff", 11);
  return e;
}

Status Decode(const std::string& frame, Message* out, const DecodeLimits& limits = {}) {
  return DecodeMessage(frame.data(), frame.size(), limits, out);
}

Message RoundTrip(const Message& m) {
  Message out;
  Status s = Decode(EncodeMessage(m), &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Builds a frame with msgpack-c's packer, for shapes the encoder never makes.
std::string Frame(const std::function<void(detail::Packer&)>& fill) {
  std::string out;
  detail::StringSink sink(&out);
  detail::Packer pk(sink);
  fill(pk);
  return out;
}

// The header of a version-1 message of the given type, announcing n fields.
void Header(detail::Packer& pk, uint32_t n, uint8_t type) {
  pk.pack_array(n);
  pk.pack_uint64(1);
  pk.pack_uint64(type);
  pk.pack_uint64(3);
  pk.pack_uint64(1);
  pk.pack_uint64(2);
}

// Expects a Corruption whose message contains every fragment.
void ExpectCorruption(const std::string& frame, std::initializer_list<const char*> fragments,
                      const DecodeLimits& limits = {}) {
  Message out;
  Status s = Decode(frame, &out, limits);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  for (const char* f : fragments) EXPECT_NE(s.message().find(f), std::string::npos) << s.ToString();
}

std::string AppendEntriesFrame() {
  AppendEntries ae;
  ae.prev_log_index = 4;
  ae.prev_log_term = 2;
  ae.leader_commit = 4;
  ae.seq = 9;
  ae.entries = {MakeEntry(5, 3, EntryType::kNoop), ConfigEntry(6),
                MakeEntry(7, 3, EntryType::kCommand, "event")};
  return EncodeMessage(Make(ae));
}

// ---- round trips ----

TEST(PeerCodec, RequestVoteRoundTrips) {
  for (bool pre_vote : {false, true}) {
    for (bool transfer : {false, true}) {
      Message m = Make(RequestVote{
          .last_log_index = 17, .last_log_term = 4, .pre_vote = pre_vote, .transfer = transfer});
      EXPECT_EQ(RoundTrip(m), m);
    }
  }
}

TEST(PeerCodec, RequestVoteReplyRoundTrips) {
  for (bool granted : {false, true}) {
    for (bool pre_vote : {false, true}) {
      Message m = Make(RequestVoteReply{.granted = granted, .pre_vote = pre_vote});
      EXPECT_EQ(RoundTrip(m), m);
    }
  }
}

TEST(PeerCodec, InstallSnapshotRoundTrips) {
  InstallSnapshot is;
  is.snapshot.index = 1000;
  is.snapshot.term = 7;
  is.snapshot.config.voters = {1, 2, 3};
  is.snapshot.config.learners = {9};
  is.snapshot.size = 5000;
  is.snapshot.crc = 0xfedcba98;
  is.offset = 4096;
  is.data = std::string("\x00\xff binary\n", 11) + std::string(893, 'x');
  is.done = true;
  is.seq = 12;
  Message m = Make(is);
  EXPECT_EQ(RoundTrip(m), m);
  for (bool installed : {false, true}) {
    Message r = Make(InstallSnapshotReply{.snapshot_index = 1000,
                                          .next_offset = installed ? 0u : 4096u,
                                          .installed = installed,
                                          .match_index = installed ? 1000u : 0u,
                                          .seq = 12});
    EXPECT_EQ(RoundTrip(r), r);
  }
}

TEST(PeerCodec, InstallSnapshotDataPastItsSizeIsAnError) {
  InstallSnapshot is;
  is.snapshot.index = 5;
  is.snapshot.term = 1;
  is.snapshot.size = 10;
  is.offset = 8;
  is.data = "abc";
  ExpectCorruption(EncodeMessage(Make(is)),
                   {"InstallSnapshot", "data", "past the snapshot's size"});
  is.snapshot.crc = 1;
  std::string frame = EncodeMessage(Make(is));
  Message out;
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_FALSE(Decode(frame.substr(0, n), &out, {}).ok()) << "cut at " << n;
  }
}

TEST(PeerCodec, HeartbeatWithoutEntriesRoundTrips) {
  Message m = Make(AppendEntries{});
  EXPECT_EQ(RoundTrip(m), m);
}

TEST(PeerCodec, AppendEntriesWithEveryEntryTypeRoundTrips) {
  Message m;
  ASSERT_TRUE(Decode(AppendEntriesFrame(), &m).ok());
  const auto& ae = std::get<AppendEntries>(m.body);
  ASSERT_EQ(ae.entries.size(), 3u);
  EXPECT_EQ(ae.entries[0], MakeEntry(5, 3, EntryType::kNoop));
  EXPECT_EQ(ae.entries[1], ConfigEntry(6));
  EXPECT_EQ(ae.entries[2], MakeEntry(7, 3, EntryType::kCommand, "event"));
  EXPECT_EQ(ae.seq, 9u);
  EXPECT_EQ(EncodeMessage(m), AppendEntriesFrame());
}

TEST(PeerCodec, ConfigWithEmptyListsRoundTrips) {
  Entry e = MakeEntry(1, 1, EntryType::kConfig);
  Message m = Make(AppendEntries{.entries = {e}});
  EXPECT_EQ(RoundTrip(m), m);
}

TEST(PeerCodec, MembershipMessagesRoundTrip) {
  for (const Message& m :
       {Make(core::TimeoutNow{}), Make(core::TransferRequest{}),
        Make(core::ReadIndexRequest{.ctx = 77}),
        Make(core::ReadIndexReply{.ctx = 77, .index = 1234, .ok = true}),
        Make(core::ReadIndexReply{.ctx = UINT64_MAX, .index = 0, .ok = false})}) {
    EXPECT_EQ(RoundTrip(m), m) << core::Describe(m);
  }
}

TEST(PeerCodec, ConfigWithoutContextDecodes) {
  // Three lists alone, as sent before configurations had a context.
  std::string frame = Frame([](detail::Packer& pk) {
    Header(pk, 10, 3);
    for (int i = 0; i < 4; ++i) pk.pack_uint64(0);
    pk.pack_array(1);
    pk.pack_array(5);
    pk.pack_uint64(1);
    pk.pack_uint64(1);
    pk.pack_uint8(static_cast<uint8_t>(EntryType::kConfig));
    pk.pack_bin(0);
    pk.pack_array(3);
    pk.pack_array(2);
    pk.pack_uint64(1);
    pk.pack_uint64(2);
    pk.pack_array(0);
    pk.pack_array(0);
  });
  Message m;
  ASSERT_TRUE(Decode(frame, &m).ok());
  const Entry& e = std::get<AppendEntries>(m.body).entries.at(0);
  EXPECT_EQ(e.config.voters, (std::vector<core::NodeId>{1, 2}));
  EXPECT_TRUE(e.config.context.empty());
}

TEST(PeerCodec, LargeAndBinaryPayloadsRoundTrip) {
  std::string binary("\0\xff\x01\xc1", 4);  // NUL and bytes invalid as msgpack type tags
  std::string large(3 << 20, 'x');
  Message m = Make(AppendEntries{.entries = {MakeEntry(1, 1, EntryType::kCommand, binary),
                                             MakeEntry(2, 1, EntryType::kCommand, large),
                                             MakeEntry(3, 1, EntryType::kCommand, "")}});
  EXPECT_EQ(RoundTrip(m), m);
}

TEST(PeerCodec, ExtremeIntegersRoundTrip) {
  Message m = Make(AppendEntriesReply{.success = true,
                                      .match_index = kMax,
                                      .hint_index = 1u << 31,
                                      .hint_term = 65536,
                                      .seq = kMax - 1},
                   kMax);
  m.from = kMax;
  m.to = 255;
  EXPECT_EQ(RoundTrip(m), m);
}

TEST(PeerCodec, ManyEntriesRoundTrip) {
  AppendEntries ae;
  for (uint64_t i = 1; i <= 10000; ++i)
    ae.entries.push_back(MakeEntry(i, 7, EntryType::kCommand, "e"));
  Message m = Make(ae);
  EXPECT_EQ(RoundTrip(m), m);
}

TEST(PeerCodec, EncodeAppendsToTheBuffer) {
  std::string out = "prefix";
  Message m = Make(RequestVoteReply{.granted = true});
  EncodeMessage(m, &out);
  EXPECT_EQ(out, "prefix" + EncodeMessage(m));
}

// The example in docs/protocol.md, byte for byte.
TEST(PeerCodec, RequestVoteBytesMatchTheProtocolDocument) {
  Message m = Make(RequestVote{.last_log_index = 300, .last_log_term = 4, .pre_vote = true}, 5);
  m.from = 1;
  m.to = 3;
  const std::string expected("\x99\x01\x01\x05\x01\x03\xcd\x01\x2c\x04\xc3\xc2", 12);
  EXPECT_EQ(EncodeMessage(m), expected);
}

TEST(PeerCodec, HeartbeatBytesMatchTheProtocolDocument) {
  Message m = Make(
      AppendEntries{
          .prev_log_index = 9, .prev_log_term = 4, .leader_commit = 9, .entries = {}, .seq = 12},
      5);
  EXPECT_EQ(EncodeMessage(m), std::string("\x9a\x01\x03\x05\x01\x02\x09\x04\x09\x0c\x90", 11));
}

// ---- versions ----

TEST(PeerCodec, UnknownVersionIsNotSupported) {
  std::string frame = Frame([](detail::Packer& pk) {
    pk.pack_array(5);
    for (uint64_t v : {7, 1, 3, 1, 2}) pk.pack_uint64(v);
  });
  Message out;
  Status s = Decode(frame, &out);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_NE(s.message().find("unsupported version 7"), std::string::npos) << s.ToString();
}

TEST(PeerCodec, UnknownVersionIsRecognizedWhateverFollows) {
  // A future version may use msgpack types this one forbids: the version decides first.
  std::string frame = Frame([](detail::Packer& pk) {
    pk.pack_array(3);
    pk.pack_uint64(70000);
    pk.pack_map(1);
    pk.pack_str(1);
    pk.pack_str_body("k", 1);
    pk.pack_double(1.5);
  });
  Message out;
  Status s = Decode(frame, &out);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_NE(s.message().find("unsupported version 70000"), std::string::npos);
}

TEST(PeerCodec, VersionEncodedAsSignedIntegerIsStillChecked) {
  // int8 0x07: not a uint on the wire, but msgpack says it is the number 7.
  std::string frame("\x95\xd0\x07\x01\x03\x01\x02", 7);
  Message out;
  EXPECT_EQ(Decode(frame, &out).code(), Status::Code::kNotSupported);
}

// ---- malformed frames ----

TEST(PeerCodec, EveryTruncationIsAnError) {
  const std::string frame = AppendEntriesFrame();
  for (size_t n = 0; n < frame.size(); ++n) {
    Message out;
    Status s = Decode(frame.substr(0, n), &out);
    EXPECT_TRUE(s.IsCorruption()) << n << ": " << s.ToString();
  }
  ExpectCorruption(frame.substr(0, frame.size() - 1), {"truncated"});
}

TEST(PeerCodec, TrailingBytesAreAnError) {
  ExpectCorruption(AppendEntriesFrame() + '\x00', {"1 trailing bytes"});
  std::string two = EncodeMessage(Make(RequestVoteReply{}));
  ExpectCorruption(two + two, {"trailing"});
}

TEST(PeerCodec, InvalidMsgpackIsAnError) {
  ExpectCorruption(std::string("\x95\x01\xc1", 3), {"malformed msgpack"});
}

TEST(PeerCodec, RootMustBeAnArrayWithAHeader) {
  ExpectCorruption(Frame([](detail::Packer& pk) { pk.pack_uint64(1); }),
                   {"field 'message'", "expected array, got uint"});
  ExpectCorruption(Frame([](detail::Packer& pk) { pk.pack_array(0); }), {"at least 5 fields"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     pk.pack_array(3);
                     for (int i = 0; i < 3; ++i) pk.pack_uint64(1);
                   }),
                   {"at least 5 fields, got 3"});
}

TEST(PeerCodec, UnknownMessageTypeIsAnError) {
  for (uint8_t type : {0, 11, 200}) {
    ExpectCorruption(Frame([type](detail::Packer& pk) { Header(pk, 5, type); }),
                     {"unknown message type"});
  }
}

TEST(PeerCodec, WrongFieldCountIsAnError) {
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     Header(pk, 6, 2);
                     pk.pack(true);
                   }),
                   {"RequestVoteReply", "expected 7 fields, got 6"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     Header(pk, 8, 2);
                     for (int i = 0; i < 3; ++i) pk.pack(true);
                   }),
                   {"expected 7 fields, got 8"});
}

TEST(PeerCodec, WrongFieldTypesAreErrors) {
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     Header(pk, 7, 2);
                     pk.pack_uint64(1);  // granted must be a bool, not 0/1
                     pk.pack(false);
                   }),
                   {"field 'granted'", "expected bool, got uint"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     pk.pack_array(7);
                     pk.pack_uint64(1);
                     pk.pack_uint64(2);
                     pk.pack_int64(-3);  // term
                     pk.pack_uint64(1);
                     pk.pack_uint64(2);
                     pk.pack(true);
                     pk.pack(true);
                   }),
                   {"field 'term'", "expected uint, got negative int"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     Header(pk, 9, 1);
                     pk.pack_double(1.5);
                     pk.pack_uint64(1);
                     pk.pack(true);
                     pk.pack(true);
                   }),
                   {"RequestVote", "field 'last_log_index'", "got float64"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     Header(pk, 10, 3);
                     for (int i = 0; i < 4; ++i) pk.pack_uint64(1);
                     pk.pack_nil();  // entries
                   }),
                   {"field 'entries'", "expected array, got nil"});
}

TEST(PeerCodec, NodeIdZeroIsAnError) {
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     pk.pack_array(7);
                     for (uint64_t v : {1, 2, 3, 0, 2}) pk.pack_uint64(v);
                     pk.pack(true);
                     pk.pack(true);
                   }),
                   {"field 'from'", "node id 0"});
}

// An AppendEntries frame holding one entry that fill writes.
std::string WithEntry(const std::function<void(detail::Packer&)>& fill) {
  return Frame([&fill](detail::Packer& pk) {
    Header(pk, 10, 3);
    for (int i = 0; i < 4; ++i) pk.pack_uint64(1);
    pk.pack_array(1);
    fill(pk);
  });
}

TEST(PeerCodec, MalformedEntriesAreErrorsNamingTheEntry) {
  ExpectCorruption(WithEntry([](detail::Packer& pk) { pk.pack_uint64(1); }),
                   {"AppendEntries entry 0", "expected array, got uint"});
  ExpectCorruption(WithEntry([](detail::Packer& pk) {
                     pk.pack_array(3);
                     for (int i = 0; i < 3; ++i) pk.pack_uint64(1);
                   }),
                   {"expected 4 or 5 fields, got 3"});
  ExpectCorruption(WithEntry([](detail::Packer& pk) {
                     pk.pack_array(4);
                     for (uint64_t v : {1, 1, 9}) pk.pack_uint64(v);
                     pk.pack_bin(0);
                   }),
                   {"unknown entry type 9"});
  ExpectCorruption(WithEntry([](detail::Packer& pk) {
                     pk.pack_array(4);
                     for (uint64_t v : {1, 1, 2}) pk.pack_uint64(v);
                     pk.pack_str(0);  // data must be bin, not str
                   }),
                   {"field 'data'", "expected bin, got str"});
  ExpectCorruption(WithEntry([](detail::Packer& pk) {
                     pk.pack_array(4);
                     for (uint64_t v : {1, 1, 1}) pk.pack_uint64(v);  // a Config without config
                     pk.pack_bin(0);
                   }),
                   {"has 5 fields, got 4"});
  ExpectCorruption(WithEntry([](detail::Packer& pk) {
                     pk.pack_array(5);
                     for (uint64_t v : {1, 1, 2}) pk.pack_uint64(v);  // a Command with a config
                     pk.pack_bin(0);
                     pk.pack_array(0);
                   }),
                   {"has 4 fields, got 5"});
}

TEST(PeerCodec, MalformedConfigsAreErrors) {
  auto config_entry = [](const std::function<void(detail::Packer&)>& config) {
    return WithEntry([&config](detail::Packer& pk) {
      pk.pack_array(5);
      for (uint64_t v : {1, 1, 1}) pk.pack_uint64(v);
      pk.pack_bin(0);
      config(pk);
    });
  };
  ExpectCorruption(config_entry([](detail::Packer& pk) {
                     pk.pack_array(2);
                     pk.pack_array(0);
                     pk.pack_array(0);
                   }),
                   {"expected 3 lists and a context, got 2 fields"});
  ExpectCorruption(config_entry([](detail::Packer& pk) {
                     pk.pack_array(3);
                     pk.pack_array(1);
                     pk.pack_uint64(0);
                     pk.pack_array(0);
                     pk.pack_array(0);
                   }),
                   {"field 'voters'", "node id 0"});
  ExpectCorruption(config_entry([](detail::Packer& pk) {
                     pk.pack_array(3);
                     pk.pack_array(0);
                     pk.pack_array(0);
                     pk.pack_uint64(4);
                   }),
                   {"field 'learners'", "expected array, got uint"});
}

// ---- limits ----

TEST(PeerCodec, FrameSizeLimit) {
  DecodeLimits limits;
  limits.max_frame_bytes = 16;
  ExpectCorruption(AppendEntriesFrame(), {"exceeds the limit of 16"}, limits);
}

TEST(PeerCodec, EntriesPerMessageLimit) {
  AppendEntries ae;
  for (uint64_t i = 1; i <= 11; ++i) ae.entries.push_back(MakeEntry(i, 1, EntryType::kNoop));
  DecodeLimits limits;
  limits.max_entries = 10;
  ExpectCorruption(EncodeMessage(Make(ae)), {"limit"}, limits);
  limits.max_entries = 11;
  Message out;
  EXPECT_TRUE(Decode(EncodeMessage(Make(ae)), &out, limits).ok());
}

TEST(PeerCodec, EntryPayloadLimit) {
  DecodeLimits limits;
  limits.max_entry_bytes = 4;
  Message m = Make(AppendEntries{.entries = {MakeEntry(1, 1, EntryType::kCommand, "12345")}});
  ExpectCorruption(EncodeMessage(m), {"bin size overflow"}, limits);
  limits.max_entry_bytes = 5;
  Message out;
  EXPECT_TRUE(Decode(EncodeMessage(m), &out, limits).ok());
}

TEST(PeerCodec, ConfigSizeLimit) {
  Entry e = MakeEntry(1, 1, EntryType::kConfig);
  e.config.learners = {1, 2, 3};
  DecodeLimits limits;
  limits.max_config_nodes = 2;
  ExpectCorruption(EncodeMessage(Make(AppendEntries{.entries = {e}})),
                   {"field 'learners'", "3 elements exceed the limit of 2"}, limits);
}

TEST(PeerCodec, HugeClaimedArrayIsRejectedBeforeAllocating) {
  // array32 claiming 4 billion elements, in 7 bytes: must not allocate for them.
  ExpectCorruption(std::string("\xdd\xff\xff\xff\xff\x01\x01", 7), {"array size overflow"});
  // The same inside an otherwise fine AppendEntries.
  std::string frame = Frame([](detail::Packer& pk) {
    Header(pk, 10, 3);
    for (int i = 0; i < 4; ++i) pk.pack_uint64(1);
  });
  ExpectCorruption(frame + std::string("\xdd\x7f\xff\xff\xff", 5), {"array size overflow"});
}

TEST(PeerCodec, HugeClaimedBinIsRejectedWithoutAllocating) {
  // bin32 claiming 4 GiB: bins reference the frame, so this is a truncation.
  std::string frame = WithEntry([](detail::Packer& pk) {
    pk.pack_array(4);
    for (uint64_t v : {1, 1, 2}) pk.pack_uint64(v);
  });
  ExpectCorruption(frame + std::string("\xc6\xff\xff\xff\xff", 5), {"truncated"});
}

TEST(PeerCodec, NestingBombIsRejected) {
  std::string frame = "\x91\x01";                // [1, ...
  frame.insert(1, std::string(100000, '\x91'));  // then 100000 nested one-element arrays
  ExpectCorruption(frame, {"depth size overflow"});
}

TEST(PeerCodec, MapsStrsAndExtsAreRejected) {
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     Header(pk, 7, 2);
                     pk.pack_map(1);
                     pk.pack_uint64(1);
                     pk.pack_uint64(1);
                     pk.pack(true);
                   }),
                   {"map size overflow"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     Header(pk, 7, 2);
                     pk.pack_str(1);
                     pk.pack_str_body("x", 1);
                     pk.pack(true);
                   }),
                   {"str size overflow"});
  ExpectCorruption(Frame([](detail::Packer& pk) {
                     Header(pk, 7, 2);
                     pk.pack_ext(1, 5);
                     pk.pack_ext_body("x", 1);
                     pk.pack(true);
                   }),
                   {"ext size overflow"});
}

// A deterministic mini-fuzz: random mutations of valid frames decode to ok
// or to an error, never crash; an ok result re-encodes to the same bytes
// whenever the mutation kept msgpack's shortest encodings.
TEST(PeerCodec, RandomMutationsNeverCrash) {
  std::mt19937 rng(42);
  const std::vector<std::string> seeds = {
      AppendEntriesFrame(), EncodeMessage(Make(RequestVote{.last_log_index = 9})),
      EncodeMessage(Make(AppendEntriesReply{.success = true, .match_index = 77}))};
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string frame = seeds[i % seeds.size()];
    for (int flips = 1 + rng() % 4; flips > 0; --flips) {
      frame[rng() % frame.size()] = static_cast<char>(rng());
    }
    if (rng() % 4 == 0) frame.resize(rng() % frame.size());
    Message out;
    if (Decode(frame, &out).ok()) {
      ++ok;
      Message again;
      ASSERT_TRUE(Decode(EncodeMessage(out), &again).ok());
      EXPECT_EQ(again, out);
    }
  }
  EXPECT_GT(ok, 0);
}

}  // namespace
}  // namespace raftlog::wire
