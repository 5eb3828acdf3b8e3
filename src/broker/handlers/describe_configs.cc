#include "broker/broker_loggers.h"
#include "broker/config_alter.h"
#include "broker/config_docs.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "broker/topic_configs.h"
#include "fjord_protocol/messages/describe_configs_request.h"
#include "fjord_protocol/messages/describe_configs_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {

// Kafka's ConfigSource values.
constexpr int8_t kDynamicTopicConfig = 1;
constexpr int8_t kDynamicBrokerConfig = 2;
constexpr int8_t kDynamicDefaultBrokerConfig = 3;
constexpr int8_t kStaticBrokerConfig = 4;
constexpr int8_t kDefaultConfig = 5;
constexpr int8_t kDynamicBrokerLoggerConfig = 6;

bool Wanted(const std::optional<std::vector<std::string>>& keys, const std::string& name) {
  if (!keys || keys->empty()) return true;
  return std::find(keys->begin(), keys->end(), name) != keys->end();
}

struct Synonym {
  std::string name;
  std::string value;
  int8_t source;
};

// Kafka's ConfigHelper.configSynonyms: where `name`'s value may come from, most specific
// first. Each synonym (BrokerConfigSynonyms) as this node's dynamic config, then the
// cluster's, the file's, the default; then, as Kafka, every entry before the first named
// `name` is dropped. So log.retention.ms set nowhere has none (its value is null, and
// the 168 of log.retention.hours's default is listed only under that key).
std::vector<Synonym> BrokerSynonyms(const BrokerConfig& b, const std::string& name) {
  const std::vector<std::string> names = BrokerConfigSynonyms(name);
  std::vector<Synonym> out;
  auto add = [&](const std::map<std::string, std::string>& values, int8_t source) {
    for (const std::string& n : names) {
      if (auto it = values.find(n); it != values.end()) out.push_back({n, it->second, source});
    }
  };
  add(b.dynamic_node, kDynamicBrokerConfig);
  add(b.dynamic_cluster, kDynamicDefaultBrokerConfig);
  add(b.explicitly_set, kStaticBrokerConfig);
  for (const std::string& n : names) {
    auto it = BrokerConfigKeys().find(n);
    if (it != BrokerConfigKeys().end() && it->second.default_value)
      out.push_back({n, *it->second.default_value, kDefaultConfig});
  }
  out.erase(out.begin(),
            std::find_if(out.begin(), out.end(), [&](const Synonym& s) { return s.name == name; }));
  return out;
}

void AddSynonyms(const std::vector<Synonym>& synonyms,
                 std::vector<protocol::describe_configs_response::DescribeConfigsSynonym>* out) {
  for (const Synonym& s : synonyms) out->push_back({s.name, s.value, s.source, {}});
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
        // As Kafka's createTopicConfigEntry: the topic's override, then its broker key's synonyms.
        std::vector<Synonym> synonyms;
        if (auto it = topic->configs.find(spec.name); it != topic->configs.end()) {
          synonyms.push_back({spec.name, it->second, kDynamicTopicConfig});
        }
        if (*spec.broker_synonym) {
          for (Synonym& s : BrokerSynonyms(*broker, spec.broker_synonym)) synonyms.push_back(std::move(s));
        }
        e.value = EffectiveTopicConfig(*broker, topic, spec.name);
        e.config_source = synonyms.empty() ? kDefaultConfig : synonyms.front().source;
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
        std::vector<Synonym> synonyms = BrokerSynonyms(*broker, name);
        if (cluster_default) {
          // The cluster-default resource shows only what is set cluster-wide.
          std::erase_if(synonyms, [](const Synonym& s) { return s.source != kDynamicDefaultBrokerConfig; });
          if (synonyms.empty()) continue;
        }
        auto& e = out.configs.emplace_back();
        e.name = name;
        // The first synonym is `name`'s own value; none: Kafka's null (a key that defers).
        e.value = synonyms.empty() ? std::nullopt : std::optional<std::string>(synonyms.front().value);
        e.read_only = !IsDynamicBrokerConfig(name);
        e.config_source = synonyms.empty() ? kDefaultConfig : synonyms.front().source;
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
