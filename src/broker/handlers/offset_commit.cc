#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/offset_commit_request.h"
#include "fjord_protocol/messages/offset_commit_response.h"
#include "group/coordinator.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Offsets are written to the group's `__consumer_offsets` partition before the
// answer. Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION.
boost::asio::awaitable<absl::Status> HandleOffsetCommit(RequestContext& c) {
  protocol::OffsetCommitRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  auto image = c.broker.metadata().Current();
  group::CommitRequest commit;
  commit.group_id = req.group_id;
  commit.generation = c.version >= 1 ? req.generation_id_or_member_epoch : -1;
  commit.member_id = req.member_id;
  commit.instance_id = req.group_instance_id;
  protocol::OffsetCommitResponse resp;
  std::vector<int16_t*> slots;  // response error of each partition sent to the coordinator
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    const TopicInfo* topic = image->Find(t.name);
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      if (!HasPartition(topic, p.partition_index)) rp.error_code = kUnknownTopicOrPartition;
    }
  }
  // Second pass: pointers into resp are stable now.
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    const auto& t = req.topics[ti];
    for (size_t pi = 0; pi < t.partitions.size(); ++pi) {
      auto& rp = resp.topics[ti].partitions[pi];
      if (rp.error_code != kNone) continue;
      const auto& p = t.partitions[pi];
      commit.partitions.push_back({t.name, p.partition_index, p.committed_offset,
                                   c.version >= 6 ? p.committed_leader_epoch : -1,
                                   p.committed_metadata.value_or("")});
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
        o.errors = gc.Commit(commit, &o.group_error);
        done(std::move(o));
      });
  for (size_t i = 0; i < slots.size(); ++i)
    *slots[i] = outcome.group_error != 0 ? outcome.group_error : outcome.errors[i];
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
