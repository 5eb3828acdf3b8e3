#include "protocol/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace fjord::protocol {
namespace {

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xe3069283u);  // the standard check value
  EXPECT_EQ(Crc32c("", 0), 0u);
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8a9136aau);  // RFC 3720 B.4
  std::vector<uint8_t> ones(32, 0xff);
  EXPECT_EQ(Crc32c(ones.data(), ones.size()), 0x62a8ab43u);
  std::vector<uint8_t> inc(32);
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(Crc32c(inc.data(), inc.size()), 0x46dd794eu);
}

TEST(Crc32c, AcceleratedAgreesWithPortableAtEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::vector<uint8_t> data(3 * 8192 * 2 + 999);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  std::vector<size_t> lengths = {
      0, 1, 7, 8, 9, 255, 256, 767, 768, 769, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, data.size() - 8};
  for (size_t off = 0; off < 8; ++off) {
    for (size_t len : lengths) {
      ASSERT_EQ(Crc32c(0, data.data() + off, len), Crc32cPortable(0, data.data() + off, len))
          << "offset " << off << " length " << len;
    }
  }
}

TEST(Crc32c, ExtendingEqualsOneShot) {
  std::string s(100000, 'x');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 31);
  uint32_t whole = Crc32c(s.data(), s.size());
  uint32_t parts = Crc32c(Crc32c(s.data(), 12345), s.data() + 12345, s.size() - 12345);
  EXPECT_EQ(whole, parts);
}

}  // namespace
}  // namespace fjord::protocol
