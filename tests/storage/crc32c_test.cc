#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace raftlog::storage {
namespace {

// Bit at a time from the definition (reflected polynomial 0x82F63B78): a
// reference that shares nothing with the table or the hardware path.
uint32_t BitwiseCrc32c(const std::string& data) {
  uint32_t c = ~0u;
  for (unsigned char byte : data) {
    c ^= byte;
    for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
  }
  return ~c;
}

struct Vector {
  const char* name;
  std::string data;
  uint32_t crc;
};

// RFC 3720 (iSCSI), appendix B.4, and the usual check value.
std::vector<Vector> KnownVectors() {
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  const unsigned char pdu[48] = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                 0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  return {
      {"32 zero bytes", std::string(32, '\0'), 0x8A9136AAu},
      {"32 0xff bytes", std::string(32, '\xff'), 0x62A8AB43u},
      {"32 ascending bytes", ascending, 0x46DD794Eu},
      {"32 descending bytes", descending, 0x113FDB5Cu},
      {"an iSCSI read PDU", std::string(reinterpret_cast<const char*>(pdu), sizeof(pdu)),
       0xD9963A56u},
      {"\"123456789\"", "123456789", 0xE3069283u},
      {"nothing", "", 0u},
  };
}

using Path = uint32_t (*)(uint32_t, const char*, size_t);

void ExpectKnownVectors(const char* path_name, Path path) {
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(path(0, v.data.data(), v.data.size()), v.crc) << path_name << ": " << v.name;
    EXPECT_EQ(BitwiseCrc32c(v.data), v.crc) << "the reference: " << v.name;
  }
}

// Lengths 0..300 (every tail length of an 8-byte loop) at offsets 0..7.
void ExpectSameAsReference(const char* path_name, Path path) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n + offset <= data.size(); ++n) {
      ASSERT_EQ(path(0, data.data() + offset, n), BitwiseCrc32c(data.substr(offset, n)))
          << path_name << ": offset " << offset << " length " << n;
    }
  }
}

TEST(Crc32cTest, TheDefaultPathMatchesRfc3720TestVectors) {
  ExpectKnownVectors("Crc32cExtend", Crc32cExtend);
}

TEST(Crc32cTest, ThePortablePathMatchesRfc3720TestVectors) {
  ExpectKnownVectors("portable", Crc32cExtendPortable);
}

TEST(Crc32cTest, TheHardwarePathMatchesRfc3720TestVectors) {
  if (!Crc32cHardwareAvailable()) GTEST_SKIP() << "this CPU has no SSE4.2: no hardware path";
  ExpectKnownVectors("hardware", Crc32cExtendHardware);
}

TEST(Crc32cTest, ThePortablePathMatchesTheBitwiseReferenceOnEveryLengthAndAlignment) {
  ExpectSameAsReference("portable", Crc32cExtendPortable);
}

TEST(Crc32cTest, TheHardwarePathMatchesTheBitwiseReferenceOnEveryLengthAndAlignment) {
  if (!Crc32cHardwareAvailable()) GTEST_SKIP() << "this CPU has no SSE4.2: no hardware path";
  ExpectSameAsReference("hardware", Crc32cExtendHardware);
}

TEST(Crc32cTest, ExtendEqualsOneShot) {
  std::string a = "hello, ", b = "raftlog";
  std::string ab = a + b;
  for (Path path : {Crc32cExtend, Crc32cExtendPortable, Crc32cExtendHardware}) {
    EXPECT_EQ(path(path(0, a.data(), a.size()), b.data(), b.size()), path(0, ab.data(), ab.size()));
  }
  EXPECT_EQ(Crc32cExtend(Crc32c(a.data(), a.size()), b.data(), b.size()),
            Crc32c(ab.data(), ab.size()));
}

}  // namespace
}  // namespace raftlog::storage
