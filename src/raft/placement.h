// Replica placement for new partitions, as Kafka places them: replicas spread over the
// brokers round-robin from a random start, and over racks first when brokers have racks
// (no two replicas of a partition share a rack while an unused rack remains).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fjord::metadata {

struct PlacementBroker {
  int32_t id;
  std::string rack;  // empty: none
};

// FailedPrecondition in Kafka's words (its StripedReplicaPlacer's, as its controller
// wraps them) when `replication_factor` is more than `brokers`; OK otherwise.
absl::Status CheckEnoughBrokers(int32_t replication_factor, size_t brokers);

// Replicas for partitions [first_partition, first_partition + count), each of
// `replication_factor` distinct brokers; FailedPrecondition when there are too few brokers.
absl::StatusOr<std::vector<std::vector<int32_t>>> PlaceReplicas(std::vector<PlacementBroker> brokers,
                                                                int32_t first_partition, int32_t count,
                                                                int32_t replication_factor, uint64_t seed);

}  // namespace fjord::metadata
