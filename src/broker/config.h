// Broker configuration with Kafka's server.properties key names.
//
// `fjord [server.properties] [--override key=value]...`: the file first, overrides
// after it. Unknown keys are warned about (Kafka's full key set is large; we accept and
// say we ignore them); a value that does not parse stops start-up naming the key.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fjord::broker {

struct Listener {
  std::string name;  // PLAINTEXT, CONTROLLER, ...
  std::string host;  // empty = all interfaces
  uint16_t port = 0;
};

struct BrokerConfig {
  int32_t node_id = 1;                                  // node.id
  std::vector<std::string> process_roles = {"broker"};  // process.roles
  std::vector<Listener> listeners;                      // listeners
  std::vector<Listener> advertised_listeners;           // advertised.listeners
  std::vector<std::string> controller_listener_names;   // controller.listener.names
  // listener.security.protocol.map: listener name (upper case) -> security protocol.
  // Kafka's default; LoadConfig refuses a listener that maps to anything but PLAINTEXT.
  std::map<std::string, std::string> listener_security_protocol_map = {{"PLAINTEXT", "PLAINTEXT"},
                                                                       {"SSL", "SSL"},
                                                                       {"SASL_PLAINTEXT", "SASL_PLAINTEXT"},
                                                                       {"SASL_SSL", "SASL_SSL"}};
  std::string controller_quorum_voters;                     // controller.quorum.voters
  int32_t controller_quorum_election_timeout_ms = 1000;     // controller.quorum.election.timeout.ms
  int32_t broker_session_timeout_ms = 9000;                 // broker.session.timeout.ms
  int32_t broker_heartbeat_interval_ms = 2000;              // broker.heartbeat.interval.ms
  std::string broker_rack;                                  // broker.rack
  std::string metadata_log_dir;                             // metadata.log.dir (default: the first log dir)
  int64_t metadata_snapshot_bytes = 20971520;               // metadata.log.max.record.bytes.between.snapshots
  std::vector<std::string> log_dirs = {"/tmp/fjord-logs"};  // log.dirs (or log.dir)
  int32_t num_partitions = 1;                               // num.partitions
  int16_t default_replication_factor = 1;                   // default.replication.factor
  bool auto_create_topics_enable = true;                    // auto.create.topics.enable
  int64_t log_segment_bytes = 1LL << 30;                    // log.segment.bytes
  int64_t log_retention_ms = 7LL * 24 * 3600 * 1000;        // log.retention.{ms,minutes,hours}
  int64_t log_retention_bytes = -1;                         // log.retention.bytes
  int64_t log_roll_ms = 7LL * 24 * 3600 * 1000;             // log.roll.{ms,hours}
  int64_t log_retention_check_interval_ms = 300000;         // log.retention.check.interval.ms
  std::string log_cleanup_policy = "delete";                // log.cleanup.policy
  int32_t log_index_interval_bytes = 4096;                  // log.index.interval.bytes
  int32_t log_index_size_max_bytes = 10485760;              // log.index.size.max.bytes
  int64_t log_flush_interval_messages = INT64_MAX;          // log.flush.interval.messages
  int64_t log_flush_interval_ms = INT64_MAX;                // log.flush.interval.ms
  int64_t log_flush_scheduler_interval_ms = INT64_MAX;      // log.flush.scheduler.interval.ms
  bool log_flush_on_ack = false;                            // fjord: fsync before acknowledging acks=all
  std::string log_io_backend = "auto";                      // fjord: auto, io_uring or pwrite
  int64_t log_page_cache_window_bytes = 4 << 20;            // fjord: bytes of a log's end kept cached
  int64_t log_page_cache_window_max_bytes = 256 << 20;      // fjord: ... grown for readers behind
  bool log_preallocate = false;                             // log.preallocate (src/log/README.md)
  std::string log_message_timestamp_type = "CreateTime";    // log.message.timestamp.type
  int64_t log_message_timestamp_before_max_ms = INT64_MAX;  // log.message.timestamp.before.max.ms
  int64_t log_message_timestamp_after_max_ms = INT64_MAX;   // log.message.timestamp.after.max.ms
  int32_t message_max_bytes = 1048588;                      // message.max.bytes
  int32_t min_insync_replicas = 1;                          // min.insync.replicas
  std::string compression_type = "producer";                // compression.type
  int32_t compression_gzip_level = -1;                      // compression.gzip.level (-1: zlib's default)
  int32_t compression_lz4_level = 9;                        // compression.lz4.level
  int32_t compression_zstd_level = 3;                       // compression.zstd.level
  int64_t log_roll_jitter_ms = 0;                           // log.roll.jitter.{ms,hours}
  bool log_message_downconversion_enable = true;            // log.message.downconversion.enable
  int64_t log_message_timestamp_difference_max_ms = INT64_MAX;  // log.message.timestamp.difference.max.ms
  bool log_cleaner_enable = true;                               // log.cleaner.enable: compaction runs
  bool delete_topic_enable = true;                              // delete.topic.enable
  bool controlled_shutdown_enable = true;                       // controlled.shutdown.enable
  int32_t fetch_max_bytes = 57671680;                           // fetch.max.bytes: caps a Fetch answer
  bool unclean_leader_election_enable = false;                  // unclean.leader.election.enable
  double log_cleaner_min_cleanable_ratio = 0.5;                 // log.cleaner.min.cleanable.ratio
  int64_t log_cleaner_delete_retention_ms = 86400000;           // log.cleaner.delete.retention.ms
  int64_t log_cleaner_min_compaction_lag_ms = 0;                // log.cleaner.min.compaction.lag.ms
  int64_t log_cleaner_max_compaction_lag_ms = INT64_MAX;        // log.cleaner.max.compaction.lag.ms
  int64_t log_segment_delete_delay_ms = 60000;                  // log.segment.delete.delay.ms
  int64_t log_local_retention_ms = -2;                          // log.local.retention.ms
  int64_t log_local_retention_bytes = -2;                       // log.local.retention.bytes
  int32_t socket_request_max_bytes = 104857600;                 // socket.request.max.bytes
  int64_t connections_max_idle_ms = 600000;                     // connections.max.idle.ms (<= 0: never)
  int64_t max_connections = INT32_MAX;                          // max.connections
  int64_t max_connections_per_ip = INT32_MAX;                   // max.connections.per.ip
  int32_t socket_listen_backlog_size = 50;                      // socket.listen.backlog.size
  // SO_SNDBUF / SO_RCVBUF of client connections; -1 leaves them to the kernel, whose
  // autotuning grows them with the traffic (Kafka's default is a fixed 102400).
  int32_t socket_send_buffer_bytes = -1;                     // socket.send.buffer.bytes
  int32_t socket_receive_buffer_bytes = -1;                  // socket.receive.buffer.bytes
  int64_t producer_id_expiration_ms = 86400000;              // producer.id.expiration.ms
  int32_t max_inflight_requests_per_connection = 100;        // fjord
  int64_t queued_max_request_bytes = -1;                     // queued.max.request.bytes (<= 0: no limit)
  int32_t max_incremental_fetch_session_cache_slots = 1000;  // max.incremental.fetch.session.cache.slots
  // Consumer groups (Kafka's names and defaults).
  int32_t offsets_topic_num_partitions = 50;             // offsets.topic.num.partitions
  int64_t offsets_topic_segment_bytes = 104857600;       // offsets.topic.segment.bytes
  int64_t offsets_retention_ms = 7LL * 24 * 3600000;     // offsets.retention.minutes
  int64_t offsets_retention_check_interval_ms = 600000;  // offsets.retention.check.interval.ms
  int32_t group_initial_rebalance_delay_ms = 3000;       // group.initial.rebalance.delay.ms
  int32_t group_min_session_timeout_ms = 6000;           // group.min.session.timeout.ms
  int32_t group_max_session_timeout_ms = 1800000;        // group.max.session.timeout.ms
  int32_t group_max_size = INT32_MAX;                    // group.max.size
  int32_t offset_metadata_max_bytes = 4096;              // offset.metadata.max.bytes
  Listener admin_listener{"ADMIN", "127.0.0.1", 9644};   // admin.listener (host:port)
  int smp = 0;                                           // --smp: 0 = one shard per CPU it may use
  // Keys given in the file or as overrides, with the value given (the last, if repeated).
  std::map<std::string, std::string> explicitly_set;
  // Dynamic configs (AlterConfigs) laid over the file's values: this broker's own,
  // and the cluster-wide defaults. Empty in the static config.
  std::map<std::string, std::string> dynamic_node;
  std::map<std::string, std::string> dynamic_cluster;

