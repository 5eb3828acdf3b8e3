#include "log/tail_readers.h"

#include <algorithm>

namespace fjord::log {

void TailReaders::Note(uint64_t reader, Position at, Clock::time_point now) {
  if (reader == kNoReader) return;
  for (Mark& m : marks_) {
    if (m.reader == reader) {
      m.at = at;
      m.seen = now;
      return;
    }
  }
  if (marks_.size() >= kMaxReaders) {
    auto stalest = std::min_element(marks_.begin(), marks_.end(),
                                    [](const Mark& a, const Mark& b) { return a.seen < b.seen; });
    *stalest = Mark{reader, at, now};
    return;
  }
  marks_.push_back(Mark{reader, at, now});
}

std::optional<TailReaders::Position> TailReaders::Slowest(Clock::time_point now) {
  std::erase_if(marks_, [now](const Mark& m) { return now - m.seen > kReaderTimeout; });
  std::optional<Position> slowest;
  for (const Mark& m : marks_) {
    if (!slowest || m.at < *slowest) slowest = m.at;
  }
  return slowest;
}

}  // namespace fjord::log
