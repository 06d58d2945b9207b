// ProducerTable: what a retry is told, inside and below the window, and
// that a producer's state stays bounded however many events it pushes.
#include "server/producer_table.h"

#include <gtest/gtest.h>

#include "raftlog/wire/event_ops.h"

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

}  // namespace
}  // namespace raftlog::server
