// Kafka record batch v2 ("magic 2"), the unit clients produce, the log stores and
// fetches return, byte for byte.
//
// Layout (big-endian; offsets in bytes from the start of the batch):
//    0  int64  base_offset
//    8  int32  batch_length            bytes after this field (total size - 12)
//   12  int32  partition_leader_epoch
//   16  int8   magic                   2
//   17  uint32 crc                     CRC32C of bytes [21, end)
//   21  int16  attributes              bits 0-2 compression, 3 timestamp type
//                                      (1 = LogAppendTime), 4 transactional,
//                                      5 control, 6 has delete horizon
//   23  int32  last_offset_delta
//   27  int64  base_timestamp
//   35  int64  max_timestamp
//   43  int64  producer_id
//   51  int16  producer_epoch
//   53  int32  base_sequence
//   57  int32  record_count
//   61  records, compressed as a whole when compression != none
//
// A record (varints are zig-zag):
//   varint length (of what follows), int8 attributes, varlong timestamp_delta,
//   varint offset_delta, varint key_length (-1 = null), key, varint value_length,
//   value, varint header_count, then per header: varint key_length, key,
//   varint value_length (-1 = null), value.
//
// base_offset and partition_leader_epoch lie outside the CRC, so the log can assign
// offsets in place without recomputing it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/compression.h"
#include "protocol/wire.h"

namespace fjord::protocol {

inline constexpr size_t kBatchHeaderSize = 61;
inline constexpr size_t kBatchLengthOffset = 8;
inline constexpr size_t kBatchPartitionLeaderEpochOffset = 12;
inline constexpr size_t kBatchCrcOffset = 17;
inline constexpr size_t kBatchAttributesOffset = 21;
inline constexpr size_t kBatchMaxTimestampOffset = 35;
inline constexpr size_t kBatchOverheadBeforeLength = 12;  // base_offset + batch_length
inline constexpr int16_t kAttributeLogAppendTime = 0x8;   // the timestamp type bit
inline constexpr int64_t kNoProducerId = -1;
inline constexpr int16_t kNoProducerEpoch = -1;
inline constexpr int32_t kNoSequence = -1;
inline constexpr int64_t kNoTimestamp = -1;  // a record that carries no timestamp (RecordBatch.NO_TIMESTAMP)

enum class TimestampType : uint8_t { kCreateTime = 0, kLogAppendTime = 1 };

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = 2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = kNoProducerId;
  int16_t producer_epoch = kNoProducerEpoch;
  int32_t base_sequence = kNoSequence;
  int32_t record_count = 0;

  Compression compression() const { return static_cast<Compression>(attributes & 0x7); }
  TimestampType timestamp_type() const {
    return (attributes & kAttributeLogAppendTime) ? TimestampType::kLogAppendTime
                                                  : TimestampType::kCreateTime;
  }
  bool is_transactional() const { return (attributes & 0x10) != 0; }
  bool is_control() const { return (attributes & 0x20) != 0; }
  bool has_delete_horizon() const { return (attributes & 0x40) != 0; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  size_t total_size() const { return kBatchOverheadBeforeLength + static_cast<size_t>(batch_length); }

  friend bool operator==(const BatchHeader&, const BatchHeader&) = default;
};

struct RecordHeader {
  ByteView key;
  std::optional<ByteView> value;
  friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

struct Record {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<ByteView> key;
  std::optional<ByteView> value;
  std::vector<RecordHeader> headers;
  friend bool operator==(const Record&, const Record&) = default;
};

// Reads and checks the fixed header (magic, lengths). Does not check the CRC.
absl::StatusOr<BatchHeader> ParseBatchHeader(ByteView batch);

// True when the stored CRC matches the bytes.
bool BatchCrcValid(ByteView batch);

// A batch whose records have been decoded. Records point into `batch` when it is
// uncompressed, otherwise into `decompressed`.
struct DecodedBatch {
  BatchHeader header;
  std::vector<uint8_t> decompressed;
  ByteView records_section;  // the (decompressed) bytes after the header
  std::vector<Record> records;
};

// Decodes a whole batch: header, CRC, decompression (bounded by max_decompressed) and
// every record. The result's views point into `batch` or into result.decompressed.
absl::Status DecodeBatch(ByteView batch, size_t max_decompressed, DecodedBatch* out);

// Checks that the batch's records section, decompressed (bounded by max_decompressed)
// if it must be, holds exactly record_count well-formed records and nothing after
// them, as Kafka's broker reads every record of a produced batch; `each` sees every
// record as it is read (its views live until the call returns). Keeps nothing; does
// not check the CRC.
absl::Status CheckRecords(
    ByteView batch, size_t max_decompressed,
    absl::FunctionRef<void(const Record&)> each = [](const Record&) {});

// Appends the encoding of `records` (no batch header, no compression) to *out.
void EncodeRecords(const std::vector<Record>& records, std::vector<uint8_t>* out);

// Builds a whole batch: compresses the encoded records with header.compression(),
// fills batch_length, record_count and crc in the header written, and appends it.
absl::Status EncodeBatch(const BatchHeader& header, const std::vector<Record>& records,
                         std::vector<uint8_t>* out, int level = kDefaultLevel);

// Writes a batch whose records section is given already encoded (and compressed as
// header.compression() says). batch_length and crc are computed.
void EncodeBatchWithRecordsSection(const BatchHeader& header, ByteView records_section,
                                   std::vector<uint8_t>* out);

// Appends `batch` rebuilt with the codec `to`: every header field but the codec bits
// (and the length and CRC) kept, the records re-encoded with their offset deltas
// numbered 0, 1, ... in order, as Kafka's LogValidator rebuilds a batch (for a topic
// whose compression.type differs from the producer's, or inner offsets out of order).
absl::Status RecompressBatch(ByteView batch, Compression to, size_t max_decompressed,
                             std::vector<uint8_t>* out, int level = kDefaultLevel);

// Splits a records blob (as in Produce/Fetch) into whole batches. A partial batch at
// the end is reported through *partial_tail (fetch responses may end in one);
// anything else malformed is an error.
absl::StatusOr<std::vector<ByteView>> SplitBatches(ByteView records, ByteView* partial_tail);

// In-place edits the broker makes. The base offset is outside the CRC; the max
// timestamp and attributes are inside it, so SetMaxTimestamp (the timestamp type and
// the max timestamp: LogAppendTime, or a producer's wrong max) recomputes it.
void SetBaseOffset(uint8_t* batch, int64_t base_offset);
void SetPartitionLeaderEpoch(uint8_t* batch, int32_t epoch);
void SetMaxTimestamp(uint8_t* batch, size_t size, TimestampType type, int64_t max_timestamp);

// Control records (transaction markers): key = version, type; value = version,
// coordinator epoch.
enum class ControlType : int16_t { kAbort = 0, kCommit = 1 };
struct ControlRecord {
  ControlType type = ControlType::kAbort;
  int32_t coordinator_epoch = 0;
};
absl::StatusOr<ControlRecord> ParseControlRecord(const Record& r);

}  // namespace fjord::protocol
