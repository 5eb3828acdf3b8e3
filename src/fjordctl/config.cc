// fjordctl config get | set: dynamic broker configs (DescribeConfigs and
// IncrementalAlterConfigs on the BROKER resource: one node, or the cluster-wide default),
// and with --loggers a node's log levels (the BROKER_LOGGER resource).
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "fjordctl/command.h"
#include "fjordctl/output.h"

namespace fjord::ctl {

namespace {

using boost::asio::awaitable;
using client::KafkaError;

constexpr int8_t kBrokerResource = 4;
constexpr int8_t kBrokerLoggerResource = 8;

absl::Status CheckTarget(const Args& a) {
  int32_t id = 0;
  if (a.Has("--broker") && !absl::SimpleAtoi(a.Get("--broker"), &id))
    return absl::InvalidArgumentError("--broker wants a node id");
  if (a.Has("--loggers") && a.Has("--cluster"))
    return absl::InvalidArgumentError("--loggers are one node's: give --broker, not --cluster");
  return absl::OkStatus();
}

int8_t ResourceType(const Args& a) {
  return a.Has("--loggers") ? kBrokerLoggerResource : kBrokerResource;
}

// The resource name: a node id, or "" for the default of every broker (--cluster).
std::string Resource(const Context& c, const Args& a) {
  if (a.Has("--cluster")) return "";
  if (a.Has("--broker")) return a.Get("--broker");
  return std::to_string(c.client.brokers().empty() ? 1 : c.client.brokers().begin()->first);
}

int32_t Target(const Context& c, const Args& a) {
  int32_t id = client::Client::kAnyBroker;
  if (a.Has("--broker")) (void)absl::SimpleAtoi(a.Get("--broker"), &id);
  if (id == client::Client::kAnyBroker && !c.client.brokers().empty()) id = c.client.brokers().begin()->first;
  return id;
}

absl::Status CheckGet(const Args& a) {
  return CheckTarget(a);
}

using ConfigEntry = protocol::describe_configs_response::DescribeConfigsResourceResult;

// `docs`: each config's documentation as the broker gave it (--docs).
int PrintConfigs(bool json, bool docs, bool loggers, const std::string& resource,
                 const std::vector<ConfigEntry>& configs) {
  if (json) {
    Json out = Json::Array();
    for (const auto& cfg : configs) {
      Json j = Json::Object();
      j.Set("name", cfg.name).Set("value", cfg.value && !cfg.is_sensitive ? Json(*cfg.value) : Json());
      j.Set("source", ConfigSourceName(cfg.config_source)).Set("read_only", cfg.read_only);
      if (docs) j.Set("documentation", cfg.documentation ? Json(*cfg.documentation) : Json());
      out.Push(std::move(j));
    }
    std::printf("%s\n", out.Dump().c_str());
    return 0;
  }
  std::printf("%s %s%s\n\n", Bold("BROKER").c_str(),
              resource.empty() ? "(cluster default)" : resource.c_str(), loggers ? " loggers" : "");
  Table t(loggers ? "LOGGER" : "CONFIG", loggers ? "LEVEL" : "VALUE", "SOURCE", "READ-ONLY");
  Table with_docs("CONFIG", "VALUE", "SOURCE", "READ-ONLY", "DOCUMENTATION");
  for (const auto& cfg : configs) {
    std::string value =
        cfg.is_sensitive ? std::string("(sensitive)") : cfg.value.value_or(std::string("(null)"));
    const char* read_only = cfg.read_only ? "yes" : "no";
    if (docs) {
      with_docs.Add(cfg.name, std::move(value), ConfigSourceName(cfg.config_source), read_only,
                    cfg.documentation.value_or(std::string("(none)")));
    } else {
      t.Add(cfg.name, std::move(value), ConfigSourceName(cfg.config_source), read_only);
    }
  }
  std::printf("%s", (docs ? with_docs : t).Render().c_str());
  return 0;
}

awaitable<int> Get(Context& c, const Args& a) {
  const std::string resource = Resource(c, a);
  protocol::DescribeConfigsRequest request;
  auto& r = request.resources.emplace_back();
  r.resource_type = ResourceType(a);
  r.resource_name = resource;
  request.include_documentation = a.Has("--docs");
  if (a.positional.empty()) {
    r.configuration_keys = std::nullopt;
  } else {
    r.configuration_keys = a.positional;
  }
  auto answer = co_await c.client.Call<protocol::DescribeConfigsResponse>(Target(c, a), request);
  if (!answer.ok()) co_return Fail("config get", answer.status());
  if (answer->results.empty()) co_return Fail("config get", absl::DataLossError(std::string("empty answer")));
  const auto& result = answer->results.front();
  if (result.error_code != 0)
    co_return Fail("config get", KafkaError(result.error_code, result.error_message.value_or(std::string())));
  co_return PrintConfigs(c.json, a.Has("--docs"), a.Has("--loggers"), resource, result.configs);
}

absl::Status CheckSet(const Args& a) {
  if (a.positional.empty()) return absl::InvalidArgumentError("give KEY=VALUE (or KEY= to delete)");
  for (const auto& kv : a.positional) {
    if (kv.find('=') == std::string::npos || kv[0] == '=')
      return absl::InvalidArgumentError(absl::StrCat("want KEY=VALUE, got '", kv, "'"));
  }
  return CheckTarget(a);
}

awaitable<int> Set(Context& c, const Args& a) {
  const std::string resource = Resource(c, a);
  protocol::IncrementalAlterConfigsRequest request;
  auto& r = request.resources.emplace_back();
  r.resource_type = ResourceType(a);
  r.resource_name = resource;
  for (const auto& kv : a.positional) {
    const size_t eq = kv.find('=');
    auto& cfg = r.configs.emplace_back();
    cfg.name = kv.substr(0, eq);
    const std::string value = kv.substr(eq + 1);
    cfg.config_operation = value.empty() ? 1 : 0;  // KEY= deletes: back to the static or default value
    if (value.empty()) {
      cfg.value = std::nullopt;
    } else {
      cfg.value = value;
    }
  }
  auto answer = co_await c.client.Call<protocol::IncrementalAlterConfigsResponse>(Target(c, a), request);
  if (!answer.ok()) co_return Fail("config set", answer.status());
  for (const auto& res : answer->responses) {
    if (res.error_code != 0)
      co_return Fail("config set", KafkaError(res.error_code, res.error_message.value_or(std::string())));
  }
  if (c.json) {
    Json out = Json::Object();
    out.Set("broker", resource.empty() ? Json() : Json(resource))
        .Set("altered", static_cast<int64_t>(r.configs.size()));
    std::printf("%s\n", out.Dump().c_str());
  } else {
    std::printf("%s: %zu %s altered\n", resource.empty() ? "cluster default" : ("broker " + resource).c_str(),
                r.configs.size(), a.Has("--loggers") ? "logger level(s)" : "config(s)");
  }
  co_return 0;
}

}  // namespace

std::vector<CommandInfo> ConfigCommands() {
  return {
      {"config",
       "get",
       "[KEY...]",
       "a broker's configs with their sources (all, or the keys named)",
       "  --broker ID               the node to describe (default: the first known)\n"
       "  --cluster                 the cluster-wide dynamic default instead\n"
       "  --docs                    each config's documentation too\n"
       "  --loggers                 the node's loggers and their levels instead\n",
       {{"--broker", true}, {"--cluster", false}, {"--docs", false}, {"--loggers", false}},
       CheckGet,
       Get},
      {"config",
       "set",
       "KEY=VALUE...",
       "set dynamic broker configs (KEY= deletes one)",
       "  --broker ID               the node to change (default: the first known)\n"
       "  --cluster                 the cluster-wide dynamic default instead\n"
       "  --loggers                 set log levels (root=DEBUG; until the node stops)\n",
       {{"--broker", true}, {"--cluster", false}, {"--loggers", false}},
       CheckSet,
       Set},
  };
}

}  // namespace fjord::ctl
