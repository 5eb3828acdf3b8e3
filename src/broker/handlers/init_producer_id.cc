#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/init_producer_id_request.h"
#include "fjord_protocol/messages/init_producer_id_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Idempotent producers only: a transactional id needs the transaction coordinator,
// which does not exist yet, and is refused with INVALID_REQUEST. The Java client fails
// at once on it; librdkafka retries every 500 ms until init_transactions times out,
// then reports "Failed to initialize Producer ID: Broker: Invalid request" (the codes
// it would fail on at once name an authorization or a timeout that are not the cause).
// A v3+ request (KIP-360) names a producer id and epoch both or neither: one without
// the other is INVALID_REQUEST, as Kafka's KafkaApis refuses it before its coordinator
// sees it. As Kafka, the pair is otherwise ignored without a transactional id: taking
// it up would let a client claim an id the controller never handed out, or bump the
// epoch of another producer's id and fence it.
boost::asio::awaitable<absl::Status> HandleInitProducerId(RequestContext& c) {
  protocol::InitProducerIdRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::InitProducerIdResponse resp;
  if ((req.producer_id == -1) != (req.producer_epoch == -1) || req.transactional_id.has_value()) {
    resp.error_code = kInvalidRequest;
  } else {
    auto id = co_await c.broker.RunBlocking([&] { return c.broker.NextProducerId(); });
    if (!id.ok()) {
      resp.error_code = ToKafkaError(id.status());
    } else {
      resp.producer_id = *id;
      resp.producer_epoch = 0;
    }
  }
  if (resp.error_code != kNone) resp.producer_epoch = -1;  // as Kafka's error answer: no id, no epoch
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
