// controller.quorum.voters, Kafka's format: "1@host1:9093,2@host2:9093,3@host3:9093".
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace fjord::controller {

struct VoterAddress {
  std::string host;
  uint16_t port = 0;
  std::string target() const { return host + ":" + std::to_string(port); }  // for gRPC
};

// Voter id → address; InvalidArgument naming what is wrong. 1 to 7 voters, distinct ids.
absl::StatusOr<std::map<int32_t, VoterAddress>> ParseVoters(const std::string& value);

}  // namespace fjord::controller
