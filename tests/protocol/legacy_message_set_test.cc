#include "protocol/legacy_message_set.h"

#include <gtest/gtest.h>
#define XXH_INLINE_ALL  // the test's own XXH32, without linking libxxhash
#include <xxhash.h>
#include <zlib.h>

#include <string>

namespace fjord::protocol {
namespace {

// Builds one legacy message as a Kafka 0.10 client would.
void AppendMessage(std::vector<uint8_t>* out, int64_t offset, int8_t magic, int8_t attrs, int64_t ts,
                   std::optional<std::string> key, std::optional<std::string> value) {
  std::vector<uint8_t> body;
  Writer counter;
  auto write_body = [&](Writer& w) {
    w.Int8(magic);
    w.Int8(attrs);
    if (magic == 1) w.Int64(ts);
    w.NullableBytes(false, true,
                    key ? std::optional<ByteView>(ByteView(std::string_view(*key))) : std::nullopt, "k");
    w.NullableBytes(false, true,
                    value ? std::optional<ByteView>(ByteView(std::string_view(*value))) : std::nullopt, "v");
  };
  write_body(counter);
  body.resize(counter.size());
  Writer w(body.data(), body.size());
  write_body(w);
  const uint32_t crc = static_cast<uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size())));
  std::vector<uint8_t> head(16);
  Writer hw(head.data(), head.size());
  hw.Int64(offset);
  hw.Int32(static_cast<int32_t>(body.size() + 4));
  hw.Uint32(crc);
  out->insert(out->end(), head.begin(), head.end());
  out->insert(out->end(), body.begin(), body.end());
}

TEST(LegacyMessageSet, DecodesV0AndV1) {
  std::vector<uint8_t> set;
  AppendMessage(&set, 0, 0, 0, -1, std::nullopt, "hello");
  AppendMessage(&set, 1, 1, 0, 1234, "k", "world");
  EXPECT_EQ(DetectMagic(ByteView(set)), 0);
  DecodedMessageSet d;
  ASSERT_TRUE(DecodeLegacyMessageSet(ByteView(set), 1 << 20, &d).ok());
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_FALSE(d.messages[0].key.has_value());
  EXPECT_EQ(d.messages[0].value->as_string_view(), "hello");
  EXPECT_EQ(d.messages[1].timestamp, 1234);
  EXPECT_EQ(d.messages[1].key->as_string_view(), "k");
}

TEST(LegacyMessageSet, CompressedV1WrapperHasRelativeInnerOffsets) {
  for (Compression c : {Compression::kGzip, Compression::kSnappy, Compression::kLz4}) {
    std::vector<uint8_t> inner;
    for (int i = 0; i < 3; ++i)
      AppendMessage(&inner, i, 1, 0, 100 + i, std::nullopt, "v" + std::to_string(i));
    std::vector<uint8_t> packed;
    ASSERT_TRUE(Compress(c, ByteView(inner), &packed).ok());
    std::vector<uint8_t> set;
    AppendMessage(&set, 41, 1, static_cast<int8_t>(c), 100, std::nullopt,
                  std::string(packed.begin(), packed.end()));
    DecodedMessageSet d;
    absl::Status s = DecodeLegacyMessageSet(ByteView(set), 1 << 20, &d);
    ASSERT_TRUE(s.ok()) << CompressionName(c) << ": " << s;
    ASSERT_EQ(d.messages.size(), 3u);
    EXPECT_EQ(d.messages[0].offset, 39);
    EXPECT_EQ(d.messages[2].offset, 41);
    EXPECT_EQ(d.messages[1].value->as_string_view(), "v1");
  }
}

