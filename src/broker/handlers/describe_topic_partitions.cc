#include <algorithm>

#include "broker/acl_operations.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/describe_topic_partitions_request.h"
#include "fjord_protocol/messages/describe_topic_partitions_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {
// Kafka's max.request.partition.size.limit default.
constexpr int32_t kMaxPartitionsPerResponse = 2000;
}  // namespace

// KIP-966's paginated topic description, paged as Kafka's KRaftMetadataCache pages it:
// topics by name from the cursor on, at most response_partition_limit partitions per
// response. A topic the budget cannot give a partition to is left out; the cursor then
// names it at partition 0.
boost::asio::awaitable<absl::Status> HandleDescribeTopicPartitions(RequestContext& c) {
  protocol::DescribeTopicPartitionsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  auto image = c.broker.metadata().Current();
  const int32_t node = c.broker.config().node_id;
  const bool all_topics = req.topics.empty();
  const std::string* cursor_topic = req.cursor ? &req.cursor->topic_name : nullptr;
  std::vector<std::string> names;
  if (all_topics) {
    for (const auto& [name, t] : image->topics) {
      if (cursor_topic == nullptr || name >= *cursor_topic) names.push_back(name);
    }
  } else {
    for (const auto& t : req.topics) {
      if (cursor_topic == nullptr || t.name >= *cursor_topic) names.push_back(t.name);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    // Kafka refuses a cursor into a topic the request does not name: every named topic
    // gets INVALID_REQUEST.
    if (cursor_topic != nullptr && !std::binary_search(names.begin(), names.end(), *cursor_topic)) {
      protocol::DescribeTopicPartitionsResponse refused;
      for (const auto& t : req.topics) {
        auto& out = refused.topics.emplace_back();
        out.name = t.name;
        out.error_code = kInvalidRequest;
      }
      co_return protocol::AppendResponseFrame(refused, c.version, c.header.correlation_id, c.response);
    }
  }
  // Kafka takes the smaller of the request's limit and its own; it would also take a
  // limit below 1 and answer no partition with a cursor that never moves.
  int32_t budget = std::clamp(req.response_partition_limit, 1, kMaxPartitionsPerResponse);
  protocol::DescribeTopicPartitionsResponse resp;
  for (const std::string& name : names) {
    if (budget == 0) {
      resp.next_cursor = protocol::describe_topic_partitions_response::Cursor{name, 0, {}};
      break;
    }
    const TopicInfo* t = image->Find(name);
    if (t == nullptr) {  // only a name the request gave: all topics come from the image
      auto& out = resp.topics.emplace_back();
      out.name = name;
      out.error_code = ValidateTopicName(name).ok() ? kUnknownTopicOrPartition : kInvalidTopicException;
      out.is_internal = IsInternalTopic(name);
      continue;
    }
    auto& out = resp.topics.emplace_back();
    out.name = name;
    out.topic_id = t->id;
    out.topic_authorized_operations = kTopicOperations;  // always, as Kafka
    out.is_internal = IsInternalTopic(name);
    const int32_t first =
        cursor_topic != nullptr && name == *cursor_topic ? std::max(0, req.cursor->partition_index) : 0;
    const int32_t end = static_cast<int32_t>(std::min<int64_t>(t->partitions, int64_t{first} + budget));
    for (int32_t p = first; p < end; ++p) {
      auto& part = out.partitions.emplace_back();
      part.partition_index = p;
      part.leader_id = node;
      part.leader_epoch = 0;
      part.replica_nodes = {node};
      part.isr_nodes = {node};
      part.eligible_leader_replicas = std::vector<int32_t>{};
      part.last_known_elr = std::vector<int32_t>{};
    }
    budget -= std::max(0, end - first);
    if (end < t->partitions) {
      resp.next_cursor = protocol::describe_topic_partitions_response::Cursor{name, end, {}};
      break;
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
