// ProducerTable: what a retry is told, inside and below the window, that a
// producer's state stays bounded however many events it pushes, and that a
// table restored from its snapshot encoding goes on exactly as the original.
#include "server/producer_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "raftlog/wire/event_ops.h"
#include "wire/msgpack_util.h"

namespace raftlog::server {
namespace {

using Found = ProducerTable::Found;
constexpr uint64_t kWindow = wire::kMinProducerWindow;

ProducerTable::Where At(core::LogIndex index) {
  return {index, 1 + index / 1000};
}

TEST(ProducerTable, ARecordedSeqIsSeenWhereItLanded) {
  ProducerTable t(kWindow);
  ProducerTable::Where w;
  EXPECT_EQ(t.find("p", 1, &w), Found::kNew);
  ASSERT_TRUE(t.record("p", 1, At(10)));
  ASSERT_TRUE(t.record("p", 2, At(2500)));
  ASSERT_EQ(t.find("p", 1, &w), Found::kSeen);
  EXPECT_EQ(w.index, 10u);
  EXPECT_EQ(w.term, 1u);
  ASSERT_EQ(t.find("p", 2, &w), Found::kSeen);
  EXPECT_EQ(w.index, 2500u);
  EXPECT_EQ(w.term, 3u);
  EXPECT_EQ(t.find("p", 3, &w), Found::kNew);
  EXPECT_EQ(t.find("q", 1, &w), Found::kNew) << "producers are apart";
  EXPECT_EQ(t.producers(), 1u);
}

TEST(ProducerTable, ARepeatIsRefusedAndChangesNothing) {
  ProducerTable t(kWindow);
  ASSERT_TRUE(t.record("p", 5, At(1)));
  EXPECT_FALSE(t.record("p", 5, At(2)));
  ProducerTable::Where w;
  ASSERT_EQ(t.find("p", 5, &w), Found::kSeen);
  EXPECT_EQ(w.index, 1u) << "the first entry stays the event";
}

TEST(ProducerTable, NumbersOutOfOrderAndWithGapsWithinTheWindow) {
  ProducerTable t(kWindow);
  ASSERT_TRUE(t.record("p", 100, At(1)));
  ASSERT_TRUE(t.record("p", 40, At(2)));
  ASSERT_TRUE(t.record("p", 70, At(3)));
  ASSERT_TRUE(t.record("p", 200, At(4)));
  EXPECT_FALSE(t.record("p", 70, At(5)));
  ProducerTable::Where w;
  for (auto [seq, index] :
       {std::pair<uint64_t, core::LogIndex>{40, 2}, {70, 3}, {100, 1}, {200, 4}}) {
    ASSERT_EQ(t.find("p", seq, &w), Found::kSeen) << seq;
    EXPECT_EQ(w.index, index) << seq;
  }
  EXPECT_EQ(t.find("p", 41, &w), Found::kNew);
  EXPECT_EQ(t.find("p", 150, &w), Found::kNew);
}

TEST(ProducerTable, BelowTheWindowIsTooOldToTell) {
  ProducerTable t(kWindow);
  for (uint64_t seq = 1; seq <= 3 * kWindow; ++seq) ASSERT_TRUE(t.record("p", seq, At(seq)));
  ProducerTable::Where w;
  const uint64_t max = 3 * kWindow;
  // The window is the last kWindow numbers: max - kWindow + 1 .. max.
  ASSERT_EQ(t.find("p", max - kWindow + 1, &w), Found::kSeen);
  EXPECT_EQ(w.index, max - kWindow + 1);
  EXPECT_EQ(t.find("p", max - kWindow, &w), Found::kTooOld);
  EXPECT_EQ(t.find("p", 1, &w), Found::kTooOld);
  EXPECT_FALSE(t.record("p", max - kWindow, At(1))) << "below the window is a repeat";
  EXPECT_EQ(t.find("p", max - kWindow, &w), Found::kTooOld);
}

TEST(ProducerTable, AProducersStateIsBoundedByItsWindow) {
  for (uint64_t window : {wire::kMinProducerWindow, uint64_t{4096}, wire::kMaxProducerWindow}) {
    ProducerTable t(window);
    size_t most = 0;
    for (uint64_t seq = 1; seq <= 20 * window; ++seq) {
      ASSERT_TRUE(t.record("p", seq, At(seq)));
      most = std::max(most, t.slots());
    }
    EXPECT_LE(most, 2 * window) << "window " << window;
    ProducerTable::Where w;
    // Everything in the window is still told.
    for (uint64_t seq = 19 * window + 1; seq <= 20 * window; ++seq) {
      ASSERT_EQ(t.find("p", seq, &w), Found::kSeen) << seq;
      ASSERT_EQ(w.index, seq);
    }
    std::printf("window %llu: at most %zu slots, %zu bytes of slots per busy producer\n",
                static_cast<unsigned long long>(window), most, most * t.slot_bytes() / t.slots());
  }
}

TEST(ProducerTable, ManyProducersEachKeepTheirOwnWindow) {
  ProducerTable t(kWindow);
  for (uint64_t seq = 1; seq <= 2 * kWindow; ++seq) {
    for (int p = 0; p < 10; ++p) {
      ASSERT_TRUE(t.record("p" + std::to_string(p), seq, At(seq * 10 + p)));
    }
  }
  EXPECT_EQ(t.producers(), 10u);
  ProducerTable::Where w;
  for (int p = 0; p < 10; ++p) {
    ASSERT_EQ(t.find("p" + std::to_string(p), 2 * kWindow, &w), Found::kSeen);
    EXPECT_EQ(w.index, 2 * kWindow * 10 + p);
    EXPECT_EQ(t.find("p" + std::to_string(p), kWindow, &w), Found::kTooOld);
  }
}

TEST(ProducerTable, AnIdleProducerIsForgottenAtTheSameLogTimeEverywhere) {
  constexpr uint64_t kExpiry = 16000;  // scanned every 1000 ms of log time
  ProducerTable t(kWindow, kExpiry);
  ASSERT_TRUE(t.record("idle", 1, At(1), /*now_ms=*/1000));
  ASSERT_TRUE(t.record("busy", 1, At(2), 1000));
  for (uint64_t ms = 2000; ms <= 17000; ms += 1000) {
    ASSERT_TRUE(t.record("busy", ms, At(ms), ms));
    t.expire(ms);
  }
  EXPECT_TRUE(t.known("idle"));  // 16 s idle: not more than the expiry yet
  ASSERT_TRUE(t.record("busy", 18000, At(18000), 18000));
  EXPECT_EQ(t.expire(18000), 1u);
  EXPECT_FALSE(t.known("idle"));
  EXPECT_TRUE(t.known("busy"));
  EXPECT_EQ(t.expired(), 1u);
  ProducerTable::Where w;
  EXPECT_EQ(t.find("idle", 1, &w), Found::kNew);  // the table cannot tell any more...
  EXPECT_TRUE(t.lost_outcome("idle", 1));         // ...and says so to a retry
  EXPECT_FALSE(t.lost_outcome("idle", 2));        // past what it had: new
  EXPECT_FALSE(t.lost_outcome("never-seen", 1));  // a new producer's first push is new
}

TEST(ProducerTable, AProducerBackAfterItsExpiryCannotRetryWhatItHadBefore) {
  ProducerTable t(kWindow, 1600);
  for (uint64_t seq = 1; seq <= 10; ++seq) ASSERT_TRUE(t.record("p", seq, At(seq), 0));
  ASSERT_TRUE(t.record("q", 1, At(11), 2000));
  ASSERT_EQ(t.expire(2000), 1u);
  // Back with a retry of seq 8 (which it may have had) and a new seq 11.
  ASSERT_TRUE(t.record("p", 8, At(12), 2000));
  ASSERT_TRUE(t.record("p", 11, At(13), 2000));
  ProducerTable::Where w;
  EXPECT_EQ(t.find("p", 8, &w), Found::kSeen);
  EXPECT_EQ(t.find("p", 9, &w), Found::kNew);
  EXPECT_TRUE(t.lost_outcome("p", 9));  // had before it expired: cannot be told
  EXPECT_TRUE(t.lost_outcome("p", 10));
  EXPECT_FALSE(t.lost_outcome("p", 12));  // never had: new
}

TEST(ProducerTable, AForgottenNameIsKeptForAFewMoreExpiriesThenDropped) {
  constexpr uint64_t kExpiry = 1600;
  ProducerTable t(kWindow, kExpiry);
  ASSERT_TRUE(t.record("p", 1, At(1), 0));
  t.expire(2000);
  ASSERT_EQ(t.forgotten(), 1u);
  t.expire(2000 + ProducerTable::kForgottenFor * kExpiry);
  EXPECT_EQ(t.forgotten(), 1u);
  t.expire(2000 + ProducerTable::kForgottenFor * kExpiry + 200);
  EXPECT_EQ(t.forgotten(), 0u);
  EXPECT_FALSE(t.lost_outcome("p", 1));
}

TEST(ProducerTable, WithoutAnExpiryNobodyIsForgotten) {
  ProducerTable t(kWindow);
  ASSERT_TRUE(t.record("p", 1, At(1), 0));
  EXPECT_EQ(t.expire(uint64_t{1} << 60), 0u);
  EXPECT_TRUE(t.known("p"));
}

// --- Snapshots --------------------------------------------------------------

std::string Encoded(const ProducerTable& t) {
  std::string out;
  t.encode(&out);
  return out;
}

// Everything the table tells about these names and seqs, one line each:
// two tables that print the same answer every question alike.
std::string Answers(const ProducerTable& t, const std::vector<std::string>& names,
                    uint64_t max_seq) {
  std::string out = std::to_string(t.producers()) + " producers, " + std::to_string(t.forgotten()) +
                    " forgotten, " + std::to_string(t.expired()) + " expired\n";
  for (const std::string& name : names) {
    out += name + (t.known(name) ? " known:" : " unknown:");
    for (uint64_t seq = 0; seq <= max_seq; ++seq) {
      ProducerTable::Where w;
      const Found f = t.find(name, seq, &w);
      out += " " + std::to_string(static_cast<int>(f));
      if (f == Found::kSeen) out += "@" + std::to_string(w.index) + "/" + std::to_string(w.term);
      if (t.lost_outcome(name, seq)) out += "L";
    }
    out += "\n";
  }
  return out;
}

constexpr uint64_t kExpiry = 16000;  // scanned every 1000 ms of log time

// A table with a bit of everything: a producer whose window slid (and some
// of whose slots are dropped, some not yet), one with numbers out of order
// and gaps and its indexes not ascending, one forgotten, one back after its
// expiry, terms that change.
ProducerTable Busy() {
  ProducerTable t(kWindow, kExpiry);
  // "gone" is forgotten at 18000, "back" too, then comes back.
  EXPECT_TRUE(t.record("gone", 7, {5, 1}, 1000));
  for (uint64_t seq = 1; seq <= 9; ++seq) EXPECT_TRUE(t.record("back", seq, {10 + seq, 1}, 1000));
  for (uint64_t seq = 1; seq <= kWindow * 5 / 2; ++seq) {
    EXPECT_TRUE(t.record("slid", seq, {100 + seq, 1 + seq / 1000}, 1000 + seq * 5));
    t.expire(1000 + seq * 5);
  }
  EXPECT_TRUE(t.record("mixed", 100, {9000, 4}, 18000));
  EXPECT_TRUE(t.record("mixed", 40, {9001, 4}, 18000));
  EXPECT_TRUE(t.record("mixed", 70, {8000, 3}, 18000));  // not expected, but told as it is
  EXPECT_TRUE(t.record("mixed", 200, {9003, 5}, 18000));
  EXPECT_EQ(t.expire(18500), 2u);  // gone and back
  EXPECT_TRUE(t.record("back", 4, {9004, 5}, 18600));
  EXPECT_TRUE(t.record("back", 12, {9005, 5}, 18600));
  EXPECT_EQ(t.forgotten(), 1u);
  return t;
}

const std::vector<std::string> kNames = {"back", "gone", "mixed", "never", "slid"};

TEST(ProducerTableSnapshot, ARestoredTableAnswersAndExpiresAsTheOriginal) {
  ProducerTable t = Busy();
  const std::string bytes = Encoded(t);
  ProducerTable u(kWindow, kExpiry);
  ASSERT_TRUE(ProducerTable::Decode(bytes, kWindow, kExpiry, &u).ok());
  EXPECT_EQ(Encoded(u), bytes);
  const uint64_t top = kWindow * 5 / 2 + 2;
  EXPECT_EQ(Answers(u, kNames, top), Answers(t, kNames, top));
  EXPECT_LT(u.slots(), t.slots()) << "only the live slots are kept";
  // Both go on alike: the same records, the same expiry scans at the same
  // log times (the next scan's time is part of the state), producers
  // forgotten and forgotten names dropped at the same moment.
  for (uint64_t ms = 18600; ms <= 18600 + 6 * kExpiry; ms += 250) {
    if (ms < 30000) {
      ASSERT_EQ(t.record("mixed", ms, {ms, 6}, ms), u.record("mixed", ms, {ms, 6}, ms));
    }
    ASSERT_EQ(t.expire(ms), u.expire(ms)) << "at " << ms;
    ASSERT_EQ(Encoded(t), Encoded(u)) << "at " << ms;
  }
  EXPECT_EQ(u.producers(), 0u);
  EXPECT_EQ(Answers(u, kNames, top), Answers(t, kNames, top));
}

TEST(ProducerTableSnapshot, OnlyTheLiveSlotsAreKept) {
  ProducerTable t(kWindow);
  for (uint64_t seq = 1; seq <= 20 * kWindow + kWindow / 2; ++seq) {
    ASSERT_TRUE(t.record("p", seq, At(seq)));
  }
  ASSERT_GT(t.slots(), kWindow);
  ProducerTable u(kWindow);
  ASSERT_TRUE(ProducerTable::Decode(Encoded(t), kWindow, 0, &u).ok());
  EXPECT_EQ(u.slots(), kWindow);
  ProducerTable::Where w;
  EXPECT_EQ(u.find("p", 19 * kWindow + kWindow / 2, &w), Found::kTooOld);
  ASSERT_EQ(u.find("p", 19 * kWindow + kWindow / 2 + 1, &w), Found::kSeen);
  EXPECT_EQ(w.index, 19 * kWindow + kWindow / 2 + 1);
}

TEST(ProducerTableSnapshot, TheSameStateGivesTheSameBytesWhateverTheOrder) {
  constexpr int kProducers = 300;
  ProducerTable forward(kWindow, kExpiry);
  ProducerTable backward(kWindow, kExpiry);
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    for (int i = 0; i < kProducers; ++i) {
      const int j = kProducers - 1 - i;
      ASSERT_TRUE(forward.record("p" + std::to_string(i), seq, At(seq * 1000 + i), 1000));
      ASSERT_TRUE(backward.record("p" + std::to_string(j), seq, At(seq * 1000 + j), 1000));
    }
  }
  // Two forgotten, put there in the other order.
  ASSERT_TRUE(forward.record("x", 1, At(1), 0));
  ASSERT_TRUE(forward.record("y", 1, At(2), 0));
  ASSERT_TRUE(backward.record("y", 1, At(2), 0));
  ASSERT_TRUE(backward.record("x", 1, At(1), 0));
  for (ProducerTable* t : {&forward, &backward}) {
    ASSERT_TRUE(t->record("p0", 4, At(4000), 17500));
    ASSERT_EQ(t->expire(17500), 2u + kProducers - 1);  // all but p0
  }
  EXPECT_EQ(Encoded(forward), Encoded(backward));
  ProducerTable again(kWindow, kExpiry);
  ASSERT_TRUE(ProducerTable::Decode(Encoded(backward), kWindow, kExpiry, &again).ok());
  EXPECT_EQ(Encoded(again), Encoded(forward));
}

TEST(ProducerTableSnapshot, AnotherWindowOrExpiryIsRefusedNamingBoth) {
  const std::string bytes = Encoded(Busy());
  ProducerTable u(kWindow, kExpiry);
  ASSERT_TRUE(u.record("mine", 1, At(1), 0));
  Status s = ProducerTable::Decode(bytes, 2048, kExpiry, &u);
  EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
  EXPECT_NE(s.message().find("producer-window 1024"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("runs with 2048"), std::string::npos) << s.message();
  s = ProducerTable::Decode(bytes, kWindow, 0, &u);
  EXPECT_TRUE(s.IsInvalidInput()) << s.ToString();
  EXPECT_NE(s.message().find("16000 ms"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("runs with 0 ms"), std::string::npos) << s.message();
  EXPECT_TRUE(u.known("mine")) << "a refused snapshot changes nothing";
  EXPECT_EQ(u.producers(), 1u);
}

TEST(ProducerTableSnapshot, CutOrDamagedBytesAreRefusedAndNeverCrash) {
  const std::string bytes = Encoded(Busy());
  ProducerTable u(kWindow, kExpiry);
  ASSERT_TRUE(u.record("mine", 1, At(1), 0));
  const std::string before = Encoded(u);
  for (size_t size = 0; size < bytes.size(); ++size) {
    Status s = ProducerTable::Decode(std::string_view(bytes).substr(0, size), kWindow, kExpiry, &u);
    ASSERT_TRUE(s.IsCorruption()) << size << ": " << s.ToString();
  }
  Status s = ProducerTable::Decode(bytes + '\0', kWindow, kExpiry, &u);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("1 bytes after"), std::string::npos) << s.message();
  EXPECT_EQ(Encoded(u), before);
  // Every byte flipped a few ways: refused with a reason, or (a number
  // changed) a table that encodes and decodes again. Never a crash, nor a
  // huge allocation (the ASan build runs this too).
  size_t refused = 0;
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (unsigned char mask : {0x01, 0x10, 0x40, 0x80, 0xff}) {
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ mask);
      ProducerTable d(kWindow, kExpiry);
      s = ProducerTable::Decode(damaged, kWindow, kExpiry, &d);
      if (s.ok()) {
        ProducerTable e(kWindow, kExpiry);
        ASSERT_TRUE(ProducerTable::Decode(Encoded(d), kWindow, kExpiry, &e).ok()) << at;
        continue;
      }
      ++refused;
      ASSERT_TRUE(s.IsCorruption() || s.IsInvalidInput() || s.code() == Status::Code::kNotSupported)
          << at << ": " << s.ToString();
      ASSERT_FALSE(s.message().empty());
    }
  }
  EXPECT_GT(refused, bytes.size()) << "most damage is seen";
}