  // The listener clients use (the first that is not a controller listener).
  const Listener& client_listener() const;
  // The listener named in controller.listener.names, or null.
  const Listener* controller_listener() const;
  bool has_role(const std::string& role) const;
  // Where the metadata log and meta.properties live.
  std::string metadata_dir() const { return metadata_log_dir.empty() ? log_dirs.front() : metadata_log_dir; }
  // What Metadata advertises for the client listener.
  Listener advertised_client_listener() const;
};

// Parses `path` (may be empty) then the overrides (key=value).
absl::StatusOr<BrokerConfig> LoadConfig(const std::string& path, const std::vector<std::string>& overrides,
                                        std::vector<std::string>* warnings);

// Sets one key on `c` as the file would (a bad value is InvalidArgument naming the key;
// an unknown key adds a warning).
absl::Status ApplyBrokerConfig(BrokerConfig& c, const std::string& key, const std::string& value,
                               std::vector<std::string>* warnings);

// Kafka's synonyms of a broker key (DynamicBrokerConfig.brokerConfigSynonyms), in the
// order Kafka reads them: log.retention.ms before .minutes before .hours, log.roll.ms
// before .hours, log.roll.jitter.ms before .hours, log.flush.interval.ms before
// log.flush.scheduler.interval.ms (its default). Any other key is its only synonym.
std::vector<std::string> BrokerConfigSynonyms(const std::string& key);

// Parses one listener list: "PLAINTEXT://localhost:9092,CONTROLLER://:9093".
absl::StatusOr<std::vector<Listener>> ParseListeners(const std::string& value);

// Kafka's range for compression.<codec>.level (KIP-390), for the broker's key and the
// topic's alike; gzip also takes -1 (zlib's own default).
struct CompressionLevelRange {
  int32_t min;
  int32_t max;
  bool minus_one_too;
  bool Contains(int64_t level) const {
    return (minus_one_too && level == -1) || (level >= min && level <= max);
  }
  std::string ToString() const;  // "1 to 9, or -1"
};
// The range of compression.gzip.level, .lz4.level or .zstd.level; nullptr for another key.
const CompressionLevelRange* FindCompressionLevelRange(const std::string& key);

}  // namespace fjord::broker
