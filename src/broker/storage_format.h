// Formatting a node's directories for a cluster, as `kafka-storage format` does: every
// log dir and the metadata dir get a meta.properties naming the node and the cluster.
// A node that runs a controller quorum refuses to start unformatted, except a single
// voter that is its own quorum (`make run`), which formats itself on first start.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "broker/config.h"

namespace fjord::broker {

// Writes meta.properties everywhere; FailedPrecondition if a directory is already
// formatted (for another cluster or node, or at all unless `ignore_formatted`).
absl::Status FormatStorage(const BrokerConfig& config, const std::string& cluster_id, bool ignore_formatted);

// The cluster id the directories are formatted for (formatting a lone voter first).
absl::StatusOr<std::string> EnsureFormatted(const BrokerConfig& config);

}  // namespace fjord::broker
