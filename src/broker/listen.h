// Opening a listening TCP socket, shared by the Kafka and admin listeners.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fjord::broker {

// open + SO_REUSEADDR + bind + listen; Unavailable with `what` and the reason on failure.
inline absl::Status OpenAcceptor(boost::asio::ip::tcp::acceptor& acceptor,
                                 const boost::asio::ip::tcp::endpoint& ep, const std::string& what) {
  boost::system::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(what, " ", ep.address().to_string(), ":", ep.port(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace fjord::broker
