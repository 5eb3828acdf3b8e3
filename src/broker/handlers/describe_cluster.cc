#include "broker/acl_operations.h"
#include "broker/handlers/handlers.h"
#include "fjord_protocol/messages/describe_cluster_request.h"
#include "fjord_protocol/messages/describe_cluster_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

boost::asio::awaitable<absl::Status> HandleDescribeCluster(RequestContext& c) {
  protocol::DescribeClusterRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  const BrokerConfig& config = c.broker.config();
  auto image = c.broker.metadata().Current();
  protocol::DescribeClusterResponse resp;
  resp.cluster_id = image->cluster_id;
  resp.controller_id = image->controller_id;
  // v1 asks for brokers (endpoint type 1) or controllers (2); controllers are not a
  // separate quorum yet, so only brokers are listed.
  if (req.endpoint_type != 2) {
    const Listener adv = config.advertised_client_listener();
    auto& b = resp.brokers.emplace_back();
    b.broker_id = config.node_id;
    b.host = adv.host;
    b.port = adv.port;
  }
  resp.endpoint_type = req.endpoint_type;
  if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = kClusterOperations;
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
