#include "broker/metadata_store.h"

namespace fjord::broker {

absl::StatusOr<TopicInfo> ResolveNewTopic(const CreateTopicRequest& request, int32_t num_partitions,
                                          int16_t default_replication_factor) {
  if (absl::Status s = ValidateTopicName(request.name); !s.ok()) return s;
  TopicInfo t;
  t.name = request.name;
  t.partitions = request.partitions == -1 ? num_partitions : request.partitions;
  t.replication_factor =
      request.replication_factor == -1 ? default_replication_factor : request.replication_factor;
  t.configs = request.configs;
  if (absl::Status s = metadata::ValidateNewTopicCounts(t.partitions, t.replication_factor); !s.ok())
    return s;
  return t;
}

}  // namespace fjord::broker
