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
  if (t.partitions <= 0) return absl::OutOfRangeError("number of partitions must be larger than 0");
  if (absl::Status s = metadata::ValidateNewPartitionCount(t.partitions); !s.ok()) return s;
  if (t.replication_factor <= 0)
    return absl::FailedPreconditionError("replication factor must be larger than 0");
  return t;
}

}  // namespace fjord::broker
