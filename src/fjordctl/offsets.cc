#include "fjordctl/offsets.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace fjord::ctl {

namespace {
constexpr int16_t kListOffsetsVersion = 3;
}  // namespace

boost::asio::awaitable<absl::StatusOr<std::map<TopicPartition, int64_t>>> OffsetsAt(
    client::Client& client, const std::vector<TopicPartition>& partitions, int64_t timestamp) {
  std::set<std::string> names;
  for (const auto& tp : partitions) names.insert(tp.first);
  std::vector<std::string> topics(names.begin(), names.end());
  auto metadata = co_await client.Metadata(topics);
  if (!metadata.ok()) co_return metadata.status();
  std::map<TopicPartition, int32_t> leaders;
  for (const auto& t : metadata->topics) {
    for (const auto& p : t.partitions)
      leaders[{t.name.value_or(std::string()), p.partition_index}] = p.leader_id;
  }
  std::map<int32_t, std::vector<TopicPartition>> by_leader;
  for (const auto& tp : partitions) {
    auto it = leaders.find(tp);
    if (it != leaders.end() && it->second >= 0) by_leader[it->second].push_back(tp);
  }
  std::map<TopicPartition, int64_t> out;
  for (const auto& [leader, list] : by_leader) {
    protocol::ListOffsetsRequest request;
    request.replica_id = -1;
    for (const auto& [topic, partition] : list) {
      if (request.topics.empty() || request.topics.back().name != topic)
        request.topics.emplace_back().name = topic;
      auto& p = request.topics.back().partitions.emplace_back();
      p.partition_index = partition;
      p.timestamp = timestamp;
    }
    // v4+ adds only leader-epoch fencing, which fjordctl has no use for; and librdkafka
    // 2.0's mock cluster (Debian 12) writes an 8-byte leader epoch into v4+ answers.
    auto r = co_await client.Call<protocol::ListOffsetsResponse>(leader, request, kListOffsetsVersion);
    if (!r.ok()) co_return r.status();
    for (const auto& t : r->topics) {
      for (const auto& p : t.partitions) {
        if (p.error_code != 0) {
          co_return client::KafkaError(p.error_code,
                                       absl::StrCat("offsets of ", t.name, "-", p.partition_index));
        }
        // No record at or after the time: Kafka answers -1; the end offset is next.
        out[{t.name, p.partition_index}] = p.offset;
      }
    }
  }
  co_return out;
}

}  // namespace fjord::ctl
