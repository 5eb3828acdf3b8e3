#include "fjord/client.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/connection.h"
#include "protocol/api_table.h"

namespace fjord::client {

namespace asio = boost::asio;

namespace {

absl::StatusOr<std::pair<std::string, int32_t>> SplitHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  int32_t port = 0;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad broker address '", address, "' (want host:port)"));
  }
  return std::make_pair(address.substr(0, colon), port);
}

}  // namespace

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {}

Client::~Client() = default;

asio::awaitable<absl::Status> Client::Bootstrap() {
  if (options_.bootstrap.empty()) co_return absl::InvalidArgumentError("no bootstrap brokers given");
  for (const std::string& address : options_.bootstrap) {
    if (auto hp = SplitHostPort(address); !hp.ok()) co_return hp.status();
  }
  absl::StatusOr<protocol::MetadataResponse> metadata = co_await Metadata({});
  co_return metadata.status();
}

asio::awaitable<absl::StatusOr<Connection*>> Client::ConnectionTo(int32_t node) {
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  if (node == kAnyBroker) {
    for (auto& [id, conn] : connections_) {
      if (conn->usable()) co_return conn.get();
    }
    if (bootstrap_ && bootstrap_->usable()) co_return bootstrap_.get();
    // Known brokers first, then the bootstrap list.
    std::vector<std::pair<std::string, int32_t>> candidates;
    for (const auto& [id, b] : brokers_) candidates.emplace_back(b.host, b.port);
    for (const std::string& address : options_.bootstrap) {
      if (auto hp = SplitHostPort(address); hp.ok()) candidates.push_back(*hp);
    }
    absl::Status last = absl::UnavailableError("no broker to ask");
    for (const auto& [host, port] : candidates) {
      auto conn = std::make_unique<Connection>(executor_, host, port);
      last = co_await conn->Open(options_.client_id, deadline);
      if (!last.ok()) continue;
      bootstrap_ = std::move(conn);
      co_return bootstrap_.get();
    }
    co_return last;
  }
  auto it = connections_.find(node);
  if (it != connections_.end() && it->second->usable()) co_return it->second.get();
  auto b = brokers_.find(node);
  if (b == brokers_.end())
    co_return absl::NotFoundError(absl::StrCat("broker ", node, " is not in the cluster"));
  auto conn = std::make_unique<Connection>(executor_, b->second.host, b->second.port);
  if (absl::Status s = co_await conn->Open(options_.client_id, deadline); !s.ok()) co_return s;
  Connection* raw = conn.get();
  connections_[node] = std::move(conn);
  co_return raw;
}

asio::awaitable<absl::StatusOr<Client::Exchange>> Client::RoundTrip(int32_t node, int16_t api_key,
                                                                    int16_t max_version, const void* request,
                                                                    Encoder encode) {
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  auto backoff = options_.retry_backoff;
  const protocol::ApiInfo* api = protocol::FindApi(api_key);
  absl::Status last;
  while (true) {
    absl::StatusOr<Connection*> conn = co_await ConnectionTo(node);
    if (conn.ok()) {
      const int16_t theirs = (*conn)->MaxVersion(api_key);
      const int16_t version = std::min(max_version, theirs);
      if (theirs < 0 || (api != nullptr && version < api->min_version)) {
        co_return absl::UnimplementedError(
            absl::StrCat((*conn)->address(), " does not support ", api != nullptr ? api->name : "this API"));
      }
      Exchange e;
      e.version = version;
      std::vector<uint8_t> frame;
      // A field the negotiated version lacks is this program's mistake, not the user's.
      if (absl::Status s = encode(request, version, next_correlation_++, options_.client_id, &frame); !s.ok())
        co_return absl::InternalError(
            absl::StrCat("cannot encode the request for ", (*conn)->address(), ": ", s.message()));
      absl::StatusOr<std::vector<uint8_t>> answer = co_await (*conn)->Exchange(std::move(frame), deadline);
      if (answer.ok()) {
        e.frame = std::move(*answer);
        co_return e;
      }
      last = answer.status();
    } else {
      last = conn.status();
      if (last.code() == absl::StatusCode::kNotFound || last.code() == absl::StatusCode::kInvalidArgument)
        co_return last;
    }
    if (std::chrono::steady_clock::now() + backoff >= deadline) {
      co_return absl::DeadlineExceededError(
          absl::StrCat("gave up after ", options_.timeout.count(), " ms: ", last.message()));
    }
    asio::steady_timer pause(executor_, backoff);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::milliseconds(1000));
  }
}

