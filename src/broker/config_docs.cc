#include "broker/config_docs.h"

#include <map>

#include "broker/topic_configs.h"

namespace fjord::broker {

namespace {

using Docs = std::map<std::string_view, std::string_view>;

// In our words, saying what Fjord does with each (which can differ from Kafka: one
// replica per partition, no tier). Keep in step with src/broker/README.md.
const Docs& TopicDocs() {
  static const Docs docs = {
      {"cleanup.policy",
       "What happens to old segments: delete (by retention.ms and retention.bytes), compact (keep "
       "the newest record per key), or both."},
      {"compression.type",
       "The codec batches are stored in: producer keeps each batch as the producer compressed it, "
       "uncompressed stores them plain, and gzip, snappy, lz4 or zstd rewrites batches in another "
       "codec into that one."},
      {"compression.gzip.level",
       "Level for batches the broker compresses with gzip: 1 to 9, or -1 for zlib's default."},
      {"compression.lz4.level", "Level for batches the broker compresses with lz4: 1 to 17."},
      {"compression.zstd.level", "Level for batches the broker compresses with zstd: -131072 to 22."},
      {"delete.retention.ms",
       "How long compaction keeps a tombstone (a record with a null value) once it could remove it, so "
       "that consumers reading from behind still see the delete."},
      {"file.delete.delay.ms",
       "Stored and shown only: a deleted segment is unlinked at once, as a reader holds its file open "
       "and can finish reading it."},
      {"flush.messages", "Records appended to a partition between two fdatasyncs of its log."},
      {"flush.ms",
       "Longest time appended records wait before the log is fdatasynced (checked every second, or "
       "every log.flush.scheduler.interval.ms if that is shorter)."},
      {"follower.replication.throttled.replicas",
       "Stored and shown only: a partition has one replica, so there is no follower traffic to throttle."},
      {"index.interval.bytes", "Bytes of log between two entries of the offset and time indexes."},
      {"leader.replication.throttled.replicas",
       "Stored and shown only: a partition has one replica, so there is no replication to throttle."},
      {"local.retention.bytes", "Stored and shown only: there is no tiered storage for it to apply to."},
      {"local.retention.ms", "Stored and shown only: there is no tiered storage for it to apply to."},
      {"max.compaction.lag.ms",
       "Longest time a record may stay uncompacted: a log with older dirty records is compacted "
       "whatever its dirty ratio, and its active segment is rolled for that."},
      {"max.message.bytes",
       "Largest record batch a Produce may append, after any recompression; larger ones get "
       "MESSAGE_TOO_LARGE."},
      {"message.downconversion.enable",
       "Whether Fetch v0 to v3 clients get the stored batches converted to the old message format; "
       "false answers them UNSUPPORTED_VERSION."},
      {"message.format.version",
       "Stored and shown only: batches are always stored in format v2, as since Kafka 3.0. Must be a "
       "version Kafka names, such as 3.0-IV1 or 3.0."},
      {"message.timestamp.difference.max.ms",
       "Deprecated: the bound for message.timestamp.before.max.ms and .after.max.ms where those are "
       "not set."},
      {"message.timestamp.type",
       "CreateTime keeps the producer's timestamps; LogAppendTime replaces them with the broker's "
       "clock at append."},
      {"message.timestamp.after.max.ms",
       "How far a CreateTime timestamp may lie after the broker's clock; a batch beyond it gets "
       "INVALID_TIMESTAMP."},
      {"message.timestamp.before.max.ms",
       "How far a CreateTime timestamp may lie before the broker's clock; a batch beyond it gets "
       "INVALID_TIMESTAMP."},
      {"min.cleanable.dirty.ratio",
       "Share of a compacted log that must be uncompacted before compaction runs on it."},
      {"min.compaction.lag.ms", "Shortest time a record stays uncompacted after it was appended."},
      {"min.insync.replicas",
       "Replicas that must hold a record before an acks=all Produce succeeds; above 1 such produces "
       "get NOT_ENOUGH_REPLICAS, as each partition has one replica."},
      {"preallocate",
       "Whether disk blocks are reserved ahead of appends (fallocate, keeping the file's size)."},
      {"remote.log.copy.disable", "Stored and shown only: there is no tiered storage."},
      {"remote.log.delete.on.disable", "Stored and shown only: there is no tiered storage."},
      {"remote.storage.enable", "Tiered storage for the topic; true is refused, as there is no tier."},
      {"retention.bytes",
       "Largest size of a partition's log before its oldest segments are deleted; -1 for no limit."},
      {"retention.ms", "How long a segment is kept after its newest record's timestamp; -1 for ever."},
      {"segment.bytes", "Size at which a log's active segment is closed and a new one started."},
      {"segment.index.bytes", "Size of a segment's offset index at which the segment is rolled."},
      {"segment.jitter.ms",
       "Up to this much is taken at random off segment.ms, so that logs do not all roll at once."},
      {"segment.ms",
       "Time span of the active segment's records after which it is rolled even if it is not full."},
      {"unclean.leader.election.enable",
       "Stored and shown only: a partition has one replica, so there is no other to elect."},
  };
  return docs;
}

const Docs& BrokerOnlyDocs() {
  static const Docs docs = {
      {"advertised.listeners",
       "Addresses Metadata gives clients for this node, when they differ from listeners."},
      {"auto.create.topics.enable",
       "Whether Metadata for an unknown topic creates it with the broker's defaults."},
      {"controlled.shutdown.enable",
       "Whether a clean stop first asks the controller quorum to fence this broker, so its "
       "leaderships move at once rather than after broker.session.timeout.ms."},
      {"connections.max.idle.ms", "A connection with no request for this long is closed; 0 or less never."},
      {"default.replication.factor", "Replication factor of topics created without one."},
      {"delete.topic.enable",
       "Whether DeleteTopics may delete topics; false answers TOPIC_DELETION_DISABLED "
       "(INVALID_REQUEST before DeleteTopics v3)."},
      {"fetch.max.bytes", "Most record bytes one Fetch answer carries, whatever the request asks."},
      {"listener.security.protocol.map",
       "Security protocol of each listener name; only PLAINTEXT listeners are served."},
      {"listeners", "Addresses this node listens on, as NAME://host:port, comma-separated."},
      {"log.cleaner.enable", "Whether compaction runs for topics whose cleanup.policy includes compact."},
      {"log.dirs", "Directories that hold the partitions' logs."},
      {"log.flush.scheduler.interval.ms",
       "How often logs are checked for flush.ms; they are checked at least every second."},
      {"log.retention.check.interval.ms", "How often retention and compaction look at the logs."},
      {"log.retention.hours",
       "Default of the topic config retention.ms in hours, read when neither log.retention.ms nor "
       "log.retention.minutes is set."},
      {"log.retention.minutes",
       "Default of the topic config retention.ms in minutes, read when log.retention.ms is not set."},
      {"log.roll.hours",
       "Default of the topic config segment.ms in hours, read when log.roll.ms is not set."},
      {"log.roll.jitter.hours",
       "Default of the topic config segment.jitter.ms in hours, read when log.roll.jitter.ms is not set."},
      {"max.connections", "Most client connections this node keeps open; further ones are closed."},
      {"max.connections.per.ip", "Most client connections from one address; further ones are closed."},
      {"node.id", "This node's id in the cluster and its quorum."},
      {"num.partitions", "Partitions of topics created without a count."},
      {"offsets.retention.check.interval.ms", "How often expired committed offsets are removed."},
      {"process.roles", "What this node runs: broker, controller, or both."},
      {"producer.id.expiration.ms",
       "How long a partition keeps an idle producer id's state (its last sequences, for "
       "idempotence) after its last write."},
      {"queued.max.request.bytes",
       "Most bytes of requests read but not yet answered on this node; reading waits beyond it. 0 or "
       "less for no limit."},
      {"socket.listen.backlog.size", "Length of each listener's queue of connections not yet accepted."},
      {"socket.receive.buffer.bytes", "SO_RCVBUF of client connections; -1 leaves it to the kernel."},
      {"socket.request.max.bytes",
       "Largest request a client may send; a larger size prefix closes the connection."},
      {"socket.send.buffer.bytes", "SO_SNDBUF of client connections; -1 leaves it to the kernel."},
  };
  return docs;
}

std::optional<std::string> Find(const Docs& docs, std::string_view name) {
  auto it = docs.find(name);
  if (it == docs.end()) return std::nullopt;
  return std::string(it->second);
}

}  // namespace

std::optional<std::string> TopicConfigDocumentation(std::string_view name) {
  return Find(TopicDocs(), name);
}

std::optional<std::string> BrokerConfigDocumentation(std::string_view name) {
  if (auto doc = Find(BrokerOnlyDocs(), name)) return doc;
  const TopicConfigSpec* spec = FindTopicConfigBySynonym(name);
  if (spec == nullptr) return std::nullopt;
  auto topic_doc = TopicConfigDocumentation(spec->name);
  if (!topic_doc) return std::nullopt;
  return "Default of the topic config " + std::string(spec->name) + ". " + *topic_doc;
}

}  // namespace fjord::broker
