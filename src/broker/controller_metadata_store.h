// The broker's metadata when a controller quorum owns it (controller.quorum.voters set):
// the broker registers with the quorum, heartbeats every broker.heartbeat.interval.ms
// (registering again when the controller fenced it; at a clean stop, AnnounceStop asks
// to be fenced, Kafka's controlled shutdown), and follows the committed metadata
// through WatchMetadata, replaying it with the controller's own state machine
// (metadata::MetadataState) and publishing a MetadataImage after each batch. Writes
// (CreateTopics, configs, producer ids, ...) are forwarded to the leader and answered once
// the broker's image has caught up to the offset they committed at, so a client reads
// its own writes.
//
// Threads: a watcher thread and a heartbeat thread; handlers call from any shard.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "broker/config.h"
#include "broker/metadata_store.h"
#include "raft/controller_client.h"
#include "raft/metadata_state.h"

namespace fjord::broker {

class ControllerMetadataStore : public MetadataStore {
 public:
  // Registers, gets unfenced and catches up before it returns (or fails by `timeout`).
  static absl::StatusOr<std::unique_ptr<ControllerMetadataStore>> Open(const BrokerConfig& config,
                                                                       const std::string& cluster_id,
                                                                       absl::Duration timeout);
  ~ControllerMetadataStore() override;

  std::shared_ptr<const MetadataImage> Current() const override;
  absl::StatusOr<TopicInfo> CreateTopic(const CreateTopicRequest& request) override;
  absl::StatusOr<TopicInfo> DeleteTopic(const std::string& name) override;
  absl::StatusOr<TopicInfo> CreatePartitions(const std::string& name, int32_t count,
                                             bool validate_only) override;
  absl::Status SetTopicConfigs(const std::string& topic, std::map<std::string, std::string> configs) override;
  absl::Status SetBrokerConfigs(const std::string& resource,
                                std::map<std::string, std::string> configs) override;
  absl::StatusOr<int64_t> AllocateProducerIds(int32_t count) override;
  absl::StatusOr<QuorumDescription> DescribeQuorum() override;
  void AnnounceStop() override;

 private:
  ControllerMetadataStore(const BrokerConfig& config, std::string cluster_id,
                          std::map<int32_t, controller::VoterAddress> voters);
  absl::Status Register(absl::Duration timeout);
  // One BrokerHeartbeat to the quorum's leader for this broker's current epoch.
  grpc::Status Heartbeat(bool want_shut_down, absl::Duration timeout,
                         controller::rpc::BrokerHeartbeatResponse* resp);
  void HeartbeatLoop();
  void WatchLoop();
  void Publish() const;  // mu_ held
  // Waits until the image includes Raft index `offset`.
  absl::Status WaitForOffset(uint64_t offset, absl::Duration timeout);
  absl::Status AlterConfigs(int32_t type, const std::string& name,
                            const std::map<std::string, std::string>& configs);

  const BrokerConfig& config_;
  const std::string cluster_id_;
  const std::string incarnation_id_;
  const std::map<int32_t, controller::VoterAddress> voters_;
  controller::ControllerClient client_;
  std::atomic<int64_t> broker_epoch_{-1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stop_announced_{false};  // no more heartbeats: they would register again

  mutable std::mutex mu_;
  std::condition_variable applied_;
  metadata::MetadataState state_;
  mutable std::shared_ptr<const MetadataImage> image_;
  mutable bool image_stale_ = false;  // state_ moved on since image_ was built

  std::mutex watch_mu_;
  grpc::ClientContext* watch_ctx_ = nullptr;  // the open stream, to cancel on shutdown
  int32_t watched_voter_ = -1;                // whose stream it is
  std::thread watcher_, heartbeater_;
};

}  // namespace fjord::broker
