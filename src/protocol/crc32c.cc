// CRC32C two ways. Portable: slicing-by-8 tables. x86-64: the SSE4.2 crc32 instruction
// over three independent streams at once (the instruction has a 3-cycle latency and a
// 1-cycle throughput), joined by "shift by N zero bytes" operators precomputed as
// tables. The register update without the initial/final inversion is linear over
// GF(2), which is what makes joining streams possible:
//   state(A || B) = shift_|B|(state(A)) xor state_from_zero(B).
#include "protocol/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace fjord::protocol {
namespace {

constexpr uint32_t kPoly = 0x82f63b78;  // reflected Castagnoli polynomial

struct Tables {
  uint32_t slice[8][256];
  // shift[k][b]: the operator "append kStreamBytes zero bytes" applied to b << 8k.
  uint32_t shift_long[4][256];
  uint32_t shift_short[4][256];
};

constexpr size_t kLong = 8192;
constexpr size_t kShort = 256;

// One zero bit through the register: the matrix is represented column-wise.
void MatrixSquare(const uint32_t* m, uint32_t* out) {
  for (int i = 0; i < 32; ++i) {
    uint32_t v = m[i], acc = 0;
    for (int j = 0; v != 0; ++j, v >>= 1) {
      if (v & 1) acc ^= m[j];
    }
    out[i] = acc;
  }
}

uint32_t MatrixTimes(const uint32_t* m, uint32_t v) {
  uint32_t acc = 0;
  for (int j = 0; v != 0; ++j, v >>= 1) {
    if (v & 1) acc ^= m[j];
  }
  return acc;
}

// Builds tables for the operator "feed n zero bytes" (n a power of two).
void BuildShift(size_t n, uint32_t table[4][256]) {
  uint32_t op[32], tmp[32];
  op[0] = kPoly;  // one zero bit
  for (int i = 1; i < 32; ++i) op[i] = 1u << (i - 1);
  // square log2(8 n) times: 1 bit -> 2 -> 4 -> ... -> 8n bits
  for (size_t bits = 1; bits < 8 * n; bits <<= 1) {
    MatrixSquare(op, tmp);
    std::memcpy(op, tmp, sizeof(op));
  }
  for (int k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) table[k][b] = MatrixTimes(op, b << (8 * k));
  }
}

const Tables& GetTables() {
  static const Tables* tables = [] {
    auto* t = new Tables;
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kPoly : 0);
      t->slice[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) {
        uint32_t prev = t->slice[s - 1][i];
        t->slice[s][i] = (prev >> 8) ^ t->slice[0][prev & 0xff];
      }
    }
    BuildShift(kLong, t->shift_long);
    BuildShift(kShort, t->shift_short);
    return t;
  }();
  return *tables;
}

inline uint32_t Shift(const uint32_t table[4][256], uint32_t crc) {
  return table[0][crc & 0xff] ^ table[1][(crc >> 8) & 0xff] ^ table[2][(crc >> 16) & 0xff] ^
         table[3][crc >> 24];
}

uint32_t PortableState(uint32_t state, const uint8_t* p, size_t n) {
  const Tables& t = GetTables();
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);  // little-endian hosts only, as everything here
    word ^= state;
    state = t.slice[7][word & 0xff] ^ t.slice[6][(word >> 8) & 0xff] ^ t.slice[5][(word >> 16) & 0xff] ^
            t.slice[4][(word >> 24) & 0xff] ^ t.slice[3][(word >> 32) & 0xff] ^
            t.slice[2][(word >> 40) & 0xff] ^ t.slice[1][(word >> 48) & 0xff] ^ t.slice[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) state = (state >> 8) ^ t.slice[0][(state ^ *p++) & 0xff];
  return state;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t HardwareStripes(uint32_t state, const uint8_t*& p, size_t& n,
                                                           size_t stripe, const uint32_t shift[4][256]) {
  while (n >= 3 * stripe) {
    uint64_t c0 = state, c1 = 0, c2 = 0;
    for (size_t i = 0; i < stripe; i += 8) {
      uint64_t a, b, c;
      std::memcpy(&a, p + i, 8);
      std::memcpy(&b, p + stripe + i, 8);
      std::memcpy(&c, p + 2 * stripe + i, 8);
      c0 = _mm_crc32_u64(c0, a);
      c1 = _mm_crc32_u64(c1, b);
      c2 = _mm_crc32_u64(c2, c);
    }
    state = Shift(shift, static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c1);
    state = Shift(shift, state) ^ static_cast<uint32_t>(c2);
    p += 3 * stripe;
    n -= 3 * stripe;
  }
  return state;
}

__attribute__((target("sse4.2"))) uint32_t HardwareState(uint32_t state, const uint8_t* p, size_t n) {
  const Tables& t = GetTables();
  state = HardwareStripes(state, p, n, kLong, t.shift_long);
  state = HardwareStripes(state, p, n, kShort, t.shift_short);
  uint64_t c = state;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
    p += 8;
    n -= 8;
  }
  state = static_cast<uint32_t>(c);
  while (n-- > 0) state = _mm_crc32_u8(state, *p++);
  return state;
}

bool HaveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

}  // namespace

uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n) {
  return ~PortableState(~crc, static_cast<const uint8_t*>(data), n);
}

bool Crc32cIsAccelerated() {
#if defined(__x86_64__)
  return HaveSse42();
#else
  return false;
#endif
}

uint32_t Crc32c(uint32_t crc, const void* data, size_t n) {
#if defined(__x86_64__)
  if (HaveSse42()) return ~HardwareState(~crc, static_cast<const uint8_t*>(data), n);
#endif
  return Crc32cPortable(crc, data, n);
}

}  // namespace fjord::protocol
