#include "raft/placement.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"

namespace fjord::metadata {

namespace {

// Brokers ordered so that consecutive ones are on different racks where possible: the
// first of each rack, then the second of each, and so on.
std::vector<PlacementBroker> RackAlternated(std::vector<PlacementBroker> brokers) {
  std::map<std::string, std::vector<PlacementBroker>> by_rack;
  for (auto& b : brokers) by_rack[b.rack].push_back(b);
  std::vector<PlacementBroker> out;
  for (size_t round = 0; out.size() < brokers.size(); ++round) {
    for (auto& [rack, list] : by_rack) {
      if (round < list.size()) out.push_back(list[round]);
    }
  }
  return out;
}

}  // namespace

absl::Status CheckEnoughBrokers(int32_t replication_factor, size_t brokers) {
  if (static_cast<size_t>(replication_factor) <= brokers) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "Unable to replicate the partition ", replication_factor, " time(s): The target replication factor of ",
      replication_factor, " cannot be reached because only ", brokers, " broker(s) are registered."));
}

absl::StatusOr<std::vector<std::vector<int32_t>>> PlaceReplicas(std::vector<PlacementBroker> brokers,
                                                                int32_t first_partition, int32_t count,
                                                                int32_t replication_factor, uint64_t seed) {
  if (replication_factor <= 0) return absl::InvalidArgumentError("replication factor must be at least 1");
  if (absl::Status s = CheckEnoughBrokers(replication_factor, brokers.size()); !s.ok()) return s;
  std::sort(brokers.begin(), brokers.end(), [](auto& a, auto& b) { return a.id < b.id; });
  const std::vector<PlacementBroker> ring = RackAlternated(std::move(brokers));
  const size_t n = ring.size();
  std::set<std::string> all_racks;
  for (const auto& b : ring) all_racks.insert(b.rack);
  std::vector<std::vector<int32_t>> out;
  for (int32_t i = 0; i < count; ++i) {
    const size_t p = static_cast<size_t>(first_partition + i);
    const size_t start = (seed + p) % n;
    // Followers start further along the ring each time round, so that one broker's
    // followers are not always the same brokers.
    const size_t shift = 1 + (seed / n + p / n) % std::max<size_t>(1, n - 1);
    std::vector<int32_t> replicas{ring[start].id};
    std::set<std::string> racks{ring[start].rack};
    for (size_t step = 0; replicas.size() < static_cast<size_t>(replication_factor) && step < 2 * n * n;
         ++step) {
      const PlacementBroker& b = ring[(start + shift + step) % n];
      if (std::find(replicas.begin(), replicas.end(), b.id) != replicas.end()) continue;
      // Skip a used rack while unused racks remain.
      if (racks.contains(b.rack) && racks.size() < all_racks.size()) continue;
      replicas.push_back(b.id);
      racks.insert(b.rack);
    }
    out.push_back(std::move(replicas));
  }
  return out;
}

}  // namespace fjord::metadata
