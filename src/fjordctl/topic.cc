// fjordctl topic create | list | describe | delete | alter-config | add-partitions.
#include <cstdio>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fjordctl/command.h"
#include "fjordctl/offsets.h"
#include "fjordctl/output.h"

namespace fjord::ctl {

namespace {

using boost::asio::awaitable;
using client::Client;
using client::KafkaError;

constexpr int8_t kTopicResource = 2;

absl::Status OneTopic(const Args& a) {
  return a.positional.size() == 1 ? absl::OkStatus() : absl::InvalidArgumentError("give one topic name");
}

absl::Status SomeTopics(const Args& a) {
  return a.positional.empty() ? absl::InvalidArgumentError("give at least one topic name") : absl::OkStatus();
}

absl::StatusOr<std::pair<std::string, std::string>> KeyValue(const std::string& kv) {
  const size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    return absl::InvalidArgumentError(absl::StrCat("want key=value, got '", kv, "'"));
  return std::make_pair(kv.substr(0, eq), kv.substr(eq + 1));
}

absl::Status CheckInt(const Args& a, const std::string& flag, int64_t min) {
  if (!a.Has(flag)) return absl::OkStatus();
  int64_t v = 0;
  if (!absl::SimpleAtoi(a.Get(flag), &v) || v < min)
    return absl::InvalidArgumentError(absl::StrCat(flag, " wants a whole number of at least ", min));
  return absl::OkStatus();
}

int32_t IntFlag(const Args& a, const std::string& flag, int32_t fallback) {
  int32_t v = fallback;
  return a.Has(flag) && absl::SimpleAtoi(a.Get(flag), &v) ? v : fallback;
}

// Admin requests go to the controller, as Kafka's admin client sends them.
int32_t AdminNode(const Client& c) {
  return c.brokers().contains(c.controller_id()) ? c.controller_id() : Client::kAnyBroker;
}

std::string Nodes(const std::vector<int32_t>& ids) {
  return absl::StrJoin(ids, ",");
}

Json NodesJson(const std::vector<int32_t>& ids) {
  Json a = Json::Array();
  for (int32_t id : ids) a.Push(id);
  return a;
}

std::string HumanBytes(int64_t b) {
  if (b < 0) return "-";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

absl::Status CheckCreate(const Args& a) {
  if (absl::Status s = OneTopic(a); !s.ok()) return s;
  if (absl::Status s = CheckInt(a, "--partitions", 1); !s.ok()) return s;
  if (absl::Status s = CheckInt(a, "--replication-factor", 1); !s.ok()) return s;
  if (a.Has("--config")) {
    for (const auto& kv : a.values.at("--config"))
      if (auto p = KeyValue(kv); !p.ok()) return p.status();
  }
  return absl::OkStatus();
}

awaitable<int> Create(Context& c, const Args& a) {
  const std::string& name = a.positional[0];
  protocol::CreateTopicsRequest request;
  auto& topic = request.topics.emplace_back();
  topic.name = name;
  topic.num_partitions = IntFlag(a, "--partitions", -1);  // -1: the broker's num.partitions
  topic.replication_factor = static_cast<int16_t>(IntFlag(a, "--replication-factor", -1));
  if (a.Has("--config")) {
    for (const auto& kv : a.values.at("--config")) {
      auto [k, v] = *KeyValue(kv);
      auto& cfg = topic.configs.emplace_back();
      cfg.name = k;
      cfg.value = v;
    }
  }
  request.validate_only = a.Has("--dry-run");
  request.timeout_ms = static_cast<int32_t>(c.client.options().timeout.count());
  auto r = co_await c.client.Call<protocol::CreateTopicsResponse>(AdminNode(c.client), request);
  if (!r.ok()) co_return Fail("topic create " + name, r.status());
  if (r->topics.empty())
    co_return Fail("topic create " + name, absl::DataLossError(std::string("empty answer")));
  const auto& result = r->topics.front();
  if (result.error_code != 0) {
    co_return Fail("topic create " + name,
                   KafkaError(result.error_code, result.error_message.value_or(std::string(""))));
  }
  if (c.json) {
    Json out = Json::Object();
    out.Set("name", name).Set("created", !request.validate_only);
    out.Set("partitions", result.num_partitions)
        .Set("replication_factor", int32_t{result.replication_factor});
    std::printf("%s\n", out.Dump().c_str());
  } else {
    Table t("TOPIC", "PARTITIONS", "REPLICAS", "STATUS");
    t.Add(name, std::to_string(result.num_partitions), std::to_string(result.replication_factor),
          request.validate_only ? "valid (dry run, not created)" : Green("created"));
    std::printf("%s", t.Render().c_str());
  }
  co_return 0;
}

awaitable<int> List(Context& c, const Args& a) {
  auto m = co_await c.client.Metadata();
  if (!m.ok()) co_return Fail("topic list", m.status());
  std::map<std::string, const protocol::metadata_response::MetadataResponseTopic*> sorted;
  for (const auto& t : m->topics) {
    if (t.is_internal && !a.Has("--internal")) continue;
    sorted[t.name.value_or(std::string(""))] = &t;
  }
  Json out = Json::Array();
  Table table("NAME", "PARTITIONS", "REPLICAS");
  for (const auto& [name, t] : sorted) {
    const size_t replicas = t->partitions.empty() ? 0 : t->partitions.front().replica_nodes.size();
    if (c.json) {
      Json j = Json::Object();
      j.Set("name", name).Set("partitions", static_cast<int64_t>(t->partitions.size()));
      j.Set("replicas", static_cast<int64_t>(replicas)).Set("internal", t->is_internal);
      out.Push(std::move(j));
    } else {
      table.Add(name, std::to_string(t->partitions.size()), std::to_string(replicas));
    }
  }
  std::printf("%s%s", c.json ? out.Dump().c_str() : table.Render().c_str(), c.json ? "\n" : "");
  co_return 0;
}

struct PartitionView {
  int32_t partition = 0, leader = -1;
  std::vector<int32_t> replicas, isr;
  int64_t start = -1, end = -1, size = -1;
};

// Start (earliest) or end (latest) offsets of every partition.
awaitable<absl::Status> FillOffsets(Client& client, const std::string& topic,
                                    std::vector<PartitionView>& parts, int64_t which) {
  std::vector<TopicPartition> wanted;
  for (const auto& p : parts) wanted.emplace_back(topic, p.partition);
  auto offsets = co_await OffsetsAt(client, wanted, which);
  if (!offsets.ok()) co_return offsets.status();
  for (auto& p : parts) {
    auto it = offsets->find(TopicPartition(topic, p.partition));
    if (it != offsets->end()) (which == kEarliest ? p.start : p.end) = it->second;
  }
  co_return absl::OkStatus();
}

awaitable<absl::Status> FillSizes(Client& client, const std::string& topic,
                                  std::vector<PartitionView>& parts) {
  std::map<int32_t, bool> leaders;
  for (const auto& p : parts) {
    if (p.leader >= 0) leaders[p.leader] = true;
  }
  bool noted = false;
  for (const auto& [leader, unused] : leaders) {
    protocol::DescribeLogDirsRequest request;
    auto& t = request.topics->emplace_back();
    t.topic = topic;
    for (const auto& p : parts) t.partitions.push_back(p.partition);
    auto r = co_await client.Call<protocol::DescribeLogDirsResponse>(leader, request);
    if (!r.ok() && absl::IsUnimplemented(r.status())) {  // sizes stay unknown ("-")
      if (!noted) Note(absl::StrCat("sizes unknown: ", r.status().message()));
      noted = true;
      continue;
    }
    if (!r.ok()) co_return r.status();
    for (const auto& dir : r->results) {
      for (const auto& dt : dir.topics) {
        for (const auto& dp : dt.partitions) {
          for (auto& p : parts) {
            if (p.partition == dp.partition_index && p.leader == leader) p.size = dp.partition_size;
          }
        }
      }
    }
  }
  co_return absl::OkStatus();
}

// The describe output, outside the coroutine (GCC 12 mis-handles some temporaries in
// coroutine frames).
using ConfigEntry = protocol::describe_configs_response::DescribeConfigsResourceResult;
int PrintDescribe(bool json, const std::string& name, bool internal, const std::vector<PartitionView>& parts,
                  const std::optional<std::vector<ConfigEntry>>& configs) {
  const std::vector<ConfigEntry> none;
  const std::vector<ConfigEntry>& config_list = configs ? *configs : none;
  if (json) {
    Json jp = Json::Array();
    for (const auto& p : parts) {
      Json j = Json::Object();
      j.Set("partition", p.partition).Set("leader", p.leader).Set("replicas", NodesJson(p.replicas));
      j.Set("isr", NodesJson(p.isr)).Set("start_offset", p.start).Set("end_offset", p.end);
      j.Set("size_bytes", p.size >= 0 ? Json(p.size) : Json());
      jp.Push(std::move(j));
    }
    Json jc = Json::Array();
    for (const auto& cfg : config_list) {
      Json j = Json::Object();
      j.Set("name", cfg.name).Set("value", cfg.value ? Json(*cfg.value) : Json());
      j.Set("source", ConfigSourceName(cfg.config_source)).Set("read_only", cfg.read_only);
      j.Set("sensitive", cfg.is_sensitive);
      jc.Push(std::move(j));
    }
    Json out = Json::Object();
    out.Set("name", name).Set("internal", internal).Set("partitions", std::move(jp));
    out.Set("configs", configs ? std::move(jc) : Json());
    std::printf("%s\n", out.Dump().c_str());
    return 0;
  }
  std::printf("%s %s\n%s %zu\n\n", Bold("NAME").c_str(), name.c_str(), Bold("PARTITIONS").c_str(),
              parts.size());
  Table tp("PARTITION", "LEADER", "REPLICAS", "ISR", "START", "END", "SIZE");
  for (const auto& p : parts) {
    tp.Add(std::to_string(p.partition), std::to_string(p.leader), Nodes(p.replicas), Nodes(p.isr),
           std::to_string(p.start), std::to_string(p.end), p.size >= 0 ? HumanBytes(p.size) : "-");
  }
  if (!configs) {
    std::printf("%s", tp.Render().c_str());
    return 0;
  }
  std::printf("%s\n", tp.Render().c_str());
  Table tc("CONFIG", "VALUE", "SOURCE");
  for (const auto& cfg : config_list)
    tc.Add(cfg.name, cfg.is_sensitive ? "(sensitive)" : cfg.value.value_or(std::string("(null)")),
           ConfigSourceName(cfg.config_source));
  std::printf("%s", tc.Render().c_str());
  return 0;
}

awaitable<int> Describe(Context& c, const Args& a) {
  const std::string& name = a.positional[0];
  const std::string what = "topic describe " + name;
  std::vector<std::string> wanted(1, name);  // no braced list: GCC 12 fails on one in a co_await
  auto m = co_await c.client.Metadata(wanted);
  if (!m.ok()) co_return Fail(what, m.status());
  if (m->topics.empty()) co_return Fail(what, absl::DataLossError(std::string("empty answer")));
  const auto& topic = m->topics.front();
  if (topic.error_code != 0) co_return Fail(what, KafkaError(topic.error_code, std::string("metadata")));
  std::vector<PartitionView> parts;
  for (const auto& p : topic.partitions) {
    PartitionView& v = parts.emplace_back();
    v.partition = p.partition_index;
    v.leader = p.leader_id;
    v.replicas = p.replica_nodes;
    v.isr = p.isr_nodes;
  }
  std::sort(parts.begin(), parts.end(),
            [](const auto& x, const auto& y) { return x.partition < y.partition; });
  if (absl::Status s = co_await FillOffsets(c.client, name, parts, kEarliest); !s.ok())
    co_return Fail(what, s);
  if (absl::Status s = co_await FillOffsets(c.client, name, parts, kLatest); !s.ok()) co_return Fail(what, s);
  if (absl::Status s = co_await FillSizes(c.client, name, parts); !s.ok()) co_return Fail(what, s);
  protocol::DescribeConfigsRequest cfg_request;
  auto& resource = cfg_request.resources.emplace_back();
  resource.resource_type = kTopicResource;
  resource.resource_name = name;
  resource.configuration_keys = std::nullopt;  // all of them
  auto configs = co_await c.client.Call<protocol::DescribeConfigsResponse>(AdminNode(c.client), cfg_request);
  if (!configs.ok() && absl::IsUnimplemented(configs.status())) {
    Note(absl::StrCat("configs unknown: ", configs.status().message()));
    co_return PrintDescribe(c.json, name, topic.is_internal, parts, std::nullopt);
  }
  if (!configs.ok()) co_return Fail(what, configs.status());
  if (configs->results.empty() || configs->results.front().error_code != 0) {
    co_return Fail(what,
                   KafkaError(configs->results.empty() ? int16_t{-1} : configs->results.front().error_code,
                              std::string("describe configs")));
  }
  co_return PrintDescribe(c.json, name, topic.is_internal, parts, configs->results.front().configs);
}

awaitable<int> Delete(Context& c, const Args& a) {
  protocol::DeleteTopicsRequest request;
  for (const auto& name : a.positional) {
    request.topic_names.push_back(name);
    request.topics.emplace_back().name = name;
  }
  request.timeout_ms = static_cast<int32_t>(c.client.options().timeout.count());
  auto r = co_await c.client.Call<protocol::DeleteTopicsResponse>(AdminNode(c.client), request);
  if (!r.ok()) co_return Fail("topic delete", r.status());
  int code = 0;
  Json out = Json::Array();
  Table t("TOPIC", "STATUS");
  for (const auto& result : r->responses) {
    const std::string name = result.name.value_or(std::string("?"));
    const absl::Status s = KafkaError(result.error_code, result.error_message.value_or(std::string("")));
    if (!s.ok()) code = Fail("topic delete " + name, s);
    Json j = Json::Object();
    j.Set("name", name).Set("deleted", s.ok());
    if (!s.ok()) j.Set("error", client::ErrorName(result.error_code));
    out.Push(std::move(j));
    t.Add(name, s.ok() ? Green("deleted") : Red(client::ErrorName(result.error_code)));
  }
  std::printf("%s%s", c.json ? out.Dump().c_str() : t.Render().c_str(), c.json ? "\n" : "");
  co_return code;
}

absl::Status CheckAlterConfig(const Args& a) {
  if (absl::Status s = OneTopic(a); !s.ok()) return s;
  if (!a.Has("--set") && !a.Has("--delete"))
    return absl::InvalidArgumentError("give --set key=value or --delete key");
  if (a.Has("--set")) {
    for (const auto& kv : a.values.at("--set"))
      if (auto p = KeyValue(kv); !p.ok()) return p.status();
  }
  return absl::OkStatus();
}

awaitable<int> AlterConfig(Context& c, const Args& a) {
  const std::string& name = a.positional[0];
  protocol::IncrementalAlterConfigsRequest request;
  auto& resource = request.resources.emplace_back();
  resource.resource_type = kTopicResource;
  resource.resource_name = name;
  if (a.Has("--set")) {
    for (const auto& kv : a.values.at("--set")) {
      auto [k, v] = *KeyValue(kv);
      auto& cfg = resource.configs.emplace_back();
      cfg.name = k;
      cfg.config_operation = 0;  // SET
      cfg.value = v;
    }
  }
  if (a.Has("--delete")) {
    for (const auto& k : a.values.at("--delete")) {
      auto& cfg = resource.configs.emplace_back();
      cfg.name = k;
      cfg.config_operation = 1;  // DELETE: back to the default
      cfg.value = std::nullopt;
    }
  }
  request.validate_only = a.Has("--dry-run");
  auto r = co_await c.client.Call<protocol::IncrementalAlterConfigsResponse>(AdminNode(c.client), request);
  if (!r.ok()) co_return Fail("topic alter-config " + name, r.status());
  for (const auto& res : r->responses) {
    if (res.error_code != 0)
      co_return Fail("topic alter-config " + name,
                     KafkaError(res.error_code, res.error_message.value_or(std::string(""))));
  }
  if (c.json) {
    Json out = Json::Object();
    out.Set("name", name).Set("altered", !request.validate_only);
    std::printf("%s\n", out.Dump().c_str());
  } else {
    std::printf("%s: %zu config(s) %s\n", name.c_str(), resource.configs.size(),
                request.validate_only ? "valid (dry run, not applied)" : "altered");
  }
  co_return 0;
}

absl::Status CheckAddPartitions(const Args& a) {
  if (absl::Status s = OneTopic(a); !s.ok()) return s;
  if (!a.Has("--total")) return absl::InvalidArgumentError("give --total N (the partition count wanted)");
  return CheckInt(a, "--total", 1);
}

awaitable<int> AddPartitions(Context& c, const Args& a) {
  const std::string& name = a.positional[0];
  protocol::CreatePartitionsRequest request;
  auto& t = request.topics.emplace_back();
  t.name = name;
  t.count = IntFlag(a, "--total", 0);
  t.assignments = std::nullopt;
  request.validate_only = a.Has("--dry-run");
  request.timeout_ms = static_cast<int32_t>(c.client.options().timeout.count());
  auto r = co_await c.client.Call<protocol::CreatePartitionsResponse>(AdminNode(c.client), request);
  if (!r.ok()) co_return Fail("topic add-partitions " + name, r.status());
  for (const auto& res : r->results) {
    if (res.error_code != 0)
      co_return Fail("topic add-partitions " + name,
                     KafkaError(res.error_code, res.error_message.value_or(std::string(""))));
  }
  if (c.json) {
    Json out = Json::Object();
    out.Set("name", name).Set("partitions", t.count).Set("changed", !request.validate_only);
    std::printf("%s\n", out.Dump().c_str());
  } else {
    std::printf("%s: %s %d partitions\n", name.c_str(), request.validate_only ? "could have" : "now has",
                t.count);
  }
  co_return 0;
}

}  // namespace

std::vector<CommandInfo> TopicCommands() {
  return {
      {"topic",
       "create",
       "NAME",
       "create a topic",
       "  --partitions N            partitions (default: the broker's num.partitions)\n"
       "  --replication-factor R    replicas per partition (default: the broker's default)\n"
       "  --config KEY=VALUE        a topic config (repeatable)\n"
       "  --dry-run                 validate only\n",
       {{"--partitions", true}, {"--replication-factor", true}, {"--config", true}, {"--dry-run", false}},
       CheckCreate,
       Create},
      {"topic",
       "list",
       "",
       "list topics",
       "  --internal                include internal topics (__consumer_offsets)\n",
       {{"--internal", false}},
       [](const Args& a) {
         return a.positional.empty() ? absl::OkStatus() : absl::InvalidArgumentError("takes no arguments");
       },
       List},
      {"topic",
       "describe",
       "NAME",
       "partitions (leader, replicas, ISR, start/end offsets, size) and configs with their sources",
       "",
       {},
       OneTopic,
       Describe},
      {"topic", "delete", "NAME...", "delete topics", "", {}, SomeTopics, Delete},
      {"topic",
       "alter-config",
       "NAME",
       "set or delete topic configs",
       "  --set KEY=VALUE           set a config (repeatable)\n"
       "  --delete KEY              remove a config: back to its default (repeatable)\n"
       "  --dry-run                 validate only\n",
       {{"--set", true}, {"--delete", true}, {"--dry-run", false}},
       CheckAlterConfig,
       AlterConfig},
      {"topic",
       "add-partitions",
       "NAME",
       "grow a topic to a total partition count",
       "  --total N                 the partition count wanted (more than now)\n"
       "  --dry-run                 validate only\n",
       {{"--total", true}, {"--dry-run", false}},
       CheckAddPartitions,
       AddPartitions},
  };
}

}  // namespace fjord::ctl
