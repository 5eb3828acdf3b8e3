#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/describe_producers_request.h"
#include "fjord_protocol/messages/describe_producers_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// The idempotent producers each partition holds state for (KIP-664).
boost::asio::awaitable<absl::Status> HandleDescribeProducers(RequestContext& c) {
  protocol::DescribeProducersRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  auto image = c.broker.metadata().Current();
  protocol::DescribeProducersResponse resp;
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    const TopicInfo* topic = image->Find(t.name);
    for (int32_t index : t.partition_indexes) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = index;
      if (!HasPartition(topic, index)) {
        rp.error_code = kUnknownTopicOrPartition;
        continue;
      }
      const TopicPartition tp{t.name, index};
      auto producers = co_await OnPartitionLog<std::vector<log::ProducerSummary>>(
          c, topic, tp, [](log::PartitionLog& log) { return log.ActiveProducers(); });
      if (!producers.ok()) {
        rp.error_code = ToKafkaError(producers.status());
        rp.error_message = std::string(producers.status().message());
        continue;
      }
      for (const log::ProducerSummary& p : *producers) {
        auto& out = rp.active_producers.emplace_back();
        out.producer_id = p.producer_id;
        out.producer_epoch = p.epoch;
        out.last_sequence = p.last_seq;
        out.last_timestamp = p.last_timestamp;
        out.coordinator_epoch = -1;         // no transaction coordinator has touched it
        out.current_txn_start_offset = -1;  // no open transaction
      }
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
