// The client listener: accepts on its own thread's io_context and hands each new
// connection to the next shard, round robin.
#pragma once

#include "broker/connection_limits.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "broker/broker.h"

namespace fjord::broker {

class Server {
 public:
  Server(Broker& broker, boost::asio::io_context& accept_context);
  // Binds the client listener; returns the bound port (useful with port 0).
  absl::StatusOr<uint16_t> Listen();
  void Close();

 private:
  boost::asio::awaitable<void> AcceptLoop();

  Broker& broker_;
  boost::asio::io_context& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  size_t next_shard_ = 0;
  std::shared_ptr<ConnectionLimits> limits_;
};

}  // namespace fjord::broker
