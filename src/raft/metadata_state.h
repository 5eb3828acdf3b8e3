// The metadata state machine: what the committed metadata records add up to. The
// controller applies each committed Raft entry (a MetadataBatch) here, brokers apply the
// same batches from WatchMetadata, and a snapshot is this state written back out as
// records, so one replay path rebuilds everything (start-up, snapshot install, brokers).
//
// Apply is deterministic: given the same batches at the same offsets, every node ends in
// the same state. A batch is checked whole before any of it applies; a batch that no
// longer fits the state (a topic created twice by racing requests) changes nothing and
// its proposer gets the reason.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/metadata.pb.h"

namespace fjord::metadata {

constexpr int32_t kTopicResource = 2;
constexpr int32_t kBrokerResource = 4;

struct BrokerState {
  int32_t id = -1;
  int64_t epoch = -1;
  std::vector<Endpoint> endpoints;
  std::string rack;
  std::string incarnation_id;
  bool fenced = true;
  bool must_register = false;  // fenced by the controller: its epoch is over
};

struct PartitionState {
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
};

struct TopicState {
  std::string name;
  std::string id;  // 16 bytes
  std::vector<PartitionState> partitions;
};

struct ApplyResult {
  int64_t first_producer_id = -1;  // a ProducerIdsRecord's block
};

class MetadataState {
 public:
  // Checks the whole batch, then applies it as of Raft index `offset`.
  absl::StatusOr<ApplyResult> Apply(const MetadataBatch& batch, uint64_t offset);
  // The whole state as records that rebuild it from empty (Restore).
  MetadataBatch ToSnapshot() const;
  static absl::StatusOr<MetadataState> Restore(const MetadataBatch& snapshot, uint64_t offset);

  uint64_t offset() const { return offset_; }  // the last applied Raft index
  const std::string& cluster_id() const { return cluster_id_; }
  const std::map<int32_t, BrokerState>& brokers() const { return brokers_; }
  const std::map<std::string, TopicState>& topics() const { return topics_; }  // by id
  const TopicState* FindTopic(const std::string& name) const;
  const TopicState* FindTopicById(const std::string& id) const;
  // Overrides of one resource (type, name).
  const std::map<std::string, std::string>* Configs(int32_t type, const std::string& name) const;
  const std::map<std::pair<int32_t, std::string>, std::map<std::string, std::string>>& all_configs() const {
    return configs_;
  }
  int64_t next_producer_id() const { return next_producer_id_; }

 private:
  absl::Status Check(const MetadataBatch& batch) const;
  ApplyResult ApplyOne(const MetadataRecord& r, uint64_t offset, bool from_snapshot);
  // Leaderless partitions with it in the ISR (or, where unclean election is allowed,
  // among the replicas) get it as leader.
  void ElectLeaders(int32_t unfenced_broker);
  // Its leaderships move to the next serving ISR member (any serving replica where
  // unclean.leader.election.enable is true); it leaves every ISR but a last one.
  void MoveLeadershipFrom(int32_t fenced_broker);
  // unclean.leader.election.enable: the topic's override, else the cluster-wide dynamic
  // broker default, else false.
  bool UncleanElectionAllowed(const std::string& topic) const;
  bool Serving(int32_t broker) const;

  uint64_t offset_ = 0;
  std::string cluster_id_;
  std::map<int32_t, BrokerState> brokers_;
  std::map<std::string, TopicState> topics_;
  std::map<std::string, std::string> topic_ids_by_name_;
  std::map<std::pair<int32_t, std::string>, std::map<std::string, std::string>> configs_;
  int64_t next_producer_id_ = 0;
};

// Kafka's rule: 1-249 characters of [a-zA-Z0-9._-], not "." or "..".
absl::Status ValidateTopicName(const std::string& name);
// Kafka's rule for a new topic: '.' and '_' are one character in metric names, so a
// name holding either may not equal another existing topic's with every '.' read as
// '_'. InvalidArgument (INVALID_TOPIC_EXCEPTION) names the colliding topic (the least,
// where several do).
absl::Status ValidateNoCollision(const std::string& name, const std::vector<std::string_view>& existing);
// A topic's partition count only grows: OutOfRange (INVALID_PARTITIONS) in Kafka's words
// when `count` is not more than the `have` it has; ValidateNewPartitionCount's answer when
// it adds too many.
absl::Status ValidatePartitionIncrease(const std::string& name, int32_t have, int32_t count);

// As Kafka's controller: one request adds at most this many partitions (their records are
// one batch, held in memory until committed). A CreatePartitions to 2^31-1 used to build
// records until the node ran out of memory.
inline constexpr int64_t kMaxNewPartitionsPerRequest = 10000;
inline constexpr char kTooManyPartitions[] = "Excessively large number of partitions per request.";
// ResourceExhausted (POLICY_VIOLATION, with Kafka's message) when `added` is over the cap.
absl::Status ValidateNewPartitionCount(int64_t added);
// AlreadyExists (TOPIC_ALREADY_EXISTS) in Kafka's controller's words.
absl::Status TopicAlreadyExists(const std::string& name);
// A new topic's counts (defaults already resolved), checked in Kafka's controller's order
// and words: FailedPrecondition (INVALID_REPLICATION_FACTOR) for a replication factor
// below 1, OutOfRange (INVALID_PARTITIONS) for a partition count below 1, then
// ValidateNewPartitionCount.
absl::Status ValidateNewTopicCounts(int32_t partitions, int32_t replication_factor);

// A readable name for a 16-byte topic id (Kafka's base64url form, as Kafka prints ids).
std::string TopicIdString(const std::string& id);

}  // namespace fjord::metadata
