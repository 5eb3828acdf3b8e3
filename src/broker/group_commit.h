// Group commit: acks=all produce requests with `log.flush.on.ack=true` are answered
// only after fdatasync has covered their records, without blocking the shard.
//
// The shard appends and asks WaitDurable(end offset). If no flush of that log is
// running, one starts in the background on the shard's I/O backend (an io_uring fsync,
// or a flusher thread): it fdatasyncs a duplicate of the active segment's descriptor,
// which covers everything appended before it started (and of rolled segments whose
// own sync has not reported, and fsyncs the log's directory while a roll's new
// segment may not be durable in it: PartitionLog::SegmentsForFlush). Requests that arrive meanwhile
// wait for the next flush, which then covers all of them at once: one fdatasync per
// round, however many producers and pipelined requests joined it.
//
// Shard thread only (the backend runs completions there).
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "broker/metrics.h"
#include "broker/shard.h"

namespace fjord::broker {

class GroupCommitter {
 public:
  using Done = std::function<void(absl::Status)>;

  explicit GroupCommitter(Shard& shard) : shard_(shard) {}

  // Calls done(OK) once every offset below `end_offset` of tp's log is flushed, or
  // done(error) if a flush fails or the log goes away.
  void WaitDurable(const TopicPartition& tp, int64_t end_offset, Done done);
  // The log is being deleted: fail its waiters and forget what was flushed (a
  // re-created log starts again at offset 0).
  void Forget(const TopicPartition& tp);

  // Flushes started and waiters completed (to show the grouping in tests and metrics).
  uint64_t flushes() const { return flushes_; }
  uint64_t completed_waits() const { return completed_; }
  // The most flushes this shard has had running at once: a durable Produce asks for
  // its flushes when it has appended, so pipelined requests' partitions overlap.
  uint64_t peak_flushes_in_flight() const { return peak_in_flight_; }
  // How long each flush took, from its start to its completion reaching the shard.
  const LatencyHistogram& flush_time() const { return flush_time_; }

 private:
  struct Waiter {
    int64_t end_offset;
    Done done;
  };
  struct State {
    uint64_t incarnation = 0;  // tells a late flush of a deleted log from a new one's
    bool in_flight = false;
    int64_t durable_end = 0;  // every offset below this is flushed
    std::vector<Waiter> waiters;
  };
  void StartFlush(const TopicPartition& tp, State& state);
  void Finish(const TopicPartition& tp, uint64_t incarnation, int64_t covered_end, absl::Status status);

  Shard& shard_;
  std::map<TopicPartition, State> logs_;
  uint64_t flushes_ = 0;
  uint64_t completed_ = 0;
  uint64_t in_flight_ = 0;
  uint64_t peak_in_flight_ = 0;
  LatencyHistogram flush_time_;
  uint64_t next_incarnation_ = 1;
};

}  // namespace fjord::broker
