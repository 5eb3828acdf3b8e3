// Malformed input: every decoder must answer with a clean error, never crash, never
// read out of bounds (the _asan build of this suite checks that) and never allocate
// more than a small multiple of the input it was given.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "fjord_protocol/messages.h"
#include "protocol/api_table.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/testing/sample_fill.h"

// Records the largest single allocation made while `g_tracking` is set.
static std::atomic<bool> g_tracking{false};
static std::atomic<size_t> g_largest{0};

// Not inlined, none of the three: GCC would pair an inlined malloc with an operator
// delete, or an operator new with an inlined free, and warn (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(size_t n) {
  if (g_tracking.load(std::memory_order_relaxed) && n > g_largest.load(std::memory_order_relaxed)) {
    g_largest.store(n, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace fjord::protocol {
namespace {

using testing::FillAndRoundTrip;
using testing::SampleGen;

// Decodes through the type-erased path; returns the status and the largest allocation.
absl::Status DecodeTracked(bool request, int16_t key, int16_t v, ByteView body, size_t* largest) {
  std::vector<uint8_t> reencoded;
  reencoded.reserve(body.size() * 2 + 64);
  g_largest = 0;
  g_tracking = true;
  absl::Status s = RoundTripBody(request, key, v, body, &reencoded);
  g_tracking = false;
  *largest = g_largest;
  return s;
}

// An allocation may be as large as the input times the ratio of an in-memory struct to
// its smallest encoding, plus a constant: bounded by the input, never by a length field.
size_t AllocationLimit(size_t input) {
  return input * 128 + 64 * 1024;
}

class EveryApiMalformed : public ::testing::TestWithParam<int16_t> {};

TEST_P(EveryApiMalformed, PrefixesFailAndMutationsAreSafe) {
  const ApiInfo* api = FindApi(GetParam());
  std::mt19937 rng(GetParam());
  for (int16_t v = api->min_version; v <= api->max_version; ++v) {
    for (bool request : {true, false}) {
      SampleGen g(v, false, /*unknown_tags=*/api->Flexible(v));
      std::vector<uint8_t> good;
      ASSERT_TRUE(FillAndRoundTrip(request, api->api_key, v, g, &good).ok());
      // Every strict prefix of a valid encoding must fail: decoding follows the same
      // path as for the whole message and runs out of bytes on the way.
      for (size_t n = 0; n < good.size(); ++n) {
        size_t largest = 0;
        absl::Status s = DecodeTracked(request, api->api_key, v, ByteView(good.data(), n), &largest);
        ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
            << api->name << " v" << v << " prefix " << n << "/" << good.size() << ": " << s;
        ASSERT_LE(largest, AllocationLimit(n));
      }
      // Random corruption: a clean error or a message that round-trips; never an
      // internal inconsistency, a crash, or an allocation beyond the bound.
      for (int i = 0; i < 40 && !good.empty(); ++i) {
        std::vector<uint8_t> bad = good;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) {
          const size_t at = rng() % bad.size();
          switch (rng() % 4) {
            case 0:
              bad[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
              break;
            case 1:
              bad[at] = 0xff;
              break;
            case 2:
              bad[at] = 0x7f;
              break;
            default:
              bad[at] = 0x00;
              break;
          }
        }
        size_t largest = 0;
        absl::Status s = DecodeTracked(request, api->api_key, v, ByteView(bad), &largest);
        ASSERT_TRUE(s.ok() || s.code() == absl::StatusCode::kInvalidArgument)
            << api->name << " v" << v << ": " << s;
        ASSERT_LE(largest, AllocationLimit(bad.size())) << api->name << " v" << v;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllApis, EveryApiMalformed, ::testing::Range<int16_t>(0, 88),
                         [](const auto& info) { return std::string(FindApi(info.param)->name); });

absl::Status DecodeBytes(bool request, int16_t key, int16_t v, const std::vector<uint8_t>& b) {
  size_t largest = 0;
  absl::Status s = DecodeTracked(request, key, v, ByteView(b), &largest);
  EXPECT_LE(largest, AllocationLimit(b.size()));
  return s;
}

// The limits above mean something only if the hook sees the decoders' allocations: an
// ApiVersions v3 request whose client name is 30,000 bytes allocates that string.
TEST(Malformed, TheAllocationHookSeesADecodersAllocation) {
  const size_t name = 30'000;
  std::vector<uint8_t> body = {0xb1, 0xea, 0x01};  // compact string length: varint of name + 1
  body.insert(body.end(), name, 'x');
  body.insert(body.end(), {0x02, '1', 0x00});  // client version "1", no tagged fields
  size_t largest = 0;
  absl::Status s = DecodeTracked(true, 18, 3, ByteView(body), &largest);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GE(largest, name);
  EXPECT_LE(largest, AllocationLimit(body.size()));
}

TEST(Malformed, HugeAndNegativeLengths) {
  // Metadata v1: topics array (int32 count); 0x7fffffff topics in a few bytes.
  EXPECT_FALSE(DecodeBytes(true, 3, 1, {0x7f, 0xff, 0xff, 0xff, 0, 0}).ok());
  // Metadata v4: nullable topics; -2 is not null, it is garbage.
  EXPECT_FALSE(DecodeBytes(true, 3, 4, {0xff, 0xff, 0xff, 0xfe, 1}).ok());
  // Metadata v9 (compact): a topic name of 2^31 bytes.
  EXPECT_FALSE(DecodeBytes(true, 3, 9, {0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x08})
                   .ok());
  // Produce v3: a records field claiming 2 GiB.
  std::vector<uint8_t> produce = {0xff, 0xff, 0, 1, 0, 0, 0x75, 0x30, 0, 0,    0,    1,    0,   1,
                                  't',  0,    0, 0, 1, 0, 0,    0,    0, 0x7f, 0xff, 0xff, 0xff};
  absl::Status s = DecodeBytes(true, 0, 3, produce);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Records"), std::string::npos) << s;
}

TEST(Malformed, BadVarints) {
  // ApiVersions v3 request: compact string whose length varint never ends.
  EXPECT_FALSE(DecodeBytes(true, 18, 3, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).ok());
  EXPECT_FALSE(DecodeBytes(true, 18, 3, {0x80}).ok());
}

// ApiVersions v3 request = client name, client version, tagged fields.
std::vector<uint8_t> ApiVersionsV3With(std::vector<uint8_t> tags) {
  tags.insert(tags.begin(), {0x02, 'a', 0x02, '1'});
  return tags;
}

TEST(Malformed, TaggedFields) {
  // well-formed: two unknown tags in ascending order, preserved on re-encode
  std::vector<uint8_t> ok = ApiVersionsV3With({0x02, 0x05, 0x01, 0xaa, 0x09, 0x00});
  std::vector<uint8_t> again;
  ASSERT_TRUE(RoundTripBody(true, 18, 3, ByteView(ok), &again).ok());
  EXPECT_EQ(again, ok);
  // duplicate tag
  EXPECT_FALSE(DecodeBytes(true, 18, 3, ApiVersionsV3With({0x02, 0x05, 0x00, 0x05, 0x00})).ok());
  // descending tags
  EXPECT_FALSE(DecodeBytes(true, 18, 3, ApiVersionsV3With({0x02, 0x09, 0x00, 0x05, 0x00})).ok());
  // a tag whose size runs past the end
  EXPECT_FALSE(DecodeBytes(true, 18, 3, ApiVersionsV3With({0x01, 0x05, 0x7f, 0x00})).ok());
  // a huge tag count
  EXPECT_FALSE(DecodeBytes(true, 18, 3, ApiVersionsV3With({0xff, 0xff, 0xff, 0xff, 0x07})).ok());
  // a known tag whose contents disagree with its size (FetchResponse v12 tag 0 of a
  // partition is DivergingEpoch: 12 bytes + tags; give it 2)
}

TEST(Malformed, BytesAfterTheMessageAreLeftAsKafkaLeavesThem) {
  std::vector<uint8_t> b = ApiVersionsV3With({0x00, 0x00});
  std::vector<uint8_t> again;
  ASSERT_TRUE(RoundTripBody(true, 18, 3, ByteView(b), &again).ok());
  EXPECT_EQ(again, std::vector<uint8_t>(b.begin(), b.end() - 1));  // no tags, then 0x00
  // librdkafka 2.12's Metadata v12 request for all topics: it reserves 4 bytes for the
  // topic count and writes a 1-byte null into them, so the request reads as null
  // topics, no auto creation, no authorized operations, no tags, and 3 bytes more (the
  // flags and tags it meant to send). Kafka answers it with every topic.
  const std::vector<uint8_t> all_topics = {0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
  MetadataRequest m;
  size_t trailing = 0;
  ASSERT_TRUE(Decode(ByteView(all_topics), 12, &m, &trailing).ok());
  EXPECT_FALSE(m.topics.has_value());
  EXPECT_FALSE(m.allow_auto_topic_creation);
  EXPECT_EQ(trailing, 3u);
}

TEST(Malformed, NullWhereTheVersionForbidsIt) {
  // Produce v2 has no nullable string; a topic name of length -1 is refused.
  std::vector<uint8_t> b = {0, 1, 0, 0, 0x75, 0x30, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0};
  absl::Status s = DecodeBytes(true, 0, 2, b);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Name"), std::string::npos) << s;
}

TEST(Malformed, UnsupportedVersionsAndUnknownKeys) {
  std::vector<uint8_t> b = {0, 0};
  EXPECT_FALSE(DecodeBytes(true, 18, 5, b).ok());
  EXPECT_FALSE(DecodeBytes(true, 200, 0, b).ok());
  EXPECT_FALSE(DecodeBytes(true, -1, 0, b).ok());
}

TEST(Malformed, RequestHeaders) {
  // too short for a header
  EXPECT_FALSE(ParseRequest(ByteView(std::vector<uint8_t>{0, 18, 0})).ok());
  // unknown api key: the header is still read so the broker can answer or close
  std::vector<uint8_t> unknown = {0x0f, 0xff, 0, 0, 0, 0, 0, 9, 0, 0};
  auto p = ParseRequest(ByteView(unknown));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->api, nullptr);
  EXPECT_EQ(p->header.correlation_id, 9);
  // a client id longer than the frame
  std::vector<uint8_t> long_id = {0, 18, 0, 2, 0, 0, 0, 1, 0x7f, 0xff, 'x'};
  EXPECT_FALSE(ParseRequest(ByteView(long_id)).ok());
  // random garbage never crashes
  std::mt19937 rng(5);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> g(rng() % 64);
    for (auto& x : g) x = static_cast<uint8_t>(rng());
    if (!g.empty() && rng() % 2) g[0] = 0;
    auto r = ParseRequest(ByteView(g));
    if (r.ok() && r->api != nullptr && r->api->Supports(r->header.request_api_version)) {
      std::vector<uint8_t> out;
      (void)RoundTripBody(true, r->header.request_api_key, r->header.request_api_version, r->body, &out);
    }
  }
}

}  // namespace
}  // namespace fjord::protocol
