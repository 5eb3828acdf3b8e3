// Protocol hot paths measured beside memcpy of the same bytes, in the same run:
// decoding and encoding a Produce request carrying 1 MiB of records, and CRC32C.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>

#include "fjord_protocol/messages.h"
#include "protocol/codec.h"
#include "protocol/crc32c.h"
#include "protocol/record_batch.h"

using namespace fjord::protocol;

namespace {

constexpr size_t kMiB = 1 << 20;

// One uncompressed batch of 1 KiB records totalling about 1 MiB.
const std::vector<uint8_t>& Batch() {
  static const std::vector<uint8_t> batch = [] {
    std::mt19937 rng(1);
    std::vector<std::vector<uint8_t>> values(1000, std::vector<uint8_t>(1024));
    std::vector<Record> records(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      for (auto& b : values[i]) b = static_cast<uint8_t>(rng());
      records[i].offset_delta = static_cast<int32_t>(i);
      records[i].timestamp_delta = static_cast<int64_t>(i);
      records[i].value = ByteView(values[i]);
    }
    BatchHeader h;
    h.last_offset_delta = static_cast<int32_t>(records.size() - 1);
    std::vector<uint8_t> out;
    (void)EncodeBatch(h, records, &out);
    return out;
  }();
  return batch;
}

ProduceRequest MakeRequest() {
  ProduceRequest req;
  req.acks = -1;
  req.timeout_ms = 30000;
  auto& t = req.topic_data.emplace_back();
  t.name = "bench";
  auto& p = t.partition_data.emplace_back();
  p.index = 0;
  p.records = ByteView(Batch());
  return req;
}

const std::vector<uint8_t>& EncodedRequest() {
  static const std::vector<uint8_t> bytes = [] {
    std::vector<uint8_t> out;
    (void)Encode(MakeRequest(), 9, &out);
    return out;
  }();
  return bytes;
}

void BM_Memcpy1MiB(benchmark::State& state) {
  const auto& src = Batch();
  std::vector<uint8_t> dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * src.size()));
}
BENCHMARK(BM_Memcpy1MiB);

void BM_Crc32c1MiB(benchmark::State& state) {
  const auto& b = Batch();
  for (auto _ : state) benchmark::DoNotOptimize(Crc32c(b.data(), b.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.size()));
  state.SetLabel(Crc32cIsAccelerated() ? "sse4.2, 3 streams" : "portable");
}
BENCHMARK(BM_Crc32c1MiB);

void BM_Crc32cPortable1MiB(benchmark::State& state) {
  const auto& b = Batch();
  for (auto _ : state) benchmark::DoNotOptimize(Crc32cPortable(0, b.data(), b.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.size()));
}
BENCHMARK(BM_Crc32cPortable1MiB);

// Decoding the request: records stay a view into the frame (zero copy).
void BM_DecodeProduceRequest1MiB(benchmark::State& state) {
  const auto& bytes = EncodedRequest();
  for (auto _ : state) {
    ProduceRequest req;
    benchmark::DoNotOptimize(Decode(ByteView(bytes), 9, &req).ok());
    benchmark::DoNotOptimize(req);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_DecodeProduceRequest1MiB);

// What a broker does before appending: decode the request, then check each batch's
// CRC and walk its records against the header (nothing is copied or kept: the log
// stores the batch bytes as sent).
void BM_DecodeProduceRequestAndCheckBatch1MiB(benchmark::State& state) {
  const auto& bytes = EncodedRequest();
  for (auto _ : state) {
    ProduceRequest req;
    bool ok = Decode(ByteView(bytes), 9, &req).ok();
    const ByteView batch = *req.topic_data[0].partition_data[0].records;
    ok &= BatchCrcValid(batch) && CheckRecords(batch, kDefaultMaxDecompressed).ok();
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_DecodeProduceRequestAndCheckBatch1MiB);

// Full decode down to every record (what a consumer-side tool or the cleaner does).
void BM_DecodeBatchRecords1MiB(benchmark::State& state) {
  const auto& b = Batch();
  DecodedBatch d;
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecodeBatch(ByteView(b), kDefaultMaxDecompressed, &d).ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.size()));
}
BENCHMARK(BM_DecodeBatchRecords1MiB);

// Encoding copies the records into the output frame once.
void BM_EncodeProduceRequest1MiB(benchmark::State& state) {
  const ProduceRequest req = MakeRequest();
  std::vector<uint8_t> out;
  out.reserve(2 * kMiB);
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(Encode(req, 9, &out).ok());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * EncodedRequest().size()));
}
BENCHMARK(BM_EncodeProduceRequest1MiB);

}  // namespace

BENCHMARK_MAIN();
