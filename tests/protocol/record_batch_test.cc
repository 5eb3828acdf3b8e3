#include "protocol/record_batch.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>

#include "protocol/crc32c.h"

namespace fjord::protocol {
namespace {

struct Owned {
  std::deque<std::string> strings;
  ByteView View(std::string s) {
    strings.push_back(std::move(s));
    return ByteView(std::string_view(strings.back()));
  }
};

std::vector<Record> SampleRecords(Owned& o, int n, bool compressible) {
  std::vector<Record> recs;
  std::mt19937 rng(n);
  for (int i = 0; i < n; ++i) {
    Record r;
    r.timestamp_delta = i * 3;
    r.offset_delta = i;
    if (i % 5 != 0) r.key = o.View("key-" + std::to_string(i));
    std::string value = compressible ? std::string(200, static_cast<char>('a' + i % 26)) : std::string();
    if (!compressible) {
      for (int k = 0; k < 100; ++k) value.push_back(static_cast<char>(rng()));
    }
    if (i % 7 != 3) r.value = o.View(value);
    if (i % 2 == 0) r.headers.push_back({o.View("h" + std::to_string(i)), o.View("v")});
    if (i % 4 == 0) r.headers.push_back({o.View("null-value"), std::nullopt});
    recs.push_back(r);
  }
  return recs;
}

BatchHeader SampleHeader(Compression c) {
  BatchHeader h;
  h.base_offset = 1000;
  h.partition_leader_epoch = 7;
  h.attributes = static_cast<int16_t>(c);
  h.last_offset_delta = 49;
  h.base_timestamp = 1700000000000;
  h.max_timestamp = 1700000000147;
  h.producer_id = 12345;
  h.producer_epoch = 2;
  h.base_sequence = 10;
  return h;
}

class EveryCodec : public ::testing::TestWithParam<Compression> {};

TEST_P(EveryCodec, EncodeDecodeRoundTrip) {
  Owned o;
  auto records = SampleRecords(o, 50, /*compressible=*/true);
  std::vector<uint8_t> batch;
  ASSERT_TRUE(EncodeBatch(SampleHeader(GetParam()), records, &batch).ok());
  ASSERT_TRUE(BatchCrcValid(ByteView(batch)));
  DecodedBatch d;
  absl::Status s = DecodeBatch(ByteView(batch), kDefaultMaxDecompressed, &d);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(d.header.compression(), GetParam());
  EXPECT_EQ(d.header.record_count, 50);
  EXPECT_EQ(d.header.total_size(), batch.size());
  EXPECT_EQ(d.records, records);
  // Re-encoding the decoded records gives the same records section, and the same
  // compressed section gives the same batch bytes.
  std::vector<uint8_t> plain;
  EncodeRecords(d.records, &plain);
  EXPECT_EQ(ByteView(plain), d.records_section);
  std::vector<uint8_t> again;
  EncodeBatchWithRecordsSection(
      d.header, ByteView(batch.data() + kBatchHeaderSize, batch.size() - kBatchHeaderSize), &again);
  EXPECT_EQ(again, batch);
  if (GetParam() != Compression::kNone) {
    EXPECT_LT(batch.size(), plain.size());
  }
}

TEST_P(EveryCodec, CorruptionIsCaughtByTheCrc) {
  Owned o;
  std::vector<uint8_t> batch;
  ASSERT_TRUE(EncodeBatch(SampleHeader(GetParam()), SampleRecords(o, 10, false), &batch).ok());
  for (size_t pos : {size_t{21}, size_t{40}, size_t{61}, batch.size() / 2, batch.size() - 1}) {
    auto bad = batch;
    bad[pos] ^= 0x40;
    EXPECT_FALSE(BatchCrcValid(ByteView(bad))) << pos;
    DecodedBatch d;
    absl::Status s = DecodeBatch(ByteView(bad), kDefaultMaxDecompressed, &d);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << pos << " " << s;
  }
  // The base offset and leader epoch lie outside the CRC.
  auto moved = batch;
  SetBaseOffset(moved.data(), 99);
  SetPartitionLeaderEpoch(moved.data(), 3);
  EXPECT_TRUE(BatchCrcValid(ByteView(moved)));
  EXPECT_EQ(ParseBatchHeader(ByteView(moved))->base_offset, 99);
}

// Produce's check: the records section must hold exactly the header's count of
// well-formed records, compressed or not.
TEST_P(EveryCodec, CheckRecordsHoldsTheRecordsToTheHeader) {
  Owned o;
  std::vector<uint8_t> plain;
  EncodeRecords(SampleRecords(o, 10, true), &plain);
  auto batch_of = [&](int32_t count, const std::vector<uint8_t>& section) {
    BatchHeader h = SampleHeader(GetParam());
    h.record_count = count;
    h.last_offset_delta = count - 1;
    std::vector<uint8_t> packed, out;
    EXPECT_TRUE(Compress(GetParam(), ByteView(section), &packed).ok());
    EncodeBatchWithRecordsSection(h, ByteView(packed), &out);
    return out;
  };
  EXPECT_TRUE(CheckRecords(ByteView(batch_of(10, plain)), kDefaultMaxDecompressed).ok());
  EXPECT_FALSE(CheckRecords(ByteView(batch_of(9, plain)), kDefaultMaxDecompressed).ok());
  EXPECT_FALSE(CheckRecords(ByteView(batch_of(11, plain)), kDefaultMaxDecompressed).ok());
  auto trailing = plain;
  trailing.push_back(0);
  EXPECT_FALSE(CheckRecords(ByteView(batch_of(10, trailing)), kDefaultMaxDecompressed).ok());
  auto cut = plain;
  cut.resize(plain.size() - 3);
  EXPECT_FALSE(CheckRecords(ByteView(batch_of(10, cut)), kDefaultMaxDecompressed).ok());
  // Bounded as decoding is: a compressed section may not grow past the limit.
  if (GetParam() != Compression::kNone) {
    EXPECT_FALSE(CheckRecords(ByteView(batch_of(10, plain)), plain.size() - 1).ok());
  }
}

TEST_P(EveryCodec, RecompressKeepsTheHeaderAndRecords) {
  Owned o;
  const auto records = SampleRecords(o, 50, /*compressible=*/true);
  std::vector<uint8_t> from;
  ASSERT_TRUE(EncodeBatch(SampleHeader(Compression::kLz4), records, &from).ok());
  std::vector<uint8_t> to;
  ASSERT_TRUE(RecompressBatch(ByteView(from), GetParam(), kDefaultMaxDecompressed, &to).ok());
  ASSERT_TRUE(BatchCrcValid(ByteView(to)));
  DecodedBatch d;
  ASSERT_TRUE(DecodeBatch(ByteView(to), kDefaultMaxDecompressed, &d).ok());
  BatchHeader want = SampleHeader(GetParam());
  want.record_count = 50;
  want.batch_length = d.header.batch_length;
  want.crc = d.header.crc;
  EXPECT_EQ(d.header, want);
  EXPECT_EQ(d.records, records);
  // Offset deltas out of order come back numbered 0, 1, ... (Kafka's rebuild).
  auto shifted = records;
  for (Record& r : shifted) r.offset_delta += 3;
  std::vector<uint8_t> odd, renumbered;
  ASSERT_TRUE(EncodeBatch(SampleHeader(Compression::kLz4), shifted, &odd).ok());
  ASSERT_TRUE(RecompressBatch(ByteView(odd), GetParam(), kDefaultMaxDecompressed, &renumbered).ok());
  DecodedBatch r;
  ASSERT_TRUE(DecodeBatch(ByteView(renumbered), kDefaultMaxDecompressed, &r).ok());
  EXPECT_EQ(r.records, records);
  EXPECT_EQ(r.header.last_offset_delta, 49);
  // a corrupt batch is an error, not a silently rewritten one
  from[from.size() / 2] ^= 1;
  std::vector<uint8_t> none;
  EXPECT_FALSE(RecompressBatch(ByteView(from), GetParam(), kDefaultMaxDecompressed, &none).ok());
}

INSTANTIATE_TEST_SUITE_P(Codecs, EveryCodec,
                         ::testing::Values(Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd),
                         [](const auto& info) { return std::string(CompressionName(info.param)); });

TEST(RecordBatch, HeaderLayoutMatchesKafka) {
  Owned o;
  std::vector<uint8_t> batch;
  ASSERT_TRUE(EncodeBatch(SampleHeader(Compression::kNone), SampleRecords(o, 1, true), &batch).ok());
  EXPECT_EQ(batch[16], 2);  // magic
  EXPECT_EQ((batch[8] << 24 | batch[9] << 16 | batch[10] << 8 | batch[11]) + 12,
            static_cast<int>(batch.size()));
  uint32_t stored = static_cast<uint32_t>(batch[17]) << 24 | batch[18] << 16 | batch[19] << 8 | batch[20];
  EXPECT_EQ(stored, Crc32c(batch.data() + 21, batch.size() - 21));
  int64_t max_timestamp = 0;
  for (size_t i = kBatchMaxTimestampOffset; i < kBatchMaxTimestampOffset + 8; ++i)
    max_timestamp = max_timestamp << 8 | batch[i];
  EXPECT_EQ(max_timestamp, SampleHeader(Compression::kNone).max_timestamp);
}

TEST(RecordBatch, SetMaxTimestampRewritesTypeTimestampAndCrc) {
  Owned o;
  std::vector<uint8_t> batch;
  BatchHeader sample = SampleHeader(Compression::kLz4);
  sample.attributes |= 0x10;  // transactional: the other attributes stay
  ASSERT_TRUE(EncodeBatch(sample, SampleRecords(o, 5, true), &batch).ok());
  SetMaxTimestamp(batch.data(), batch.size(), TimestampType::kLogAppendTime, 1800000000000);
  auto h = ParseBatchHeader(ByteView(batch));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_EQ(h->max_timestamp, 1800000000000);
  EXPECT_EQ(h->compression(), Compression::kLz4);
  EXPECT_TRUE(h->is_transactional());
  EXPECT_TRUE(BatchCrcValid(ByteView(batch)));
  SetMaxTimestamp(batch.data(), batch.size(), TimestampType::kCreateTime, 1700000000000);
  h = ParseBatchHeader(ByteView(batch));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->timestamp_type(), TimestampType::kCreateTime);
  EXPECT_EQ(h->max_timestamp, 1700000000000);
  EXPECT_EQ(h->compression(), Compression::kLz4);
  EXPECT_TRUE(h->is_transactional());
  EXPECT_TRUE(BatchCrcValid(ByteView(batch)));
}

TEST(RecordBatch, ControlRecords) {
  std::vector<uint8_t> key = {0, 0, 0, 1}, value = {0, 0, 0, 0, 0, 9};
  Record r;
  r.key = ByteView(key);
  r.value = ByteView(value);
  auto c = ParseControlRecord(r);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->type, ControlType::kCommit);
  EXPECT_EQ(c->coordinator_epoch, 9);
  key[3] = 7;
  EXPECT_FALSE(ParseControlRecord(r).ok());
}