// Bytes built by hand, for the damage a flip does not make.
class Crafted {
 public:
  // The header, up to (not with) the producers.
  Crafted& head(uint64_t version = ProducerTable::kSnapshotVersion, uint32_t fields = 7) {
    array(fields).uint(version).uint(kWindow);
    return uint(0).uint(0).uint(0);
  }
  Crafted& array(uint32_t n) {
    wire::detail::StringSink sink(&bytes_);
    wire::detail::Packer(sink).pack_array(n);
    return *this;
  }
  Crafted& str(std::string_view s) {
    wire::detail::StringSink sink(&bytes_);
    wire::detail::Packer pk(sink);
    pk.pack_str(static_cast<uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
    return *this;
  }
  Crafted& uint(uint64_t v) {
    wire::detail::StringSink sink(&bytes_);
    wire::detail::Packer(sink).pack_uint64(v);
    return *this;
  }
  // One producer with max_seq and these slots (seqs as encoded: the first,
  // then gaps; index and term 1).
  Crafted& producer(std::string_view name, uint64_t max_seq, const std::vector<uint64_t>& seqs) {
    array(5).str(name).uint(max_seq).uint(0).uint(0).array(static_cast<uint32_t>(3 * seqs.size()));
    for (uint64_t s : seqs) uint(s).uint(2).uint(2);
    return *this;
  }
  Status decode() const {
    ProducerTable t(kWindow);
    return ProducerTable::Decode(bytes_, kWindow, 0, &t);
  }

 private:
  std::string bytes_;
};

void ExpectCorruption(const Crafted& c, const std::string& says) {
  Status s = c.decode();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(says), std::string::npos) << s.message();
}

