// BROKER_LOGGER configs (Kafka's resource type 8): the broker's loggers and their levels,
// read by DescribeConfigs and set by IncrementalAlterConfigs. As in Kafka, a change
// applies to this broker's process only and lasts until it stops; nothing is stored.
// Fjord logs through one spdlog logger, named as Kafka names its root logger: "root".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "broker/config_alter.h"

namespace fjord::broker {

// Each logger and its level in Kafka's words (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF).
std::vector<std::pair<std::string, std::string>> BrokerLoggers();

// Checks every change, then applies them all (unless validate_only), as Kafka answers:
// InvalidArgument (INVALID_CONFIG) for a logger that does not exist or a level Kafka
// does not take; FailedPrecondition (INVALID_REQUEST) for APPEND, SUBTRACT, or removing
// the root logger's level.
absl::Status AlterBrokerLoggers(const std::vector<ConfigChange>& changes, bool validate_only);

}  // namespace fjord::broker
