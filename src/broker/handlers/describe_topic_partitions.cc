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

// KIP-966's paginated topic description: topics by name, at most
// response_partition_limit partitions per response, continued from a cursor.
boost::asio::awaitable<absl::Status> HandleDescribeTopicPartitions(RequestContext& c) {
  protocol::DescribeTopicPartitionsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  auto image = c.broker.metadata().Current();
  const int32_t node = c.broker.config().node_id;
  std::vector<std::string> names;
  if (req.topics.empty()) {
    for (const auto& [name, t] : image->topics) names.push_back(name);
  } else {
    for (const auto& t : req.topics) names.push_back(t.name);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
  }
  int32_t budget = std::clamp(req.response_partition_limit, 1, kMaxPartitionsPerResponse);
  protocol::DescribeTopicPartitionsResponse resp;
  for (const std::string& name : names) {
    int32_t first = 0;
    if (req.cursor) {
      if (name < req.cursor->topic_name) continue;
      if (name == req.cursor->topic_name) first = std::max(0, req.cursor->partition_index);
    }
    auto& out = resp.topics.emplace_back();
    out.name = name;
    const TopicInfo* t = image->Find(name);
    if (t == nullptr) {
      out.error_code = kUnknownTopicOrPartition;
      continue;
    }
    out.topic_id = t->id;
    out.topic_authorized_operations = kTopicOperations;  // always, as Kafka
    out.is_internal = name == "__consumer_offsets" || name == "__transaction_state";
    for (int32_t p = first; p < t->partitions; ++p) {
      if (budget == 0) {
        resp.next_cursor = protocol::describe_topic_partitions_response::Cursor{name, p, {}};
        break;
      }
      --budget;
      auto& part = out.partitions.emplace_back();
      part.partition_index = p;
      part.leader_id = node;
      part.leader_epoch = 0;
      part.replica_nodes = {node};
      part.isr_nodes = {node};
      part.eligible_leader_replicas = std::vector<int32_t>{};
      part.last_known_elr = std::vector<int32_t>{};
    }
    if (resp.next_cursor) break;
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
