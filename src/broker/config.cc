#include "broker/config.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "log/io_backend.h"
#include "protocol/utf8.h"
#include "raft/quorum_config.h"

namespace fjord::broker {
namespace {

// Kafka keys that are accepted and not yet acted on are still "known": they are not
// warned about as typos. Everything else unknown gets a warning.
const std::set<std::string> kKnownButIgnored = {
    // Threads and request queues: each shard reads, handles and answers its connections'
    // requests itself, as they arrive (--smp sets the shards, and
    // fjord.max.inflight.requests.per.connection how many answers a connection queues).
    "num.network.threads",
    "num.io.threads",
    "background.threads",
    "queued.max.requests",
    "num.recovery.threads.per.data.dir",
    // JVM metrics reporters: the metrics are Prometheus text on admin.listener.
    "metric.reporters",
    "kafka.metrics.reporters",
    "auto.include.jmx.reporter",
    // The offsets topic's write tuning: it has one replica and is written as any other.
    "offsets.commit.required.acks",
    "offsets.commit.timeout.ms",
    "offsets.load.buffer.size",
    "offsets.topic.compression.codec",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "inter.broker.listener.name",
    "log.message.format.version",  // ignored by Kafka since 3.0 too
    // The cleaner's tuning: compaction runs on each shard in the retention pass.
    "log.cleaner.threads",
    "log.cleaner.backoff.ms",
    "log.cleaner.dedupe.buffer.size",
    "log.cleaner.io.buffer.size",
    "log.cleaner.io.buffer.load.factor",
    "log.cleaner.io.max.bytes.per.second",
    // Replication and leadership: a partition has one replica.
    "replica.lag.time.max.ms",
    "num.replica.fetchers",
    "replica.fetch.max.bytes",
    "auto.leader.rebalance.enable",
    "leader.imbalance.check.interval.seconds",
    "leader.imbalance.per.broker.percentage",
};

absl::Status Bad(const std::string& key, const std::string& value, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("config ", key, "=", value, ": ", why));
}

template <typename T>
absl::Status ParseInt(const std::string& key, const std::string& value, T min, T* out) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(value, &v) || v < static_cast<int64_t>(min) ||
      v > static_cast<int64_t>(std::numeric_limits<T>::max())) {
    return Bad(key, value, absl::StrCat("expected an integer >= ", min));
  }
  *out = static_cast<T>(v);
  return absl::OkStatus();
}

absl::Status ParseBool(const std::string& key, const std::string& value, bool* out) {
  std::string v = absl::AsciiStrToLower(value);
  if (v == "true")
    *out = true;
  else if (v == "false")
    *out = false;
  else
    return Bad(key, value, "expected true or false");
  return absl::OkStatus();
}

std::vector<std::string> List(const std::string& value) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

// Every listener's security protocol, as Kafka resolves it: its entry in
// listener.security.protocol.map or, while that key is left at its default, PLAINTEXT
// for a controller listener (KRaft's rule). Only PLAINTEXT is served: a listener meant
// for TLS or SASL stops start-up rather than take its clients' bytes in the clear.
absl::Status CheckListenerSecurity(const BrokerConfig& c) {
  const bool map_set = c.explicitly_set.contains("listener.security.protocol.map");
  for (const Listener& l : c.listeners) {
    const std::string name = absl::AsciiStrToUpper(l.name);
    std::string protocol;
    if (auto it = c.listener_security_protocol_map.find(name); it != c.listener_security_protocol_map.end()) {
      protocol = it->second;
    } else if (!map_set && std::find(c.controller_listener_names.begin(), c.controller_listener_names.end(),
                                     l.name) != c.controller_listener_names.end()) {
      protocol = "PLAINTEXT";
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("config listeners: listener ", l.name,
                       " has no security protocol in listener.security.protocol.map"));
    }
    if (protocol != "PLAINTEXT") {
      return absl::InvalidArgumentError(absl::StrCat("config listener.security.protocol.map: listener ",
                                                     l.name, " is ", protocol,
                                                     ", and fjord serves PLAINTEXT only (no TLS or SASL)"));
    }
  }
  return absl::OkStatus();
}

