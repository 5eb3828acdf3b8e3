// queued.max.request.bytes: how many bytes of requests the broker holds at once, read
// or being read and not yet handled, over all connections (Kafka's memory pool). A
// connection that would pass it waits before reading a frame's body, so a flood of
// large requests is held back at the sockets instead of in memory. <= 0 (Kafka's
// default, -1): no limit. Any shard takes and gives back bytes: hence the atomic.
#pragma once

#include <atomic>
#include <cstdint>

namespace fjord::broker {

class RequestMemory {
 public:
  explicit RequestMemory(int64_t limit) : limit_(limit) {}

  // Takes n bytes if they fit (always, without a limit); false if the caller must wait.
  // A request is at most socket.request.max.bytes, which the limit may not be below
  // (config check), so every request fits once the others have given theirs back.
  bool TryAcquire(int64_t n) {
    int64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (limit_ > 0 && used + n > limit_) return false;
    } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }
  void Release(int64_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  int64_t in_use() const { return used_.load(std::memory_order_relaxed); }

  // Bytes taken by TryAcquire, given back by Reset or on destruction.
  class Hold {
   public:
    Hold(RequestMemory& memory, int64_t n) : memory_(&memory), n_(n) {}
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() { Reset(); }
    void Reset() {
      if (memory_ != nullptr) memory_->Release(n_);
      memory_ = nullptr;
    }

   private:
    RequestMemory* memory_;
    int64_t n_;
  };

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
};

}  // namespace fjord::broker
