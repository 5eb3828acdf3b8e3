#include "broker/connection.h"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "protocol/frame.h"
#include "spdlog/spdlog.h"

namespace fjord::broker {

namespace asio = boost::asio;

asio::awaitable<void> ServeConnection(Broker& broker, Shard& shard, asio::ip::tcp::socket socket) {
  std::string peer;
  try {
    peer = socket.remote_endpoint().address().to_string() + ":" +
           std::to_string(socket.remote_endpoint().port());
  } catch (...) {
    co_return;
  }
  const size_t max_frame = static_cast<size_t>(broker.config().socket_request_max_bytes);
  std::vector<uint8_t> frame;
  std::vector<uint8_t> response;
  bool bad_input = true;  // cleared when the peer simply goes away
  try {
    while (true) {
      uint8_t size_bytes[4];
      co_await asio::async_read(socket, asio::buffer(size_bytes), asio::use_awaitable);
      const int32_t size = static_cast<int32_t>(static_cast<uint32_t>(size_bytes[0]) << 24 |
                                                size_bytes[1] << 16 | size_bytes[2] << 8 | size_bytes[3]);
      if (size < 0 || static_cast<size_t>(size) > max_frame) {
        spdlog::warn("{}: request size {} is outside [0, socket.request.max.bytes={}]; closing", peer, size,
                     max_frame);
        break;
      }
      frame.resize(static_cast<size_t>(size));
      co_await asio::async_read(socket, asio::buffer(frame), asio::use_awaitable);
      const auto started = std::chrono::steady_clock::now();
      shard.counters().bytes_in.fetch_add(4 + frame.size(), std::memory_order_relaxed);
      auto parsed = protocol::ParseRequest(protocol::ByteView(frame));
      if (!parsed.ok()) {
        spdlog::warn("{}: malformed request header ({}); closing", peer,
                     std::string(parsed.status().message()));
        break;
      }
      const int16_t key = parsed->header.request_api_key;
      const int16_t version = parsed->header.request_api_version;
      const AdvertisedApi* api = FindAdvertised(key);
      response.clear();
      if (api == nullptr) {
        spdlog::warn("{}: api key {} is not implemented; closing", peer, key);
        break;
      }
      if (version < api->min_version || version > api->max_version) {
        if (key != 18) {
          spdlog::warn("{}: {} v{} is not supported (v{}-{}); closing", peer,
                       parsed->api ? parsed->api->name : "?", version, api->min_version, api->max_version);
          break;
        }
        AppendApiVersionsResponse(0, kUnsupportedVersion, parsed->header.correlation_id, &response);
        co_await asio::async_write(socket, asio::buffer(response), asio::use_awaitable);
        continue;
      }
      RequestContext ctx{broker, shard, parsed->header, version, parsed->body, &response, true, {}};
      absl::Status s = co_await api->handler(ctx);
      if (!s.ok()) {
        spdlog::warn("{}: {} v{}: {}; closing", peer, parsed->api->name, version, std::string(s.message()));
        break;
      }
      if (ctx.send_response) {
        co_await asio::async_write(socket, asio::buffer(response), asio::use_awaitable);
        shard.counters().bytes_out.fetch_add(response.size(), std::memory_order_relaxed);
      }
      shard.counters().RecordRequest(
          key, static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - started)
                                         .count()));
    }
  } catch (const boost::system::system_error& e) {
    bad_input = false;
    if (e.code() != asio::error::eof && e.code() != asio::error::connection_reset &&
        e.code() != asio::error::operation_aborted) {
      spdlog::debug("{}: {}", peer, e.what());
    }
  }
  if (bad_input) shard.counters().connections_closed_bad_input.fetch_add(1, std::memory_order_relaxed);
  boost::system::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace fjord::broker
