#include "broker/storage_format.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "raft/meta_properties.h"
#include "raft/quorum_config.h"
#include "spdlog/spdlog.h"

namespace fjord::broker {

namespace {

std::set<std::string> Dirs(const BrokerConfig& config) {
  std::set<std::string> dirs(config.log_dirs.begin(), config.log_dirs.end());
  dirs.insert(config.metadata_dir());
  return dirs;
}

}  // namespace

absl::Status FormatStorage(const BrokerConfig& config, const std::string& cluster_id, bool ignore_formatted) {
  if (!controller::ValidClusterId(cluster_id))
    return absl::InvalidArgumentError(
        absl::StrCat("cluster id '", cluster_id, "' is not a base64url uuid (try `fjord random-uuid`)"));
  for (const std::string& dir : Dirs(config)) {
    auto existing = controller::ReadMetaProperties(dir);
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      const auto& p = **existing;
      if (p.cluster_id == cluster_id && p.node_id == config.node_id && ignore_formatted) continue;
      return absl::FailedPreconditionError(
          absl::StrCat(dir, " is already formatted (cluster ", p.cluster_id, ", node ", p.node_id, ")"));
    }
    if (absl::Status s = controller::WriteMetaProperties(dir, {config.node_id, cluster_id}); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EnsureFormatted(const BrokerConfig& config) {
  std::string cluster_id;
  bool missing = false;
  for (const std::string& dir : Dirs(config)) {
    auto props = controller::ReadMetaProperties(dir);
    if (!props.ok()) return props.status();
    if (!props->has_value()) {
      missing = true;
      continue;
    }
    if ((*props)->node_id != config.node_id)
      return absl::FailedPreconditionError(
          absl::StrCat(dir, " belongs to node ", (*props)->node_id, ", not node.id ", config.node_id));
    if (!cluster_id.empty() && cluster_id != (*props)->cluster_id)
      return absl::FailedPreconditionError(absl::StrCat(dir, " belongs to cluster ", (*props)->cluster_id,
                                                        ", the other directories to ", cluster_id));
    cluster_id = (*props)->cluster_id;
  }
  if (!missing) return cluster_id;
  if (!cluster_id.empty()) {  // a new, empty log dir joins the formatted ones
    if (absl::Status s = FormatStorage(config, cluster_id, true); !s.ok()) return s;
    return cluster_id;
  }
  auto voters = controller::ParseVoters(config.controller_quorum_voters);
  if (!voters.ok()) return voters.status();
  const bool lone_voter =
      config.has_role("controller") && voters->size() == 1 && voters->contains(config.node_id);
  if (!lone_voter)
    return absl::FailedPreconditionError(absl::StrCat(
        config.metadata_dir(), " is not formatted. Format every node of a new cluster with one cluster id: ",
        "fjord format <server.properties> --cluster-id $(fjord random-uuid)"));
  cluster_id = controller::RandomClusterId();
  if (absl::Status s = FormatStorage(config, cluster_id, false); !s.ok()) return s;
  spdlog::info("formatted {} for new cluster {} (a single-voter node formats itself on first start)",
               config.metadata_dir(), cluster_id);
  return cluster_id;
}

}  // namespace fjord::broker
