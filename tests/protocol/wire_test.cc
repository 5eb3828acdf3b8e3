#include "protocol/wire.h"

#include <gtest/gtest.h>

#include <limits>

namespace fjord::protocol {
namespace {

std::vector<uint8_t> Encode(auto&& write) {
  Writer counter;
  write(counter);
  std::vector<uint8_t> out(counter.size());
  Writer w(out.data(), out.size());
  write(w);
  EXPECT_TRUE(w.ok()) << w.error();
  EXPECT_EQ(w.size(), out.size());
  return out;
}

TEST(Wire, FixedWidthIsBigEndian) {
  auto b = Encode([](Writer& w) {
    w.Int16(0x0102);
    w.Int32(-2);
    w.Int64(0x0102030405060708);
  });
  ASSERT_EQ(b.size(), 14u);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[1], 2);
  EXPECT_EQ(b[2], 0xff);
  EXPECT_EQ(b[5], 0xfe);
  Reader r{ByteView(b)};
  EXPECT_EQ(r.Int16(), 0x0102);
  EXPECT_EQ(r.Int32(), -2);
  EXPECT_EQ(r.Int64(), 0x0102030405060708);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Wire, VarintsRoundTripAtTheEdges) {
  for (int32_t v : {0, 1, -1, 63, -64, 64, 300, std::numeric_limits<int32_t>::max(),
                    std::numeric_limits<int32_t>::min()}) {
    auto b = Encode([&](Writer& w) { w.Varint(v); });
    Reader r{ByteView(b)};
    EXPECT_EQ(r.Varint(), v);
    EXPECT_TRUE(r.ok());
  }
  for (int64_t v :
       {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
    auto b = Encode([&](Writer& w) { w.Varlong(v); });
    Reader r{ByteView(b)};
    EXPECT_EQ(r.Varlong(), v);
  }
  for (uint32_t v : {0u, 127u, 128u, 16383u, 16384u, 0xffffffffu}) {
    auto b = Encode([&](Writer& w) { w.UVarint(v); });
    EXPECT_EQ(b.size(), UVarintSize(v));
    Reader r{ByteView(b)};
    EXPECT_EQ(r.UVarint(), v);
  }
}

TEST(Wire, ZigZagMatchesKafka) {
  // Kafka encodes -1 as 0x01 and 1 as 0x02.
  EXPECT_EQ(Encode([](Writer& w) { w.Varint(-1); }), std::vector<uint8_t>({0x01}));
  EXPECT_EQ(Encode([](Writer& w) { w.Varint(1); }), std::vector<uint8_t>({0x02}));
  EXPECT_EQ(Encode([](Writer& w) { w.UVarint(300); }), std::vector<uint8_t>({0xac, 0x02}));
}

TEST(Wire, OverlongVarintsAreRejected) {
  std::vector<uint8_t> six = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  Reader r{ByteView(six)};
  r.UVarint();
  EXPECT_FALSE(r.ok());
  std::vector<uint8_t> big_fifth = {0xff, 0xff, 0xff, 0xff, 0x1f};  // > 32 bits
  Reader r2{ByteView(big_fifth)};
  r2.UVarint();
  EXPECT_FALSE(r2.ok());
  std::vector<uint8_t> eleven(11, 0x80);
  Reader r3{ByteView(eleven)};
  r3.UVarlong();
  EXPECT_FALSE(r3.ok());
  std::vector<uint8_t> truncated = {0x80};
  Reader r4{ByteView(truncated)};
  r4.UVarint();
  EXPECT_FALSE(r4.ok());
}

TEST(Wire, StringsClassicAndCompact) {
  auto classic = Encode([](Writer& w) { w.String(false, "abc"); });
  EXPECT_EQ(classic, std::vector<uint8_t>({0, 3, 'a', 'b', 'c'}));
  auto compact = Encode([](Writer& w) { w.String(true, "abc"); });
  EXPECT_EQ(compact, std::vector<uint8_t>({4, 'a', 'b', 'c'}));
  auto null_classic = Encode([](Writer& w) { w.NullableString(false, true, std::nullopt, "f"); });
  EXPECT_EQ(null_classic, std::vector<uint8_t>({0xff, 0xff}));
  auto null_compact = Encode([](Writer& w) { w.NullableString(true, true, std::nullopt, "f"); });
  EXPECT_EQ(null_compact, std::vector<uint8_t>({0}));
  Reader r{ByteView(null_compact)};
  EXPECT_FALSE(r.NullableString(true, true, "f").has_value());
}

// Kafka (Java) decodes a string's ill-formed UTF-8 as U+FFFD, one per maximal subpart.
TEST(Wire, IllFormedUtf8DecodesAsReplacementCharacters) {
  const std::string r = "\xEF\xBF\xBD";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain", "plain"},
      {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"},
      {"a\xFF"
       "b",
       "a" + r + "b"},                      // never a lead byte
      {"\x80\xBF", r + r},                  // continuations without a lead
      {"\xC0\xAF", r + r},                  // overlong '/'
      {"\xE0\x80\xAF", r + r + r},          // overlong: E0 needs A0..BF next
      {"\xED\xA0\x80", r + r + r},          // a surrogate
      {"\xF4\x90\x80\x80", r + r + r + r},  // past U+10FFFF
      {"\xE2\x82", r},                      // cut short at the end: one subpart
      {"\xE2\x82x", r + "x"},               // cut short before an ASCII byte
      {"\xF0\x9F\x98", r},                  // three bytes of four
      {"\xF0\x9F\x98\xF0\x9F\x98\x80", r + "\xF0\x9F\x98\x80"},
  };
  for (const auto& [in, want] : cases) {
    auto bytes = Encode([&](Writer& w) { w.String(true, in); });
    Reader reader{ByteView(bytes)};
    EXPECT_EQ(reader.String(true, "f"), want) << in;
    EXPECT_TRUE(reader.ok());
    bytes = Encode([&](Writer& w) { w.NullableString(false, true, in, "f"); });
    Reader nullable{ByteView(bytes)};
    EXPECT_EQ(nullable.NullableString(false, true, "f"), want) << in;
  }
}

// As Kafka: a string holds at most 32767 bytes, compact or not, counted after ill-formed
// UTF-8 is replaced (10,922 bytes of 0xFF become 32,766; 10,923 become 32,769), so every
// string decoded can be written again.
TEST(Wire, StringsHoldAtMost32767BytesAfterReplacement) {
  for (bool compact : {false, true}) {
    const std::string longest(32767, 'a');
    auto bytes = Encode([&](Writer& w) { w.String(compact, longest); });
    Reader fits{ByteView(bytes)};
    EXPECT_EQ(fits.String(compact, "f"), longest);
    EXPECT_TRUE(fits.ok());

    Writer too_long;
    too_long.String(compact, longest + "a");
    EXPECT_FALSE(too_long.ok());
    // A length past the limit, with its bytes there: refused, not read.
    std::vector<uint8_t> over;
    if (compact) {
      over = {0x81, 0x80, 0x02};  // uvarint 32769: 32768 bytes
    } else {
      over = {0x80, 0x00};  // int16 -32768: negative
    }
    over.resize(over.size() + 32768, 'a');
    Reader refused{ByteView(over)};
    refused.String(compact, "f");
    EXPECT_FALSE(refused.ok());

    for (auto [n, ok] : {std::pair{10922, true}, std::pair{10923, false}}) {
      bytes = Encode([&](Writer& w) { w.String(compact, std::string(n, '\xFF')); });
      Reader r{ByteView(bytes)};
      const std::string got = r.String(compact, "f");
      EXPECT_EQ(r.ok(), ok) << n << " compact " << compact;
      if (ok) {
        EXPECT_EQ(got.size(), 3u * n);
      } else {
        EXPECT_NE(r.error().find("ill-formed UTF-8"), std::string::npos) << r.error();
      }
    }
  }
}

TEST(Wire, NullWhereNotNullableIsAnError) {
  std::vector<uint8_t> null_classic = {0xff, 0xff};
  Reader r{ByteView(null_classic)};
  r.String(false, "Name");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error().find("Name"), std::string::npos);
  Writer w;
  w.NullableString(false, false, std::nullopt, "Name");
  EXPECT_FALSE(w.ok());
}

TEST(Wire, LengthsBeyondTheInputAreRejectedBeforeAllocating) {
  std::vector<uint8_t> huge_string = {0x7f, 0xff, 'a'};
  Reader r{ByteView(huge_string)};
  r.String(false, "s");
  EXPECT_FALSE(r.ok());
  std::vector<uint8_t> huge_array = {0x7f, 0xff, 0xff, 0xff, 0, 0};
  Reader r2{ByteView(huge_array)};
  EXPECT_EQ(r2.ArrayLength(false, false, 4, "a"), 0);
  EXPECT_FALSE(r2.ok());
  std::vector<uint8_t> negative_bytes = {0xff, 0xff, 0xff, 0xfe};
  Reader r3{ByteView(negative_bytes)};
  r3.Bytes(false, "b");
  EXPECT_FALSE(r3.ok());
}

TEST(Wire, TheFirstErrorSticks) {
  std::vector<uint8_t> b = {0, 1};
  Reader r{ByteView(b)};
  r.Int32();
  EXPECT_FALSE(r.ok());
  std::string first = r.error();
  EXPECT_EQ(r.Int16(), 0);
  EXPECT_EQ(r.error(), first);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Wire, WriterRefusesToOverflowItsBuffer) {
  uint8_t buf[3];
  Writer w(buf, sizeof buf);
  w.Int32(1);
  EXPECT_FALSE(w.ok());
}

TEST(Wire, UuidToStringIsKafkaBase64) {
  Uuid u;
  for (int i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(u.ToString(), "AAECAwQFBgcICQoLDA0ODw");
}

}  // namespace
}  // namespace fjord::protocol