TEST(RecordBatch, SplitFindsWholeBatchesAndAPartialTail) {
  Owned o;
  std::vector<uint8_t> blob;
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(EncodeBatch(SampleHeader(Compression::kNone), SampleRecords(o, 3, true), &blob).ok());
  const size_t whole = blob.size();
  blob.resize(whole + 30, 0);
  blob[whole + 11] = 100;  // length of a batch that does not fully arrive
  ByteView tail;
  auto batches = SplitBatches(ByteView(blob), &tail);
  ASSERT_TRUE(batches.ok());
  EXPECT_EQ(batches->size(), 3u);
  EXPECT_EQ(tail.size(), 30u);
}

TEST(RecordBatch, MalformedBatchesGetCleanErrors) {
  Owned o;
  std::vector<uint8_t> batch;
  ASSERT_TRUE(EncodeBatch(SampleHeader(Compression::kNone), SampleRecords(o, 4, true), &batch).ok());
  DecodedBatch d;
  // every truncation
  for (size_t n = 0; n < batch.size(); ++n) {
    EXPECT_FALSE(DecodeBatch(ByteView(batch.data(), n), kDefaultMaxDecompressed, &d).ok()) << n;
  }
  // a record count far beyond the bytes (CRC fixed up so the count is what fails)
  auto lying = batch;
  lying[57] = 0x7f;
  uint32_t crc = Crc32c(lying.data() + 21, lying.size() - 21);
  for (int i = 0; i < 4; ++i) lying[17 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  absl::Status s = DecodeBatch(ByteView(lying), kDefaultMaxDecompressed, &d);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot fit"), std::string::npos) << s;
  // wrong magic
  auto magic = batch;
  magic[16] = 3;
  EXPECT_FALSE(ParseBatchHeader(ByteView(magic)).ok());
}

TEST(Compression, DecompressionIsBounded) {
  std::vector<uint8_t> zeros(1 << 20, 0);
  for (Compression c : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    std::vector<uint8_t> packed, out;
    ASSERT_TRUE(Compress(c, ByteView(zeros), &packed).ok());
    absl::Status s = Decompress(c, ByteView(packed), 4096, &out);
    EXPECT_FALSE(s.ok()) << CompressionName(c);
    EXPECT_TRUE(out.empty());
    out.clear();
    EXPECT_FALSE(Decompress(c, ByteView(packed), zeros.size() - 1, &out).ok())
        << CompressionName(c);  // exact
    out.clear();
    ASSERT_TRUE(Decompress(c, ByteView(packed), zeros.size(), &out).ok()) << CompressionName(c);
    EXPECT_EQ(out, zeros);
  }
}

// Kafka's compression.<codec>.level: the level reaches the codec (a higher level packs
// tighter on text), lz4's default 9 is its fast mode, and every level decompresses.
TEST(Compression, LevelsReachTheCodecs) {
  std::string text;
  std::mt19937 rng(7);
  const char* words[] = {"produce", "fetch", "offset", "partition", "leader", "replica", "segment", "batch"};
  while (text.size() < (256 << 10)) text += std::string(words[rng() % 8]) + (rng() % 3 ? " " : "\n");
  const ByteView in{std::string_view(text)};
  auto packed = [&](Compression c, int level) {
    std::vector<uint8_t> out, back;
    EXPECT_TRUE(Compress(c, in, &out, level).ok()) << CompressionName(c) << " " << level;
    EXPECT_TRUE(Decompress(c, ByteView(out), text.size(), &back).ok());
    EXPECT_EQ(std::string(back.begin(), back.end()), text);
    return out;
  };
  EXPECT_GT(packed(Compression::kGzip, 1).size(), packed(Compression::kGzip, 9).size());
  EXPECT_EQ(packed(Compression::kGzip, -1), packed(Compression::kGzip, kDefaultLevel));
  EXPECT_GT(packed(Compression::kZstd, 1).size(), packed(Compression::kZstd, 19).size());
  EXPECT_EQ(packed(Compression::kZstd, 3), packed(Compression::kZstd, kDefaultLevel));
  EXPECT_EQ(packed(Compression::kLz4, 9), packed(Compression::kLz4, kDefaultLevel));
  EXPECT_GT(packed(Compression::kLz4, 9).size(), packed(Compression::kLz4, 12).size());
}

TEST(Compression, GarbageIsRejected) {
  std::vector<uint8_t> garbage(1000);
  std::mt19937 rng(1);
  for (auto& b : garbage) b = static_cast<uint8_t>(rng());
  for (Compression c : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    std::vector<uint8_t> out;
    EXPECT_FALSE(Decompress(c, ByteView(garbage), 1 << 20, &out).ok()) << CompressionName(c);
  }
}

TEST(Compression, SnappyReadsTheXerialFramingOfJavaClients) {
  std::string text(10000, 'q');
  for (size_t i = 0; i < text.size(); i += 7) text[i] = 'z';
  std::vector<uint8_t> framed = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  for (size_t off = 0; off < text.size(); off += 4000) {  // several blocks, as snappy-java writes
    std::vector<uint8_t> block;
    ASSERT_TRUE(
        Compress(Compression::kSnappy, ByteView(std::string_view(text).substr(off, 4000)), &block).ok());
    for (int i = 0; i < 4; ++i) framed.push_back(static_cast<uint8_t>(block.size() >> (24 - 8 * i)));
    framed.insert(framed.end(), block.begin(), block.end());
  }
  std::vector<uint8_t> out;
  ASSERT_TRUE(Decompress(Compression::kSnappy, ByteView(framed), 1 << 20, &out).ok());
  EXPECT_EQ(std::string(out.begin(), out.end()), text);
}

}  // namespace
}  // namespace fjord::protocol
