#include "protocol/record_batch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "protocol/crc32c.h"

namespace fjord::protocol {
namespace {

constexpr size_t kMinRecordSize = 7;  // one byte each: length, attributes, ts, offset, key, value, headers

void PutBe(uint8_t* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

std::optional<ByteView> ReadVarBytes(Reader& r, const char* what) {
  int32_t n = r.Varint();
  if (!r.ok()) return std::nullopt;
  if (n < -1) {
    r.Fail(absl::StrCat(what, ": negative length ", n));
    return std::nullopt;
  }
  if (n == -1) return std::nullopt;
  return r.Raw(static_cast<size_t>(n), what);
}

void WriteVarBytes(Writer& w, const std::optional<ByteView>& b) {
  if (!b) return w.Varint(-1);
  w.Varint(static_cast<int32_t>(b->size()));
  w.Raw(b->data(), b->size());
}

void WriteRecordBody(Writer& w, const Record& rec) {
  w.Int8(rec.attributes);
  w.Varlong(rec.timestamp_delta);
  w.Varint(rec.offset_delta);
  WriteVarBytes(w, rec.key);
  WriteVarBytes(w, rec.value);
  w.Varint(static_cast<int32_t>(rec.headers.size()));
  for (const RecordHeader& h : rec.headers) {
    WriteVarBytes(w, h.key);
    WriteVarBytes(w, h.value);
  }
}

// Reads `count` records from `section` one at a time into one Record, passed to
// fn(Record&) after each; the section must end with the last one.
template <typename Fn>
absl::Status ForEachRecord(ByteView section, int32_t count, Fn&& fn) {
  if (count < 0) return absl::InvalidArgumentError(absl::StrCat("negative record count ", count));
  if (static_cast<size_t>(count) > section.size() / kMinRecordSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(count, " records cannot fit in ", section.size(), " bytes"));
  }
  Reader r(section);
  Record rec;
  for (int32_t i = 0; i < count; ++i) {
    int32_t len = r.Varint();
    if (r.ok() && len < 0) return absl::InvalidArgumentError(absl::StrCat("record ", i, ": negative length"));
    Reader rr = r.Sub(static_cast<size_t>(len), "record");
    if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat("record ", i, ": ", r.error()));
    rec.attributes = rr.Int8();
    rec.timestamp_delta = rr.Varlong();
    rec.offset_delta = rr.Varint();
    rec.key = ReadVarBytes(rr, "record key");
    rec.value = ReadVarBytes(rr, "record value");
    rec.headers.clear();
    int32_t headers = rr.Varint();
    if (rr.ok() && (headers < 0 || static_cast<size_t>(headers) > rr.remaining() / 2)) {
      rr.Fail(absl::StrCat("header count ", headers, " does not fit"));
    }
    for (int32_t h = 0; h < headers && rr.ok(); ++h) {
      int32_t klen = rr.Varint();
      if (rr.ok() && klen < 0) {
        rr.Fail("null header key");
        break;
      }
      RecordHeader& hdr = rec.headers.emplace_back();
      hdr.key = rr.Raw(static_cast<size_t>(klen), "header key");
      hdr.value = ReadVarBytes(rr, "header value");
    }
    if (rr.ok() && rr.remaining() != 0)
      rr.Fail(absl::StrCat(rr.remaining(), " bytes left over in the record"));
    if (!rr.ok()) return absl::InvalidArgumentError(absl::StrCat("record ", i, ": ", rr.error()));
    fn(rec);
  }
  if (r.remaining() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(r.remaining(), " bytes after the last record"));
  }
  return absl::OkStatus();
}

absl::Status DecodeRecords(ByteView section, int32_t count, std::vector<Record>* out) {
  out->clear();
  // Bounded by what the section can hold: ForEachRecord refuses a larger count.
  out->reserve(std::min(static_cast<size_t>(std::max(count, 0)), section.size() / kMinRecordSize));
  return ForEachRecord(section, count, [out](Record& rec) { out->push_back(std::move(rec)); });
}

}  // namespace