TEST(ProducerTableSnapshot, CraftedBytesAreRefusedWithTheReason) {
  ASSERT_TRUE(Crafted().head().array(1).producer("p", 5, {5}).array(0).decode().ok());
  Status s = Crafted().head(2).array(0).array(0).decode();
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_NE(s.message().find("version 2"), std::string::npos) << s.message();
  ExpectCorruption(Crafted().head(1, 8).array(0).array(0).uint(0), "7 elements, not 8");
  // Counts the bytes cannot hold are refused before anything is allocated.
  ExpectCorruption(Crafted().head().array(0xffffffff), "over the limit");
  ExpectCorruption(
      Crafted().head().array(1).array(5).str("p").uint(5).uint(0).uint(0).array(0xffffffff),
      "over the limit");
  ExpectCorruption(Crafted().head().array(0).array(0xfffffff0), "over the limit");
  // More slots than a window holds, even where the bytes are there.
  std::vector<uint64_t> many(kWindow + 1, 0);
  many[0] = 1;
  ExpectCorruption(Crafted().head().array(1).producer("p", kWindow + 1, many).array(0),
                   "over the limit");
  ExpectCorruption(Crafted().head().array(1).producer("p", 5, {5, 0}).array(0),
                   "outside its window");
  ExpectCorruption(Crafted().head().array(1).producer("p", 5000, {10}).array(0),
                   "outside its window");
  ExpectCorruption(
      Crafted().head().array(1).producer("p", UINT64_MAX, {UINT64_MAX - 1, UINT64_MAX}).array(0),
      "past 2^64");
  ExpectCorruption(Crafted().head().array(1).array(5).str("p").uint(5).uint(0).uint(0).array(2),
                   "not three a slot");
  ExpectCorruption(Crafted().head().array(2).producer("q", 1, {1}).producer("p", 1, {1}).array(0),
                   "'p' is not after 'q'");
  ExpectCorruption(Crafted().head().array(2).producer("p", 1, {1}).producer("p", 1, {1}).array(0),
                   "'p' is not after 'p'");
  ExpectCorruption(Crafted().head().array(1).producer("", 1, {1}).array(0), "empty name");
  ExpectCorruption(
      Crafted().head().array(1).producer(std::string(wire::kMaxProducerBytes + 1, 'p'), 1, {1}),
      "over the limit");
  ExpectCorruption(
      Crafted().head().array(1).producer("p", 1, {1}).array(1).array(3).str("p").uint(0).uint(1),
      "also a live producer");
  ExpectCorruption(Crafted().head().array(0).array(1).array(2).str("p").uint(0),
                   "2 elements, not 3");
}

