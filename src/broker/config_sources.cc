#include "broker/config_sources.h"

#include <algorithm>

namespace fjord::broker {

std::vector<ConfigSynonym> BrokerSynonyms(const BrokerConfig& broker, const std::string& name) {
  const std::vector<std::string> names = BrokerConfigSynonyms(name);
  std::vector<ConfigSynonym> out;
  auto add = [&](const std::map<std::string, std::string>& values, int8_t source) {
    for (const std::string& n : names) {
      if (auto it = values.find(n); it != values.end()) out.push_back({n, it->second, source});
    }
  };
  add(broker.dynamic_node, kDynamicBrokerConfig);
  add(broker.dynamic_cluster, kDynamicDefaultBrokerConfig);
  add(broker.explicitly_set, kStaticBrokerConfig);
  for (const std::string& n : names) {
    auto it = BrokerConfigKeys().find(n);
    if (it != BrokerConfigKeys().end() && it->second.default_value)
      out.push_back({n, *it->second.default_value, kDefaultConfig});
  }
  out.erase(out.begin(),
            std::find_if(out.begin(), out.end(), [&](const ConfigSynonym& s) { return s.name == name; }));
  return out;
}

std::vector<ConfigSynonym> TopicConfigSynonyms(const BrokerConfig& broker,
                                               const std::map<std::string, std::string>& overrides,
                                               const TopicConfigSpec& spec) {
  std::vector<ConfigSynonym> synonyms;
  if (auto it = overrides.find(spec.name); it != overrides.end()) {
    synonyms.push_back({spec.name, it->second, kDynamicTopicConfig});
  }
  if (*spec.broker_synonym) {
    for (ConfigSynonym& s : BrokerSynonyms(broker, spec.broker_synonym)) synonyms.push_back(std::move(s));
  }
  return synonyms;
}

}  // namespace fjord::broker
