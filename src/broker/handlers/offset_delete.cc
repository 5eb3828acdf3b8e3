#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/offset_delete_request.h"
#include "fjord_protocol/messages/offset_delete_response.h"
#include "group/coordinator.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// KIP-496: deletes a group's committed offsets, unless its members subscribe to the
// topic (GROUP_SUBSCRIBED_TO_TOPIC).
boost::asio::awaitable<absl::Status> HandleOffsetDelete(RequestContext& c) {
  protocol::OffsetDeleteRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  auto image = c.broker.metadata().Current();
  std::vector<std::pair<std::string, int32_t>> partitions;
  protocol::OffsetDeleteResponse resp;
  std::vector<int16_t*> slots;
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
    }
  }
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    const TopicInfo* topic = image->Find(req.topics[ti].name);
    for (size_t pi = 0; pi < req.topics[ti].partitions.size(); ++pi) {
      auto& rp = resp.topics[ti].partitions[pi];
      if (!HasPartition(topic, rp.partition_index)) {
        rp.error_code = kUnknownTopicOrPartition;
        continue;
      }
      partitions.emplace_back(req.topics[ti].name, rp.partition_index);
      slots.push_back(&rp.error_code);
    }
  }
  struct Outcome {
    int16_t group_error = 0;
    std::vector<int16_t> errors;
  };
  Outcome outcome = co_await OnGroupCoordinator<Outcome>(
      c, req.group_id, [&](group::GroupCoordinator& gc, std::function<void(Outcome)> done) {
        Outcome o;
        o.errors = gc.DeleteOffsets(req.group_id, partitions, &o.group_error);
        done(std::move(o));
      });
  resp.error_code = outcome.group_error;
  if (outcome.group_error == 0) {
    for (size_t i = 0; i < slots.size(); ++i) *slots[i] = outcome.errors[i];
  } else {
    resp.topics.clear();
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
