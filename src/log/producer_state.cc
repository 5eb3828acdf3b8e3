#include "log/producer_state.h"

#include <algorithm>

#include <limits>

namespace fjord::log {

namespace {
int32_t LastSeq(const protocol::BatchHeader& h) {
  // Sequences wrap at int32 max back to 0.
  const int64_t last = static_cast<int64_t>(h.base_sequence) + h.last_offset_delta;
  return static_cast<int32_t>(last % (static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1));
}
int32_t NextSeq(int32_t seq) {
  return seq == std::numeric_limits<int32_t>::max() ? 0 : seq + 1;
}
}  // namespace

SequenceCheck ProducerStateTable::Check(const protocol::BatchHeader& h, BatchMeta* original) const {
  if (h.producer_id < 0) return SequenceCheck::kAppend;
  auto it = producers_.find(h.producer_id);
  if (it == producers_.end()) return SequenceCheck::kAppend;
  const Entry& e = it->second;
  if (h.producer_epoch < e.epoch) return SequenceCheck::kInvalidEpoch;
  if (h.producer_epoch > e.epoch) {
    return h.base_sequence == 0 ? SequenceCheck::kAppend : SequenceCheck::kOutOfOrderSequence;
  }
  const int32_t last = LastSeq(h);
  for (const BatchMeta& b : e.batches) {
    if (b.first_seq == h.base_sequence && b.last_seq == last) {
      *original = b;
      return SequenceCheck::kDuplicate;
    }
  }
  if (!e.batches.empty() && h.base_sequence != NextSeq(e.batches.back().last_seq)) {
    return SequenceCheck::kOutOfOrderSequence;
  }
  return SequenceCheck::kAppend;
}

void ProducerStateTable::Update(const protocol::BatchHeader& h, int64_t base_offset) {
  if (h.producer_id < 0) return;
  Entry& e = producers_[h.producer_id];
  if (h.producer_epoch != e.epoch) {
    e.epoch = h.producer_epoch;
    e.batches.clear();
  }
  e.batches.push_back({h.base_sequence, LastSeq(h), base_offset, base_offset + h.last_offset_delta});
  while (e.batches.size() > kBatchesKept) e.batches.pop_front();
  e.last_timestamp = h.max_timestamp;
}

size_t ProducerStateTable::ExpireBefore(int64_t cutoff_ms) {
  return std::erase_if(producers_,
                       [&](const auto& entry) { return entry.second.last_timestamp <= cutoff_ms; });
}

std::vector<ProducerSummary> ProducerStateTable::Active() const {
  std::vector<ProducerSummary> out;
  for (const auto& [id, e] : producers_) {
    if (e.batches.empty()) continue;
    out.push_back({id, e.epoch, e.batches.back().last_seq, e.last_timestamp});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.producer_id < b.producer_id; });
  return out;
}

}  // namespace fjord::log