// The snapshot size of busy and quiet producers (printed for the docs).
TEST(ProducerTableSnapshot, SizePerProducer) {
  constexpr int kProducers = 1000;
  for (uint64_t per : {kWindow, uint64_t{4}}) {
    ProducerTable t(kWindow, kExpiry);
    // Round robin, as producers pushing at once: a producer's consecutive
    // seqs are kProducers indexes apart; the term moves every 100,000.
    core::LogIndex index = 0;
    for (uint64_t seq = 1; seq <= per; ++seq) {
      for (int i = 0; i < kProducers; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "producer-%04d", i);
        ++index;
        ASSERT_TRUE(t.record(name, seq, {index, 1 + index / 100000}, 1000));
      }
    }
    const auto start = std::chrono::steady_clock::now();
    const std::string bytes = Encoded(t);
    const auto encoded = std::chrono::steady_clock::now();
    ProducerTable u(kWindow, kExpiry);
    ASSERT_TRUE(ProducerTable::Decode(bytes, kWindow, kExpiry, &u).ok());
    const auto decoded = std::chrono::steady_clock::now();
    EXPECT_EQ(u.slots(), kProducers * per);
    const double per_producer = static_cast<double>(bytes.size()) / kProducers;
    std::printf(
        "%d producers (13-byte names), %llu slots each: %zu bytes, %.1f bytes per producer "
        "(%.2f per slot); encode %.1f ms, decode %.1f ms\n",
        kProducers, static_cast<unsigned long long>(per), bytes.size(), per_producer,
        per_producer / static_cast<double>(per),
        std::chrono::duration<double, std::milli>(encoded - start).count(),
        std::chrono::duration<double, std::milli>(decoded - encoded).count());
    // Under 6 bytes a slot, plus the name and the producer's numbers.
    EXPECT_LT(per_producer, 6.0 * static_cast<double>(per) + 32);
  }
}

}  // namespace
}  // namespace raftlog::server
