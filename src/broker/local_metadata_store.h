// A single node's metadata, kept in `<first log dir>/__fjord_metadata/`:
//   meta.properties  Kafka's format: version=1, node.id=N, cluster.id=<base64 uuid>
//   topics           one line per topic: "topic <base64 id> <partitions> <replication> <name>"
//                    (name last: it has no spaces but future fields may), and one line
//                    "producer_ids <next unallocated producer id>", and per topic override
//                    "config <topic> <key> <value to the end of the line>" (after the topics),
//                    and per dynamic broker config "broker_config <node id or *> <key> <value>"
//                    (* = the cluster-wide default)
// Files are replaced atomically (write temp, fsync, rename, fsync dir).
// Stands in for the controller quorum until issue 6; implements MetadataStore.
#pragma once

#include <filesystem>
#include <mutex>

#include "broker/config.h"
#include "broker/metadata_store.h"

namespace fjord::broker {

class LocalMetadataStore : public MetadataStore {
 public:
  static absl::StatusOr<std::unique_ptr<LocalMetadataStore>> Open(const BrokerConfig& config);

  std::shared_ptr<const MetadataImage> Current() const override;
  absl::StatusOr<TopicInfo> CreateTopic(const CreateTopicRequest& request) override;
  absl::StatusOr<TopicInfo> DeleteTopic(const std::string& name) override;
  absl::StatusOr<TopicInfo> CreatePartitions(const std::string& name, int32_t count,
                                             bool validate_only) override;
  absl::StatusOr<int64_t> AllocateProducerIds(int32_t count) override;
  absl::Status SetTopicConfigs(const std::string& topic, std::map<std::string, std::string> configs) override;
  absl::Status SetBrokerConfigs(const std::string& resource,
                                std::map<std::string, std::string> configs) override;

 private:
  LocalMetadataStore(const BrokerConfig& config, std::filesystem::path dir)
      : config_(config), dir_(std::move(dir)) {}
  absl::Status Load();
  absl::Status Persist(const MetadataImage& image);

  const BrokerConfig& config_;
  std::filesystem::path dir_;
  mutable std::mutex mu_;  // guards image_ (the pointer, not the image)
  std::shared_ptr<const MetadataImage> image_;
  int64_t next_producer_id_ = 0;
};

}  // namespace fjord::broker
