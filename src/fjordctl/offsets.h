// Partition offsets by time, asked of each partition's leader (ListOffsets).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "fjord/client.h"

namespace fjord::ctl {

using TopicPartition = std::pair<std::string, int32_t>;
inline constexpr int64_t kLatest = -1;
inline constexpr int64_t kEarliest = -2;

// The offset of each partition at `timestamp` (kLatest, kEarliest, or epoch ms: the
// first offset with a timestamp at or after it, else the end). Leaders come from a
// metadata request for the topics involved; partitions without a leader are left out.
boost::asio::awaitable<absl::StatusOr<std::map<TopicPartition, int64_t>>> OffsetsAt(
    client::Client& client, const std::vector<TopicPartition>& partitions, int64_t timestamp);

}  // namespace fjord::ctl
