// Idempotent-producer state of one partition: for each producer id, its epoch and the
// last five batches it wrote (sequence range and offsets), as Kafka keeps them.
//
// Rules (Kafka's ProducerStateManager, learned from its behaviour):
//  - a batch with an older epoch than the producer's current one: kInvalidEpoch;
//  - a batch repeating one of the last five (same epoch, first and last sequence): a
//    duplicate, answered with the original offsets and not written again;
//  - a new epoch must start at sequence 0; within an epoch the first sequence must
//    follow the last one written (int32 wraps to 0): else kOutOfOrderSequence;
//  - a producer with no state here (new, or its state expired) may start anywhere;
//  - a producer whose last batch is stamped producer.id.expiration.ms or more before
//    now is forgotten (ExpireBefore), so the table does not grow without bound.
// Snapshotted at segment rolls and clean closes (state_snapshot.h); at open, the
// newest snapshot is loaded and only the batch headers after it are replayed.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "protocol/record_batch.h"

namespace fjord::log {

struct BatchMeta {
  int32_t first_seq;
  int32_t last_seq;
  int64_t base_offset;
  int64_t last_offset;
};

struct ProducerSummary {
  int64_t producer_id;
  int16_t epoch;
  int32_t last_seq;
  int64_t last_timestamp;  // max timestamp of its last batch
};

enum class SequenceCheck { kAppend, kDuplicate, kOutOfOrderSequence, kInvalidEpoch };

class ProducerStateTable {
 public:
  static constexpr size_t kBatchesKept = 5;

  // What appending a batch with this header would mean; for a duplicate, *original
  // holds the batch first written.
  SequenceCheck Check(const protocol::BatchHeader& h, BatchMeta* original) const;
  // Records a batch written at base_offset (after Check said kAppend, or at recovery).
  void Update(const protocol::BatchHeader& h, int64_t base_offset);
  size_t producers() const { return producers_.size(); }
  // Forgets every producer whose last batch's max timestamp is at or before `cutoff_ms`
  // (Kafka's producer-id expiry); returns how many.
  size_t ExpireBefore(int64_t cutoff_ms);
  // Every producer with state here, by id (DescribeProducers).
  std::vector<ProducerSummary> Active() const;

  // For snapshots (state_snapshot.h): every producer's epoch, last timestamp and kept batches.
  struct Entry {
    int16_t epoch = -1;
    std::deque<BatchMeta> batches;
    int64_t last_timestamp = -1;
  };
  const std::unordered_map<int64_t, Entry>& entries() const { return producers_; }
  void Restore(int64_t producer_id, Entry entry) { producers_[producer_id] = std::move(entry); }

 private:
  std::unordered_map<int64_t, Entry> producers_;
};

}  // namespace fjord::log
