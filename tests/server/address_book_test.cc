// The address book codec (server/address_book.h): round trips, and a bad
// context is an error saying what is wrong, never a crash.
#include "server/address_book.h"

#include <gtest/gtest.h>

namespace raftlog::server {
namespace {

AddressBook Three() {
  AddressBook b;
  for (core::NodeId id = 1; id <= 3; ++id) {
    const std::string n = std::to_string(id);
    b[id] = Member{id, "tcp://127.0.0.1:700" + n, "tcp://127.0.0.1:710" + n,
                   id == 3 ? "" : "tcp://127.0.0.1:720" + n};
  }
  return b;
}

TEST(AddressBook, RoundTrips) {
  AddressBook in = Three(), out;
  ASSERT_TRUE(DecodeAddressBook(EncodeAddressBook(in), &out).ok());
  EXPECT_EQ(out, in);
  AddressBook empty;
  ASSERT_TRUE(DecodeAddressBook(EncodeAddressBook(empty), &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(AddressBook, AnEmptyContextIsAnEmptyBook) {
  AddressBook out = Three();
  ASSERT_TRUE(DecodeAddressBook("", &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(AddressBook, EveryTruncationIsAnErrorNotACrash) {
  const std::string bytes = EncodeAddressBook(Three());
  for (size_t n = 1; n < bytes.size(); ++n) {
    AddressBook out;
    Status s = DecodeAddressBook(std::string_view(bytes).substr(0, n), &out);
    EXPECT_FALSE(s.ok()) << n;
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(s.message().rfind("address book: ", 0), 0u) << s.message();
  }
  AddressBook out;
  EXPECT_FALSE(DecodeAddressBook(bytes + "x", &out).ok());
}

TEST(AddressBook, ArbitraryBytesAreAnErrorNotACrash) {
  AddressBook out;
  for (int seed = 0; seed < 2000; ++seed) {
    std::string bytes = EncodeAddressBook(Three());
    uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
    for (int k = 0; k < 3; ++k) {
      x = x * 1103515245u + 12345u;
      bytes[x % bytes.size()] = static_cast<char>(x >> 16);
    }
    (void)DecodeAddressBook(bytes, &out);  // ok or an error, never a crash
  }
  Status s = DecodeAddressBook("\xc1", &out);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST(AddressBook, SaysWhatIsWrong) {
  AddressBook b = Three();
  b[2].client_endpoint.clear();
  AddressBook out;
  Status s = DecodeAddressBook(EncodeAddressBook(b), &out);
  EXPECT_NE(s.message().find("member 2: empty peer or client endpoint"), std::string::npos)
      << s.message();
  // Another version.
  std::string bytes = EncodeAddressBook(Three());
  bytes[1] = 2;  // [fixarray 2][version]
  s = DecodeAddressBook(bytes, &out);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_NE(s.message().find("unsupported version 2"), std::string::npos);
}

}  // namespace
}  // namespace raftlog::server