absl::StatusOr<BatchHeader> ParseBatchHeader(ByteView batch) {
  if (batch.size() < kBatchHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("record batch of ", batch.size(), " bytes is shorter than its header"));
  }
  Reader r(batch);
  BatchHeader h;
  h.base_offset = r.Int64();
  h.batch_length = r.Int32();
  h.partition_leader_epoch = r.Int32();
  h.magic = r.Int8();
  h.crc = r.Uint32();
  h.attributes = r.Int16();
  h.last_offset_delta = r.Int32();
  h.base_timestamp = r.Int64();
  h.max_timestamp = r.Int64();
  h.producer_id = r.Int64();
  h.producer_epoch = r.Int16();
  h.base_sequence = r.Int32();
  h.record_count = r.Int32();
  if (h.magic != 2)
    return absl::InvalidArgumentError(absl::StrCat("record batch magic ", h.magic, " is not 2"));
  if (h.batch_length < static_cast<int32_t>(kBatchHeaderSize - kBatchOverheadBeforeLength)) {
    return absl::InvalidArgumentError(absl::StrCat("record batch length ", h.batch_length, " is too small"));
  }
  if (h.total_size() > batch.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("record batch of ", h.total_size(), " bytes exceeds the ", batch.size(), " available"));
  }
  if ((h.attributes & 0x7) > 4) {
    return absl::InvalidArgumentError(absl::StrCat("unknown compression codec ", h.attributes & 0x7));
  }
  return h;
}

bool BatchCrcValid(ByteView batch) {
  absl::StatusOr<BatchHeader> h = ParseBatchHeader(batch);
  if (!h.ok()) return false;
  return Crc32c(batch.data() + kBatchAttributesOffset, h->total_size() - kBatchAttributesOffset) == h->crc;
}

namespace {

// The records section of a batch whose header is `h`: a view into `batch` when it is
// uncompressed, else decompressed (bounded by max_decompressed) into *storage.
absl::StatusOr<ByteView> RecordsSection(ByteView batch, const BatchHeader& h, size_t max_decompressed,
                                        std::vector<uint8_t>* storage) {
  const ByteView body(batch.data() + kBatchHeaderSize, h.total_size() - kBatchHeaderSize);
  if (h.compression() == Compression::kNone) return body;
  if (absl::Status s = Decompress(h.compression(), body, max_decompressed, storage); !s.ok()) return s;
  return ByteView(*storage);
}

}  // namespace

absl::Status DecodeBatch(ByteView batch, size_t max_decompressed, DecodedBatch* out) {
  absl::StatusOr<BatchHeader> h = ParseBatchHeader(batch);
  if (!h.ok()) return h.status();
  out->header = *h;
  const uint32_t crc =
      Crc32c(batch.data() + kBatchAttributesOffset, h->total_size() - kBatchAttributesOffset);
  if (crc != h->crc) {
    return absl::DataLossError(absl::StrCat("record batch at offset ", h->base_offset, ": CRC ", crc,
                                            " does not match the stored ", h->crc));
  }
  out->decompressed.clear();
  absl::StatusOr<ByteView> section = RecordsSection(batch, *h, max_decompressed, &out->decompressed);
  if (!section.ok()) return section.status();
  out->records_section = *section;
  return DecodeRecords(out->records_section, h->record_count, &out->records);
}

absl::Status CheckRecords(ByteView batch, size_t max_decompressed,
                          absl::FunctionRef<void(const Record&)> each) {
  absl::StatusOr<BatchHeader> h = ParseBatchHeader(batch);
  if (!h.ok()) return h.status();
  std::vector<uint8_t> decompressed;
  absl::StatusOr<ByteView> section = RecordsSection(batch, *h, max_decompressed, &decompressed);
  if (!section.ok()) return section.status();
  return ForEachRecord(*section, h->record_count, [each](Record& r) { each(r); });
}

void EncodeRecords(const std::vector<Record>& records, std::vector<uint8_t>* out) {
  for (const Record& rec : records) {
    Writer counter;
    WriteRecordBody(counter, rec);
    const size_t body = counter.size();
    const size_t start = out->size();
    const size_t total = UVarintSize((static_cast<uint32_t>(body) << 1)) + body;
    out->resize(start + total);
    Writer w(out->data() + start, total);
    w.Varint(static_cast<int32_t>(body));
    WriteRecordBody(w, rec);
  }
}

void EncodeBatchWithRecordsSection(const BatchHeader& header, ByteView section, std::vector<uint8_t>* out) {
  const size_t start = out->size();
  const size_t total = kBatchHeaderSize + section.size();
  out->resize(start + total);
  uint8_t* p = out->data() + start;
  Writer w(p, total);
  w.Int64(header.base_offset);
  w.Int32(static_cast<int32_t>(total - kBatchOverheadBeforeLength));
  w.Int32(header.partition_leader_epoch);
  w.Int8(2);
  w.Uint32(0);  // CRC, below
  w.Int16(header.attributes);
  w.Int32(header.last_offset_delta);
  w.Int64(header.base_timestamp);
  w.Int64(header.max_timestamp);
  w.Int64(header.producer_id);
  w.Int16(header.producer_epoch);
  w.Int32(header.base_sequence);
  w.Int32(header.record_count);
  w.Raw(section.data(), section.size());
  PutBe(p + kBatchCrcOffset, Crc32c(p + kBatchAttributesOffset, total - kBatchAttributesOffset), 4);
}

