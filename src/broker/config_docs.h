// What DescribeConfigs (v3+, include_documentation) answers as each config's
// documentation: what the config does in Fjord, in a sentence or two.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fjord::broker {

// For a topic config (topic_configs.h); nullopt for a name that has none.
std::optional<std::string> TopicConfigDocumentation(std::string_view name);
// For a broker config: its own text, or for the synonym of a topic config that
// config's text, saying it is the default. Nullopt for a name that has none.
std::optional<std::string> BrokerConfigDocumentation(std::string_view name);

}  // namespace fjord::broker
