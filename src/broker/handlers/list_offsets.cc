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

// One partition's answer, as Kafka's: the offset, the timestamp of its record (-1 for
// the special ones but the max timestamp) and the leader epoch it was written in (the
// current one for the latest offset); all -1 when nothing matches.
struct Found {
  int16_t error = kNone;  // the client's current leader epoch refused
  int64_t offset = -1;
  int64_t timestamp = -1;
  int32_t leader_epoch = -1;
};

absl::StatusOr<Found> Lookup(log::PartitionLog& log, int64_t ts, int32_t current_leader_epoch) {
  if (int16_t error = CurrentLeaderEpochError(current_leader_epoch, log.leader_epoch()); error != kNone) {
    return Found{error};
  }
  if (ts == kLatest) return Found{kNone, log.high_watermark(), -1, log.leader_epoch()};
  if (ts == kLatestTiered) return Found{};                     // nothing is tiered yet
  std::pair<int64_t, int64_t> at{log.log_start_offset(), -1};  // kEarliest, kEarliestLocal
  if (ts == kMaxTimestamp) {
    absl::StatusOr<std::pair<int64_t, int64_t>> max = log.MaxTimestampOffset();
    if (!max.ok()) return max.status();
    at = *max;
  } else if (ts >= 0) {
    absl::StatusOr<std::pair<int64_t, int64_t>> first = log.OffsetForTimestamp(ts);
    if (!first.ok()) return first.status();
    at = *first;
  } else if (ts != kEarliest && ts != kEarliestLocal) {
    return absl::InvalidArgumentError("unknown special timestamp");
  }
  return Found{kNone, at.first, at.second, log.EpochOf(at.first)};
}

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
      auto found = co_await OnPartitionLog<Found>(c, topic, tp, [&](log::PartitionLog& log) {
        return Lookup(log, p.timestamp, p.current_leader_epoch);
      });
      if (!found.ok()) {
        rp.error_code = found.status().code() == absl::StatusCode::kInvalidArgument
                            ? static_cast<int16_t>(kInvalidRequest)
                            : ToKafkaError(found.status());
        continue;
      }
      rp.error_code = found->error;
      if (found->error != kNone) continue;
      if (c.version == 0) {
        if (found->offset >= 0) rp.old_style_offsets = {found->offset};
      } else {
        rp.offset = found->offset;
        rp.timestamp = found->timestamp;
      }
      if (c.version >= 4) rp.leader_epoch = found->leader_epoch;
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
