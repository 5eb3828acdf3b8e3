// libFuzzer target for the request decoder (api key + version + body).
//
// Input: byte 0 selects the form.
//   0: a whole request frame without its size prefix (header + body), as a client
//      sends it; the golden captures seed this form.
//   1/2: bytes 1-2 api key, 3-4 version, then a request (1) or response (2) body.
// Anything that decodes must re-encode to bytes that decode to the same message;
// record batches inside Produce requests are decoded too (CRC, decompression capped at
// 1 MiB, records). A crash, a sanitizer report or a round-trip disagreement is a bug.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fjord_protocol/messages.h"
#include "protocol/api_table.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/legacy_message_set.h"
#include "protocol/record_batch.h"

using namespace fjord::protocol;

namespace {

void CheckRoundTrip(bool request, int16_t key, int16_t version, ByteView body) {
  std::vector<uint8_t> reencoded;
  absl::Status s = RoundTripBody(request, key, version, body, &reencoded);
  if (s.code() == absl::StatusCode::kInternal) {
    std::fprintf(stderr, "round trip disagreement: %s\n", std::string(s.message()).c_str());
    std::abort();
  }
}

void DecodeProduceRecords(ByteView body, int16_t version) {
  ProduceRequest req;
  if (!Decode(body, version, &req).ok()) return;
  for (const auto& t : req.topic_data) {
    for (const auto& p : t.partition_data) {
      if (!p.records) continue;
      if (DetectMagic(*p.records) < 2) {
        DecodedMessageSet legacy;
        (void)DecodeLegacyMessageSet(*p.records, 1 << 20, &legacy);
        continue;
      }
      ByteView tail;
      auto batches = SplitBatches(*p.records, &tail);
      if (!batches.ok()) continue;
      for (ByteView b : *batches) {
        DecodedBatch d;
        (void)DecodeBatch(b, 1 << 20, &d);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t form = data[0] % 3;
  if (form == 0) {
    auto parsed = ParseRequest(ByteView(data + 1, size - 1));
    if (!parsed.ok() || parsed->api == nullptr) return 0;
    const int16_t v = parsed->header.request_api_version;
    if (!parsed->api->Supports(v)) return 0;
    CheckRoundTrip(true, parsed->api->api_key, v, parsed->body);
    if (parsed->api->api_key == 0) DecodeProduceRecords(parsed->body, v);
    return 0;
  }
  if (size < 5) return 0;
  const auto apis = AllApis();
  const ApiInfo& api = apis[static_cast<uint16_t>(data[1] << 8 | data[2]) % apis.size()];
  const int16_t v = static_cast<int16_t>(api.min_version + static_cast<uint16_t>(data[3] << 8 | data[4]) %
                                                               (api.max_version - api.min_version + 1));
  ByteView body(data + 5, size - 5);
  CheckRoundTrip(form == 1, api.api_key, v, body);
  if (form == 1 && api.api_key == 0) DecodeProduceRecords(body, v);
  return 0;
}
