// Where a config's value comes from, in Kafka's terms (ConfigSource and synonyms): what
// DescribeConfigs lists, and what CreateTopics v5+ answers for a new topic's configs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/config.h"
#include "broker/topic_configs.h"

namespace fjord::broker {

// Kafka's ConfigSource values.
inline constexpr int8_t kDynamicTopicConfig = 1;
inline constexpr int8_t kDynamicBrokerConfig = 2;
inline constexpr int8_t kDynamicDefaultBrokerConfig = 3;
inline constexpr int8_t kStaticBrokerConfig = 4;
inline constexpr int8_t kDefaultConfig = 5;
inline constexpr int8_t kDynamicBrokerLoggerConfig = 6;

struct ConfigSynonym {
  std::string name;
  std::string value;
  int8_t source;
};

// Kafka's ConfigHelper.configSynonyms: where the broker config `name`'s value may come
// from, most specific first. Each synonym (BrokerConfigSynonyms) as this node's dynamic
// config, then the cluster's, the file's, the default; then, as Kafka, every entry
// before the first named `name` is dropped. So log.retention.ms set nowhere has none
// (its value is null, and the 168 of log.retention.hours's default is listed only
// under that key).
std::vector<ConfigSynonym> BrokerSynonyms(const BrokerConfig& broker, const std::string& name);

// As Kafka's createTopicConfigEntry: the topic's own override (from `overrides`), then
// its broker key's synonyms.
std::vector<ConfigSynonym> TopicConfigSynonyms(const BrokerConfig& broker,
                                               const std::map<std::string, std::string>& overrides,
                                               const TopicConfigSpec& spec);

// The source of the value that the most specific synonym gives; DEFAULT_CONFIG if none.
inline int8_t SourceOf(const std::vector<ConfigSynonym>& synonyms) {
  return synonyms.empty() ? kDefaultConfig : synonyms.front().source;
}

}  // namespace fjord::broker
