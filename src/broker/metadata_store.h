// What the broker knows about the cluster: an immutable image, swapped whole when the
// metadata changes, read by every shard without locks on the data itself.
//
// MetadataStore is the interface the KRaft controller (issue 6) will implement by
// replaying committed metadata records. Until then LocalMetadataStore (one node, its
// own file) implements it; handlers see only this interface.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/wire.h"
#include "raft/metadata_state.h"

namespace fjord::broker {

// Kafka's internal topic for consumer group state.
inline constexpr std::string_view kOffsetsTopic = "__consumer_offsets";

// Internal topics: clients see them flagged, and cannot delete them.
inline bool IsInternalTopic(const std::string& name) {
  return name == kOffsetsTopic || name == "__transaction_state";
}

struct TopicInfo {
  std::string name;
  protocol::Uuid id;
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  std::map<std::string, std::string> configs;  // topic-level overrides
};

// True when `topic` exists and has partition `partition`.
inline bool HasPartition(const TopicInfo* topic, int32_t partition) {
  return topic != nullptr && partition >= 0 && partition < topic->partitions;
}

struct MetadataImage {
  std::string cluster_id;
  int32_t controller_id = -1;
  std::map<std::string, TopicInfo> topics;
  // Dynamic broker configs (AlterConfigs on a BROKER resource): "" holds the
  // cluster-wide defaults, "<node id>" one broker's own.
  std::map<std::string, std::map<std::string, std::string>> broker_configs;
  const TopicInfo* Find(const std::string& name) const {
    auto it = topics.find(name);
    return it == topics.end() ? nullptr : &it->second;
  }
  const TopicInfo* FindById(const protocol::Uuid& id) const {
    for (const auto& [n, t] : topics) {
      if (t.id == id) return &t;
    }
    return nullptr;
  }
};

struct CreateTopicRequest {
  std::string name;
  int32_t partitions = -1;          // -1: num.partitions
  int16_t replication_factor = -1;  // -1: default.replication.factor
  std::map<std::string, std::string> configs;
  bool validate_only = false;
};

// A new topic as the request asks, with -1 resolved to the broker's defaults
// (num.partitions, default.replication.factor); the error Kafka would answer for a bad
// name (InvalidArgument), partition count (OutOfRange) or replication factor
// (FailedPrecondition). The id is left for the store to assign.
absl::StatusOr<TopicInfo> ResolveNewTopic(const CreateTopicRequest& request, int32_t num_partitions,
                                          int16_t default_replication_factor);

// The controller quorum as its leader sees it (DescribeQuorum). Offsets are Raft
// indexes: entry i is the metadata log's offset i - 1, so an index is also the offset
// after it (a log end offset) and the commit index is the high watermark.
struct QuorumDescription {
  struct Replica {
    int32_t id = -1;
    int64_t log_end_offset = -1;  // -1 while the leader does not know it
    // Wall-clock ms, -1 when unknown: the follower's last append answer, and the last
    // one that showed it caught up with the leader's log.
    int64_t last_fetch_ms = -1;
    int64_t last_caught_up_ms = -1;
  };
  int32_t leader_id = -1;
  int64_t leader_epoch = -1;  // the Raft term
  int64_t high_watermark = -1;
  std::vector<Replica> voters, observers;
  std::map<int32_t, std::pair<std::string, uint16_t>> voter_endpoints;  // controller.quorum.voters
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  virtual std::shared_ptr<const MetadataImage> Current() const = 0;
  // Creates a topic, or says why not: InvalidArgument (bad name, partitions,
  // replication factor; the message says which), AlreadyExists.
  virtual absl::StatusOr<TopicInfo> CreateTopic(const CreateTopicRequest& request) = 0;
  // Removes a topic from the metadata (NotFound if absent). The caller deletes its
  // partitions' data.
  virtual absl::StatusOr<TopicInfo> DeleteTopic(const std::string& name) = 0;
  // Raises a topic's partition count to `count` (OutOfRange unless larger; NotFound).
  virtual absl::StatusOr<TopicInfo> CreatePartitions(const std::string& name, int32_t count,
                                                     bool validate_only) = 0;
  // Replaces a topic's config overrides (NotFound if the topic is absent).
  virtual absl::Status SetTopicConfigs(const std::string& topic,
                                       std::map<std::string, std::string> configs) = 0;
  // Replaces the dynamic configs of a broker resource ("" = cluster default).
  virtual absl::Status SetBrokerConfigs(const std::string& resource,
                                        std::map<std::string, std::string> configs) = 0;
  // Reserves `count` producer ids no one else will get and returns the first (the
  // controller's AllocateProducerIds). Durable before it returns.
  virtual absl::StatusOr<int64_t> AllocateProducerIds(int32_t count) = 0;
  // The controller quorum, from its leader: Unavailable while there is none;
  // FailedPrecondition for a store without a quorum.
  virtual absl::StatusOr<QuorumDescription> DescribeQuorum() {
    return absl::FailedPreconditionError(
        "this broker has no controller quorum (controller.quorum.voters is unset)");
  }
  // A clean stop's first step, as Kafka's controlled shutdown: with a controller quorum,
  // the broker stops heartbeating and asks to be fenced at once, so its leaderships move
  // now rather than after broker.session.timeout.ms. Later calls do nothing.
  virtual void AnnounceStop() {}
};

// Kafka's rule: 1-249 characters of [a-zA-Z0-9._-], not "." or "..".
using metadata::ValidateTopicName;

}  // namespace fjord::broker
