#include "protocol/legacy_message_set.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace fjord::protocol {
namespace {

absl::Status DecodeLevel(ByteView set, size_t max_decompressed, bool inner, DecodedMessageSet* out,
                         std::vector<LegacyMessage>* level) {
  Reader r(set);
  while (r.remaining() > 0) {
    if (r.remaining() < 12) {
      return absl::InvalidArgumentError(absl::StrCat("message set: ", r.remaining(), " trailing bytes"));
    }
    LegacyMessage m;
    m.offset = r.Int64();
    const int32_t size = r.Int32();
    if (size < 14)
      return absl::InvalidArgumentError(absl::StrCat("message set: message size ", size, " too small"));
    Reader mr = r.Sub(static_cast<size_t>(size), "message");
    if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat("message set: ", r.error()));
    const uint32_t crc = mr.Uint32();
    const uint8_t* covered = mr.position();
    const uint32_t actual = static_cast<uint32_t>(crc32(0, covered, static_cast<uInt>(size - 4)));
    if (crc != actual) {
      return absl::DataLossError(absl::StrCat("message at offset ", m.offset, ": CRC mismatch"));
    }
    m.magic = mr.Int8();
    if (m.magic != 0 && m.magic != 1) {
      return absl::InvalidArgumentError(absl::StrCat("message set: magic ", m.magic));
    }
    m.attributes = mr.Int8();
    if (m.magic == 1) m.timestamp = mr.Int64();
    m.key = mr.NullableBytes(false, true, "key");
    m.value = mr.NullableBytes(false, true, "value");
    if (!mr.ok()) return absl::InvalidArgumentError(absl::StrCat("message set: ", mr.error()));
    if (mr.remaining() != 0) return absl::InvalidArgumentError("message set: bytes left over in a message");
    const auto codec = static_cast<Compression>(m.attributes & 0x7);
    if (codec == Compression::kNone) {
      level->push_back(m);
      continue;
    }
    if (inner) return absl::InvalidArgumentError("message set: nested compression");
    if (static_cast<uint8_t>(codec) > 4 || (codec == Compression::kZstd)) {
      return absl::InvalidArgumentError(
          absl::StrCat("message set: codec ", static_cast<int>(codec), " not allowed"));
    }
    if (!m.value) return absl::InvalidArgumentError("message set: compressed message without a value");
    std::vector<uint8_t>& buf = out->buffers.emplace_back();
    absl::Status decompressed =
        m.magic == 0 && codec == Compression::kLz4
            ? DecompressLz4IgnoringDescriptorChecksum(*m.value, max_decompressed, &buf)
            : Decompress(codec, *m.value, max_decompressed, &buf);
    if (!decompressed.ok()) return decompressed;
    std::vector<LegacyMessage> inner_msgs;
    if (absl::Status s = DecodeLevel(ByteView(buf), max_decompressed, true, out, &inner_msgs); !s.ok())
      return s;
    if (m.magic == 1 && !inner_msgs.empty()) {
      const int64_t last = inner_msgs.back().offset;
      for (LegacyMessage& im : inner_msgs) {
        im.offset = m.offset - last + im.offset;
        if (m.attributes & 0x8) im.timestamp = m.timestamp;  // LogAppendTime wrapper
      }
    }
    level->insert(level->end(), inner_msgs.begin(), inner_msgs.end());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeLegacyMessageSet(ByteView set, size_t max_decompressed, DecodedMessageSet* out) {
  out->messages.clear();
  out->buffers.clear();
  return DecodeLevel(set, max_decompressed, false, out, &out->messages);
}

void AppendLegacyMessage(int8_t magic, int64_t offset, int64_t timestamp, bool log_append_time,
                         const std::optional<ByteView>& key, const std::optional<ByteView>& value,
                         std::vector<uint8_t>* out) {
  auto len = [](const std::optional<ByteView>& f) { return f ? f->size() : 0; };
  // crc, magic, attributes, [timestamp], key length + key, value length + value
  const size_t size = 4 + 1 + 1 + (magic == 1 ? 8 : 0) + 4 + len(key) + 4 + len(value);
  const size_t start = out->size();
  out->resize(start + 12 + size);
  uint8_t* msg = out->data() + start;
  Writer w(msg, 12 + size);
  w.Int64(offset);
  w.Int32(static_cast<int32_t>(size));
  w.Uint32(0);  // crc, filled in below
  w.Int8(magic);
  w.Int8(magic == 1 && log_append_time ? 0x8 : 0);
  if (magic == 1) w.Int64(timestamp);
  for (const auto* field : {&key, &value}) {
    if (*field) {
      w.Int32(static_cast<int32_t>((*field)->size()));
      w.Raw((*field)->data(), (*field)->size());
    } else {
      w.Int32(-1);
    }
  }
  const uint32_t crc = static_cast<uint32_t>(crc32(0, msg + 16, static_cast<uInt>(size - 4)));
  for (int i = 0; i < 4; ++i) msg[12 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
}

absl::Status DownConvert(ByteView batches, int8_t magic, size_t max_decompressed, std::vector<uint8_t>* out) {
  ByteView tail;
  auto split = SplitBatches(batches, &tail);
  if (!split.ok()) return split.status();
  DecodedBatch decoded;
  for (ByteView b : *split) {
    if (absl::Status s = DecodeBatch(b, max_decompressed, &decoded); !s.ok()) return s;
    const BatchHeader& h = decoded.header;
    if (h.is_control()) continue;
    const bool append_time = h.timestamp_type() == TimestampType::kLogAppendTime;
    for (const Record& r : decoded.records) {
      const int64_t ts = append_time ? h.max_timestamp : h.base_timestamp + r.timestamp_delta;
      AppendLegacyMessage(magic, h.base_offset + r.offset_delta, ts, append_time, r.key, r.value, out);
    }
  }
  return absl::OkStatus();
}

int DetectMagic(ByteView records) {
  return records.size() < 17 ? -1 : static_cast<int8_t>(records.data()[16]);
}

}  // namespace fjord::protocol
