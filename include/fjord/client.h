// Fjord's async Kafka client: bootstrap, ApiVersions negotiation, a metadata cache,
// routing to partition leaders and group coordinators, retries with backoff on
// connection failures and retriable errors, and a deadline on every call.
//
// Runs on one Asio executor (all calls from coroutines on it); each broker gets one
// connection that carries one request at a time, in call order.
#pragma once

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fjord_protocol/messages.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::client {

struct ClientOptions {
  std::vector<std::string> bootstrap;  // "host:port", tried in order
  std::string client_id = "fjord-client";
  std::chrono::milliseconds timeout{30000};      // per call, retries included
  std::chrono::milliseconds retry_backoff{100};  // doubled per retry, at most 1 s
};

struct BrokerInfo {
  int32_t node_id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

// A Kafka error code from a response, as a Status: the code's name and number in the
// message, kUnavailable for retriable ones (Kafka's list), kFailedPrecondition otherwise.
absl::Status KafkaError(int16_t code, const std::string& context);
bool IsRetriable(int16_t code);
const char* ErrorName(int16_t code);

class Connection;

// A decoded response with the frame its bytes fields (views) point into.
template <typename Response>
struct Owned : Response {
  std::shared_ptr<const std::vector<uint8_t>> frame;
};

class Client {
 public:
  Client(boost::asio::any_io_executor executor, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Reaches a bootstrap broker and loads the cluster's metadata (brokers, controller).
  boost::asio::awaitable<absl::Status> Bootstrap();

  // Sends `request` to broker `node` (kAnyBroker: the first that answers) at the
  // highest version both sides support, and decodes the answer. Connection failures
  // are retried with backoff until the call's deadline.
  static constexpr int32_t kAnyBroker = -1;
  // `max_version` caps the version below what this library knows, for callers that
  // need nothing newer.
  template <typename Response, typename Request>
  boost::asio::awaitable<absl::StatusOr<Owned<Response>>> Call(int32_t node, const Request& request,
                                                               int16_t max_version = Request::kMaxVersion);

  // The version Call will use for Request with `node`: for requests whose fields differ
  // by version (the encoder refuses a field its version lacks).
  template <typename Request>
  boost::asio::awaitable<absl::StatusOr<int16_t>> VersionFor(int32_t node) {
    return NegotiatedVersion(node, Request::kApiKey, Request::kMaxVersion);
  }

  // Metadata for `topics` (all topics when empty); refreshes the broker list too.
  boost::asio::awaitable<absl::StatusOr<protocol::MetadataResponse>> Metadata(
      const std::vector<std::string>& topics = {});
  // The group's coordinator (FindCoordinator, retried while it is loading).
  boost::asio::awaitable<absl::StatusOr<int32_t>> Coordinator(const std::string& group);

  const std::map<int32_t, BrokerInfo>& brokers() const { return brokers_; }
  int32_t controller_id() const { return controller_id_; }
  const std::string& cluster_id() const { return cluster_id_; }
  const ClientOptions& options() const { return options_; }

 private:
  // Raw round trip: frame bytes in, response body out, with the version used.
  struct Exchange {
    std::vector<uint8_t> frame;  // response without its size prefix
    size_t body_offset = 0;
    int16_t version = 0;
  };
  using Encoder = absl::Status (*)(const void* request, int16_t version, int32_t correlation,
                                   const std::string& client_id, std::vector<uint8_t>* out);
  boost::asio::awaitable<absl::StatusOr<Exchange>> RoundTrip(int32_t node, int16_t api_key,
                                                             int16_t max_version, const void* request,
                                                             Encoder encode);
  boost::asio::awaitable<absl::StatusOr<Connection*>> ConnectionTo(int32_t node);
  boost::asio::awaitable<absl::StatusOr<int16_t>> NegotiatedVersion(int32_t node, int16_t api_key,
                                                                    int16_t max_version);
  static absl::StatusOr<protocol::ByteView> ResponseBody(const std::vector<uint8_t>& frame, int16_t version,
                                                         int16_t api_key);

  boost::asio::any_io_executor executor_;
  ClientOptions options_;
  std::map<int32_t, BrokerInfo> brokers_;
  int32_t controller_id_ = -1;
  std::string cluster_id_;
  std::map<int32_t, std::unique_ptr<Connection>> connections_;  // by node id
  std::unique_ptr<Connection> bootstrap_;                       // before node ids are known
  int32_t next_correlation_ = 1;
};

template <typename Response, typename Request>
boost::asio::awaitable<absl::StatusOr<Owned<Response>>> Client::Call(int32_t node, const Request& request,
                                                                     int16_t max_version) {
  Encoder encode = [](const void* req, int16_t version, int32_t correlation, const std::string& client_id,
                      std::vector<uint8_t>* out) {
    return protocol::AppendRequestFrame(*static_cast<const Request*>(req), version, correlation, client_id,
                                        out);
  };
  absl::StatusOr<Exchange> e = co_await RoundTrip(
      node, Request::kApiKey, std::min(max_version, Request::kMaxVersion), &request, encode);
  if (!e.ok()) co_return e.status();
  Owned<Response> response;
  response.frame = std::make_shared<const std::vector<uint8_t>>(std::move(e->frame));
  absl::StatusOr<protocol::ByteView> body = ResponseBody(*response.frame, e->version, Request::kApiKey);
  if (!body.ok()) co_return body.status();
  if (absl::Status s = protocol::Decode(*body, e->version, static_cast<Response*>(&response)); !s.ok())
    co_return s;
  co_return response;
}

}  // namespace fjord::client
