#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/find_coordinator_request.h"
#include "fjord_protocol/messages/find_coordinator_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Every group and transaction key is coordinated by this node (the leader of every
// `__consumer_offsets` partition while there is one node). v4+ batch the keys.
boost::asio::awaitable<absl::Status> HandleFindCoordinator(RequestContext& c) {
  protocol::FindCoordinatorRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  const Listener self = c.broker.config().advertised_client_listener();
  protocol::FindCoordinatorResponse resp;
  auto answer = [&](int8_t key_type, int16_t* error, std::optional<std::string>* message, int32_t* node,
                    std::string* host, int32_t* port) {
    if (key_type != 0 && key_type != 1) {
      *error = kInvalidRequest;
      *message = "key type " + std::to_string(key_type) + " is not a group (0) or transaction (1) key";
      *node = -1;
      *port = -1;
      return;
    }
    *error = kNone;
    *message = std::nullopt;
    *node = c.broker.config().node_id;
    *host = self.host;
    *port = self.port;
  };
  if (c.version < 4) {
    answer(req.key_type, &resp.error_code, &resp.error_message, &resp.node_id, &resp.host, &resp.port);
  } else {
    for (const std::string& key : req.coordinator_keys) {
      auto& out = resp.coordinators.emplace_back();
      out.key = key;
      answer(req.key_type, &out.error_code, &out.error_message, &out.node_id, &out.host, &out.port);
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
