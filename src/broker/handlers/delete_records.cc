#include "absl/strings/str_cat.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "broker/topic_configs.h"
#include "fjord_protocol/messages/delete_records_request.h"
#include "fjord_protocol/messages/delete_records_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Moves each partition's log start offset; offset -1 means the high watermark. As in
// Kafka: not on an internal topic, not on one whose cleanup.policy lacks "delete" (its
// records go only by compaction), and not to a negative offset.
boost::asio::awaitable<absl::Status> HandleDeleteRecords(RequestContext& c) {
  protocol::DeleteRecordsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  auto image = c.broker.metadata().Current();
  protocol::DeleteRecordsResponse resp;
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    const TopicInfo* topic = image->Find(t.name);
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      if (!HasPartition(topic, p.partition_index)) {
        rp.error_code = kUnknownTopicOrPartition;
        continue;
      }
      if (IsInternalTopic(t.name)) {
        rp.error_code = kInvalidTopicException;
        continue;
      }
      if (!EffectiveLogConfig(*c.broker.effective_config(), topic).delete_retention) {
        rp.error_code = kPolicyViolation;
        continue;
      }
      const TopicPartition tp{t.name, p.partition_index};
      auto low = co_await OnPartitionLog<int64_t>(
          c, topic, tp, [&](log::PartitionLog& log) -> absl::StatusOr<int64_t> {
            const int64_t to = p.offset == -1 ? log.high_watermark() : p.offset;
            if (to < 0) return absl::OutOfRangeError(absl::StrCat("the offset ", to, " is not valid"));
            return log.AdvanceLogStart(to);
          });
      if (!low.ok()) {
        rp.error_code = ToKafkaError(low.status());
        continue;
      }
      rp.low_watermark = *low;
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
