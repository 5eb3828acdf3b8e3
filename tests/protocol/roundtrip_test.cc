// Round trip (fill -> encode -> decode -> equal -> re-encode -> same bytes) for every
// request and response of every API at every version the spec defines, with values,
// with nulls wherever the version allows them, and with unknown tagged fields.
#include <gtest/gtest.h>

#include <bit>

#include "fjord_protocol/messages.h"
#include "protocol/api_table.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/testing/sample_fill.h"

namespace fjord::protocol {
namespace {

using testing::FillAndRoundTrip;
using testing::SampleGen;

TEST(RoundTrip, TheSpecHas88Apis) {
  EXPECT_EQ(AllApis().size(), 88u);
  for (size_t i = 0; i < AllApis().size(); ++i) EXPECT_EQ(AllApis()[i].api_key, static_cast<int16_t>(i));
  EXPECT_EQ(FindApi(88), nullptr);
  EXPECT_EQ(FindApi(-1), nullptr);
  EXPECT_STREQ(FindApi(0)->name, "Produce");
  EXPECT_EQ(FindApi(1)->max_version, 17);
}

// Encodes the all-defaults message of an API (through the erased round trip of an
// encoded default): used to see that filled messages differ from it.
absl::Status RoundTripDefault(bool request, int16_t api_key, int16_t v, std::vector<uint8_t>* out) {
  SampleGen g(1, false, false);
  g.set_fill(false);
  return FillAndRoundTrip(request, api_key, v, g, out);
}

class EveryApi : public ::testing::TestWithParam<int16_t> {};

TEST_P(EveryApi, EveryVersionRoundTrips) {
  const ApiInfo* api = FindApi(GetParam());
  ASSERT_NE(api, nullptr);
  int cases = 0;
  for (int16_t v = api->min_version; v <= api->max_version; ++v) {
    for (bool request : {true, false}) {
      for (int mode = 0; mode < 3; ++mode) {
        SampleGen g(/*seed=*/v * 31 + mode, /*null_mode=*/mode == 1, /*unknown_tags=*/mode == 2);
        std::vector<uint8_t> encoded;
        absl::Status s = FillAndRoundTrip(request, api->api_key, v, g, &encoded);
        ASSERT_TRUE(s.ok()) << api->name << (request ? "Request" : "Response") << " v" << v << " mode "
                            << mode << ": " << s;
        // The type-erased decoder used by the broker's tests and the fuzzer agrees.
        std::vector<uint8_t> again;
        s = RoundTripBody(request, api->api_key, v, ByteView(encoded), &again);
        ASSERT_TRUE(s.ok()) << s;
        ASSERT_EQ(again, encoded);
        // A filled message encodes differently from an all-defaults one (proves the filler
        // reached the fields), unless the version has no fields at all.
        if (mode == 0) {
          std::vector<uint8_t> defaults;
          ASSERT_TRUE(RoundTripDefault(request, api->api_key, v, &defaults).ok());
          if (defaults.size() > (api->Flexible(v) ? 1u : 0u)) {
            EXPECT_NE(encoded, defaults) << api->name << " v" << v;
          }
        }
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, (api->max_version - api->min_version + 1) * 6);
}

INSTANTIATE_TEST_SUITE_P(AllApis, EveryApi, ::testing::Range<int16_t>(0, 88),
                         [](const ::testing::TestParamInfo<int16_t>& info) {
                           return std::string(FindApi(info.param)->name);
                         });

TEST(RoundTrip, HeadersFollowTheirVersionRules) {
  const ApiInfo& produce = *FindApi(0);
  EXPECT_EQ(RequestHeaderVersion(produce, 8), 1);
  EXPECT_EQ(RequestHeaderVersion(produce, 9), 2);
  EXPECT_EQ(ResponseHeaderVersion(produce, 8), 0);
  EXPECT_EQ(ResponseHeaderVersion(produce, 9), 1);
  const ApiInfo& api_versions = *FindApi(18);
  EXPECT_EQ(RequestHeaderVersion(api_versions, 3), 2);
  EXPECT_EQ(ResponseHeaderVersion(api_versions, 3), 0);  // always v0
  EXPECT_EQ(RequestHeaderVersion(*FindApi(7), 0), 0);    // ControlledShutdown v0
}

TEST(RoundTrip, RequestFramesParseBack) {
  MetadataRequest req;
  req.topics.emplace().emplace_back().name = "orders";
  std::vector<uint8_t> frame;
  ASSERT_TRUE(AppendRequestFrame(req, 12, 42, std::string("client-1"), &frame).ok());
  auto parsed = ParseRequest(ByteView(frame.data() + 4, frame.size() - 4));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->header.correlation_id, 42);
  EXPECT_EQ(parsed->header.client_id, "client-1");
  ASSERT_NE(parsed->api, nullptr);
  MetadataRequest back;
  ASSERT_TRUE(Decode(parsed->body, 12, &back).ok());
  EXPECT_EQ(back, req);
}

TEST(RoundTrip, DefaultsComeFromTheSpec) {
  FetchRequest f;
  EXPECT_EQ(f.replica_id, -1);
  EXPECT_EQ(f.max_bytes, 0x7fffffff);
  EXPECT_EQ(f.isolation_level, 0);
  EXPECT_FALSE(f.cluster_id.has_value());  // "default": "null"
  ProduceRequest p;
  EXPECT_FALSE(p.transactional_id.has_value());
  MetadataRequest m;
  EXPECT_TRUE(m.allow_auto_topic_creation);
}

// A float64 carries whatever bits the wire held, NaNs with any payload too, and a
// message must still equal itself after a round trip (the request-decoder fuzzer found
// AlterClientQuotas failing that: under IEEE's ==, NaN != NaN).
TEST(RoundTrip, Float64KeepsItsBitsAndEqualsItself) {
  for (uint64_t bits :
       {UINT64_C(0xffffffffffffffff), UINT64_C(0x7ff8000000000001), UINT64_C(0x8000000000000000)}) {
    AlterClientQuotasRequest req;
    auto& entry = req.entries.emplace_back();
    auto& op = entry.ops.emplace_back();
    op.key = "producer_byte_rate";
    op.value = std::bit_cast<double>(bits);
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(Encode(req, 1, &bytes).ok());
    std::vector<uint8_t> reencoded;
    EXPECT_TRUE(RoundTripBody(true, AlterClientQuotasRequest::kApiKey, 1, ByteView(bytes), &reencoded).ok());
    EXPECT_EQ(reencoded, bytes);
    AlterClientQuotasRequest back;
    ASSERT_TRUE(Decode(ByteView(bytes), 1, &back).ok());
    EXPECT_EQ(std::bit_cast<uint64_t>(static_cast<double>(back.entries[0].ops[0].value)), bits);
    EXPECT_EQ(back, req);
  }
  EXPECT_NE(BitwiseDouble(0.0), BitwiseDouble(-0.0));  // distinct bits on the wire
}

TEST(RoundTrip, SettingAFieldTheVersionLacksIsAnEncodeError) {
  ProduceRequest p;
  p.transactional_id = "tx";  // added in v3, not ignorable
  std::vector<uint8_t> out;
  EXPECT_FALSE(Encode(p, 2, &out).ok());
  EXPECT_TRUE(Encode(p, 3, &out).ok());
}

// Records without data become holes: the encoder leaves them out and reports where they
// go, so the broker can send those bytes from a file (sendfile) without first reserving
// (and zeroing) room for them. Sending the output with the records at the holes gives
// exactly the bytes an ordinary encoding of the same records gives.
TEST(Holes, RecordsWithoutDataAreLeftForTheCaller) {
  const std::vector<uint8_t> a(3000, 'a'), b(70000, 'b');
  fetch_response::FetchResponse full, holed;
  for (auto* r : {&full, &holed}) {
    r->responses.resize(1);
    r->responses[0].topic = "t";
    r->responses[0].partitions.resize(3);
    for (int32_t p = 0; p < 3; ++p) r->responses[0].partitions[p].partition_index = p;
  }
  full.responses[0].partitions[0].records = ByteView(a);
  full.responses[0].partitions[2].records = ByteView(b);
  holed.responses[0].partitions[0].records = ByteView(nullptr, a.size());
  holed.responses[0].partitions[2].records = ByteView(nullptr, b.size());
  for (int16_t version : {int16_t{4}, int16_t{12}, int16_t{16}}) {
    std::vector<uint8_t> expected, got;
    ASSERT_TRUE(AppendResponseFrame(full, version, 5, &expected).ok());
    Holes holes;
    ASSERT_TRUE(AppendResponseFrame(holed, version, 5, &got, &holes).ok());
    ASSERT_EQ(holes.at.size(), 2u);
    EXPECT_EQ(holes.bytes, a.size() + b.size());
    ASSERT_EQ(got.size() + holes.bytes, expected.size());
    ASSERT_LE(holes.at[0], holes.at[1]);
    ASSERT_LE(holes.at[1], got.size());
    std::vector<uint8_t> sent(got.begin(), got.begin() + static_cast<long>(holes.at[0]));
    sent.insert(sent.end(), a.begin(), a.end());
    sent.insert(sent.end(), got.begin() + static_cast<long>(holes.at[0]),
                got.begin() + static_cast<long>(holes.at[1]));
    sent.insert(sent.end(), b.begin(), b.end());
    sent.insert(sent.end(), got.begin() + static_cast<long>(holes.at[1]), got.end());
    EXPECT_EQ(sent, expected) << "version " << version;
    // Without a sink, data-less bytes are an encoding error, never silent zeros.
    std::vector<uint8_t> refused;
    EXPECT_FALSE(AppendResponseFrame(holed, version, 5, &refused).ok());
  }
}

}  // namespace
}  // namespace fjord::protocol
