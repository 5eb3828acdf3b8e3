// The authorized-operations bit fields that Metadata, DescribeCluster, DescribeGroups
// and DescribeTopicPartitions return. Fjord has no authorizer, so, as Kafka without
// one, every client may do every operation a resource type supports (Kafka 3.9's
// AclEntry.supportedOperations); bit n set means AclOperation code n is allowed.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace fjord::broker {

// Kafka's AclOperation codes.
enum class AclOperation : int8_t {
  kRead = 3,
  kWrite = 4,
  kCreate = 5,
  kDelete = 6,
  kAlter = 7,
  kDescribe = 8,
  kClusterAction = 9,
  kDescribeConfigs = 10,
  kAlterConfigs = 11,
  kIdempotentWrite = 12,
};

constexpr int32_t AclBits(std::initializer_list<AclOperation> ops) {
  int32_t bits = 0;
  for (AclOperation op : ops) bits |= int32_t{1} << static_cast<int>(op);
  return bits;
}

using enum AclOperation;
inline constexpr int32_t kTopicOperations =
    AclBits({kRead, kWrite, kCreate, kDescribe, kDelete, kAlter, kDescribeConfigs, kAlterConfigs});
inline constexpr int32_t kGroupOperations = AclBits({kRead, kDescribe, kDelete});
inline constexpr int32_t kClusterOperations =
    AclBits({kCreate, kClusterAction, kDescribeConfigs, kAlterConfigs, kIdempotentWrite, kAlter, kDescribe});

}  // namespace fjord::broker
