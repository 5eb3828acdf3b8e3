#include "broker/connection_limits.h"

namespace fjord::broker {

ConnectionLimits::Slot ConnectionLimits::Acquire(const std::string& address) {
  std::lock_guard lock(mu_);
  auto& from_address = per_address_[address];
  if (total_ >= max_total_ || from_address >= max_per_address_) {
    if (from_address == 0) per_address_.erase(address);
    return Slot();
  }
  ++total_;
  ++from_address;
  return Slot(shared_from_this(), address);
}

void ConnectionLimits::Release(const std::string& address) {
  std::lock_guard lock(mu_);
  --total_;
  if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0)
    per_address_.erase(it);
}

}  // namespace fjord::broker