// Clients before Kafka 0.10 (librdkafka with broker.version.fallback 0.9, kafka-python
// with api_version 0.9) frame magic-0 LZ4 with the descriptor checksum taken over the
// frame's magic number too. Kafka reads it anyway; a magic-1 frame must be right.
TEST(LegacyMessageSet, MagicZeroLz4WithThePre010DescriptorChecksumIsRead) {
  std::vector<uint8_t> inner;
  for (int i = 0; i < 3; ++i) AppendMessage(&inner, i, 0, 0, -1, "k", "v" + std::to_string(i));
  std::vector<uint8_t> packed;
  ASSERT_TRUE(Compress(Compression::kLz4, ByteView(inner), &packed).ok());
  const size_t descriptor = 2 + ((packed[4] & 0x08) ? 8 : 0) + ((packed[4] & 0x01) ? 4 : 0);
  const uint8_t right = packed[4 + descriptor];
  const uint8_t old_style = static_cast<uint8_t>(XXH32(packed.data(), 4 + descriptor, 0) >> 8);
  ASSERT_NE(right, old_style);
  packed[4 + descriptor] = old_style;
  for (int8_t magic : {0, 1}) {
    std::vector<uint8_t> set;
    AppendMessage(&set, 2, magic, static_cast<int8_t>(Compression::kLz4), 100, std::nullopt,
                  std::string(packed.begin(), packed.end()));
    DecodedMessageSet d;
    absl::Status s = DecodeLegacyMessageSet(ByteView(set), 1 << 20, &d);
    if (magic == 1) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      continue;
    }
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_EQ(d.messages.size(), 3u);
    EXPECT_EQ(d.messages[2].value->as_string_view(), "v2");
  }
  // A truncated header is still an error, not a read past the end.
  std::vector<uint8_t> out;
  EXPECT_FALSE(DecompressLz4IgnoringDescriptorChecksum(ByteView(packed.data(), 6), 1 << 20, &out).ok());
  EXPECT_FALSE(
      DecompressLz4IgnoringDescriptorChecksum(ByteView(packed.data(), 4 + descriptor), 1 << 20, &out).ok());
}

TEST(LegacyMessageSet, BadCrcAndTruncationAreErrors) {
  std::vector<uint8_t> set;
  AppendMessage(&set, 0, 1, 0, 5, "key", "value");
  DecodedMessageSet d;
  for (size_t n = 1; n < set.size(); ++n) {
    EXPECT_FALSE(DecodeLegacyMessageSet(ByteView(set.data(), n), 1 << 20, &d).ok()) << n;
  }
  set.back() ^= 1;
  EXPECT_EQ(DecodeLegacyMessageSet(ByteView(set), 1 << 20, &d).code(), absl::StatusCode::kDataLoss);
}

// Down-conversion for Fetch v0-3: every record of every (compressed) batch becomes
// one message with its absolute offset, decodable by the legacy decoder (CRCs valid).
TEST(LegacyMessageSet, DownConvertsBatchesForOldFetchVersions) {
  const std::string k = "key", v0 = "value-0", v1 = "value-1";
  std::vector<Record> records(2);
  records[0].key = ByteView(std::string_view(k));
  records[0].value = ByteView(std::string_view(v0));
  records[1].offset_delta = 1;
  records[1].timestamp_delta = 7;
  records[1].value = ByteView(std::string_view(v1));
  records[1].headers.push_back({ByteView(std::string_view(k)), std::nullopt});
  std::vector<uint8_t> batches;
  BatchHeader h;
  h.base_offset = 100;
  h.base_timestamp = 1000;
  h.max_timestamp = 1007;
  h.last_offset_delta = 1;
  ASSERT_TRUE(EncodeBatch(h, records, &batches).ok());
  h.base_offset = 102;
  h.attributes = static_cast<int16_t>(Compression::kGzip);
  ASSERT_TRUE(EncodeBatch(h, records, &batches).ok());
  for (int8_t magic : {0, 1}) {
    std::vector<uint8_t> set;
    ASSERT_TRUE(DownConvert(ByteView(batches), magic, 1 << 20, &set).ok());
    DecodedMessageSet d;
    ASSERT_TRUE(DecodeLegacyMessageSet(ByteView(set), 1 << 20, &d).ok());
    ASSERT_EQ(d.messages.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(d.messages[i].offset, 100 + static_cast<int64_t>(i));
      EXPECT_EQ(d.messages[i].magic, magic);
      EXPECT_EQ(d.messages[i].value->as_string_view(), i % 2 == 0 ? v0 : v1);
      EXPECT_EQ(d.messages[i].timestamp, magic == 1 ? (i % 2 == 0 ? 1000 : 1007) : -1);
    }
    EXPECT_EQ(d.messages[0].key->as_string_view(), k);
    EXPECT_FALSE(d.messages[1].key.has_value());
  }
}

}  // namespace
}  // namespace fjord::protocol
