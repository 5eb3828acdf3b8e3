#include "broker/bad_input_log.h"

#include <mutex>

namespace fjord::broker {

bool AdmitBadInputWarning() {
  // A mutex is fine here: bad input closes its connection, so this runs once per closed
  // connection at most, never per record.
  static std::mutex mu;
  static std::chrono::steady_clock::time_point window_start;
  static int admitted = 0;
  static long held_back = 0;
  std::lock_guard lock(mu);
  const auto now = std::chrono::steady_clock::now();
  if (now - window_start >= kBadInputWindow) {
    window_start = now;
    admitted = 0;
    if (held_back > 0) {
      spdlog::warn("{} more warnings about clients' bad input were not logged (at most {} per {} s)",
                   held_back, kBadInputBurst,
                   std::chrono::duration_cast<std::chrono::seconds>(kBadInputWindow).count());
      held_back = 0;
    }
  }
  if (admitted < kBadInputBurst) {
    ++admitted;
    return true;
  }
  ++held_back;
  return false;
}

}  // namespace fjord::broker
