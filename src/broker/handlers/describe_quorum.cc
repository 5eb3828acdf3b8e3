// DescribeQuorum, as Kafka's brokers answer it by asking the controllers: the metadata
// quorum's leader, epoch, high watermark and each voter's and observer's log end
// offset, as the leader sees them.
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/describe_quorum_request.h"
#include "fjord_protocol/messages/describe_quorum_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {

constexpr char kMetadataTopic[] = "__cluster_metadata";

// Exactly one topic, the metadata log, with exactly its partition 0 (Kafka's check).
bool AsksForTheMetadataPartition(const protocol::DescribeQuorumRequest& req) {
  return req.topics.size() == 1 && req.topics[0].topic_name == kMetadataTopic &&
         req.topics[0].partitions.size() == 1 && req.topics[0].partitions[0].partition_index == 0;
}

}  // namespace

boost::asio::awaitable<absl::Status> HandleDescribeQuorum(RequestContext& c) {
  protocol::DescribeQuorumRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::DescribeQuorumResponse resp;
  resp.error_message = std::nullopt;
  auto answer = [&](const std::string& topic, int32_t partition, int16_t error) -> auto& {
    if (resp.topics.empty() || resp.topics.back().topic_name != topic)
      resp.topics.emplace_back().topic_name = topic;
    auto& p = resp.topics.back().partitions.emplace_back();
    p.partition_index = partition;
    p.error_code = error;
    p.error_message = std::nullopt;
    return p;
  };
  if (!AsksForTheMetadataPartition(req)) {
    for (const auto& t : req.topics) {
      for (const auto& p : t.partitions) answer(t.topic_name, p.partition_index, kUnknownTopicOrPartition);
    }
    co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
  }
  absl::StatusOr<QuorumDescription> quorum =
      co_await c.broker.RunBlocking([&] { return c.broker.metadata().DescribeQuorum(); });
  if (!quorum.ok()) {
    if (quorum.status().code() == absl::StatusCode::kFailedPrecondition) {
      resp.error_code = kUnknownServerError;
    } else {
      answer(kMetadataTopic, 0, kNotLeaderOrFollower);
    }
    if (c.version >= 2) resp.error_message = std::string(quorum.status().message());
    co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
  }
  auto& p = answer(kMetadataTopic, 0, kNone);
  p.leader_id = quorum->leader_id;
  p.leader_epoch = static_cast<int32_t>(quorum->leader_epoch);
  p.high_watermark = quorum->high_watermark;
  const int64_t now = NowMs();
  for (const auto& [in, out] :
       {std::pair{&quorum->voters, &p.current_voters}, std::pair{&quorum->observers, &p.observers}}) {
    for (const QuorumDescription::Replica& r : *in) {
      auto& state = out->emplace_back();
      state.replica_id = r.id;
      state.log_end_offset = r.log_end_offset;
      // As Kafka: the leader reports no fetch time and itself caught up now; a
      // follower's "fetch" is its last answer to the leader's appends.
      const bool leader = r.id == quorum->leader_id;
      state.last_fetch_timestamp = leader ? -1 : r.last_fetch_ms;
      state.last_caught_up_timestamp = leader ? now : r.last_caught_up_ms;
    }
  }
  if (c.version < 2)
    co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
  const std::string listener = c.broker.config().controller_listener_names.empty()
                                   ? "CONTROLLER"
                                   : c.broker.config().controller_listener_names[0];
  for (const auto& [id, endpoint] : quorum->voter_endpoints) {
    auto& node = resp.nodes.emplace_back();
    node.node_id = id;
    node.listeners.push_back({listener, endpoint.first, endpoint.second, {}});
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
