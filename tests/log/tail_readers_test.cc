#include "log/tail_readers.h"

#include <gtest/gtest.h>

namespace fjord::log {
namespace {

using Position = TailReaders::Position;
using std::chrono::milliseconds;

TEST(TailReadersTest, TheSlowestIsTheEarliestPositionOfThoseSeenLately) {
  TailReaders readers;
  const auto t0 = TailReaders::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(readers.Slowest(t0).has_value());
  readers.Note(TailReaders::kNoReader, {0, 10}, t0);  // not a reader: not remembered
  EXPECT_FALSE(readers.Slowest(t0).has_value());
  readers.Note(1, {100, 4096}, t0);
  readers.Note(2, {100, 512}, t0);
  readers.Note(3, {200, 0}, t0);
  EXPECT_EQ(readers.Slowest(t0), (Position{100, 512}));
  // A reader's mark moves with it: reader 2 reads on, into the next segment.
  readers.Note(2, {200, 64}, t0 + milliseconds(10));
  EXPECT_EQ(readers.Slowest(t0 + milliseconds(10)), (Position{100, 4096}));
  EXPECT_EQ(readers.size(), 3u);
}

TEST(TailReadersTest, AReaderNotSeenForTheTimeoutIsForgotten) {
  TailReaders readers;
  const auto t0 = TailReaders::Clock::time_point{} + std::chrono::hours(1);
  readers.Note(1, {0, 0}, t0);
  readers.Note(2, {0, 8192}, t0 + milliseconds(1500));
  EXPECT_EQ(readers.Slowest(t0 + TailReaders::kReaderTimeout), (Position{0, 0}));
  // Reader 1 went quiet: reader 2, seen since, is now the slowest.
  EXPECT_EQ(readers.Slowest(t0 + TailReaders::kReaderTimeout + milliseconds(1)), (Position{0, 8192}));
  EXPECT_EQ(readers.size(), 1u);
  EXPECT_FALSE(readers.Slowest(t0 + milliseconds(1500) + TailReaders::kReaderTimeout + milliseconds(1)));
  EXPECT_EQ(readers.size(), 0u);
}

TEST(TailReadersTest, PastTheLimitTheReaderSeenLongestAgoMakesRoom) {
  TailReaders readers;
  const auto t0 = TailReaders::Clock::time_point{} + std::chrono::hours(1);
  readers.Note(1, {0, 0}, t0);  // the oldest mark, and the slowest
  for (uint64_t r = 2; r <= TailReaders::kMaxReaders; ++r)
    readers.Note(r, {0, 4096 * r}, t0 + milliseconds(r));
  EXPECT_EQ(readers.size(), TailReaders::kMaxReaders);
  EXPECT_EQ(readers.Slowest(t0 + milliseconds(100)), (Position{0, 0}));
  readers.Note(1000, {0, 1 << 30}, t0 + milliseconds(100));
  EXPECT_EQ(readers.size(), TailReaders::kMaxReaders);
  EXPECT_EQ(readers.Slowest(t0 + milliseconds(100)), (Position{0, 2 * 4096}));
}

}  // namespace
}  // namespace fjord::log
