// Test support: checks one request frame captured from a real client.
//  - the header and body decode, and re-encode byte-identically;
//  - for Produce, every record batch has a valid CRC, decompresses, decodes, and its
//    records re-encode to exactly the (decompressed) bytes the client sent, and the
//    batch rebuilt from its header and records section equals the client's batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "protocol/compression.h"

namespace fjord::protocol::testing {

struct GoldenSummary {
  int16_t api_key = -1;
  int16_t api_version = -1;
  std::string client_id;
  int batches = 0;
  int records = 0;
  std::vector<Compression> codecs;  // one per batch
  std::vector<std::string> values;  // record values, in order
  std::vector<int> header_counts;   // headers per record
};

absl::Status CheckGoldenFrame(const std::vector<uint8_t>& frame, GoldenSummary* summary);

}  // namespace fjord::protocol::testing
