// AlterConfigs and IncrementalAlterConfigs share this: compute a resource's new set of
// dynamic configs from the requested changes, validate it, and store it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "broker/broker.h"

namespace fjord::broker {

// Kafka's resource types and IncrementalAlterConfigs operations.
constexpr int8_t kTopicResourceType = 2;
constexpr int8_t kBrokerResourceType = 4;
constexpr int8_t kBrokerLoggerResourceType = 8;
enum class ConfigOp : int8_t { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };

struct ConfigChange {
  std::string name;
  ConfigOp op = ConfigOp::kSet;
  std::optional<std::string> value;
};

// A BROKER or BROKER_LOGGER resource names this broker: its node id, or (BROKER only, when
// `cluster_default_allowed`) "" for the cluster-wide defaults. Else FailedPrecondition
// (INVALID_REQUEST), as Kafka refuses another broker's id.
absl::Status CheckBrokerResource(const std::string& resource_name, int32_t node_id,
                                 bool cluster_default_allowed);

// Applies `changes` to one resource. `replace_all` is the legacy AlterConfigs meaning:
// the changes become the whole set of overrides. Errors: NotFound (no such topic),
// InvalidArgument (unknown or invalid config: INVALID_CONFIG), FailedPrecondition
// (not alterable, wrong broker, unsupported resource, a config named twice in an
// incremental change, or a null value for any operation but DELETE, as Kafka refuses
// them: INVALID_REQUEST).
absl::Status AlterResourceConfigs(Broker& broker, int8_t resource_type, const std::string& resource_name,
                                  const std::vector<ConfigChange>& changes, bool replace_all,
                                  bool validate_only);

// The Kafka error code for a status from AlterResourceConfigs.
int16_t AlterConfigsError(const absl::Status& s);

// Kafka refuses every entry of a resource (type and name) given more than once in one
// AlterConfigs or IncrementalAlterConfigs request with INVALID_REQUEST and this message.
inline constexpr char kRepeatedResource[] = "Each resource must appear at most once.";

}  // namespace fjord::broker
