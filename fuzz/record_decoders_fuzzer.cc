// libFuzzer target for the decoders that read bytes back from disk or convert them:
// `__consumer_offsets` records (group/records.h), whole record batches (a corrupt
// segment read back; Produce's CheckRecords, which must agree with the full decode,
// and its rebuild of a batch), and Fetch v0-3 down-conversion. None may crash, hang,
// or allocate beyond a bound of the input.
//
// Input: byte 0 picks the decoder; for records, byte 1 splits the rest into key and
// value (a value of length 0xff means a tombstone).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "group/records.h"
#include "protocol/legacy_message_set.h"
#include "protocol/record_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t form = data[0] % 3;
  const fjord::protocol::ByteView rest(data + 1, size - 1);
  if (form == 0) {
    const size_t split = std::min<size_t>(data[1], size - 2);
    const fjord::protocol::ByteView key(data + 2, split);
    std::optional<fjord::protocol::ByteView> value;
    if (data[1] != 0xff) value = fjord::protocol::ByteView(data + 2 + split, size - 2 - split);
    auto rec = fjord::group::Decode(key, value);
    if (rec.ok()) {
      // What decodes must encode again, and decode to the same bytes.
      auto e = fjord::group::Encode(*rec);
      if (!e.ok()) __builtin_trap();
      std::optional<fjord::protocol::ByteView> v2;
      if (e->value) v2 = fjord::protocol::ByteView(std::string_view(*e->value));
      auto again = fjord::group::Decode(fjord::protocol::ByteView(std::string_view(e->key)), v2);
      if (!again.ok()) __builtin_trap();
      auto e2 = fjord::group::Encode(*again);
      if (!e2.ok() || e2->key != e->key || e2->value != e->value) __builtin_trap();
    }
  } else if (form == 1) {
    fjord::protocol::ByteView tail;
    auto batches = fjord::protocol::SplitBatches(rest, &tail);
    if (batches.ok()) {
      for (fjord::protocol::ByteView b : *batches) {
        fjord::protocol::DecodedBatch d;
        const bool decoded = fjord::protocol::DecodeBatch(b, 1 << 20, &d).ok();
        // Produce's check of the records must agree with the full decode (which also
        // checks the CRC).
        const bool checked = fjord::protocol::CheckRecords(b, 1 << 20).ok();
        if (decoded != (checked && fjord::protocol::BatchCrcValid(b))) __builtin_trap();
        if (!decoded) continue;
        // Produce's rebuild must give a valid batch of the same records, their offset
        // deltas numbered 0, 1, ... in order.
        std::vector<uint8_t> rebuilt;
        if (!fjord::protocol::RecompressBatch(b, fjord::protocol::Compression::kNone, 1 << 20, &rebuilt).ok())
          __builtin_trap();
        fjord::protocol::DecodedBatch again;
        if (!fjord::protocol::DecodeBatch(fjord::protocol::ByteView(rebuilt), 1 << 20, &again).ok())
          __builtin_trap();
        for (size_t i = 0; i < d.records.size(); ++i) d.records[i].offset_delta = static_cast<int32_t>(i);
        if (again.records != d.records) __builtin_trap();
      }
    }
  } else {
    std::vector<uint8_t> out;
    (void)fjord::protocol::DownConvert(rest, static_cast<int8_t>(data[1] & 1), 1 << 20, &out);
  }
  return 0;
}
