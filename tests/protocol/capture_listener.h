// Test support: a listener on 127.0.0.1 that real Kafka clients connect to. It
// records every request frame byte for byte and answers just enough (ApiVersions,
// Metadata, Produce, InitProducerId, ListOffsets, an empty Fetch) for a producer to
// deliver and a consumer to poll. Anything else closes the connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fjord::protocol::testing {

struct CapturedFrame {
  int16_t api_key = 0;
  int16_t api_version = 0;
  std::vector<uint8_t> frame;  // header + body, without the size prefix
};

class CaptureListener {
 public:
  CaptureListener();
  ~CaptureListener();
  int port() const { return port_; }
  std::vector<CapturedFrame> frames();
  int CountOf(int16_t api_key);

 private:
  void AcceptLoop();
  void Serve(int fd);
  std::vector<uint8_t> Answer(const CapturedFrame& f, bool* close);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<int> conns_;
  std::vector<CapturedFrame> frames_;
  int64_t next_offset_ = 0;
};

}  // namespace fjord::protocol::testing
