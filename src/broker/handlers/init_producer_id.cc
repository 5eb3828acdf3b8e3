#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/init_producer_id_request.h"
#include "fjord_protocol/messages/init_producer_id_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Idempotent producers only: a transactional id needs the transaction coordinator,
// which does not exist yet, and is refused with INVALID_REQUEST (not a retriable code,
// so the client stops instead of retrying forever).
boost::asio::awaitable<absl::Status> HandleInitProducerId(RequestContext& c) {
  protocol::InitProducerIdRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::InitProducerIdResponse resp;
  if (req.transactional_id.has_value()) {
    resp.error_code = kInvalidRequest;
  } else if (req.producer_id >= 0 && req.producer_epoch >= 0 && req.producer_epoch < 32766) {
    // KIP-360: an idempotent producer that lost its state bumps its epoch.
    resp.producer_id = req.producer_id;
    resp.producer_epoch = static_cast<int16_t>(req.producer_epoch + 1);
  } else {
    auto id = c.broker.NextProducerId();
    if (!id.ok()) {
      resp.error_code = ToKafkaError(id.status());
    } else {
      resp.producer_id = *id;
      resp.producer_epoch = 0;
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
