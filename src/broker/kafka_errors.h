// Kafka error codes, used only at the protocol edge (handlers). Inside, errors are
// absl::Status values; ToKafkaError maps them.
#pragma once

#include <cstdint>

#include "absl/status/status.h"

namespace fjord::broker {

enum KafkaError : int16_t {
  kUnknownServerError = -1,
  kNone = 0,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kLeaderNotAvailable = 5,
  kNotLeaderOrFollower = 6,
  kRequestTimedOut = 7,
  kMessageTooLarge = 10,
  kInvalidTopicException = 17,
  kRecordListTooLarge = 18,
  kNotEnoughReplicas = 19,
  kInvalidRequiredAcks = 21,
  kInvalidTimestamp = 32,
  kUnsupportedVersion = 35,
  kTopicAlreadyExists = 36,
  kInvalidPartitions = 37,
  kInvalidReplicationFactor = 38,
  kInvalidReplicaAssignment = 39,
  kInvalidRequest = 42,
  kOutOfOrderSequenceNumber = 45,
  kInvalidProducerEpoch = 47,
  kUnknownProducerId = 59,
  kUnsupportedForMessageFormat = 43,
  kPolicyViolation = 44,
  kInvalidConfig = 40,
  kKafkaStorageError = 56,
  kFetchSessionIdNotFound = 70,
  kInvalidFetchSessionEpoch = 71,
  kSecurityDisabled = 54,
  kFencedLeaderEpoch = 74,
  kUnknownLeaderEpoch = 75,
  kUnsupportedCompressionType = 76,
  kInvalidRecord = 87,
  kTopicDeletionDisabled = 73,
  kUnknownTopicId = 100,
  kMismatchedEndpointType = 114,
  kUnsupportedEndpointType = 115,
};

// Status codes from the log and metadata layers, mapped to what a client expects.
inline int16_t ToKafkaError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return kNone;
    case absl::StatusCode::kOutOfRange:
      return kOffsetOutOfRange;
    case absl::StatusCode::kNotFound:
      return kUnknownTopicOrPartition;
    case absl::StatusCode::kDataLoss:
      return kCorruptMessage;
    case absl::StatusCode::kUnavailable:
      return kKafkaStorageError;
    case absl::StatusCode::kAlreadyExists:
      return kTopicAlreadyExists;
    case absl::StatusCode::kInvalidArgument:
      return kInvalidRequest;
    default:
      return kUnknownServerError;
  }
}

// KIP-320: a client names the leader epoch it last saw (< 0: none), and a partition's
// leader refuses a request from a client that is behind it (FENCED) or ahead of it
// (UNKNOWN), as Kafka's Partition.checkCurrentLeaderEpoch does.
inline int16_t CurrentLeaderEpochError(int32_t requested, int32_t current) {
  if (requested < 0 || requested == current) return kNone;
  return requested < current ? kFencedLeaderEpoch : kUnknownLeaderEpoch;
}

}  // namespace fjord::broker
