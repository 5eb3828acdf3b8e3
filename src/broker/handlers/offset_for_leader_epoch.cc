#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/offset_for_leader_epoch_request.h"
#include "fjord_protocol/messages/offset_for_leader_epoch_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Where each requested leader epoch ended (consumers validate their position after a
// leader change, KIP-320; followers find where to truncate, KIP-101).
boost::asio::awaitable<absl::Status> HandleOffsetForLeaderEpoch(RequestContext& c) {
  protocol::OffsetForLeaderEpochRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  auto image = c.broker.metadata().Current();
  protocol::OffsetForLeaderEpochResponse resp;
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.topic = t.topic;
    const TopicInfo* topic = image->Find(t.topic);
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition = p.partition;
      if (!HasPartition(topic, p.partition)) {
        rp.error_code = kUnknownTopicOrPartition;
        continue;
      }
      struct Answer {
        int16_t error;
        std::pair<int32_t, int64_t> end;
      };
      const TopicPartition tp{t.topic, p.partition};
      auto answer = co_await OnPartitionLog<Answer>(c, topic, tp, [&](log::PartitionLog& log) {
        const int16_t error = CurrentLeaderEpochError(p.current_leader_epoch, log.leader_epoch());
        if (error != kNone) return Answer{error, {-1, -1}};
        return Answer{kNone, log.EndOffsetForEpoch(p.leader_epoch)};
      });
      if (!answer.ok()) {
        rp.error_code = ToKafkaError(answer.status());
        continue;
      }
      rp.error_code = answer->error;
      if (c.version >= 1) rp.leader_epoch = answer->end.first;
      rp.end_offset = answer->end.second;
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
