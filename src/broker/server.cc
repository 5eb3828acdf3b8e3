#include "broker/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/strings/str_cat.h"
#include "broker/accept_failures.h"
#include "broker/client_warnings.h"
#include "broker/connection.h"
#include "broker/listen.h"
#include "spdlog/spdlog.h"

namespace fjord::broker {

namespace asio = boost::asio;

Server::Server(Broker& broker, asio::io_context& accept_context)
    : broker_(broker),
      ctx_(accept_context),
      acceptor_(accept_context),
      limits_(std::make_shared<ConnectionLimits>(broker.config().max_connections,
                                                 broker.config().max_connections_per_ip)) {}

absl::StatusOr<uint16_t> Server::Listen() {
  const Listener& l = broker_.config().client_listener();
  boost::system::error_code ec;
  asio::ip::tcp::endpoint ep;
  if (l.host.empty() || l.host == "0.0.0.0") {
    ep = asio::ip::tcp::endpoint(asio::ip::tcp::v4(), l.port);
  } else {
    asio::ip::tcp::resolver resolver(ctx_);
    auto results = resolver.resolve(l.host, std::to_string(l.port), ec);
    if (ec || results.empty())
      return absl::InvalidArgumentError(absl::StrCat("cannot resolve listener host ", l.host));
    ep = *results.begin();
  }
  const BrokerConfig& config = broker_.config();
  const ListenOptions options{config.socket_listen_backlog_size, config.socket_send_buffer_bytes,
                              config.socket_receive_buffer_bytes};
  if (absl::Status s = OpenAcceptor(acceptor_, ep, "listen on", options); !s.ok()) return s;
  asio::co_spawn(ctx_, AcceptLoop(), asio::detached);
  return acceptor_.local_endpoint().port();
}

void Server::Close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> Server::AcceptLoop() {
  boost::system::error_code endpoint_error;
  const auto endpoint = acceptor_.local_endpoint(endpoint_error);
  AcceptFailures failures(
      absl::StrCat("Kafka listener ", endpoint.address().to_string(), ":", endpoint.port()));
  while (acceptor_.is_open()) {
    Shard& shard = broker_.shard(next_shard_++ % broker_.shard_count());
    boost::system::error_code ec;
    asio::ip::tcp::socket socket =
        co_await acceptor_.async_accept(shard.context(), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      co_await failures.Failed(ec);
      continue;
    }
    failures.Succeeded();
    const std::string address = socket.remote_endpoint(ec).address().to_string();
    ConnectionLimits::Slot slot = limits_->Acquire(address);
    if (!slot) {
      RefusedConnectionWarnings().Warn(
          "{}: past max.connections ({}) or max.connections.per.ip ({}); closing", address,
          broker_.config().max_connections, broker_.config().max_connections_per_ip);
      socket.close(ec);
      shard.counters().connections_refused.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    asio::co_spawn(shard.context(), ServeConnection(broker_, shard, std::move(socket), std::move(slot)),
                   asio::detached);
  }
}

}  // namespace fjord::broker
