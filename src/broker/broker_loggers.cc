#include "broker/broker_loggers.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace fjord::broker {

namespace {

constexpr char kRootLogger[] = "root";

struct LevelName {
  spdlog::level::level_enum level;
  const char* name;
};

// Kafka's (Log4j's) names for spdlog's levels. OFF is shown but, as in Kafka, not set.
constexpr std::array<LevelName, 7> kLevels = {{{spdlog::level::trace, "TRACE"},
                                               {spdlog::level::debug, "DEBUG"},
                                               {spdlog::level::info, "INFO"},
                                               {spdlog::level::warn, "WARN"},
                                               {spdlog::level::err, "ERROR"},
                                               {spdlog::level::critical, "FATAL"},
                                               {spdlog::level::off, "OFF"}}};
constexpr char kSettableLevels[] = "TRACE, DEBUG, INFO, WARN, ERROR, FATAL";

const LevelName* Settable(const std::string& name) {
  for (const LevelName& l : kLevels) {
    if (name == l.name && l.level != spdlog::level::off) return &l;
  }
  return nullptr;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> BrokerLoggers() {
  const spdlog::level::level_enum now = spdlog::get_level();
  for (const LevelName& l : kLevels) {
    if (l.level == now) return {{kRootLogger, l.name}};
  }
  return {{kRootLogger, "OFF"}};
}

absl::Status AlterBrokerLoggers(const std::vector<ConfigChange>& changes, bool validate_only) {
  std::vector<spdlog::level::level_enum> levels;
  for (const ConfigChange& ch : changes) {
    if (ch.op == ConfigOp::kAppend || ch.op == ConfigOp::kSubtract) {
      return absl::FailedPreconditionError(absl::StrCat(ch.op == ConfigOp::kAppend ? "APPEND" : "SUBTRACT",
                                                        " does not apply to the BROKER_LOGGER resource"));
    }
    if (ch.name != kRootLogger) {
      return absl::InvalidArgumentError(
          absl::StrCat("Logger ", ch.name, " does not exist (Fjord has one logger: root)"));
    }
    if (ch.op == ConfigOp::kDelete) {
      return absl::FailedPreconditionError("The root logger's level cannot be removed, only set");
    }
    if (ch.op != ConfigOp::kSet) {
      return absl::InvalidArgumentError(absl::StrCat("unknown config operation ", static_cast<int>(ch.op)));
    }
    const LevelName* level = Settable(*ch.value);
    if (level == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("Cannot set the level of logger ", ch.name, " to ",
                                                     *ch.value, ": the levels are ", kSettableLevels));
    }
    levels.push_back(level->level);
  }
  if (!validate_only) {
    for (spdlog::level::level_enum l : levels) spdlog::set_level(l);
  }
  return absl::OkStatus();
}

}  // namespace fjord::broker
