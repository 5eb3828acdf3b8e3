#include "broker/broker_loggers.h"
#include "broker/config_alter.h"
#include "broker/config_docs.h"
#include "broker/config_sources.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "broker/topic_configs.h"
#include "fjord_protocol/messages/describe_configs_request.h"
#include "fjord_protocol/messages/describe_configs_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {

bool Wanted(const std::optional<std::vector<std::string>>& keys, const std::string& name) {
  if (!keys || keys->empty()) return true;
  return std::find(keys->begin(), keys->end(), name) != keys->end();
}

void AddSynonyms(const std::vector<ConfigSynonym>& synonyms,
                 std::vector<protocol::describe_configs_response::DescribeConfigsSynonym>* out) {
  for (const ConfigSynonym& s : synonyms) out->push_back({s.name, s.value, s.source, {}});
}

}  // namespace

boost::asio::awaitable<absl::Status> HandleDescribeConfigs(RequestContext& c) {
  protocol::DescribeConfigsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  const std::shared_ptr<const BrokerConfig> broker = c.broker.effective_config();
  auto image = c.broker.metadata().Current();
  protocol::DescribeConfigsResponse resp;
  for (const auto& r : req.resources) {
    auto& out = resp.results.emplace_back();
    out.resource_type = r.resource_type;
    out.resource_name = r.resource_name;
    out.error_message = std::nullopt;
    if (r.resource_type == kTopicResourceType) {
      // As Kafka: the name is checked (Topic.validate) before the topic is looked for.
      if (absl::Status s = ValidateTopicName(r.resource_name); !s.ok()) {
        out.error_code = kInvalidTopicException;
        out.error_message = std::string(s.message());
        continue;
      }
      const TopicInfo* topic = image->Find(r.resource_name);
      if (topic == nullptr) {
        out.error_code = kUnknownTopicOrPartition;
        out.error_message = "topic " + r.resource_name + " does not exist";
        continue;
      }
      for (const TopicConfigSpec& spec : TopicConfigSpecs()) {
        if (!Wanted(r.configuration_keys, spec.name)) continue;
        auto& e = out.configs.emplace_back();
        e.name = spec.name;
        const std::vector<ConfigSynonym> synonyms = TopicConfigSynonyms(*broker, topic->configs, spec);
        e.value = EffectiveTopicConfig(*broker, topic, spec.name);
        e.config_source = SourceOf(synonyms);
        if (c.version == 0) e.is_default = e.config_source == kDefaultConfig;
        e.config_type = static_cast<int8_t>(spec.type);
        e.documentation = req.include_documentation ? TopicConfigDocumentation(spec.name) : std::nullopt;
        if (req.include_synonyms) AddSynonyms(synonyms, &e.synonyms);
      }
    } else if (r.resource_type == kBrokerResourceType || r.resource_type == kBrokerLoggerResourceType) {
      const bool cluster_default = r.resource_name.empty();
      if (absl::Status s =
              CheckBrokerResource(r.resource_name, broker->node_id, r.resource_type == kBrokerResourceType);
          !s.ok()) {
        out.error_code = kInvalidRequest;
        out.error_message = std::string(s.message());
        continue;
      }
      if (r.resource_type == kBrokerLoggerResourceType) {
        for (const auto& [name, level] : BrokerLoggers()) {
          if (!Wanted(r.configuration_keys, name)) continue;
          auto& e = out.configs.emplace_back();
          e.name = name;
          e.value = level;
          e.config_source = kDynamicBrokerLoggerConfig;
          e.documentation = std::nullopt;  // as Kafka: none for loggers
        }
        continue;
      }
      for (const auto& [name, key] : BrokerConfigKeys()) {
        if (!Wanted(r.configuration_keys, name)) continue;
        std::vector<ConfigSynonym> synonyms = BrokerSynonyms(*broker, name);
        if (cluster_default) {
          // The cluster-default resource shows only what is set cluster-wide.
          std::erase_if(synonyms,
                        [](const ConfigSynonym& s) { return s.source != kDynamicDefaultBrokerConfig; });
          if (synonyms.empty()) continue;
        }
        auto& e = out.configs.emplace_back();
        e.name = name;
        // The first synonym is `name`'s own value; none: Kafka's null (a key that defers).
        e.value = synonyms.empty() ? std::nullopt : std::optional<std::string>(synonyms.front().value);
        e.read_only = !IsDynamicBrokerConfig(name);
        e.config_source = SourceOf(synonyms);
        if (c.version == 0) e.is_default = e.config_source == kDefaultConfig;
        e.config_type = static_cast<int8_t>(key.type);
        e.documentation = req.include_documentation ? BrokerConfigDocumentation(name) : std::nullopt;
        if (req.include_synonyms) AddSynonyms(synonyms, &e.synonyms);
      }
    } else {
      out.error_code = kInvalidRequest;
      out.error_message = "resource type " + std::to_string(r.resource_type) + " is not supported";
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
