// Kafka's topic-level configs: names, types, defaults (taken from the broker's own
// setting, the "synonym"), validation, and the LogConfig a topic's partitions use.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "broker/config.h"
#include "broker/metadata_store.h"
#include "log/partition_log.h"

namespace fjord::broker {

// Kafka's ConfigType values (DescribeConfigs v3+).
enum class ConfigType : int8_t {
  kBoolean = 1,
  kString = 2,
  kInt = 3,
  kShort = 4,
  kLong = 5,
  kDouble = 6,
  kList = 7
};

struct TopicConfigSpec {
  const char* name;
  ConfigType type;
  const char* broker_synonym;        // the broker config that supplies the default, or ""
  bool applied;                      // false: stored and described, not acted on yet
  std::vector<const char*> allowed;  // for enum-like strings; empty = any
  std::optional<int64_t> at_least;   // Kafka's lower bound for a number, if it has one
};

const std::vector<TopicConfigSpec>& TopicConfigSpecs();
const TopicConfigSpec* FindTopicConfig(const std::string& name);
// The topic config whose default the broker config `broker_key` supplies, or null.
const TopicConfigSpec* FindTopicConfigBySynonym(std::string_view broker_key);

// The default a topic gets for `spec` on this broker (from its synonym's value).
std::string TopicConfigDefault(const TopicConfigSpec& spec, const BrokerConfig& broker);

// Checks a topic config override: known name, value of the right type.
absl::Status ValidateTopicConfig(const std::string& name, const std::string& value);
// InvalidArgument in Kafka's words for a name that is no topic config; OK otherwise.
absl::Status CheckTopicConfigKnown(const std::string& name);

// Broker configs that AlterConfigs may change at run time (per broker or cluster-wide):
// the broker-side defaults of topic configs (their synonyms), as in Kafka.
bool IsDynamicBrokerConfig(const std::string& name);
// Checks a dynamic broker config value (by the topic config it is the default of).
absl::Status ValidateBrokerDynamicConfig(const std::string& name, const std::string& value);
// The static config with the image's dynamic configs laid over it (cluster-wide
// defaults first, then this node's own).
BrokerConfig WithDynamicConfigs(const BrokerConfig& static_config, const MetadataImage& image);

// The log settings a topic's partitions use: broker defaults, then topic overrides.
log::LogConfig EffectiveLogConfig(const BrokerConfig& broker, const TopicInfo* topic);
// KIP-937: how far a CreateTime timestamp may lie before or after the broker's clock.
struct TimestampBounds {
  int64_t before_max_ms;
  int64_t after_max_ms;
};
TimestampBounds EffectiveTimestampBounds(const BrokerConfig& broker, const TopicInfo* topic);

// A topic config's value for the topic: its override, else the default (the broker's
// dynamic or static synonym, else Kafka's default); "" for a name Kafka does not have.
std::string EffectiveTopicConfig(const BrokerConfig& broker, const TopicInfo* topic, const std::string& name);

// compression.type for the topic: "producer" (keep the producer's codec),
// "uncompressed", or a codec every batch is stored in.
std::string EffectiveCompressionType(const BrokerConfig& broker, const TopicInfo* topic);

// min.insync.replicas for the topic: an acks=all produce needs that many replicas in
// sync, and a partition's only in-sync replica is this node.
int32_t EffectiveMinInsyncReplicas(const BrokerConfig& broker, const TopicInfo* topic);

// compression.<codec>.level for the topic and a compression.type ("gzip", "lz4",
// "zstd"; protocol::kDefaultLevel for any other).
int EffectiveCompressionLevel(const BrokerConfig& broker, const TopicInfo* topic, const std::string& codec);

// message.downconversion.enable for the topic: may Fetch v0-3 get message sets
// converted down from the stored v2 batches.
bool EffectiveDownConversion(const BrokerConfig& broker, const TopicInfo* topic);

// max.message.bytes for the topic.
int32_t EffectiveMaxMessageBytes(const BrokerConfig& broker, const TopicInfo* topic);

// The broker configs DescribeConfigs lists, by name: Kafka's default (none where
// Kafka's is null: log.retention.ms defers to log.retention.hours's 168, see
// BrokerConfigSynonyms) and type.
struct BrokerConfigKey {
  std::optional<std::string> default_value;
  ConfigType type;
};
const std::map<std::string, BrokerConfigKey>& BrokerConfigKeys();

}  // namespace fjord::broker
