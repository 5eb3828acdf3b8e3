// Warnings about a client's bad input (a malformed frame, an API or version not served)
// at most kBadInputBurst per kBadInputWindow over the whole process. A client sending
// garbage in a loop wrote one line per frame, thousands a second, into the broker's
// log; fjord_connections_closed_bad_input_total still counts every such connection.
#pragma once

#include <chrono>
#include <utility>

#include "spdlog/spdlog.h"

namespace fjord::broker {

inline constexpr auto kBadInputWindow = std::chrono::seconds(5);
inline constexpr int kBadInputBurst = 10;

// True when a warning may be written now. The first one of a new window first logs how
// many the previous windows held back.
bool AdmitBadInputWarning();

template <typename... Args>
void WarnBadInput(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  if (AdmitBadInputWarning()) spdlog::warn(fmt, std::forward<Args>(args)...);
}

}  // namespace fjord::broker
