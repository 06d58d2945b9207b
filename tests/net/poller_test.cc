// The node's one wait (src/net/poller.h) on its own: who gets called, and
// what ends a wait.
#include "net/poller.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <zmq.hpp>

namespace raftlog::net {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct Pair {
  explicit Pair(zmq::context_t& ctx, const char* name)
      : in(ctx, zmq::socket_type::pair), out(ctx, zmq::socket_type::pair) {
    in.bind(std::string("inproc://") + name);
    out.connect(std::string("inproc://") + name);
  }
  zmq::socket_t in;
  zmq::socket_t out;
};

TEST(Poller, OnlyTheReadableSocketsHandlerRunsAndItReadsWhatCame) {
  zmq::context_t ctx(1);
  Pair a(ctx, "a"), b(ctx, "b");
  std::unique_ptr<Poller> poller;
  ASSERT_TRUE(Poller::Create(&poller).ok());
  int a_calls = 0, b_calls = 0;
  std::string got;
  poller->add(&a.in, [&] {
    ++a_calls;
    zmq::message_t m;
    ASSERT_TRUE(a.in.recv(m, zmq::recv_flags::dontwait));
    got = m.to_string();
  });
  poller->add(&b.in, [&] { ++b_calls; });
  a.out.send(zmq::str_buffer("hello"));
  ASSERT_TRUE(poller->wait(milliseconds(2000)).ok());
  EXPECT_EQ(a_calls, 1);
  EXPECT_EQ(b_calls, 0);
  EXPECT_EQ(got, "hello");
}

TEST(Poller, WakeEndsAWaitFromAnotherThreadAndAnEarlierWakeTheNextOne) {
  std::unique_ptr<Poller> poller;
  ASSERT_TRUE(Poller::Create(&poller).ok());
  std::thread waker([&] {
    // Usually lands during the wait; before it, the wait returns at once too.
    std::this_thread::sleep_for(milliseconds(50));
    poller->wake();
  });
  auto start = Clock::now();
  ASSERT_TRUE(poller->wait(milliseconds(10000)).ok());
  waker.join();
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
  poller->wake();  // before the wait: it returns at once
  start = Clock::now();
  ASSERT_TRUE(poller->wait(milliseconds(10000)).ok());
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
}

TEST(Poller, ARemovedSocketIsNoLongerServedAndTheTimeoutHolds) {
  zmq::context_t ctx(1);
  Pair a(ctx, "c");
  std::unique_ptr<Poller> poller;
  ASSERT_TRUE(Poller::Create(&poller).ok());
  int calls = 0;
  poller->add(&a.in, [&] { ++calls; });
  poller->remove(&a.in);
  a.out.send(zmq::str_buffer("x"));
  const auto start = Clock::now();
  ASSERT_TRUE(poller->wait(milliseconds(100)).ok());
  EXPECT_EQ(calls, 0);
  EXPECT_GE(Clock::now() - start, milliseconds(90));
}

}  // namespace
}  // namespace raftlog::net
