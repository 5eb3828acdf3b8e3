// Opening a listening TCP socket, shared by the Kafka and admin listeners.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fjord::broker {

struct ListenOptions {
  int backlog = boost::asio::socket_base::max_listen_connections;  // socket.listen.backlog.size
  // SO_SNDBUF and SO_RCVBUF, set on the listening socket so that accepted connections
  // inherit them from their first segment (the receive window's scale is fixed by the
  // SYN); -1 keeps the kernel's autotuning.
  int send_buffer_bytes = -1;     // socket.send.buffer.bytes
  int receive_buffer_bytes = -1;  // socket.receive.buffer.bytes
};

// open + SO_REUSEADDR + buffer sizes + bind + listen; Unavailable with `what` and the
// reason on failure.
inline absl::Status OpenAcceptor(boost::asio::ip::tcp::acceptor& acceptor,
                                 const boost::asio::ip::tcp::endpoint& ep, const std::string& what,
                                 const ListenOptions& options = {}) {
  boost::system::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec && options.send_buffer_bytes >= 0)
    acceptor.set_option(boost::asio::socket_base::send_buffer_size(options.send_buffer_bytes), ec);
  if (!ec && options.receive_buffer_bytes >= 0)
    acceptor.set_option(boost::asio::socket_base::receive_buffer_size(options.receive_buffer_bytes), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(options.backlog, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(what, " ", ep.address().to_string(), ":", ep.port(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace fjord::broker
