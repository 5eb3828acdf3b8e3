#include "broker/admin_http.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "broker/accept_failures.h"
#include "broker/listen.h"
#include "broker/metrics.h"
#include "spdlog/spdlog.h"

namespace fjord::broker {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {
// A request that has not arrived by then (or an answer not taken) lets its connection
// go: each one holds a file descriptor, which the Kafka listener and the logs share.
constexpr auto kRequestDeadline = std::chrono::seconds(5);
constexpr auto kAnswerDeadline = std::chrono::seconds(30);
}  // namespace

AdminHttp::AdminHttp(Broker& broker, asio::io_context& ctx) : broker_(broker), ctx_(ctx), acceptor_(ctx) {}

absl::StatusOr<uint16_t> AdminHttp::Listen(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host.empty() ? "127.0.0.1" : host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("admin.listener host ", host, ": ", ec.message()));
  asio::ip::tcp::endpoint ep(address, port);
  if (absl::Status s = OpenAcceptor(acceptor_, ep, "admin listener"); !s.ok()) return s;
  asio::co_spawn(ctx_, AcceptLoop(), asio::detached);
  return acceptor_.local_endpoint().port();
}

void AdminHttp::Close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> AdminHttp::AcceptLoop() {
  AcceptFailures failures("admin listener");
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    auto socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      co_await failures.Failed(ec);
      continue;
    }
    failures.Succeeded();
    asio::co_spawn(ctx_, Serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<std::string> AdminHttp::Metrics() {
  std::vector<const ShardCounters*> counters;
  std::vector<ShardGauges> gauges;
  for (size_t i = 0; i < broker_.shard_count(); ++i) {
    Shard& shard = broker_.shard(i);
    counters.push_back(&shard.counters());
    gauges.push_back(co_await broker_.RunOn(shard, [&]() { return shard.Gauges(); }));
  }
  std::string text =
      RenderPrometheus(counters, gauges, broker_.io_backend(), broker_.metadata().Current()->topics.size());
  if (extra_) text += extra_();
  co_return text;
}

asio::awaitable<void> AdminHttp::Serve(asio::ip::tcp::socket socket) {
  boost::beast::tcp_stream stream(std::move(socket));
  boost::beast::flat_buffer buffer(16 * 1024);
  http::request_parser<http::empty_body> parser;
  parser.header_limit(8 * 1024);
  boost::system::error_code ec;
  stream.expires_after(kRequestDeadline);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  const auto& req = parser.get();
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(false);
  res.set(http::field::server, "fjord");
  const std::string target(req.target());
  if (req.method() != http::verb::get) {
    res.result(http::status::method_not_allowed);
    res.body() = "only GET\n";
  } else if (target == "/metrics") {
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.body() = co_await Metrics();
  } else if (target == "/health") {
    res.result(http::status::ok);
    res.body() = "ok\n";
  } else if (target == "/ready") {
    res.result(ready_ ? http::status::ok : http::status::service_unavailable);
    res.body() = ready_ ? "ready\n" : "starting\n";
  } else {
    res.result(http::status::not_found);
    res.body() = "unknown path; try /metrics, /health or /ready\n";
  }
  res.prepare_payload();
  stream.expires_after(kAnswerDeadline);
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

}  // namespace fjord::broker
