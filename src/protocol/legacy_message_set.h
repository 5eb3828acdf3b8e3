// Legacy message sets (magic 0 and 1), which clients older than Kafka 0.11 send in
// Produce v0-v2. Decoded here so the broker can accept them; Fjord stores only v2.
//
// One message (big-endian):
//   int64 offset, int32 message_size (bytes after this field), uint32 crc (CRC-32/IEEE
//   of magic..end), int8 magic, int8 attributes (bits 0-2 compression, bit 3
//   LogAppendTime in v1), int64 timestamp (v1 only), bytes key (int32 length,
//   -1 null), bytes value.
// A compressed message's value is a whole inner message set. In v1 the inner offsets
// are relative: inner absolute = wrapper offset - last inner offset + inner offset.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"
#include "protocol/wire.h"

namespace fjord::protocol {

struct LegacyMessage {
  int64_t offset = 0;
  int8_t magic = 0;
  int8_t attributes = 0;
  int64_t timestamp = -1;  // -1 in magic 0
  std::optional<ByteView> key;
  std::optional<ByteView> value;
};

struct DecodedMessageSet {
  std::vector<LegacyMessage> messages;        // compressed wrappers replaced by their contents
  std::vector<std::vector<uint8_t>> buffers;  // decompressed data the views point into
};

// Decodes a whole legacy message set, checking every CRC.
absl::Status DecodeLegacyMessageSet(ByteView set, size_t max_decompressed, DecodedMessageSet* out);

// Appends one uncompressed message (magic 0 or 1; the timestamp is ignored in magic 0),
// with its CRC.
void AppendLegacyMessage(int8_t magic, int64_t offset, int64_t timestamp, bool log_append_time,
                         const std::optional<ByteView>& key, const std::optional<ByteView>& value,
                         std::vector<uint8_t>* out);

// Fetch v0-3 (clients older than Kafka 0.11): rewrites whole record batches v2 as a
// message set of `magic` (0 for Fetch v0-1, 1 for v2-3), one uncompressed message per
// record, offsets absolute. Record headers cannot be expressed and are dropped, as
// Kafka does; control batches are left out.
absl::Status DownConvert(ByteView batches, int8_t magic, size_t max_decompressed, std::vector<uint8_t>* out);

// The magic byte of the first entry of a records blob (offset 16), or -1 if too short.
int DetectMagic(ByteView records);

}  // namespace fjord::protocol
