#include "protocol/golden_check.h"

#include "absl/strings/str_cat.h"
#include "fjord_protocol/messages.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/record_batch.h"

namespace fjord::protocol::testing {

absl::Status CheckGoldenFrame(const std::vector<uint8_t>& frame, GoldenSummary* summary) {
  auto parsed = ParseRequest(ByteView(frame));
  if (!parsed.ok()) return parsed.status();
  if (parsed->api == nullptr) return absl::InvalidArgumentError("unknown api key");
  const int16_t key = parsed->header.request_api_key;
  const int16_t version = parsed->header.request_api_version;
  summary->api_key = key;
  summary->api_version = version;
  summary->client_id = parsed->header.client_id.value_or("");
  // Header: re-encode at its version and compare with the bytes before the body.
  std::vector<uint8_t> header_bytes;
  if (absl::Status s = Encode(parsed->header, RequestHeaderVersion(*parsed->api, version), &header_bytes);
      !s.ok())
    return s;
  const size_t header_len = static_cast<size_t>(parsed->body.data() - frame.data());
  if (header_bytes != std::vector<uint8_t>(frame.begin(), frame.begin() + static_cast<long>(header_len))) {
    return absl::InternalError("request header re-encodes differently");
  }
  std::vector<uint8_t> body;
  if (absl::Status s = RoundTripBody(true, key, version, parsed->body, &body); !s.ok()) return s;
  if (ByteView(body) != parsed->body) {
    return absl::InternalError(
        absl::StrCat(parsed->api->name, " v", version, " body re-encodes differently"));
  }
  if (key != 0) return absl::OkStatus();

  ProduceRequest produce;
  if (absl::Status s = Decode(parsed->body, version, &produce); !s.ok()) return s;
  for (const auto& topic : produce.topic_data) {
    for (const auto& part : topic.partition_data) {
      if (!part.records) continue;
      ByteView tail;
      auto batches = SplitBatches(*part.records, &tail);
      if (!batches.ok()) return batches.status();
      if (!tail.empty()) return absl::InvalidArgumentError("produce request ends in a partial batch");
      for (ByteView batch : *batches) {
        if (!BatchCrcValid(batch)) return absl::DataLossError("batch CRC invalid");
        DecodedBatch d;
        if (absl::Status s = DecodeBatch(batch, kDefaultMaxDecompressed, &d); !s.ok()) return s;
        std::vector<uint8_t> records;
        EncodeRecords(d.records, &records);
        if (ByteView(records) != d.records_section) {
          return absl::InternalError("records re-encode differently from what the client sent");
        }
        std::vector<uint8_t> rebuilt;
        EncodeBatchWithRecordsSection(
            d.header, ByteView(batch.data() + kBatchHeaderSize, batch.size() - kBatchHeaderSize), &rebuilt);
        if (ByteView(rebuilt) != batch) return absl::InternalError("batch re-encodes differently");
        if (d.header.compression() == Compression::kNone) {
          std::vector<uint8_t> whole;
          if (absl::Status s = EncodeBatch(d.header, d.records, &whole); !s.ok()) return s;
          if (ByteView(whole) != batch)
            return absl::InternalError("uncompressed batch rebuilt from records differs");
        }
        ++summary->batches;
        summary->codecs.push_back(d.header.compression());
        for (const Record& r : d.records) {
          ++summary->records;
          summary->values.emplace_back(r.value ? std::string(r.value->as_string_view()) : std::string());
          summary->header_counts.push_back(static_cast<int>(r.headers.size()));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace fjord::protocol::testing