asio::awaitable<absl::StatusOr<int16_t>> Client::NegotiatedVersion(int32_t node, int16_t api_key,
                                                                   int16_t max_version) {
  absl::StatusOr<Connection*> conn = co_await ConnectionTo(node);
  if (!conn.ok()) co_return conn.status();
  const int16_t theirs = (*conn)->MaxVersion(api_key);
  if (theirs < 0)
    co_return absl::UnimplementedError(absl::StrCat((*conn)->address(), " lacks API ", api_key));
  co_return std::min(max_version, theirs);
}

absl::StatusOr<protocol::ByteView> Client::ResponseBody(const std::vector<uint8_t>& frame, int16_t version,
                                                        int16_t api_key) {
  const protocol::ApiInfo* api = protocol::FindApi(api_key);
  protocol::Reader r(frame.data(), frame.size());
  protocol::ResponseHeader header;
  header.Read(r, protocol::ResponseHeaderVersion(*api, version));
  if (!r.ok()) return absl::DataLossError(absl::StrCat("bad ", api->name, " response header: ", r.error()));
  return protocol::ByteView(r.position(), r.remaining());
}

asio::awaitable<absl::StatusOr<protocol::MetadataResponse>> Client::Metadata(
    const std::vector<std::string>& topics) {
  auto version = co_await VersionFor<protocol::MetadataRequest>(kAnyBroker);
  if (!version.ok()) co_return version.status();
  protocol::MetadataRequest request;
  if (*version >= 4) request.allow_auto_topic_creation = false;  // older brokers never create here
  if (topics.empty()) {
    if (*version >= 1) request.topics = std::nullopt;  // every topic; v0 says so with []
  } else {
    request.topics.emplace();
    for (const std::string& t : topics) request.topics->emplace_back().name = t;
  }
  auto response = co_await Call<protocol::MetadataResponse>(kAnyBroker, request);
  if (!response.ok()) co_return response.status();
  brokers_.clear();
  for (const auto& b : response->brokers) brokers_[b.node_id] = {b.node_id, b.host, b.port, b.rack};
  controller_id_ = response->controller_id;
  cluster_id_ = response->cluster_id.value_or("");
  co_return static_cast<protocol::MetadataResponse&&>(std::move(*response));
}

asio::awaitable<absl::StatusOr<int32_t>> Client::Coordinator(const std::string& group) {
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  auto backoff = options_.retry_backoff;
  while (true) {
    auto version = co_await VersionFor<protocol::FindCoordinatorRequest>(kAnyBroker);
    if (!version.ok()) co_return version.status();
    protocol::FindCoordinatorRequest request;
    request.key_type = 0;
    if (*version >= 4) {
      request.coordinator_keys.push_back(group);  // batched keys from v4
    } else {
      request.key = group;
    }
    auto response = co_await Call<protocol::FindCoordinatorResponse>(kAnyBroker, request);
    if (!response.ok()) co_return response.status();
    int16_t error = response->error_code;
    int32_t node = response->node_id;
    BrokerInfo info{response->node_id, response->host, response->port, std::nullopt};
    if (!response->coordinators.empty()) {
      const auto& c = response->coordinators.front();
      error = c.error_code;
      node = c.node_id;
      info = {c.node_id, c.host, c.port, std::nullopt};
    }
    if (error == 0) {
      if (!brokers_.contains(node)) brokers_[node] = info;
      co_return node;
    }
    if (!IsRetriable(error) || std::chrono::steady_clock::now() + backoff >= deadline)
      co_return KafkaError(error, absl::StrCat("finding the coordinator of group ", group));
    asio::steady_timer pause(executor_, backoff);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace fjord::client