absl::Status EncodeBatch(const BatchHeader& header, const std::vector<Record>& records,
                         std::vector<uint8_t>* out, int level) {
  std::vector<uint8_t> plain;
  EncodeRecords(records, &plain);
  BatchHeader h = header;
  h.record_count = static_cast<int32_t>(records.size());
  if (h.compression() == Compression::kNone) {
    EncodeBatchWithRecordsSection(h, ByteView(plain), out);
    return absl::OkStatus();
  }
  std::vector<uint8_t> compressed;
  if (absl::Status s = Compress(h.compression(), ByteView(plain), &compressed, level); !s.ok()) return s;
  EncodeBatchWithRecordsSection(h, ByteView(compressed), out);
  return absl::OkStatus();
}

absl::Status RecompressBatch(ByteView batch, Compression to, size_t max_decompressed,
                             std::vector<uint8_t>* out, int level) {
  DecodedBatch decoded;
  if (absl::Status s = DecodeBatch(batch, max_decompressed, &decoded); !s.ok()) return s;
  BatchHeader h = decoded.header;
  h.attributes = static_cast<int16_t>((h.attributes & ~0x7) | static_cast<int16_t>(to));
  for (size_t i = 0; i < decoded.records.size(); ++i)
    decoded.records[i].offset_delta = static_cast<int32_t>(i);
  h.last_offset_delta = static_cast<int32_t>(decoded.records.size()) - 1;
  return EncodeBatch(h, decoded.records, out, level);
}

absl::StatusOr<std::vector<ByteView>> SplitBatches(ByteView records, ByteView* partial_tail) {
  std::vector<ByteView> batches;
  size_t pos = 0;
  *partial_tail = ByteView();
  while (pos < records.size()) {
    const size_t left = records.size() - pos;
    if (left < kBatchOverheadBeforeLength + 5) {  // cannot even see the magic byte
      *partial_tail = records.subview(pos, left);
      break;
    }
    Reader r(records.data() + pos, left);
    r.Int64();
    const int32_t length = r.Int32();
    r.Int32();
    const int8_t magic = r.Int8();
    if (length < 0) return absl::InvalidArgumentError(absl::StrCat("negative batch length at byte ", pos));
    const size_t total = kBatchOverheadBeforeLength + static_cast<size_t>(length);
    if (total > left) {
      *partial_tail = records.subview(pos, left);
      break;
    }
    if (magic == 2 && total < kBatchHeaderSize) {
      return absl::InvalidArgumentError(absl::StrCat("batch length ", length, " too small at byte ", pos));
    }
    batches.push_back(records.subview(pos, total));
    pos += total;
  }
  return batches;
}

void SetBaseOffset(uint8_t* batch, int64_t base_offset) {
  PutBe(batch, static_cast<uint64_t>(base_offset), 8);
}

void SetPartitionLeaderEpoch(uint8_t* batch, int32_t epoch) {
  PutBe(batch + kBatchPartitionLeaderEpochOffset, static_cast<uint32_t>(epoch), 4);
}

void SetMaxTimestamp(uint8_t* batch, size_t size, TimestampType type, int64_t max_timestamp) {
  int16_t attrs = Reader(batch + kBatchAttributesOffset, 2).Int16();
  attrs = static_cast<int16_t>(type == TimestampType::kLogAppendTime ? attrs | kAttributeLogAppendTime
                                                                     : attrs & ~kAttributeLogAppendTime);
  PutBe(batch + kBatchAttributesOffset, static_cast<uint16_t>(attrs), 2);
  PutBe(batch + kBatchMaxTimestampOffset, static_cast<uint64_t>(max_timestamp), 8);
  PutBe(batch + kBatchCrcOffset, Crc32c(batch + kBatchAttributesOffset, size - kBatchAttributesOffset), 4);
}

absl::StatusOr<ControlRecord> ParseControlRecord(const Record& r) {
  if (!r.key || r.key->size() < 4) return absl::InvalidArgumentError("control record key too short");
  Reader k(*r.key);
  const int16_t version = k.Int16();
  const int16_t type = k.Int16();
  if (version != 0) return absl::InvalidArgumentError(absl::StrCat("control record key version ", version));
  if (type != 0 && type != 1) return absl::InvalidArgumentError(absl::StrCat("unknown control type ", type));
  ControlRecord c;
  c.type = static_cast<ControlType>(type);
  if (r.value && r.value->size() >= 6) {
    Reader v(*r.value);
    v.Int16();
    c.coordinator_epoch = v.Int32();
  }
  return c;
}

}  // namespace fjord::protocol
