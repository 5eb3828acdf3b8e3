#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/config_sources.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "broker/topic_configs.h"
#include "fjord_protocol/messages/create_topics_request.h"
#include "fjord_protocol/messages/create_topics_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {

constexpr char kMetadataLogTopic[] = "__cluster_metadata";

int16_t CreateError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return kInvalidTopicException;
    case absl::StatusCode::kAlreadyExists:
      return kTopicAlreadyExists;
    case absl::StatusCode::kOutOfRange:
      return kInvalidPartitions;
    case absl::StatusCode::kFailedPrecondition:
      return kInvalidReplicationFactor;
    case absl::StatusCode::kResourceExhausted:
      return kPolicyViolation;
    default:
      return ToKafkaError(s);
  }
}

// As Kafka's controller answers v5+: every config the new topic has, its value and where
// that comes from (the request's configs, else the broker's synonyms, else Kafka's
// default), so that a client learns the topic's settings without DescribeConfigs.
std::vector<protocol::create_topics_response::CreatableTopicConfigs> NewTopicConfigs(
    const BrokerConfig& broker, const std::map<std::string, std::string>& configs) {
  TopicInfo topic;
  topic.configs = configs;
  std::vector<protocol::create_topics_response::CreatableTopicConfigs> out;
  for (const TopicConfigSpec& spec : TopicConfigSpecs()) {
    auto& e = out.emplace_back();
    e.name = spec.name;
    e.value = EffectiveTopicConfig(broker, &topic, spec.name);
    e.read_only = false;
    e.config_source = SourceOf(TopicConfigSynonyms(broker, configs, spec));
    e.is_sensitive = false;
  }
  return out;
}

}  // namespace

boost::asio::awaitable<absl::Status> HandleCreateTopics(RequestContext& c) {
  protocol::CreateTopicsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::CreateTopicsResponse resp;
  const int32_t node = c.broker.config().node_id;
  std::vector<std::string_view> names;
  for (const auto& t : req.topics) names.push_back(t.name);
  const auto repeated = Repeated(names);
  // As Kafka's controller, the cap holds for the request as a whole: all or none.
  int64_t new_partitions = 0;
  for (const auto& t : req.topics) {
    if (repeated.contains(t.name)) continue;
    if (!t.assignments.empty()) {
      new_partitions += static_cast<int64_t>(t.assignments.size());
    } else {
      new_partitions +=
          t.num_partitions == -1 ? c.broker.config().num_partitions : std::max(t.num_partitions, 0);
    }
  }
  const absl::Status too_many = metadata::ValidateNewPartitionCount(new_partitions);
  for (const auto& t : req.topics) {
    if (repeated.contains(t.name)) continue;
    auto& out = resp.topics.emplace_back();
    out.name = t.name;
    if (!too_many.ok()) {
      out.error_code = kPolicyViolation;
      out.error_message = std::string(too_many.message());
      continue;
    }
    if (t.name == kMetadataLogTopic) {  // Kafka's metadata log's name: Kafka refuses it too
      out.error_code = kInvalidRequest;
      out.error_message = absl::StrCat("Creation of internal topic ", kMetadataLogTopic, " is prohibited.");
      continue;
    }
    CreateTopicRequest create;
    create.name = t.name;
    create.partitions = t.num_partitions;
    create.replication_factor = t.replication_factor;
    create.validate_only = req.validate_only;
    absl::Status config_error;
    std::vector<std::string> null_values;
    for (const auto& cfg : t.configs) {
      if (!cfg.value) {
        null_values.push_back(cfg.name);
        continue;
      }
      if (absl::Status s = ValidateTopicConfig(cfg.name, *cfg.value); !s.ok() && config_error.ok())
        config_error = s;
      create.configs[cfg.name] = *cfg.value;
    }
    if (!null_values.empty()) {  // Kafka's controller refuses them so, in these words
      config_error = absl::InvalidArgumentError(
          absl::StrCat("Null value not supported for topic configs: ", absl::StrJoin(null_values, ",")));
    }
    if (!config_error.ok()) {
      out.error_code = kInvalidConfig;
      out.error_message = std::string(config_error.message());
      continue;
    }
    if (!t.assignments.empty()) {  // Kafka's checks and words, in Kafka's order
      if (t.replication_factor != -1 || t.num_partitions != -1) {
        out.error_code = kInvalidRequest;
        out.error_message = absl::StrCat("A manual partition assignment was specified, but ",
                                         t.replication_factor != -1 ? "replication factor" : "numPartitions",
                                         " was not set to -1.");
        continue;
      }
      std::set<int32_t> indexes;
      std::optional<std::string> error;
      for (const auto& a : t.assignments) {
        if (!indexes.insert(a.partition_index).second && !error) {
          error =
              absl::StrCat("Found multiple manual partition assignments for partition ", a.partition_index);
        }
      }
      if (!error) error = ManualAssignmentError(t.assignments, node, std::nullopt);
      if (!error &&
          (*indexes.begin() != 0 || *indexes.rbegin() != static_cast<int32_t>(indexes.size()) - 1)) {
        error = "partitions should be a consecutive 0-based integer sequence";
      }
      if (error) {
        out.error_code = kInvalidReplicaAssignment;
        out.error_message = std::move(*error);
        continue;
      }
      create.partitions = static_cast<int32_t>(t.assignments.size());
      create.replication_factor = static_cast<int16_t>(t.assignments.front().broker_ids.size());
    }
    auto created = co_await c.broker.RunBlocking([&] { return c.broker.metadata().CreateTopic(create); });
    if (!created.ok()) {
      out.error_code = CreateError(created.status());
      out.error_message = std::string(created.status().message());
      continue;
    }
    out.error_message = std::nullopt;  // Kafka's null, not "", for a topic created
    out.topic_id = created->id;
    out.num_partitions = created->partitions;
    out.replication_factor = created->replication_factor;
    out.configs = NewTopicConfigs(*c.broker.effective_config(), create.configs);
  }
  for (std::string_view name : repeated) {
    auto& out = resp.topics.emplace_back();
    out.name = std::string(name);
    out.error_code = kInvalidRequest;
    out.error_message = std::string(kDuplicateTopicName);
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
