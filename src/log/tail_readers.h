// Where the readers near a log's end last read, so that the page-cache window
// (PartitionLog::KeepWindowCached) can leave cached what they have yet to read.
//
// A reader is whatever the caller names with a non-zero id (the broker: a client
// connection fetching the partition). Its mark is the segment and position of its last
// read. A mark not renewed for kReaderTimeout is forgotten: its reader went away or
// stopped fetching, and pages need not wait for it. A client that is behind fetches
// again as soon as its answer is in; one at the end long-polls and comes back within
// fetch.max.wait.ms (500 ms by default in the Java client and librdkafka).
//
// Owned by its log's shard; not thread-safe.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace fjord::log {

class TailReaders {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kReaderTimeout = std::chrono::seconds(2);
  // More readers than this at once: the one seen longest ago makes room.
  static constexpr size_t kMaxReaders = 64;
  static constexpr uint64_t kNoReader = 0;

  struct Position {
    int64_t segment_base = 0;  // the segment's base offset
    uint64_t position = 0;     // bytes into its file
    auto operator<=>(const Position&) const = default;
  };

  // `reader` read from `at`; kNoReader is not remembered.
  void Note(uint64_t reader, Position at, Clock::time_point now);
  // The earliest position among readers seen within kReaderTimeout before `now`
  // (the others are forgotten); none without such readers.
  std::optional<Position> Slowest(Clock::time_point now);
  size_t size() const { return marks_.size(); }

 private:
  struct Mark {
    uint64_t reader;
    Position at;
    Clock::time_point seen;
  };
  std::vector<Mark> marks_;  // few: one per connection fetching the partition
};

}  // namespace fjord::log
