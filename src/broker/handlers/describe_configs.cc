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

struct Layer {
  std::string value;
  int8_t source;
};

// Where a broker config's value comes from, most specific first (Kafka's synonym order).
std::vector<Layer> BrokerLayers(const BrokerConfig& b, const std::string& name,
                                const std::string& static_value) {
  std::vector<Layer> out;
  if (auto it = b.dynamic_node.find(name); it != b.dynamic_node.end())
    out.push_back({it->second, kDynamicBrokerConfig});
  if (auto it = b.dynamic_cluster.find(name); it != b.dynamic_cluster.end())
    out.push_back({it->second, kDynamicDefaultBrokerConfig});
  out.push_back({static_value, b.explicitly_set.contains(name) ? kStaticBrokerConfig : kDefaultConfig});
  return out;
}

// The broker's static configs: the usual entries plus every dynamic (topic-default) config.
std::vector<std::pair<std::string, std::pair<std::string, ConfigType>>> AllBrokerEntries(
    const BrokerConfig& s) {
  auto entries = BrokerConfigEntries(s);
  for (const TopicConfigSpec& spec : TopicConfigSpecs()) {
    if (!*spec.broker_synonym) continue;
    const std::string name = spec.broker_synonym;
    if (std::none_of(entries.begin(), entries.end(), [&](const auto& e) { return e.first == name; })) {
      entries.push_back({name, {TopicConfigDefault(spec, s), spec.type}});
    }
  }
  std::sort(entries.begin(), entries.end());
  return entries;
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
        std::vector<Layer> layers;
        auto it = topic->configs.find(spec.name);
        if (it != topic->configs.end()) layers.push_back({it->second, kDynamicTopicConfig});
        if (*spec.broker_synonym) {
          const std::string static_value = TopicConfigDefault(spec, c.broker.config());
          for (Layer& l : BrokerLayers(*broker, spec.broker_synonym, static_value)) layers.push_back(l);
        } else {
          layers.push_back({TopicConfigDefault(spec, *broker), kDefaultConfig});
        }
        e.value = layers.front().value;
        e.config_source = layers.front().source;
        if (c.version == 0) e.is_default = e.config_source == kDefaultConfig;
        e.config_type = static_cast<int8_t>(spec.type);
        e.documentation = req.include_documentation ? TopicConfigDocumentation(spec.name) : std::nullopt;
        if (req.include_synonyms) {
          for (size_t i = 0; i < layers.size(); ++i) {
            const bool topic_level = layers[i].source == kDynamicTopicConfig;
            if (!topic_level && layers[i].source == kDefaultConfig && !*spec.broker_synonym) continue;
            e.synonyms.push_back(
                {topic_level ? spec.name : spec.broker_synonym, layers[i].value, layers[i].source, {}});
          }
        }
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
      for (const auto& [name, value_type] : AllBrokerEntries(c.broker.config())) {
        if (!Wanted(r.configuration_keys, name)) continue;
        std::vector<Layer> layers = BrokerLayers(*broker, name, value_type.first);
        if (cluster_default) {
          // The cluster-default resource shows only what is set cluster-wide.
          std::erase_if(layers, [](const Layer& l) { return l.source != kDynamicDefaultBrokerConfig; });
          if (layers.empty()) continue;
        }
        auto& e = out.configs.emplace_back();
        e.name = name;
        e.value = layers.front().value;
        e.read_only = !IsDynamicBrokerConfig(name);
        e.config_source = layers.front().source;
        if (c.version == 0) e.is_default = e.config_source == kDefaultConfig;
        e.config_type = static_cast<int8_t>(value_type.second);
        e.documentation = req.include_documentation ? BrokerConfigDocumentation(name) : std::nullopt;
        if (req.include_synonyms) {
          for (const Layer& l : layers) e.synonyms.push_back({name, l.value, l.source, {}});
        }
      }
    } else {
      out.error_code = kInvalidRequest;
      out.error_message = "resource type " + std::to_string(r.resource_type) + " is not supported";
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
