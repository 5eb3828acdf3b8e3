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
constexpr int8_t kStaticBrokerConfig = 4;
constexpr int8_t kDefaultConfig = 5;
constexpr int8_t kTopicResource = 2;
constexpr int8_t kBrokerResource = 4;

bool Wanted(const std::optional<std::vector<std::string>>& keys, const std::string& name) {
  if (!keys || keys->empty()) return true;
  return std::find(keys->begin(), keys->end(), name) != keys->end();
}

}  // namespace

boost::asio::awaitable<absl::Status> HandleDescribeConfigs(RequestContext& c) {
  protocol::DescribeConfigsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  const BrokerConfig& broker = c.broker.config();
  auto image = c.broker.metadata().Current();
  protocol::DescribeConfigsResponse resp;
  for (const auto& r : req.resources) {
    auto& out = resp.results.emplace_back();
    out.resource_type = r.resource_type;
    out.resource_name = r.resource_name;
    out.error_message = std::nullopt;
    if (r.resource_type == kTopicResource) {
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
        const std::string fallback = TopicConfigDefault(spec, broker);
        const int8_t fallback_source =
            *spec.broker_synonym && broker.explicitly_set.contains(spec.broker_synonym) ? kStaticBrokerConfig
                                                                                        : kDefaultConfig;
        auto it = topic->configs.find(spec.name);
        const bool overridden = it != topic->configs.end();
        e.value = overridden ? it->second : fallback;
        e.config_source = overridden ? kDynamicTopicConfig : fallback_source;
        if (c.version == 0) e.is_default = !overridden;
        e.config_type = static_cast<int8_t>(spec.type);
        if (req.include_synonyms) {
          if (overridden) e.synonyms.push_back({spec.name, it->second, kDynamicTopicConfig, {}});
          if (*spec.broker_synonym)
            e.synonyms.push_back({spec.broker_synonym, fallback, fallback_source, {}});
        }
      }
    } else if (r.resource_type == kBrokerResource) {
      if (!r.resource_name.empty() && r.resource_name != std::to_string(broker.node_id)) {
        out.error_code = kInvalidRequest;
        out.error_message =
            "broker " + r.resource_name + " is not this broker (" + std::to_string(broker.node_id) + ")";
        continue;
      }
      for (const auto& [name, value_type] : BrokerConfigEntries(broker)) {
        if (!Wanted(r.configuration_keys, name)) continue;
        auto& e = out.configs.emplace_back();
        e.name = name;
        e.value = value_type.first;
        e.read_only = true;  // dynamic broker configs (AlterConfigs) are not implemented yet
        const bool set = broker.explicitly_set.contains(name);
        e.config_source = set ? kStaticBrokerConfig : kDefaultConfig;
        if (c.version == 0) e.is_default = !set;
        e.config_type = static_cast<int8_t>(value_type.second);
        if (req.include_synonyms) e.synonyms.push_back({name, value_type.first, e.config_source, {}});
      }
    } else {
      out.error_code = kInvalidRequest;
      out.error_message = "resource type " + std::to_string(r.resource_type) + " is not supported";
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
