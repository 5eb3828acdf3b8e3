#include "broker/acl_operations.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/metadata_request.h"
#include "fjord_protocol/messages/metadata_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {

void DescribeTopic(const TopicInfo& t, int32_t node_id,
                   protocol::metadata_response::MetadataResponseTopic* out) {
  out->name = t.name;
  out->topic_id = t.id;
  out->is_internal = IsInternalTopic(t.name);
  for (int32_t p = 0; p < t.partitions; ++p) {
    auto& part = out->partitions.emplace_back();
    part.partition_index = p;
    part.leader_id = node_id;
    part.leader_epoch = 0;
    part.replica_nodes = {node_id};
    part.isr_nodes = {node_id};
  }
}

// Kafka refuses the whole request when a v10 or v11 topic has no name or has an id
// (ids are looked up from v12): its error response names each topic ("" for none) with
// INVALID_REQUEST and carries no brokers, cluster id or controller.
bool RefusedAsKafkaRefusesIt(const protocol::MetadataRequest& req, int16_t version,
                             protocol::MetadataResponse* resp) {
  if (version >= 12 || !req.topics.has_value()) return false;
  if (std::none_of(req.topics->begin(), req.topics->end(),
                   [](const auto& t) { return !t.name.has_value() || !t.topic_id.is_zero(); })) {
    return false;
  }
  for (const auto& rt : *req.topics) {
    auto& out = resp->topics.emplace_back();
    out.name = rt.name.value_or("");
    out.topic_id = rt.topic_id;
    out.error_code = kInvalidRequest;
  }
  return true;
}

}  // namespace

boost::asio::awaitable<absl::Status> HandleMetadata(RequestContext& c) {
  protocol::MetadataRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  if (protocol::MetadataResponse refused; RefusedAsKafkaRefusesIt(req, c.version, &refused)) {
    co_return protocol::AppendResponseFrame(refused, c.version, c.header.correlation_id, c.response);
  }
  const BrokerConfig& config = c.broker.config();
  const Listener advertised = config.advertised_client_listener();
  protocol::MetadataResponse resp;
  auto& b = resp.brokers.emplace_back();
  b.node_id = config.node_id;
  b.host = advertised.host;
  b.port = advertised.port;
  auto image = c.broker.metadata().Current();
  resp.cluster_id = image->cluster_id;
  resp.controller_id = image->controller_id;

  // v0: an empty list means all topics; v1+: null means all, empty means none.
  const bool all = !req.topics.has_value() || (c.version == 0 && req.topics->empty());
  if (all) {
    for (const auto& [name, t] : image->topics) DescribeTopic(t, config.node_id, &resp.topics.emplace_back());
  } else {
    const bool may_create =
        config.auto_create_topics_enable && (c.version < 4 || req.allow_auto_topic_creation);
    for (const auto& rt : *req.topics) {
      auto& out = resp.topics.emplace_back();
      const TopicInfo* t = nullptr;
      if (rt.name.has_value()) {
        t = image->Find(*rt.name);
      } else {
        t = image->FindById(rt.topic_id);
        if (t == nullptr) {  // as Kafka: no name for an id it does not know
          out.name = std::nullopt;
          out.topic_id = rt.topic_id;
          out.error_code = kUnknownTopicId;
          continue;
        }
      }
      if (t != nullptr) {
        DescribeTopic(*t, config.node_id, &out);
        continue;
      }
      out.name = *rt.name;
      if (!ValidateTopicName(*rt.name).ok()) {
        out.error_code = kInvalidTopicException;
        continue;
      }
      if (!may_create) {
        out.error_code = kUnknownTopicOrPartition;
        continue;
      }
      CreateTopicRequest create;
      create.name = *rt.name;
      auto created = co_await c.broker.RunBlocking([&] { return c.broker.metadata().CreateTopic(create); });
      if (created.ok()) {
        DescribeTopic(*created, config.node_id, &out);
      } else if (created.status().code() == absl::StatusCode::kAlreadyExists) {
        if (const TopicInfo* now = c.broker.metadata().Current()->Find(*rt.name))
          DescribeTopic(*now, config.node_id, &out);
      } else if (created.status().code() == absl::StatusCode::kInvalidArgument) {
        out.error_code = kInvalidTopicException;  // its name collides with a topic's
      } else {
        out.error_code = kUnknownServerError;
      }
    }
  }
  // Left at Kafka's "not asked for" (INT32_MIN) unless asked for (v8+).
  if (req.include_topic_authorized_operations) {
    for (auto& t : resp.topics) t.topic_authorized_operations = kTopicOperations;
  }
  if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = kClusterOperations;
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
