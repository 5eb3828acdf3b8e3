#include "broker/group_commit.h"

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"

namespace fjord::broker {

void GroupCommitter::WaitDurable(const TopicPartition& tp, int64_t end_offset, Done done) {
  auto [it, inserted] = logs_.try_emplace(tp);
  State& state = it->second;
  if (inserted) state.incarnation = next_incarnation_++;
  if (end_offset <= state.durable_end) {
    ++completed_;
    done(absl::OkStatus());
    return;
  }
  state.waiters.push_back({end_offset, std::move(done)});
  if (!state.in_flight) StartFlush(tp, state);
}

void GroupCommitter::Forget(const TopicPartition& tp) {
  auto it = logs_.find(tp);
  if (it == logs_.end()) return;
  std::vector<Waiter> waiters = std::move(it->second.waiters);
  logs_.erase(it);
  const absl::Status gone = absl::UnavailableError(absl::StrCat(tp.topic, "-", tp.partition, " was deleted"));
  for (Waiter& w : waiters) w.done(gone);
}

void GroupCommitter::StartFlush(const TopicPartition& tp, State& state) {
  log::PartitionLog* log = shard_.FindOpenLog(tp);
  auto target = log != nullptr ? log->SegmentsForFlush()
                               : absl::StatusOr<log::PartitionLog::FlushTarget>(absl::UnavailableError(
                                     absl::StrCat(tp.topic, "-", tp.partition, " is not open")));
  if (!target.ok()) {
    Finish(tp, state.incarnation, 0, target.status());
    return;
  }
  state.in_flight = true;
  ++flushes_;
  peak_in_flight_ = std::max(peak_in_flight_, ++in_flight_);
  // The active segment, any rolled one whose own background sync has not reported, and
  // the directory while a roll's new segment may not be durable in it: the flush is
  // done when all of them are.
  log::PartitionLog::SyncInBackground(
      shard_.io(), *target,
      [this, tp, incarnation = state.incarnation, covered_end = target->end,
       started = std::chrono::steady_clock::now()](absl::Status status) {
        --in_flight_;
        flush_time_.Record(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)
                .count()));
        Finish(tp, incarnation, covered_end, std::move(status));
      });
}

void GroupCommitter::Finish(const TopicPartition& tp, uint64_t incarnation, int64_t covered_end,
                            absl::Status status) {
  auto it = logs_.find(tp);
  if (it == logs_.end() || it->second.incarnation != incarnation) return;  // deleted meanwhile
  State& state = it->second;
  state.in_flight = false;
  std::vector<Waiter> ready;
  if (status.ok()) {
    state.durable_end = std::max(state.durable_end, covered_end);
    if (log::PartitionLog* log = shard_.FindOpenLog(tp)) log->NoteFlushed(covered_end);
    std::vector<Waiter> later;
    for (Waiter& w : state.waiters)
      (w.end_offset <= state.durable_end ? ready : later).push_back(std::move(w));
    state.waiters = std::move(later);
  } else {
    if (log::PartitionLog* log = shard_.FindOpenLog(tp)) log->GoOffline(status);
    ready = std::move(state.waiters);  // a failed flush fails everyone waiting on it
    state.waiters.clear();
  }
  // Whoever arrived during this flush is covered by the next one.
  if (!state.waiters.empty()) StartFlush(tp, state);
  for (Waiter& w : ready) {
    ++completed_;
    w.done(status);
  }
}

}  // namespace fjord::broker
