// Request handlers: one file each. A handler decodes its request, does the work (on
// the shards that own the partitions), and appends the response frame. A non-OK
// status means the request was malformed: the connection is closed.
#pragma once

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "broker/broker.h"
#include "broker/topic_configs.h"
#include "fjord_protocol/messages/request_header.h"
#include "log/file_slice.h"
#include "protocol/wire.h"

namespace fjord::broker {

// Record bytes a response sends straight from a segment file (sendfile): they belong
// at byte `at` of the response buffer, which leaves them out.
struct ResponseSlice {
  size_t at = 0;
  log::FileSlice file;
};

// Work a handler leaves for the connection's writer: it runs after the handler has
// returned (the next request may already be under way), must not touch the request's
// bytes, and appends the response frame to *response. Non-OK closes the connection.
using DeferredResponse = std::function<boost::asio::awaitable<absl::Status>(std::vector<uint8_t>* response)>;

struct RequestContext {
  Broker& broker;
  Shard& home;  // the connection's shard
  const protocol::RequestHeader& header;
  int16_t version;
  protocol::ByteView body;                       // points into the connection's frame buffer
  std::vector<uint8_t>* response;                // the response frame is appended here
  bool send_response = true;                     // false for Produce with acks=0
  std::deque<std::vector<uint8_t>> arena;        // bytes that response views point into
  DeferredResponse deferred;                     // set to answer later (see DeferredResponse)
  std::string client_host;                       // the peer's address (DescribeGroups shows it)
  std::vector<ResponseSlice>* slices = nullptr;  // file ranges spliced into *response
  uint64_t connection_id = 0;                    // unique in this process, from 1
};

using Handler = boost::asio::awaitable<absl::Status> (*)(RequestContext&);

struct AdvertisedApi {
  int16_t api_key;
  int16_t min_version;
  int16_t max_version;
  Handler handler;
};

// What this broker implements and advertises in ApiVersions. Nothing else is listed.
const std::vector<AdvertisedApi>& AdvertisedApis();
const AdvertisedApi* FindAdvertised(int16_t api_key);

boost::asio::awaitable<absl::Status> HandleApiVersions(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleMetadata(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleProduce(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleFetch(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleListOffsets(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleCreateTopics(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDeleteTopics(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleCreatePartitions(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDescribeCluster(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleInitProducerId(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDescribeConfigs(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDeleteRecords(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleAlterConfigs(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleIncrementalAlterConfigs(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleOffsetForLeaderEpoch(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDescribeProducers(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDescribeLogDirs(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDescribeTopicPartitions(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleFindCoordinator(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleJoinGroup(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleSyncGroup(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleHeartbeat(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleLeaveGroup(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleOffsetCommit(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleOffsetFetch(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleListGroups(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDescribeGroups(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDeleteGroups(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleOffsetDelete(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDescribeAcls(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleCreateAcls(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDeleteAcls(RequestContext& c);
boost::asio::awaitable<absl::Status> HandleDescribeQuorum(RequestContext& c);

// Runs start(coordinator, done) on the shard whose group coordinator owns `group_id`
// and resumes with the value given to done(R), which the coordinator may call later
// (a JoinGroup waits for the rebalance). `start` should capture by reference.
template <typename R, typename F>
boost::asio::awaitable<R> OnGroupCoordinator(RequestContext& c, const std::string& group_id, F start) {
  Shard& shard = c.broker.GroupShard(group_id);
  auto initiate = [&shard, &start](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    boost::asio::post(shard.context(), [&shard, &start, shared] {
      start(shard.groups(), std::function<void(R)>([shared](R result) {
              auto ex = boost::asio::get_associated_executor(*shared);
              boost::asio::post(ex, [shared, result = std::move(result)]() mutable {
                std::move (*shared)(std::move(result));
              });
            }));
    });
  };
  co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(R)>(
      initiate, boost::asio::use_awaitable);
}

// Builds the ApiVersions response for `version` (also used for the v0 answer to an
// unsupported ApiVersions version).
void AppendApiVersionsResponse(int16_t version, int16_t error_code, int32_t correlation_id,
                               std::vector<uint8_t>* out);

int64_t NowMs();

// Runs fn(log::PartitionLog&) -> absl::StatusOr<R> on the shard that owns `tp`, with
// the partition's log opened under the topic's current effective config. Pass a named
// TopicPartition, not a temporary: GCC 12 copies temporaries in a co_await operand
// bitwise, which breaks short strings.
template <typename R, typename F>
boost::asio::awaitable<absl::StatusOr<R>> OnPartitionLog(RequestContext& c, const TopicInfo* topic,
                                                         const TopicPartition& tp, F fn) {
  const log::LogConfig config = EffectiveLogConfig(*c.broker.effective_config(), topic);
  Shard& owner = c.broker.OwnerOf(tp);
  co_return co_await c.broker.RunOn(owner, [&]() -> absl::StatusOr<R> {
    auto log = owner.Log(tp, config);
    if (!log.ok()) return log.status();
    return fn(**log);
  });
}

// Kafka's checks of a manual assignment's replica lists (each element has `broker_ids`),
// with its INVALID_REPLICA_ASSIGNMENT messages: none empty, every broker registered
// (here: this `node`, the one broker for now; the least unknown id is named), none
// twice, and every partition with `replicas` replicas (or, unset, the first's count).
// Returns the message, or nothing when the assignment is good.
template <typename Assignments>
std::optional<std::string> ManualAssignmentError(const Assignments& assignments, int32_t node,
                                                 std::optional<size_t> replicas) {
  for (const auto& a : assignments) {
    if (a.broker_ids.empty()) return "The manual partition assignment includes an empty replica list.";
    std::vector<int32_t> sorted(a.broker_ids.begin(), a.broker_ids.end());
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (sorted[i] != node) {
        return absl::StrCat("The manual partition assignment includes broker ", sorted[i],
                            ", but no such broker is registered.");
      }
      if (i > 0 && sorted[i] == sorted[i - 1]) {
        return absl::StrCat("The manual partition assignment includes the broker ", sorted[i],
                            " more than once.");
      }
    }
    if (!replicas) replicas = sorted.size();
    if (sorted.size() != *replicas) {
      return absl::StrCat("The manual partition assignment includes a partition with ", sorted.size(),
                          " replica(s), but this is not consistent with previous partitions, which have ",
                          *replicas, " replica(s).");
    }
  }
  return std::nullopt;
}

// The keys that occur more than once among `keys`. Kafka refuses what a request names
// twice: a partition in ListOffsets, a config resource in (Incremental)AlterConfigs,
// and a topic in CreateTopics, CreatePartitions and DeleteTopics (none of its entries is
// acted on; the name is answered once, after the others, with INVALID_REQUEST and
// kDuplicateTopicName).
template <typename Key>
std::set<Key> Repeated(const std::vector<Key>& keys) {
  std::set<Key> seen, repeated;
  for (const Key& k : keys) {
    if (!seen.insert(k).second) repeated.insert(k);
  }
  return repeated;
}
inline constexpr std::string_view kDuplicateTopicName = "Duplicate topic name.";

}  // namespace fjord::broker
