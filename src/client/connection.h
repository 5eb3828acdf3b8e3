// One TCP connection to one broker: connects, learns the broker's API versions, and
// carries one request at a time (callers queue in call order).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fjord::client {

class Connection {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  Connection(boost::asio::any_io_executor executor, std::string host, int32_t port);

  // Connects and asks for ApiVersions (v3, or v0 when the broker is older).
  boost::asio::awaitable<absl::Status> Open(const std::string& client_id, Deadline deadline);
  // Writes one request frame and reads the response frame with that correlation id
  // (returned without its size prefix). Any failure breaks the connection.
  boost::asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> Exchange(std::vector<uint8_t> frame,
                                                                        Deadline deadline);

  // Highest version of `api_key` the broker takes, or -1.
  int16_t MaxVersion(int16_t api_key) const;
  bool usable() const { return open_ && !broken_; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }

 private:
  boost::asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> ExchangeNow(const std::vector<uint8_t>& frame,
                                                                           Deadline deadline);

  boost::asio::any_io_executor executor_;
  std::string host_;
  int32_t port_;
  boost::asio::ip::tcp::socket socket_;
  bool open_ = false;
  bool broken_ = false;
  bool busy_ = false;
  std::deque<boost::asio::steady_timer*> waiting_;  // callers queued behind the busy one
  std::map<int16_t, int16_t> max_versions_;
  int32_t next_correlation_ = 1;
};

}  // namespace fjord::client
