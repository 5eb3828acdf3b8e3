// Kafka's error codes by name, and which of them a client retries (Kafka's
// RetriableException subclasses).
#include <map>

#include "absl/strings/str_cat.h"
#include "fjord/client.h"

namespace fjord::client {

namespace {

struct Code {
  const char* name;
  bool retriable;
};

const std::map<int16_t, Code>& Codes() {
  static const std::map<int16_t, Code> codes = {
      {-1, {"UNKNOWN_SERVER_ERROR", false}},
      {1, {"OFFSET_OUT_OF_RANGE", false}},
      {2, {"CORRUPT_MESSAGE", true}},
      {3, {"UNKNOWN_TOPIC_OR_PARTITION", true}},
      {5, {"LEADER_NOT_AVAILABLE", true}},
      {6, {"NOT_LEADER_OR_FOLLOWER", true}},
      {7, {"REQUEST_TIMED_OUT", true}},
      {10, {"MESSAGE_TOO_LARGE", false}},
      {13, {"NETWORK_EXCEPTION", true}},
      {14, {"COORDINATOR_LOAD_IN_PROGRESS", true}},
      {15, {"COORDINATOR_NOT_AVAILABLE", true}},
      {16, {"NOT_COORDINATOR", true}},
      {17, {"INVALID_TOPIC_EXCEPTION", false}},
      {19, {"NOT_ENOUGH_REPLICAS", true}},
      {20, {"NOT_ENOUGH_REPLICAS_AFTER_APPEND", true}},
      {22, {"ILLEGAL_GENERATION", false}},
      {24, {"INVALID_GROUP_ID", false}},
      {25, {"UNKNOWN_MEMBER_ID", false}},
      {27, {"REBALANCE_IN_PROGRESS", false}},
      {29, {"TOPIC_AUTHORIZATION_FAILED", false}},
      {30, {"GROUP_AUTHORIZATION_FAILED", false}},
      {35, {"UNSUPPORTED_VERSION", false}},
      {36, {"TOPIC_ALREADY_EXISTS", false}},
      {37, {"INVALID_PARTITIONS", false}},
      {38, {"INVALID_REPLICATION_FACTOR", false}},
      {39, {"INVALID_REPLICA_ASSIGNMENT", false}},
      {40, {"INVALID_CONFIG", false}},
      {41, {"NOT_CONTROLLER", true}},
      {42, {"INVALID_REQUEST", false}},
      {44, {"POLICY_VIOLATION", false}},
      {56, {"KAFKA_STORAGE_ERROR", true}},
      {58, {"SASL_AUTHENTICATION_FAILED", false}},
      {68, {"NON_EMPTY_GROUP", false}},
      {69, {"GROUP_ID_NOT_FOUND", false}},
      {73, {"TOPIC_DELETION_DISABLED", false}},
      {86, {"GROUP_SUBSCRIBED_TO_TOPIC", false}},
      {87, {"INVALID_RECORD", false}},
      {89, {"THROTTLING_QUOTA_EXCEEDED", true}},
      {100, {"UNKNOWN_TOPIC_ID", true}},
  };
  return codes;
}

}  // namespace

const char* ErrorName(int16_t code) {
  auto it = Codes().find(code);
  return it == Codes().end() ? "UNKNOWN_ERROR_CODE" : it->second.name;
}

bool IsRetriable(int16_t code) {
  auto it = Codes().find(code);
  return it != Codes().end() && it->second.retriable;
}

absl::Status KafkaError(int16_t code, const std::string& context) {
  if (code == 0) return absl::OkStatus();
  const std::string message = absl::StrCat(context, ": ", ErrorName(code), " (", code, ")");
  return IsRetriable(code) ? absl::UnavailableError(message) : absl::FailedPreconditionError(message);
}

}  // namespace fjord::client
