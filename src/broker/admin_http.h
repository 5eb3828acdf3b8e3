// The admin HTTP endpoint (Boost.Beast) on `admin.listener` (default 127.0.0.1:9644):
//   GET /metrics  Prometheus text
//   GET /health   200 "ok" while the process serves
//   GET /ready    200 once the client listener is bound and metadata is loaded
// One request per connection; runs on the accept thread's io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "broker/broker.h"

namespace fjord::broker {

class AdminHttp {
 public:
  AdminHttp(Broker& broker, boost::asio::io_context& ctx);
  absl::StatusOr<uint16_t> Listen(const std::string& host, uint16_t port);
  void set_ready(bool ready) { ready_ = ready; }
  // More Prometheus text for /metrics (a combined node's controller quorum state).
  void set_extra_metrics(std::function<std::string()> extra) { extra_ = std::move(extra); }
  void Close();

 private:
  boost::asio::awaitable<void> AcceptLoop();
  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<std::string> Metrics();

  Broker& broker_;
  boost::asio::io_context& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  bool ready_ = false;
  std::function<std::string()> extra_;
};

}  // namespace fjord::broker
