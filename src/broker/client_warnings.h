// Warnings about what clients do (bad input: a malformed frame, an API or version not
// served; connections past max.connections) at most kWarningBurst per kWarningWindow
// each over the whole process. A client sending garbage, or reconnecting, in a loop
// wrote one line per try, thousands a second, into the broker's log;
// fjord_connections_closed_bad_input_total and fjord_connections_refused_total still
// count every one.
#pragma once

#include <chrono>
#include <mutex>
#include <utility>

#include "spdlog/spdlog.h"

namespace fjord::broker {

inline constexpr auto kWarningWindow = std::chrono::seconds(5);
inline constexpr int kWarningBurst = 10;

class WarningBudget {
 public:
  // `what` names the warnings in the line that counts those held back.
  explicit WarningBudget(const char* what) : what_(what) {}

  // True when a warning may be written now. The first one of a new window first logs
  // how many the previous windows held back.
  bool Admit();

  template <typename... Args>
  void Warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    if (Admit()) spdlog::warn(fmt, std::forward<Args>(args)...);
  }

 private:
  const char* what_;
  // A mutex is fine: each warning closes or refuses a connection, never per record.
  std::mutex mu_;
  std::chrono::steady_clock::time_point window_start_;
  int admitted_ = 0;
  long held_back_ = 0;
};

// Process-wide budgets.
WarningBudget& BadInputWarnings();
WarningBudget& RefusedConnectionWarnings();
// Not a client's doing, but as frequent: a partition whose log cannot be opened fails
// each request for it, and clients retry.
WarningBudget& LogOpenFailureWarnings();

}  // namespace fjord::broker
