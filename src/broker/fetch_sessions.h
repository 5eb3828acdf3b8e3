// Incremental fetch sessions (KIP-227). A consumer (or follower) that fetches the same
// partitions over and over opens a session with a full fetch (epoch 0); later requests
// (epoch 1, 2, ...) name only the partitions whose position changed, and responses
// carry only the partitions with news (records, an error, or a moved high watermark or
// log start offset).
//
// Broker-wide: a client may reconnect to another shard and keep its session. One mutex
// guards the cache; it is held only for the short, synchronous steps below, never
// across a read of the log.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/wire.h"

namespace fjord::broker {

// A partition as a fetch session tracks it.
struct SessionPartition {
  std::string topic;  // may be empty for v13+ requests naming an unknown topic id
  protocol::Uuid topic_id;
  int32_t partition = 0;
  int64_t fetch_offset = 0;
  int32_t max_bytes = 0;
  // KIP-320 (v9+) and KIP-595 (v12+), -1 when not given: the leader epoch the client
  // last saw, and the epoch of the last record it fetched.
  int32_t current_leader_epoch = -1;
  int32_t last_fetched_epoch = -1;
  // What the last response told the client (-1: nothing yet).
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
};

// One partition's outcome in a fetch, to decide whether an incremental response
// carries it.
struct PartitionOutcome {
  bool has_records = false;
  bool has_error = false;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  bool diverging = false;  // the client's last fetched epoch ended before its offset
};

class FetchSessionCache {
 public:
  explicit FetchSessionCache(size_t slots) : slots_(slots) {}

  // Kafka's session epochs: -1 (final: no session), 0 (initial: full fetch, new session).
  static constexpr int32_t kFinalEpoch = -1;
  static constexpr int32_t kInitialEpoch = 0;

  // A full fetch that opens a session over `partitions`: returns its id, or 0 when the
  // cache has no slot (it evicts the least recently used session first).
  int32_t Create(std::vector<SessionPartition> partitions);
  // Ends a session (no-op if unknown).
  void Remove(int32_t session_id);

  enum class Error { kNone, kSessionIdNotFound, kInvalidEpoch };
  struct Incremental {
    Error error = Error::kNone;
    std::vector<SessionPartition> partitions;  // everything the session fetches, in order
  };
  // An incremental fetch: checks the epoch, applies the request's changes (upserts
  // and forgotten partitions, matched by `same`), advances the epoch, and returns the
  // session's partitions to read.
  Incremental Update(int32_t session_id, int32_t epoch, const std::vector<SessionPartition>& upserts,
                     const std::vector<SessionPartition>& forgotten);

  // After the reads: records what each partition's response said and returns, per
  // partition of `read` (with its outcome at the same index), whether the response
  // must carry it. A full fetch (`full`) carries every partition.
  std::vector<bool> Settle(int32_t session_id, bool full, const std::vector<SessionPartition>& read,
                           const std::vector<PartitionOutcome>& outcomes);

  size_t size() const;

 private:
  struct Session {
    int32_t next_epoch = 1;
    std::vector<SessionPartition> partitions;
    std::chrono::steady_clock::time_point last_used;
  };
  mutable std::mutex mu_;
  size_t slots_;
  int32_t next_id_ = 1;
  std::map<int32_t, Session> sessions_;
};

// Whether two session partitions name the same partition (by topic id when both have
// one, else by name).
bool SamePartition(const SessionPartition& a, const SessionPartition& b);

}  // namespace fjord::broker
