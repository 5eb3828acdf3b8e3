#include "broker/topic_configs.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "protocol/compression.h"

namespace fjord::broker {

const std::vector<TopicConfigSpec>& TopicConfigSpecs() {
  static const std::vector<TopicConfigSpec> specs = {
      {"cleanup.policy",
       ConfigType::kList,
       "log.cleanup.policy",
       true,
       {"delete", "compact", "compact,delete", "delete,compact"}},
      {"compression.type",
       ConfigType::kString,
       "compression.type",
       true,
       {"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"}},
      {"compression.gzip.level", ConfigType::kInt, "compression.gzip.level", true, {}},
      {"compression.lz4.level", ConfigType::kInt, "compression.lz4.level", true, {}},
      {"compression.zstd.level", ConfigType::kInt, "compression.zstd.level", true, {}},
      {"delete.retention.ms", ConfigType::kLong, "log.cleaner.delete.retention.ms", true, {}, 0},
      {"file.delete.delay.ms", ConfigType::kLong, "log.segment.delete.delay.ms", false, {}, 0},
      {"flush.messages", ConfigType::kLong, "log.flush.interval.messages", true, {}, 1},
      {"flush.ms", ConfigType::kLong, "log.flush.interval.ms", true, {}, 0},
      // Replication throttles: there is no replication to throttle (one replica).
      {"follower.replication.throttled.replicas", ConfigType::kList, "", false, {}},
      {"index.interval.bytes", ConfigType::kInt, "log.index.interval.bytes", true, {}, 0},
      {"leader.replication.throttled.replicas", ConfigType::kList, "", false, {}},
      {"local.retention.bytes", ConfigType::kLong, "log.local.retention.bytes", false, {}, -2},
      {"local.retention.ms", ConfigType::kLong, "log.local.retention.ms", false, {}, -2},
      {"max.compaction.lag.ms", ConfigType::kLong, "log.cleaner.max.compaction.lag.ms", true, {}, 1},
      {"max.message.bytes", ConfigType::kInt, "message.max.bytes", true, {}, 0},
      {"message.downconversion.enable", ConfigType::kBoolean, "log.message.downconversion.enable", true, {}},
      // Ignored by Kafka since 3.0 (the format is v2 whatever it says), and so here.
      {"message.format.version", ConfigType::kString, "log.message.format.version", false, {}},
      {"message.timestamp.difference.max.ms",
       ConfigType::kLong,
       "log.message.timestamp.difference.max.ms",
       true,
       {},
       0},
      {"message.timestamp.type",
       ConfigType::kString,
       "log.message.timestamp.type",
       true,
       {"CreateTime", "LogAppendTime"}},
      {"message.timestamp.after.max.ms",
       ConfigType::kLong,
       "log.message.timestamp.after.max.ms",
       true,
       {},
       0},
      {"message.timestamp.before.max.ms",
       ConfigType::kLong,
       "log.message.timestamp.before.max.ms",
       true,
       {},
       0},
      {"min.cleanable.dirty.ratio", ConfigType::kDouble, "log.cleaner.min.cleanable.ratio", true, {}},
      {"min.compaction.lag.ms", ConfigType::kLong, "log.cleaner.min.compaction.lag.ms", true, {}, 0},
      {"min.insync.replicas", ConfigType::kInt, "min.insync.replicas", true, {}, 1},
      {"preallocate", ConfigType::kBoolean, "log.preallocate", true, {}},
      // Tiered storage: remote.storage.enable=true is refused (no tier), so these two
      // have nothing to act on, as in Kafka without it.
      {"remote.log.copy.disable", ConfigType::kBoolean, "", false, {}},
      {"remote.log.delete.on.disable", ConfigType::kBoolean, "", false, {}},
      {"remote.storage.enable", ConfigType::kBoolean, "", false, {}},
      {"retention.bytes", ConfigType::kLong, "log.retention.bytes", true, {}},
      {"retention.ms", ConfigType::kLong, "log.retention.ms", true, {}, -1},
      {"segment.bytes", ConfigType::kInt, "log.segment.bytes", true, {}, 14},
      {"segment.index.bytes", ConfigType::kInt, "log.index.size.max.bytes", true, {}, 4},
      {"segment.jitter.ms", ConfigType::kLong, "log.roll.jitter.ms", true, {}, 0},
      {"segment.ms", ConfigType::kLong, "log.roll.ms", true, {}, 1},
      {"unclean.leader.election.enable", ConfigType::kBoolean, "unclean.leader.election.enable", false, {}},
  };
  return specs;
}

namespace {

// Kafka's ThrottledReplicaListValidator: "", "*", or partition:broker pairs.
bool ThrottledReplicaList(const std::string& value) {
  const std::string trimmed(absl::StripAsciiWhitespace(value));
  if (trimmed.empty() || trimmed == "*") return true;
  for (absl::string_view pair : absl::StrSplit(trimmed, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(absl::StripAsciiWhitespace(pair), ':');
    int32_t n = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &n) || !absl::SimpleAtoi(parts[1], &n)) return false;
  }
  return true;
}

// Kafka's MetadataVersionValidator (message.format.version): a version Kafka 3.9 names,
// in full ("2.8-IV1") or short ("2.8", standing for its last), where anything after the
// major and minor (after three parts for 0.x) is ignored, as Kafka's parser ignores it.
bool KafkaVersionName(const std::string& value) {
  struct Release {
    const char* name;
    int ivs;  // its versions -IV0 .. -IV(ivs - 1); 0: the name alone
  };
  static constexpr Release kReleases[] = {
      {"0.8.0", 0},  {"0.8.1", 0},  {"0.8.2", 0}, {"0.9.0", 0}, {"0.10.0", 2}, {"0.10.1", 3},
      {"0.10.2", 1}, {"0.11.0", 3}, {"1.0", 1},   {"1.1", 1},   {"2.0", 2},    {"2.1", 3},
      {"2.2", 2},    {"2.3", 2},    {"2.4", 2},   {"2.5", 1},   {"2.6", 1},    {"2.7", 3},
      {"2.8", 2},    {"3.0", 2},    {"3.1", 1},   {"3.2", 1},   {"3.3", 4},    {"3.4", 1},
      {"3.5", 3},    {"3.6", 3},    {"3.7", 5},   {"3.8", 1},   {"3.9", 1}};
  std::vector<std::string> parts = absl::StrSplit(value, '.');
  const size_t kept = absl::StartsWith(value, "0.") ? 3 : 2;
  const std::string key =
      parts.size() > kept ? absl::StrJoin(parts.begin(), parts.begin() + kept, ".") : value;
  for (const Release& r : kReleases) {
    if (key == r.name) return true;
    for (int iv = 0; iv < r.ivs; ++iv) {
      if (key == absl::StrCat(r.name, "-IV", iv)) return true;
    }
  }
  return false;
}

}  // namespace

