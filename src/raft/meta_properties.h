// meta.properties, Kafka's format, in every log directory (and the metadata directory):
//   version=1
//   node.id=<int>
//   cluster.id=<22-character base64url uuid>
// Written by formatting (`fjord format`, or a single-voter combined node on its first
// start); a node refuses to start on a directory formatted for another node or cluster.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace fjord::controller {

struct MetaProperties {
  int32_t node_id = -1;
  std::string cluster_id;
};

// Nothing when `dir` has no meta.properties; DataLoss when it does not parse.
absl::StatusOr<std::optional<MetaProperties>> ReadMetaProperties(const std::string& dir);
// Creates `dir` if needed and writes meta.properties atomically (temp, fsync, rename).
absl::Status WriteMetaProperties(const std::string& dir, const MetaProperties& props);
// A new cluster id: 16 random bytes, base64url without padding (as kafka-storage random-uuid).
std::string RandomClusterId();
// Kafka's rule for a cluster id: the base64url of 16 bytes.
bool ValidClusterId(const std::string& id);

}  // namespace fjord::controller
