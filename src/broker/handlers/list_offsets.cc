#include <string_view>
#include <utility>
#include <vector>

#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "broker/topic_configs.h"
#include "fjord_protocol/messages/list_offsets_request.h"
#include "fjord_protocol/messages/list_offsets_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {
constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
constexpr int64_t kMaxTimestamp = -3;
// KIP-405 and KIP-1005, for tiered storage: the first offset on local disk, and the
// last offset in the remote tier. With no tier yet, all of a log is local.
constexpr int64_t kEarliestLocal = -4;
constexpr int64_t kLatestTiered = -5;
}  // namespace

boost::asio::awaitable<absl::Status> HandleListOffsets(RequestContext& c) {
  protocol::ListOffsetsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  auto image = c.broker.metadata().Current();
  // Kafka answers INVALID_REQUEST for every entry of a partition asked for twice (v1+):
  // two answers for one partition could not be told apart.
  std::vector<std::pair<std::string_view, int32_t>> asked;
  for (const auto& t : req.topics) {
    for (const auto& p : t.partitions) asked.emplace_back(t.name, p.partition_index);
  }
  const auto twice = Repeated(asked);
  protocol::ListOffsetsResponse resp;
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    const TopicInfo* topic = image->Find(t.name);
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      if (c.version >= 1 && twice.contains({t.name, p.partition_index})) {
        rp.error_code = kInvalidRequest;
        continue;
      }
      if (!HasPartition(topic, p.partition_index)) {
        rp.error_code = kUnknownTopicOrPartition;
        continue;
      }
      if (p.timestamp == kMaxTimestamp && c.version < 7) {
        rp.error_code = kUnsupportedVersion;
        continue;
      }
      const TopicPartition tp{t.name, p.partition_index};
      auto found = co_await OnPartitionLog<std::pair<int64_t, int64_t>>(
          c, topic, tp, [&](log::PartitionLog& log) -> absl::StatusOr<std::pair<int64_t, int64_t>> {
            const int64_t ts = p.timestamp;
            if (ts == kEarliest) return std::make_pair(log.log_start_offset(), int64_t{-1});
            if (ts == kLatest) return std::make_pair(log.high_watermark(), int64_t{-1});
            if (ts == kMaxTimestamp) return log.MaxTimestampOffset();
            if (ts == kEarliestLocal) return std::make_pair(log.log_start_offset(), int64_t{-1});
            if (ts == kLatestTiered) return std::make_pair(int64_t{-1}, int64_t{-1});  // nothing tiered
            if (ts < 0) return absl::InvalidArgumentError("unknown special timestamp");
            return log.OffsetForTimestamp(ts);
          });
      if (!found.ok()) {
        rp.error_code = found.status().code() == absl::StatusCode::kInvalidArgument
                            ? static_cast<int16_t>(kInvalidRequest)
                            : ToKafkaError(found.status());
        continue;
      }
      if (c.version == 0) {
        if (found->first >= 0) rp.old_style_offsets = {found->first};
      } else {
        rp.offset = found->first;
        rp.timestamp = found->second;
      }
      if (c.version >= 4) rp.leader_epoch = 0;
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
