#include "broker/handlers/handlers.h"

namespace fjord::broker {

std::set<std::string, std::less<>> RepeatedNames(const std::vector<std::string_view>& names) {
  std::set<std::string_view> seen;
  std::set<std::string, std::less<>> repeated;
  for (std::string_view n : names) {
    if (!seen.insert(n).second) repeated.emplace(n);
  }
  return repeated;
}

}  // namespace fjord::broker
