#include "absl/strings/str_cat.h"
#include "broker/acl_operations.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/describe_cluster_request.h"
#include "fjord_protocol/messages/describe_cluster_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {
constexpr int8_t kBrokerEndpoint = 1;
constexpr int8_t kControllerEndpoint = 2;
}  // namespace

boost::asio::awaitable<absl::Status> HandleDescribeCluster(RequestContext& c) {
  protocol::DescribeClusterRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  const BrokerConfig& config = c.broker.config();
  auto image = c.broker.metadata().Current();
  protocol::DescribeClusterResponse resp;
  // KIP-919 (v1): a broker's listener answers for brokers (endpoint type 1); controllers
  // (2) are asked on theirs, and Kafka's broker says so. Any other type is unknown.
  if (req.endpoint_type != kBrokerEndpoint) {
    const bool controllers = req.endpoint_type == kControllerEndpoint;
    // (v0 has no endpoint type: it asks for brokers.)
    resp.error_code = controllers ? kMismatchedEndpointType : kUnsupportedEndpointType;
    resp.error_message =
        controllers ? "The request was sent to an endpoint of type BROKER, but we wanted an "
                      "endpoint of type CONTROLLER"
                    : absl::StrCat("Unsupported endpoint type ", static_cast<int>(req.endpoint_type));
    co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
  }
  resp.cluster_id = image->cluster_id;
  resp.controller_id = image->controller_id;
  const Listener adv = config.advertised_client_listener();
  auto& b = resp.brokers.emplace_back();
  b.broker_id = config.node_id;
  b.host = adv.host;
  b.port = adv.port;
  resp.endpoint_type = req.endpoint_type;
  if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = kClusterOperations;
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