const TopicConfigSpec* FindTopicConfig(const std::string& name) {
  for (const auto& s : TopicConfigSpecs()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

std::string TopicConfigDefault(const TopicConfigSpec& spec, const BrokerConfig& b) {
  const std::string n = spec.name;
  if (*spec.broker_synonym) {
    for (const auto* dynamic : {&b.dynamic_node, &b.dynamic_cluster}) {
      if (auto it = dynamic->find(spec.broker_synonym); it != dynamic->end()) return it->second;
    }
  }
  if (n == "flush.messages") return std::to_string(b.log_flush_interval_messages);
  if (n == "flush.ms") return std::to_string(b.log_flush_interval_ms);
  if (n == "index.interval.bytes") return std::to_string(b.log_index_interval_bytes);
  if (n == "max.message.bytes") return std::to_string(b.message_max_bytes);
  if (n == "min.insync.replicas") return std::to_string(b.min_insync_replicas);
  if (n == "compression.type") return b.compression_type;
  if (n == "compression.gzip.level") return std::to_string(b.compression_gzip_level);
  if (n == "compression.lz4.level") return std::to_string(b.compression_lz4_level);
  if (n == "compression.zstd.level") return std::to_string(b.compression_zstd_level);
  if (n == "message.downconversion.enable") return b.log_message_downconversion_enable ? "true" : "false";
  if (n == "message.timestamp.difference.max.ms")
    return std::to_string(b.log_message_timestamp_difference_max_ms);
  if (n == "segment.jitter.ms") return std::to_string(b.log_roll_jitter_ms);
  if (n == "message.timestamp.type") return b.log_message_timestamp_type;
  if (n == "message.timestamp.before.max.ms") return std::to_string(b.log_message_timestamp_before_max_ms);
  if (n == "message.timestamp.after.max.ms") return std::to_string(b.log_message_timestamp_after_max_ms);
  if (n == "retention.bytes") return std::to_string(b.log_retention_bytes);
  if (n == "retention.ms") return std::to_string(b.log_retention_ms);
  if (n == "segment.bytes") return std::to_string(b.log_segment_bytes);
  if (n == "segment.index.bytes") return std::to_string(b.log_index_size_max_bytes);
  if (n == "preallocate") return b.log_preallocate ? "true" : "false";
  // Kafka's defaults for what the broker does not configure yet.
  if (n == "cleanup.policy") return b.log_cleanup_policy;
  if (n == "delete.retention.ms") return std::to_string(b.log_cleaner_delete_retention_ms);
  if (n == "file.delete.delay.ms") return std::to_string(b.log_segment_delete_delay_ms);
  if (n == "local.retention.bytes") return std::to_string(b.log_local_retention_bytes);
  if (n == "local.retention.ms") return std::to_string(b.log_local_retention_ms);
  if (n == "max.compaction.lag.ms") return std::to_string(b.log_cleaner_max_compaction_lag_ms);
  if (n == "min.cleanable.dirty.ratio") return absl::StrCat(b.log_cleaner_min_cleanable_ratio);
  if (n == "min.compaction.lag.ms") return std::to_string(b.log_cleaner_min_compaction_lag_ms);
  if (n == "unclean.leader.election.enable") return b.unclean_leader_election_enable ? "true" : "false";
  if (n == "remote.storage.enable" || n == "remote.log.copy.disable" || n == "remote.log.delete.on.disable") {
    return "false";
  }
  if (n == "message.format.version") return "3.0-IV1";
  if (n == "segment.ms") return std::to_string(b.log_roll_ms);
  return "";
}

absl::Status CheckTopicConfigKnown(const std::string& name) {
  if (FindTopicConfig(name) != nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("Unknown topic config name: ", name));
}

absl::Status ValidateTopicConfig(const std::string& name, const std::string& value) {
  const TopicConfigSpec* spec = FindTopicConfig(name);
  if (spec == nullptr) return CheckTopicConfigKnown(name);
  auto bad = [&](const char* what) {  // Kafka's ConfigException words
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid value ", value, " for configuration ", name, ": ", what));
  };
  int64_t integer = 0;
  double number = 0;
  switch (spec->type) {
    case ConfigType::kBoolean:
      if (value != "true" && value != "false") return bad("expected true or false");
      break;
    case ConfigType::kInt: {
      int32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("expected a 32-bit integer");
      integer = v;
      break;
    }
    case ConfigType::kLong: {
      if (!absl::SimpleAtoi(value, &integer)) return bad("expected a 64-bit integer");
      break;
    }
    case ConfigType::kDouble: {
      if (!absl::SimpleAtod(value, &number)) return bad("expected a number");
      break;
    }
    default:
      break;
  }
  if (!spec->allowed.empty() &&
      std::none_of(spec->allowed.begin(), spec->allowed.end(), [&](const char* a) { return value == a; })) {
    return bad(absl::StrCat("expected one of ", absl::StrJoin(spec->allowed, ", ")).c_str());
  }
  if (spec->at_least && integer < *spec->at_least) {
    return bad(absl::StrCat("Value must be at least ", *spec->at_least).c_str());
  }
  // No tier exists (Kafka's remote.log.storage.system.enable=false): Kafka's answer.
  if (name == "remote.storage.enable" && value == "true") {
    return absl::InvalidArgumentError(
        "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log "
        "storage.");
  }
  if (const CompressionLevelRange* range = FindCompressionLevelRange(name);
      range && !range->Contains(integer)) {
    return bad(absl::StrCat("Value must be between ", range->min, " and ", range->max,
                            range->minus_one_too ? ", or -1" : "")
                   .c_str());
  }
  if ((name == "leader.replication.throttled.replicas" ||
       name == "follower.replication.throttled.replicas") &&
      !ThrottledReplicaList(value)) {
    return bad(
        "must be the literal '*' or a list of replicas in the following format: "
        "[partitionId]:[brokerId],[partitionId]:[brokerId],...");
  }
  if (name == "message.format.version" && !KafkaVersionName(value)) {
    return bad(absl::StrCat("Version ", value, " is not a valid version").c_str());
  }
  if (name == "min.cleanable.dirty.ratio") {
    if (number < 0) return bad("Value must be no less than 0");
    if (number > 1) return bad("Value must be no more than 1");
  }
  return absl::OkStatus();
}

const TopicConfigSpec* FindTopicConfigBySynonym(std::string_view broker_key) {
  if (broker_key.empty()) return nullptr;  // the specs without a synonym hold ""
  for (const auto& s : TopicConfigSpecs()) {
    if (broker_key == s.broker_synonym) return &s;
  }
  return nullptr;
}

bool IsDynamicBrokerConfig(const std::string& name) {
  return FindTopicConfigBySynonym(name) != nullptr;
}

absl::Status ValidateBrokerDynamicConfig(const std::string& name, const std::string& value) {
  const TopicConfigSpec* spec = FindTopicConfigBySynonym(name);
  if (spec == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(name, " cannot be changed dynamically"));
  absl::Status st = ValidateTopicConfig(spec->name, value);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value ", value, " for ", name, ": ", absl::string_view(st.message())));
  }
  BrokerConfig scratch;  // the broker's own parser has the final word on ranges
  std::vector<std::string> warnings;
  return ApplyBrokerConfig(scratch, name, value, &warnings);
}

BrokerConfig WithDynamicConfigs(const BrokerConfig& static_config, const MetadataImage& image) {
  BrokerConfig c = static_config;
  std::vector<std::string> ignored;
  if (auto it = image.broker_configs.find(""); it != image.broker_configs.end())
    c.dynamic_cluster = it->second;
  if (auto it = image.broker_configs.find(std::to_string(c.node_id)); it != image.broker_configs.end())
    c.dynamic_node = it->second;
  for (const auto* dynamic : {&c.dynamic_cluster, &c.dynamic_node}) {
    for (const auto& [k, v] : *dynamic) (void)ApplyBrokerConfig(c, k, v, &ignored);
  }
  return c;
}

log::LogConfig EffectiveLogConfig(const BrokerConfig& b, const TopicInfo* topic) {
  log::LogConfig lc;
  lc.segment_bytes = b.log_segment_bytes;
  lc.index_interval_bytes = b.log_index_interval_bytes;
  lc.segment_index_bytes = b.log_index_size_max_bytes;
  lc.flush_messages = b.log_flush_interval_messages;
  lc.flush_ms = b.log_flush_interval_ms;
  lc.producer_id_expiration_ms = b.producer_id_expiration_ms;
  // log.flush.on.ack is not a per-append flush: acks=all produce requests wait for the
  // shard's group commit instead (group_commit.h).
  lc.flush_on_every_append = false;
  lc.page_cache_window_bytes = b.log_page_cache_window_bytes;
  lc.page_cache_window_max_bytes = b.log_page_cache_window_max_bytes;
  lc.preallocate = b.log_preallocate;
  lc.log_append_time = b.log_message_timestamp_type == "LogAppendTime";
  lc.retention_ms = b.log_retention_ms;
  lc.retention_bytes = b.log_retention_bytes;
  lc.segment_ms = b.log_roll_ms;
  lc.segment_jitter_ms = b.log_roll_jitter_ms;
  lc.delete_retention = b.log_cleanup_policy.find("delete") != std::string::npos;
  lc.compact = b.log_cleanup_policy.find("compact") != std::string::npos;
  auto get = [&](const char* k) -> const std::string* {
    if (topic == nullptr) return nullptr;
    auto it = topic->configs.find(k);
    return it == topic->configs.end() ? nullptr : &it->second;
  };
  int64_t v = 0;
  if (auto* s = get("segment.bytes"); s && absl::SimpleAtoi(*s, &v)) lc.segment_bytes = v;
  if (auto* s = get("segment.index.bytes"); s && absl::SimpleAtoi(*s, &v))
    lc.segment_index_bytes = static_cast<int32_t>(v);
  if (auto* s = get("index.interval.bytes"); s && absl::SimpleAtoi(*s, &v))
    lc.index_interval_bytes = static_cast<int32_t>(v);
  if (auto* s = get("flush.messages"); s && absl::SimpleAtoi(*s, &v))
    lc.flush_messages = std::max<int64_t>(v, 1);
  if (auto* s = get("flush.ms"); s && absl::SimpleAtoi(*s, &v)) lc.flush_ms = v;
  if (auto* s = get("message.timestamp.type")) lc.log_append_time = *s == "LogAppendTime";
  if (auto* s = get("retention.ms"); s && absl::SimpleAtoi(*s, &v)) lc.retention_ms = v;
  if (auto* s = get("retention.bytes"); s && absl::SimpleAtoi(*s, &v)) lc.retention_bytes = v;
  if (auto* s = get("segment.ms"); s && absl::SimpleAtoi(*s, &v)) lc.segment_ms = v;
  if (auto* s = get("segment.jitter.ms"); s && absl::SimpleAtoi(*s, &v)) lc.segment_jitter_ms = v;
  if (auto* s = get("preallocate")) lc.preallocate = *s == "true";
  if (auto* s = get("cleanup.policy")) {
    lc.delete_retention = s->find("delete") != std::string::npos;
    lc.compact = s->find("compact") != std::string::npos;
  }
  // Compaction settings (only compacted logs read them; this runs on every produce):
  // the topic's override, else the broker's (dynamic) default.
  if (lc.compact) {
    auto setting = [&](const char* name) { return EffectiveTopicConfig(b, topic, name); };
    (void)absl::SimpleAtod(setting("min.cleanable.dirty.ratio"), &lc.min_cleanable_dirty_ratio);
    (void)absl::SimpleAtoi(setting("delete.retention.ms"), &lc.delete_retention_ms);
    (void)absl::SimpleAtoi(setting("min.compaction.lag.ms"), &lc.min_compaction_lag_ms);
    (void)absl::SimpleAtoi(setting("max.compaction.lag.ms"), &lc.max_compaction_lag_ms);
    // As Kafka's LogConfig.maxSegmentMs: the active segment (never compacted) rolls by
    // the max lag too, so a record cannot stay dirty longer than that behind it.
    lc.segment_ms = std::min(lc.segment_ms, lc.max_compaction_lag_ms);
  }
  return lc;
}

TimestampBounds EffectiveTimestampBounds(const BrokerConfig& b, const TopicInfo* topic) {
  TimestampBounds out{b.log_message_timestamp_before_max_ms, b.log_message_timestamp_after_max_ms};
  int64_t difference = b.log_message_timestamp_difference_max_ms;
  if (topic != nullptr) {
    int64_t v = 0;
    if (auto it = topic->configs.find("message.timestamp.difference.max.ms");
        it != topic->configs.end() && absl::SimpleAtoi(it->second, &v)) {
      difference = v;
    }
    if (auto it = topic->configs.find("message.timestamp.before.max.ms");
        it != topic->configs.end() && absl::SimpleAtoi(it->second, &v)) {
      out.before_max_ms = v;
    }
    if (auto it = topic->configs.find("message.timestamp.after.max.ms");
        it != topic->configs.end() && absl::SimpleAtoi(it->second, &v)) {
      out.after_max_ms = v;
    }
  }
  // As Kafka 3.9: the deprecated difference bounds a side whose own setting is unset.
  constexpr int64_t kUnset = std::numeric_limits<int64_t>::max();
  if (out.before_max_ms == kUnset) out.before_max_ms = difference;
  if (out.after_max_ms == kUnset) out.after_max_ms = difference;
  return out;
}

std::string EffectiveTopicConfig(const BrokerConfig& b, const TopicInfo* topic, const std::string& name) {
  if (topic != nullptr) {
    if (auto it = topic->configs.find(name); it != topic->configs.end()) return it->second;
  }
  const TopicConfigSpec* spec = FindTopicConfig(name);
  return spec != nullptr ? TopicConfigDefault(*spec, b) : "";
}

// compression.type and min.insync.replicas are read on every produced partition: the
// override, else the broker's own field (dynamic values are already laid over it), with
// no search of the spec table.
std::string EffectiveCompressionType(const BrokerConfig& b, const TopicInfo* topic) {
  if (topic != nullptr) {
    if (auto it = topic->configs.find("compression.type"); it != topic->configs.end()) return it->second;
  }
  return b.compression_type;
}

int EffectiveCompressionLevel(const BrokerConfig& b, const TopicInfo* topic, const std::string& codec) {
  int level = 0;
  return absl::SimpleAtoi(EffectiveTopicConfig(b, topic, absl::StrCat("compression.", codec, ".level")),
                          &level)
             ? level
             : protocol::kDefaultLevel;
}

bool EffectiveDownConversion(const BrokerConfig& b, const TopicInfo* topic) {
  return EffectiveTopicConfig(b, topic, "message.downconversion.enable") == "true";
}

int32_t EffectiveMinInsyncReplicas(const BrokerConfig& b, const TopicInfo* topic) {
  if (topic != nullptr) {
    auto it = topic->configs.find("min.insync.replicas");
    int32_t v = 0;
    if (it != topic->configs.end() && absl::SimpleAtoi(it->second, &v)) return v;
  }
  return b.min_insync_replicas;
}

int32_t EffectiveMaxMessageBytes(const BrokerConfig& b, const TopicInfo* topic) {
  if (topic != nullptr) {
    auto it = topic->configs.find("max.message.bytes");
    int32_t v = 0;
    if (it != topic->configs.end() && absl::SimpleAtoi(it->second, &v)) return v;
  }
  return b.message_max_bytes;
}

namespace {

std::vector<std::pair<std::string, std::pair<std::string, ConfigType>>> BrokerConfigValues(
    const BrokerConfig& c) {
  auto listeners = [](const std::vector<Listener>& ls) {
    std::vector<std::string> parts;
    for (const auto& l : ls) parts.push_back(absl::StrCat(l.name, "://", l.host, ":", l.port));
    return absl::StrJoin(parts, ",");
  };
  return {
      {"advertised.listeners", {listeners(c.advertised_listeners), ConfigType::kString}},
      {"auto.create.topics.enable", {c.auto_create_topics_enable ? "true" : "false", ConfigType::kBoolean}},
      {"delete.topic.enable", {c.delete_topic_enable ? "true" : "false", ConfigType::kBoolean}},
      {"controlled.shutdown.enable", {c.controlled_shutdown_enable ? "true" : "false", ConfigType::kBoolean}},
      {"fetch.max.bytes", {std::to_string(c.fetch_max_bytes), ConfigType::kInt}},
      {"connections.max.idle.ms", {std::to_string(c.connections_max_idle_ms), ConfigType::kLong}},
      {"max.connections", {std::to_string(c.max_connections), ConfigType::kInt}},
      {"producer.id.expiration.ms", {std::to_string(c.producer_id_expiration_ms), ConfigType::kInt}},
      {"max.connections.per.ip", {std::to_string(c.max_connections_per_ip), ConfigType::kInt}},
      {"socket.listen.backlog.size", {std::to_string(c.socket_listen_backlog_size), ConfigType::kInt}},
      {"queued.max.request.bytes", {std::to_string(c.queued_max_request_bytes), ConfigType::kLong}},
      {"socket.send.buffer.bytes", {std::to_string(c.socket_send_buffer_bytes), ConfigType::kInt}},
      {"socket.receive.buffer.bytes", {std::to_string(c.socket_receive_buffer_bytes), ConfigType::kInt}},
      {"offsets.retention.check.interval.ms",
       {std::to_string(c.offsets_retention_check_interval_ms), ConfigType::kLong}},
      {"unclean.leader.election.enable",
       {c.unclean_leader_election_enable ? "true" : "false", ConfigType::kBoolean}},
      {"default.replication.factor", {std::to_string(c.default_replication_factor), ConfigType::kInt}},
      {"listeners", {listeners(c.listeners), ConfigType::kString}},
      {"listener.security.protocol.map",
       {absl::StrJoin(c.listener_security_protocol_map, ",", absl::PairFormatter(":")), ConfigType::kString}},
      {"log.dirs", {absl::StrJoin(c.log_dirs, ","), ConfigType::kString}},
      {"log.flush.interval.messages", {std::to_string(c.log_flush_interval_messages), ConfigType::kLong}},
      {"log.flush.interval.ms", {std::to_string(c.log_flush_interval_ms), ConfigType::kLong}},
      {"log.flush.scheduler.interval.ms",
       {std::to_string(c.log_flush_scheduler_interval_ms), ConfigType::kLong}},
      {"log.index.interval.bytes", {std::to_string(c.log_index_interval_bytes), ConfigType::kInt}},
      {"log.index.size.max.bytes", {std::to_string(c.log_index_size_max_bytes), ConfigType::kInt}},
      {"log.message.timestamp.type", {c.log_message_timestamp_type, ConfigType::kString}},
      {"log.message.timestamp.after.max.ms",
       {std::to_string(c.log_message_timestamp_after_max_ms), ConfigType::kLong}},
      {"log.message.timestamp.before.max.ms",
       {std::to_string(c.log_message_timestamp_before_max_ms), ConfigType::kLong}},
      {"log.preallocate", {c.log_preallocate ? "true" : "false", ConfigType::kBoolean}},
      {"log.retention.bytes", {std::to_string(c.log_retention_bytes), ConfigType::kLong}},
      {"log.retention.check.interval.ms",
       {std::to_string(c.log_retention_check_interval_ms), ConfigType::kLong}},
      {"log.roll.ms", {std::to_string(c.log_roll_ms), ConfigType::kLong}},
      {"log.cleanup.policy", {c.log_cleanup_policy, ConfigType::kList}},
      {"log.retention.ms", {std::to_string(c.log_retention_ms), ConfigType::kLong}},
      {"log.segment.bytes", {std::to_string(c.log_segment_bytes), ConfigType::kInt}},
      {"message.max.bytes", {std::to_string(c.message_max_bytes), ConfigType::kInt}},
      {"min.insync.replicas", {std::to_string(c.min_insync_replicas), ConfigType::kInt}},
      {"compression.type", {c.compression_type, ConfigType::kString}},
      {"log.cleaner.enable", {c.log_cleaner_enable ? "true" : "false", ConfigType::kBoolean}},
      {"log.cleaner.min.cleanable.ratio",
       {absl::StrCat(c.log_cleaner_min_cleanable_ratio), ConfigType::kDouble}},
      {"log.cleaner.delete.retention.ms",
       {std::to_string(c.log_cleaner_delete_retention_ms), ConfigType::kLong}},
      {"log.cleaner.min.compaction.lag.ms",
       {std::to_string(c.log_cleaner_min_compaction_lag_ms), ConfigType::kLong}},
      {"log.cleaner.max.compaction.lag.ms",
       {std::to_string(c.log_cleaner_max_compaction_lag_ms), ConfigType::kLong}},
      {"log.segment.delete.delay.ms", {std::to_string(c.log_segment_delete_delay_ms), ConfigType::kLong}},
      {"log.local.retention.ms", {std::to_string(c.log_local_retention_ms), ConfigType::kLong}},
      {"log.local.retention.bytes", {std::to_string(c.log_local_retention_bytes), ConfigType::kLong}},
      {"compression.gzip.level", {std::to_string(c.compression_gzip_level), ConfigType::kInt}},
      {"compression.lz4.level", {std::to_string(c.compression_lz4_level), ConfigType::kInt}},
      {"compression.zstd.level", {std::to_string(c.compression_zstd_level), ConfigType::kInt}},
      {"log.roll.jitter.ms", {std::to_string(c.log_roll_jitter_ms), ConfigType::kLong}},
      {"log.message.downconversion.enable",
       {c.log_message_downconversion_enable ? "true" : "false", ConfigType::kBoolean}},
      {"log.message.timestamp.difference.max.ms",
       {std::to_string(c.log_message_timestamp_difference_max_ms), ConfigType::kLong}},
      {"node.id", {std::to_string(c.node_id), ConfigType::kInt}},
      {"num.partitions", {std::to_string(c.num_partitions), ConfigType::kInt}},
      {"process.roles", {absl::StrJoin(c.process_roles, ","), ConfigType::kList}},
      {"socket.request.max.bytes", {std::to_string(c.socket_request_max_bytes), ConfigType::kInt}},
  };
}

}  // namespace

const std::map<std::string, BrokerConfigKey>& BrokerConfigKeys() {
  static const std::map<std::string, BrokerConfigKey> keys = [] {
    std::vector<std::string> ignored;
    const BrokerConfig defaults = *LoadConfig("", {}, &ignored);
    std::map<std::string, BrokerConfigKey> out;
    for (const auto& [name, value_type] : BrokerConfigValues(defaults)) {
      out[name] = {value_type.first, value_type.second};
    }
    for (const TopicConfigSpec& spec : TopicConfigSpecs()) {  // every topic default's broker key
      if (*spec.broker_synonym)
        out.try_emplace(spec.broker_synonym, TopicConfigDefault(spec, defaults), spec.type);
    }
    // Kafka's keys that spell a time in larger units: its defaults sit on the last
    // synonym of each (hours; the scheduler's interval for log.flush.interval.ms), and
    // the others have none, so their describe shows null.
    constexpr int64_t kHourMs = 3600000;
    out["log.retention.hours"] = {std::to_string(defaults.log_retention_ms / kHourMs), ConfigType::kInt};
    out["log.retention.minutes"] = {std::nullopt, ConfigType::kInt};
    out["log.roll.hours"] = {std::to_string(defaults.log_roll_ms / kHourMs), ConfigType::kInt};
    out["log.roll.jitter.hours"] = {std::to_string(defaults.log_roll_jitter_ms / kHourMs), ConfigType::kInt};
    for (auto& [name, key] : out) {
      if (BrokerConfigSynonyms(name).back() != name) key.default_value = std::nullopt;
    }
    return out;
  }();
  return keys;
}

}  // namespace fjord::broker
