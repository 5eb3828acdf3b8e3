// CRC32C (Castagnoli), the checksum of Kafka record batches v2.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fjord::protocol {

// Extends `crc` (a finished CRC32C of earlier bytes, 0 to start) over data[0, n).
uint32_t Crc32c(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(const void* data, size_t n) {
  return Crc32c(0, data, n);
}

// The portable implementation, exposed so tests can check the accelerated one.
uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n);
// True when Crc32c uses the SSE4.2 instruction.
bool Crc32cIsAccelerated();

}  // namespace fjord::protocol
