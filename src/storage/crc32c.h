// CRC32C (Castagnoli), the checksum stored with every record raftlog writes
// to disk. Uses the SSE4.2 crc32 instruction when the CPU has it, a table
// otherwise; both give the same result.
#pragma once

#include <cstddef>
#include <cstdint>

namespace raftlog::storage {

// The CRC32C of data[0, n) continuing from crc, the CRC32C of some earlier
// bytes (0 to start): Crc32cExtend(Crc32c(a), b) == Crc32c(a + b).
uint32_t Crc32cExtend(uint32_t crc, const char* data, size_t n);

inline uint32_t Crc32c(const char* data, size_t n) {
  return Crc32cExtend(0, data, n);
}

// Each path on its own, exposed so tests can check both. The hardware one
// (SSE4.2) exists only where Crc32cHardwareAvailable() is true; elsewhere
// Crc32cExtendHardware is the portable one.
uint32_t Crc32cExtendPortable(uint32_t crc, const char* data, size_t n);
bool Crc32cHardwareAvailable();
uint32_t Crc32cExtendHardware(uint32_t crc, const char* data, size_t n);

}  // namespace raftlog::storage
