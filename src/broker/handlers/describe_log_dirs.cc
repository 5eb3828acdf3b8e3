#include <sys/statvfs.h>

#include <filesystem>

#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/describe_log_dirs_request.h"
#include "fjord_protocol/messages/describe_log_dirs_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// The log directory's partitions and their sizes, and (v4) the file system's capacity.
// Every partition lives in the first log dir (one dir per node today).
boost::asio::awaitable<absl::Status> HandleDescribeLogDirs(RequestContext& c) {
  protocol::DescribeLogDirsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  auto image = c.broker.metadata().Current();
  protocol::DescribeLogDirsResponse resp;
  auto& dir = resp.results.emplace_back();
  std::error_code ec;
  dir.log_dir = std::filesystem::absolute(c.broker.config().log_dirs.front(), ec).string();
  if (c.version >= 4) {
    struct statvfs fs {};
    if (::statvfs(dir.log_dir.c_str(), &fs) == 0) {
      dir.total_bytes = static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
      dir.usable_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    }
  }
  // Which partitions: all (null) or those asked for that exist here.
  std::vector<std::pair<const TopicInfo*, std::vector<int32_t>>> wanted;
  if (!req.topics) {
    for (const auto& [name, t] : image->topics) {
      std::vector<int32_t> all(static_cast<size_t>(t.partitions));
      for (int32_t p = 0; p < t.partitions; ++p) all[static_cast<size_t>(p)] = p;
      wanted.emplace_back(&t, std::move(all));
    }
  } else {
    for (const auto& rt : *req.topics) {
      const TopicInfo* t = image->Find(rt.topic);
      if (t == nullptr) continue;
      std::vector<int32_t> parts;
      for (int32_t p : rt.partitions) {
        if (HasPartition(t, p)) parts.push_back(p);
      }
      if (!parts.empty()) wanted.emplace_back(t, std::move(parts));
    }
  }
  for (const auto& [topic, parts] : wanted) {
    auto& out = dir.topics.emplace_back();
    out.name = topic->name;
    for (int32_t p : parts) {
      const TopicPartition tp{topic->name, p};
      auto size = co_await OnPartitionLog<int64_t>(
          c, topic, tp, [](log::PartitionLog& log) { return static_cast<int64_t>(log.size_bytes()); });
      if (!size.ok()) {
        dir.error_code = kKafkaStorageError;
        continue;
      }
      auto& op = out.partitions.emplace_back();
      op.partition_index = p;
      op.partition_size = *size;
      op.offset_lag = 0;  // no future replica is being moved here
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