// What Kafka refuses at start-up about listeners and roles, rather than serve half of
// what was asked (a second listener of one name was never opened; an advertised
// listener of no listener's name was never advertised; 0.0.0.0 sent clients nowhere).
absl::Status CheckListenersAndRoles(const BrokerConfig& c) {
  std::set<std::string> names;
  std::map<uint16_t, std::string> ports;
  for (const Listener& l : c.listeners) {
    if (!names.insert(absl::AsciiStrToUpper(l.name)).second)
      return absl::InvalidArgumentError(
          absl::StrCat("config listeners: listener ", l.name, " is named twice"));
    if (l.port == 0) continue;
    if (auto [it, fresh] = ports.emplace(l.port, l.name); !fresh) {
      return absl::InvalidArgumentError(
          absl::StrCat("config listeners: port ", l.port, " is used by both ", it->second, " and ", l.name));
    }
  }
  for (const Listener& a : c.advertised_listeners) {
    if (!names.contains(absl::AsciiStrToUpper(a.name))) {
      return absl::InvalidArgumentError(absl::StrCat("config advertised.listeners: listener ", a.name,
                                                     " is not one of the listeners (",
                                                     absl::StrJoin(names, ", "), ")"));
    }
    if (a.host == "0.0.0.0" || a.host == "::") {
      return absl::InvalidArgumentError(absl::StrCat("config advertised.listeners: ", a.name, " advertises ",
                                                     a.host,
                                                     ", which clients cannot connect to; give an "
                                                     "address they can reach"));
    }
  }
  if (c.controller_quorum_voters.empty()) return absl::OkStatus();
  auto voters = controller::ParseVoters(c.controller_quorum_voters);
  if (!voters.ok()) return voters.status();
  const bool voter = voters->contains(c.node_id);
  if (c.has_role("controller") && !voter) {
    return absl::InvalidArgumentError(absl::StrCat("config node.id=", c.node_id,
                                                   ": a controller must be one of controller.quorum.voters (",
                                                   c.controller_quorum_voters, ")"));
  }
  if (!c.has_role("controller") && voter) {
    return absl::InvalidArgumentError(absl::StrCat("config node.id=", c.node_id,
                                                   ": a broker-only node must not be one of "
                                                   "controller.quorum.voters (",
                                                   c.controller_quorum_voters, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyBrokerConfig(BrokerConfig& c, const std::string& key, const std::string& value,
                               std::vector<std::string>* warnings) {
  if (key == "node.id" || key == "broker.id") return ParseInt<int32_t>(key, value, 0, &c.node_id);
  if (key == "process.roles") {
    c.process_roles = List(value);
    for (const auto& r : c.process_roles) {
      if (r != "broker" && r != "controller") return Bad(key, value, "roles are broker and/or controller");
    }
    if (c.process_roles.empty()) return Bad(key, value, "at least one role");
    return absl::OkStatus();
  }
  if (key == "listeners" || key == "advertised.listeners") {
    auto l = ParseListeners(value);
    if (!l.ok()) return Bad(key, value, std::string(l.status().message()));
    (key == "listeners" ? c.listeners : c.advertised_listeners) = *l;
    return absl::OkStatus();
  }
  if (key == "authorizer.class.name") {
    // Accepting one and enforcing nothing would leave an operator believing ACLs hold.
    if (!value.empty()) return Bad(key, value, "fjord has no authorizer (every client may do everything)");
    return absl::OkStatus();
  }
  if (key == "listener.security.protocol.map") {
    static const std::set<std::string> kProtocols = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    std::map<std::string, std::string> map;
    for (const std::string& item : List(value)) {
      const std::vector<std::string> parts = absl::StrSplit(item, ':');
      if (parts.size() != 2 || parts[0].empty())
        return Bad(key, value, absl::StrCat("'", item, "' is not LISTENER_NAME:SECURITY_PROTOCOL"));
      const std::string protocol = absl::AsciiStrToUpper(parts[1]);
      if (!kProtocols.contains(protocol))
        return Bad(key, value, absl::StrCat(parts[1], " is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"));
      if (!map.emplace(absl::AsciiStrToUpper(parts[0]), protocol).second)
        return Bad(key, value, absl::StrCat("listener ", parts[0], " is mapped twice"));
    }
    c.listener_security_protocol_map = std::move(map);
    return absl::OkStatus();
  }
  if (key == "controller.listener.names") {
    c.controller_listener_names = List(value);
    return absl::OkStatus();
  }
  if (key == "controller.quorum.voters") {
    if (auto voters = controller::ParseVoters(value); !voters.ok())
      return Bad(key, value, std::string(voters.status().message()));
    c.controller_quorum_voters = value;
    return absl::OkStatus();
  }
  if (key == "controller.quorum.election.timeout.ms")
    return ParseInt<int32_t>(key, value, 10, &c.controller_quorum_election_timeout_ms);
  if (key == "broker.session.timeout.ms")
    return ParseInt<int32_t>(key, value, 100, &c.broker_session_timeout_ms);
  if (key == "broker.heartbeat.interval.ms")
    return ParseInt<int32_t>(key, value, 10, &c.broker_heartbeat_interval_ms);
  if (key == "broker.rack") {
    c.broker_rack = value;
    return absl::OkStatus();
  }
  if (key == "metadata.log.dir") {
    c.metadata_log_dir = value;
    return absl::OkStatus();
  }
  if (key == "metadata.log.max.record.bytes.between.snapshots")
    return ParseInt<int64_t>(key, value, 1, &c.metadata_snapshot_bytes);
  if (key == "log.dirs" || key == "log.dir") {
    c.log_dirs = List(value);
    if (c.log_dirs.empty()) return Bad(key, value, "at least one directory");
    return absl::OkStatus();
  }
  if (key == "num.partitions") return ParseInt<int32_t>(key, value, 1, &c.num_partitions);
  if (key == "default.replication.factor")
    return ParseInt<int16_t>(key, value, 1, &c.default_replication_factor);
  if (key == "auto.create.topics.enable") return ParseBool(key, value, &c.auto_create_topics_enable);
  if (key == "log.segment.bytes") return ParseInt<int64_t>(key, value, 14, &c.log_segment_bytes);
  if (key == "log.retention.ms") return ParseInt<int64_t>(key, value, -1, &c.log_retention_ms);
  if (key == "log.retention.minutes" || key == "log.retention.hours") {
    int64_t v = 0;
    if (absl::Status s = ParseInt<int64_t>(key, value, -1, &v); !s.ok()) return s;
    c.log_retention_ms = v < 0 ? -1 : v * (key == "log.retention.hours" ? 3600000 : 60000);
    return absl::OkStatus();
  }
  if (key == "log.roll.ms") return ParseInt<int64_t>(key, value, 1, &c.log_roll_ms);
  if (key == "connections.max.idle.ms") return ParseInt<int64_t>(key, value, -1, &c.connections_max_idle_ms);
  if (key == "producer.id.expiration.ms")
    return ParseInt<int64_t>(key, value, 1, &c.producer_id_expiration_ms);
  if (key == "max.connections") return ParseInt<int64_t>(key, value, 0, &c.max_connections);
  if (key == "max.connections.per.ip") return ParseInt<int64_t>(key, value, 0, &c.max_connections_per_ip);
  if (key == "queued.max.request.bytes")
    return ParseInt<int64_t>(key, value, -1, &c.queued_max_request_bytes);
  if (key == "socket.listen.backlog.size")
    return ParseInt<int32_t>(key, value, 1, &c.socket_listen_backlog_size);
  if (key == "socket.send.buffer.bytes")
    return ParseInt<int32_t>(key, value, -1, &c.socket_send_buffer_bytes);
  if (key == "socket.receive.buffer.bytes")
    return ParseInt<int32_t>(key, value, -1, &c.socket_receive_buffer_bytes);
  if (key == "offsets.retention.check.interval.ms")
    return ParseInt<int64_t>(key, value, 1, &c.offsets_retention_check_interval_ms);
  if (key == "fetch.max.bytes") return ParseInt<int32_t>(key, value, 1024, &c.fetch_max_bytes);
  if (key == "delete.topic.enable") return ParseBool(key, value, &c.delete_topic_enable);
  if (key == "controlled.shutdown.enable") return ParseBool(key, value, &c.controlled_shutdown_enable);
  if (key == "unclean.leader.election.enable")
    return ParseBool(key, value, &c.unclean_leader_election_enable);
  if (key == "log.cleaner.enable") return ParseBool(key, value, &c.log_cleaner_enable);
  if (key == "log.cleaner.min.cleanable.ratio") {
    double ratio = 0;
    if (!absl::SimpleAtod(value, &ratio) || ratio < 0 || ratio > 1)
      return Bad(key, value, "a number from 0 to 1");
    c.log_cleaner_min_cleanable_ratio = ratio;
    return absl::OkStatus();
  }
  if (key == "log.cleaner.delete.retention.ms")
    return ParseInt<int64_t>(key, value, 0, &c.log_cleaner_delete_retention_ms);
  if (key == "log.cleaner.min.compaction.lag.ms")
    return ParseInt<int64_t>(key, value, 0, &c.log_cleaner_min_compaction_lag_ms);
  if (key == "log.cleaner.max.compaction.lag.ms")
    return ParseInt<int64_t>(key, value, 1, &c.log_cleaner_max_compaction_lag_ms);
  if (key == "log.segment.delete.delay.ms")
    return ParseInt<int64_t>(key, value, 0, &c.log_segment_delete_delay_ms);
  if (key == "log.local.retention.ms") return ParseInt<int64_t>(key, value, -2, &c.log_local_retention_ms);
  if (key == "log.local.retention.bytes")
    return ParseInt<int64_t>(key, value, -2, &c.log_local_retention_bytes);
  if (key == "log.roll.jitter.ms") return ParseInt<int64_t>(key, value, 0, &c.log_roll_jitter_ms);
  if (key == "log.roll.jitter.hours") {
    int64_t hours = 0;
    if (absl::Status s = ParseInt<int64_t>(key, value, 0, &hours); !s.ok()) return s;
    c.log_roll_jitter_ms = hours * 3600000;
    return absl::OkStatus();
  }
  if (key == "log.message.downconversion.enable")
    return ParseBool(key, value, &c.log_message_downconversion_enable);
  if (key == "log.message.timestamp.difference.max.ms")
    return ParseInt<int64_t>(key, value, 0, &c.log_message_timestamp_difference_max_ms);
  if (const CompressionLevelRange* range = FindCompressionLevelRange(key)) {
    int64_t level = 0;
    if (!absl::SimpleAtoi(value, &level) || !range->Contains(level))
      return Bad(key, value, range->ToString());
    int32_t& field = key == "compression.gzip.level"  ? c.compression_gzip_level
                     : key == "compression.lz4.level" ? c.compression_lz4_level
                                                      : c.compression_zstd_level;
    field = static_cast<int32_t>(level);
    return absl::OkStatus();
  }
  if (key == "log.roll.hours") {
    int64_t hours = 0;
    if (absl::Status s = ParseInt<int64_t>(key, value, 1, &hours); !s.ok()) return s;
    c.log_roll_ms = hours * 3600000;
    return absl::OkStatus();
  }
  if (key == "log.retention.check.interval.ms")
    return ParseInt<int64_t>(key, value, 1, &c.log_retention_check_interval_ms);
  if (key == "log.cleanup.policy") {
    for (const std::string& p : List(value)) {
      if (p != "delete" && p != "compact") return Bad(key, value, "delete and/or compact");
    }
    c.log_cleanup_policy = value;
    return absl::OkStatus();
  }
  if (key == "log.retention.bytes") return ParseInt<int64_t>(key, value, -1, &c.log_retention_bytes);
  if (key == "log.index.size.max.bytes") return ParseInt<int32_t>(key, value, 4, &c.log_index_size_max_bytes);
  if (key == "log.index.interval.bytes") return ParseInt<int32_t>(key, value, 0, &c.log_index_interval_bytes);
  if (key == "log.flush.interval.messages")
    return ParseInt<int64_t>(key, value, 1, &c.log_flush_interval_messages);
  if (key == "log.flush.interval.ms") return ParseInt<int64_t>(key, value, 0, &c.log_flush_interval_ms);
  if (key == "log.flush.scheduler.interval.ms")
    return ParseInt<int64_t>(key, value, 1, &c.log_flush_scheduler_interval_ms);
  if (key == "log.flush.on.ack") return ParseBool(key, value, &c.log_flush_on_ack);
  if (key == "log.preallocate") return ParseBool(key, value, &c.log_preallocate);
  if (key == "log.page.cache.window.bytes")
    return ParseInt<int64_t>(key, value, 0, &c.log_page_cache_window_bytes);
  if (key == "log.page.cache.window.max.bytes")
    return ParseInt<int64_t>(key, value, 0, &c.log_page_cache_window_max_bytes);
  if (key == "log.io.backend") {
    if (!log::ParseIoBackendKind(value).ok()) return Bad(key, value, "auto, io_uring or pwrite");
    c.log_io_backend = value;
    return absl::OkStatus();
  }
  if (key == "compression.type") {
    static const std::set<std::string> kCodecs = {"producer", "uncompressed", "gzip",
                                                  "snappy",   "lz4",          "zstd"};
    if (!kCodecs.contains(value)) return Bad(key, value, "producer, uncompressed, gzip, snappy, lz4 or zstd");
    c.compression_type = value;
    return absl::OkStatus();
  }
  if (key == "log.message.timestamp.type") {
    if (value != "CreateTime" && value != "LogAppendTime")
      return Bad(key, value, "CreateTime or LogAppendTime");
    c.log_message_timestamp_type = value;
    return absl::OkStatus();
  }
  if (key == "log.message.timestamp.before.max.ms")
    return ParseInt<int64_t>(key, value, 0, &c.log_message_timestamp_before_max_ms);
  if (key == "log.message.timestamp.after.max.ms")
    return ParseInt<int64_t>(key, value, 0, &c.log_message_timestamp_after_max_ms);
  if (key == "message.max.bytes") return ParseInt<int32_t>(key, value, 0, &c.message_max_bytes);
  if (key == "min.insync.replicas") return ParseInt<int32_t>(key, value, 1, &c.min_insync_replicas);
  if (key == "socket.request.max.bytes") return ParseInt<int32_t>(key, value, 1, &c.socket_request_max_bytes);
  if (key == "fjord.max.inflight.requests.per.connection") {
    return ParseInt<int32_t>(key, value, 1, &c.max_inflight_requests_per_connection);
  }
  if (key == "offsets.topic.num.partitions")
    return ParseInt<int32_t>(key, value, 1, &c.offsets_topic_num_partitions);
  if (key == "offsets.topic.segment.bytes")
    return ParseInt<int64_t>(key, value, 14, &c.offsets_topic_segment_bytes);
  if (key == "offsets.retention.minutes") {
    int64_t minutes = 0;
    if (absl::Status s = ParseInt<int64_t>(key, value, 1, &minutes); !s.ok()) return s;
    c.offsets_retention_ms = minutes * 60000;
    return absl::OkStatus();
  }
  if (key == "group.initial.rebalance.delay.ms")
    return ParseInt<int32_t>(key, value, 0, &c.group_initial_rebalance_delay_ms);
  if (key == "group.min.session.timeout.ms")
    return ParseInt<int32_t>(key, value, 0, &c.group_min_session_timeout_ms);
  if (key == "group.max.session.timeout.ms")
    return ParseInt<int32_t>(key, value, 0, &c.group_max_session_timeout_ms);
  if (key == "group.max.size") return ParseInt<int32_t>(key, value, 1, &c.group_max_size);
  if (key == "offset.metadata.max.bytes")
    return ParseInt<int32_t>(key, value, 0, &c.offset_metadata_max_bytes);
  if (key == "max.incremental.fetch.session.cache.slots") {
    return ParseInt<int32_t>(key, value, 0, &c.max_incremental_fetch_session_cache_slots);
  }
  if (key == "admin.listener") {
    auto l = ParseListeners(value.find("://") == std::string::npos ? "ADMIN://" + value : value);
    if (!l.ok() || l->size() != 1) return Bad(key, value, "expected host:port");
    c.admin_listener = l->front();
    return absl::OkStatus();
  }
  if (key == "smp") return ParseInt<int>(key, value, 0, &c.smp);
  if (!kKnownButIgnored.contains(key))
    warnings->push_back(absl::StrCat("unknown config key ", key, " (ignored)"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Listener>> ParseListeners(const std::string& value) {
  std::vector<Listener> out;
  for (const std::string& item : List(value)) {
    const size_t sep = item.find("://");
    if (sep == std::string::npos)
      return absl::InvalidArgumentError(absl::StrCat("listener '", item, "' lacks NAME://"));
    Listener l;
    l.name = item.substr(0, sep);
    const std::string hostport = item.substr(sep + 3);
    const size_t colon = hostport.rfind(':');
    if (colon == std::string::npos)
      return absl::InvalidArgumentError(absl::StrCat("listener '", item, "' lacks :port"));
    l.host = hostport.substr(0, colon);
    if (l.host.size() >= 2 && l.host.front() == '[' && l.host.back() == ']')
      l.host = l.host.substr(1, l.host.size() - 2);
    int port = 0;
    if (!absl::SimpleAtoi(hostport.substr(colon + 1), &port) || port < 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("listener '", item, "' has a bad port"));
    }
    l.port = static_cast<uint16_t>(port);
    out.push_back(l);
  }
  return out;
}

const Listener& BrokerConfig::client_listener() const {
  for (const Listener& l : listeners) {
    bool is_controller = false;
    for (const auto& n : controller_listener_names) is_controller |= n == l.name;
    if (!is_controller) return l;
  }
  static const Listener kDefault{"PLAINTEXT", "", 9092};
  return listeners.empty() ? kDefault : listeners.front();
}

const Listener* BrokerConfig::controller_listener() const {
  for (const Listener& l : listeners) {
    for (const auto& n : controller_listener_names) {
      if (n == l.name) return &l;
    }
  }
  return nullptr;
}

bool BrokerConfig::has_role(const std::string& role) const {
  return std::find(process_roles.begin(), process_roles.end(), role) != process_roles.end();
}

Listener BrokerConfig::advertised_client_listener() const {
  const Listener& l = client_listener();
  for (const Listener& a : advertised_listeners) {
    if (a.name == l.name) return a;
  }
  Listener out = l;
  if (out.host.empty() || out.host == "0.0.0.0") out.host = "localhost";
  return out;
}

namespace {

// One setting spelt in several units, in the order Kafka reads them.
const std::vector<std::vector<std::string>>& TimeKeyGroups() {
  static const std::vector<std::vector<std::string>> groups = {
      {"log.roll.ms", "log.roll.hours"},
      {"log.roll.jitter.ms", "log.roll.jitter.hours"},
      {"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
  };
  return groups;
}

}  // namespace

std::vector<std::string> BrokerConfigSynonyms(const std::string& key) {
  for (const auto& group : TimeKeyGroups()) {
    if (std::find(group.begin(), group.end(), key) != group.end()) return group;
  }
  // Only this one way: the scheduler's interval is log.flush.interval.ms's default.
  if (key == "log.flush.interval.ms") return {key, "log.flush.scheduler.interval.ms"};
  return {key};
}

absl::StatusOr<BrokerConfig> LoadConfig(const std::string& path, const std::vector<std::string>& overrides,
                                        std::vector<std::string>* warnings) {
  BrokerConfig c;
  c.listeners = {{"PLAINTEXT", "", 9092}};
  std::vector<std::pair<std::string, std::string>> entries;
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      absl::string_view t = absl::StripAsciiWhitespace(line);
      if (t.empty() || t[0] == '#' || t[0] == '!') continue;
      const size_t eq = t.find_first_of("=:");
      if (eq == std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(path, ":", lineno, ": expected key=value"));
      }
      entries.emplace_back(std::string(absl::StripAsciiWhitespace(t.substr(0, eq))),
                           std::string(absl::StripAsciiWhitespace(t.substr(eq + 1))));
    }
  }
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos)
      return absl::InvalidArgumentError(absl::StrCat("--override ", o, ": expected key=value"));
    entries.emplace_back(o.substr(0, eq), o.substr(eq + 1));
  }
  for (const auto& [k, v] : entries) {
    // Values travel in Kafka strings and in the controller's protobuf records (a rack, a
    // host), both UTF-8 only: refused here, with the key named, not at registration.
    if (!protocol::IsValidUtf8(k) || !protocol::IsValidUtf8(v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("config ", protocol::WithUtf8Replacements(k), ": not valid UTF-8"));
    }
    if (absl::Status s = ApplyBrokerConfig(c, k, v, warnings); !s.ok()) return s;
    c.explicitly_set[k] = v;
  }
  // A key with synonyms takes the first of them that was given, whatever their order in
  // the file (Kafka's stock server.properties sets log.retention.hours, and a
  // log.retention.ms above it must still win).
  for (const auto& group : TimeKeyGroups()) {
    for (const std::string& synonym : group) {
      auto it = c.explicitly_set.find(synonym);
      if (it == c.explicitly_set.end()) continue;
      if (absl::Status s = ApplyBrokerConfig(c, it->first, it->second, warnings); !s.ok()) return s;
      break;
    }
  }
  // Kafka's log.flush.interval.ms has no default of its own: the scheduler's interval.
  if (!c.explicitly_set.contains("log.flush.interval.ms"))
    c.log_flush_interval_ms = c.log_flush_scheduler_interval_ms;
  if (absl::Status s = CheckListenerSecurity(c); !s.ok()) return s;
  if (absl::Status s = CheckListenersAndRoles(c); !s.ok()) return s;
  if (c.queued_max_request_bytes > 0 && c.queued_max_request_bytes < c.socket_request_max_bytes) {
    // As Kafka: else a request of the largest size could never be read.
    return absl::InvalidArgumentError(
        absl::StrCat("config queued.max.request.bytes=", c.queued_max_request_bytes,
                     ": must be at least socket.request.max.bytes (", c.socket_request_max_bytes, ") or -1"));
  }
  return c;
}

std::string CompressionLevelRange::ToString() const {
  return absl::StrCat(min, " to ", max, minus_one_too ? ", or -1" : "");
}

const CompressionLevelRange* FindCompressionLevelRange(const std::string& key) {
  static const CompressionLevelRange kGzip{1, 9, true}, kLz4{1, 17, false}, kZstd{-131072, 22, false};
  if (key == "compression.gzip.level") return &kGzip;
  if (key == "compression.lz4.level") return &kLz4;
  if (key == "compression.zstd.level") return &kZstd;
  return nullptr;
}

}  // namespace fjord::broker
