// max.connections and max.connections.per.ip: how many client connections the broker
// holds, in all and from one address. The accept thread asks for a slot for each new
// connection; a connection past either limit is closed at once (Kafka closes one past
// the per-address limit the same way, and stops accepting while past max.connections).
// A slot is given back when its connection's coroutine ends, on the connection's
// shard: hence the mutex. A slot holds the limits alive (shared_ptr), so a connection
// may outlive the listener that accepted it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace fjord::broker {

class ConnectionLimits : public std::enable_shared_from_this<ConnectionLimits> {
 public:
  ConnectionLimits(int64_t max_total, int64_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // Held by a connection for its lifetime; empty when no slot was given.
  class Slot {
   public:
    Slot() = default;
    Slot(std::shared_ptr<ConnectionLimits> limits, std::string address)
        : limits_(std::move(limits)), address_(std::move(address)) {}
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (limits_ != nullptr) limits_->Release(address_);
    }
    explicit operator bool() const { return limits_ != nullptr; }

   private:
    std::shared_ptr<ConnectionLimits> limits_;
    std::string address_;
  };

  // A slot for a connection from `address`, or an empty one past a limit.
  Slot Acquire(const std::string& address);

 private:
  void Release(const std::string& address);

  const int64_t max_total_;
  const int64_t max_per_address_;
  std::mutex mu_;
  int64_t total_ = 0;
  std::map<std::string, int64_t> per_address_;
};

}  // namespace fjord::broker
