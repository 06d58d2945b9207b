// The public client API (client.h, producer.h, subscriber.h) does not carry
// the generic Value model of the wire layer (raftlog/wire/value.h), directly
// or through what it includes: only these three headers come before the
// check below.
#include "raftlog/client.h"
#include "raftlog/producer.h"
#include "raftlog/subscriber.h"
// (No other include above this line.)

#include <gtest/gtest.h>

#include <type_traits>

// Qualified lookup of raftlog::wire::Value falls back on the namespaces a
// using-directive names only when raftlog::wire declares no Value itself:
// absent::Value is found exactly when value.h was not included.
namespace raftlog::client_headers_test::absent {
struct Value {};
}  // namespace raftlog::client_headers_test::absent
namespace raftlog::wire {
using namespace raftlog::client_headers_test::absent;
}  // namespace raftlog::wire
static_assert(std::is_same_v<raftlog::wire::Value, raftlog::client_headers_test::absent::Value>,
              "a public client header declares raftlog::wire::Value (includes wire/value.h)");

TEST(PublicHeaders, TheClientApiLeavesTheWireValueModelOut) {
  raftlog::NodeCounters counters = {{"client_requests", 1}};
  EXPECT_EQ(counters.front().second, 1u);
}
