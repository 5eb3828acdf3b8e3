#include "broker/config_alter.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "broker/broker_loggers.h"
#include "broker/kafka_errors.h"
#include "broker/topic_configs.h"

namespace fjord::broker {

namespace {

bool IsList(int8_t resource_type, const std::string& name) {
  if (resource_type == kTopicResourceType) {
    const TopicConfigSpec* spec = FindTopicConfig(name);
    return spec != nullptr && spec->type == ConfigType::kList;
  }
  return name == "log.cleanup.policy";
}

std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(v, ',', absl::SkipWhitespace())) out.emplace_back(part);
  return out;
}

absl::Status Validate(int8_t resource_type, const std::string& name, const std::string& value) {
  if (resource_type == kTopicResourceType) return ValidateTopicConfig(name, value);
  if (!IsDynamicBrokerConfig(name)) {
    return absl::FailedPreconditionError(absl::StrCat(name, " is not a dynamic broker config"));
  }
  return ValidateBrokerDynamicConfig(name, value);
}

// The value a list config has before the change (the override, or the default).
std::string CurrentListValue(Broker& broker, int8_t resource_type, const std::string& name,
                             const std::map<std::string, std::string>& overrides) {
  if (auto it = overrides.find(name); it != overrides.end()) return it->second;
  if (resource_type == kTopicResourceType) {
    if (const TopicConfigSpec* spec = FindTopicConfig(name)) {
      return TopicConfigDefault(*spec, *broker.effective_config());
    }
  }
  return "delete";  // log.cleanup.policy's default
}

}  // namespace

absl::Status CheckBrokerResource(const std::string& resource_name, int32_t node_id,
                                 bool cluster_default_allowed) {
  if (resource_name.empty() && cluster_default_allowed) return absl::OkStatus();
  if (resource_name != std::to_string(node_id)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "broker ", resource_name.empty() ? "\"\"" : resource_name, " is not this broker (", node_id, ")"));
  }
  return absl::OkStatus();
}

absl::Status AlterResourceConfigs(Broker& broker, int8_t resource_type, const std::string& resource_name,
                                  const std::vector<ConfigChange>& changes, bool replace_all,
                                  bool validate_only) {
  // As Kafka, before the resource is looked at, and in Kafka's words. The legacy request
  // is a map in Kafka's controller (the last value of a repeated key wins), so only the
  // incremental one refuses repeats.
  if (!replace_all) {
    std::set<std::string_view> names;
    for (const ConfigChange& ch : changes) {
      if (!names.insert(ch.name).second) {
        return absl::FailedPreconditionError("Error due to duplicate config keys");
      }
    }
  }
  std::vector<std::string> null_values;
  for (const ConfigChange& ch : changes) {
    if (ch.op != ConfigOp::kDelete && !ch.value) null_values.push_back(ch.name);
  }
  if (!null_values.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("Null value not supported for : ", absl::StrJoin(null_values, ", ")));
  }
  if (resource_type == kBrokerLoggerResourceType && !replace_all) {
    if (absl::Status s = CheckBrokerResource(resource_name, broker.config().node_id, false); !s.ok())
      return s;
    return AlterBrokerLoggers(changes, validate_only);
  }
  auto image = broker.metadata().Current();
  std::map<std::string, std::string> configs;
  if (resource_type == kTopicResourceType) {
    const TopicInfo* topic = image->Find(resource_name);
    if (topic == nullptr)
      return absl::NotFoundError(absl::StrCat("topic ", resource_name, " does not exist"));
    configs = topic->configs;
  } else if (resource_type == kBrokerResourceType) {
    if (absl::Status s = CheckBrokerResource(resource_name, broker.config().node_id, true); !s.ok()) return s;
    if (auto it = image->broker_configs.find(resource_name); it != image->broker_configs.end()) {
      configs = it->second;
    }
  } else {
    return absl::FailedPreconditionError(absl::StrCat("resource type ", resource_type, " cannot be altered"));
  }
  std::map<std::string, std::string> next = replace_all ? std::map<std::string, std::string>{} : configs;
  for (const ConfigChange& ch : changes) {
    if (ch.op == ConfigOp::kDelete) {
      if (resource_type == kTopicResourceType) {
        if (absl::Status s = CheckTopicConfigKnown(ch.name); !s.ok()) return s;
      }
      next.erase(ch.name);
      continue;
    }
    std::string value = *ch.value;
    if (ch.op == ConfigOp::kAppend || ch.op == ConfigOp::kSubtract) {
      if (!IsList(resource_type, ch.name)) {
        return absl::InvalidArgumentError(
            absl::StrCat(ch.name, " is not a list config: APPEND and SUBTRACT apply only to lists"));
      }
      std::vector<std::string> items = SplitList(CurrentListValue(broker, resource_type, ch.name, next));
      for (const std::string& item : SplitList(value)) {
        auto pos = std::find(items.begin(), items.end(), item);
        if (ch.op == ConfigOp::kAppend && pos == items.end()) items.push_back(item);
        if (ch.op == ConfigOp::kSubtract && pos != items.end()) items.erase(pos);
      }
      value = absl::StrJoin(items, ",");
    } else if (ch.op != ConfigOp::kSet) {
      return absl::InvalidArgumentError(absl::StrCat("unknown config operation ", static_cast<int>(ch.op)));
    }
    if (absl::Status s = Validate(resource_type, ch.name, value); !s.ok()) return s;
    next[ch.name] = value;
  }
  if (validate_only) return absl::OkStatus();
  if (resource_type == kTopicResourceType) return broker.metadata().SetTopicConfigs(resource_name, next);
  return broker.metadata().SetBrokerConfigs(resource_name, next);
}

int16_t AlterConfigsError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return kNone;
    case absl::StatusCode::kNotFound:
      return kUnknownTopicOrPartition;
    case absl::StatusCode::kInvalidArgument:
      return kInvalidConfig;
    case absl::StatusCode::kFailedPrecondition:
      return kInvalidRequest;
    default:
      return ToKafkaError(s);
  }
}

}  // namespace fjord::broker
