#include "broker/client_warnings.h"

namespace fjord::broker {

bool WarningBudget::Admit() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - window_start_ >= kWarningWindow) {
    window_start_ = now;
    admitted_ = 0;
    if (held_back_ > 0) {
      spdlog::warn("{} more warnings about {} were not logged (at most {} per {} s)", held_back_, what_,
                   kWarningBurst, std::chrono::duration_cast<std::chrono::seconds>(kWarningWindow).count());
      held_back_ = 0;
    }
  }
  if (admitted_ < kWarningBurst) {
    ++admitted_;
    return true;
  }
  ++held_back_;
  return false;
}

WarningBudget& BadInputWarnings() {
  static WarningBudget budget("clients' bad input");
  return budget;
}

WarningBudget& RefusedConnectionWarnings() {
  static WarningBudget budget("refused connections");
  return budget;
}

WarningBudget& LogOpenFailureWarnings() {
  static WarningBudget budget("logs that cannot be opened");
  return budget;
}

}  // namespace fjord::broker
