#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "broker/topic_configs.h"
#include "fjord_protocol/messages/fetch_request.h"
#include "fjord_protocol/messages/fetch_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/legacy_message_set.h"

namespace fjord::broker {

namespace {

struct PartitionRead {
  absl::Status status;
  std::vector<uint8_t> bytes;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
};

}  // namespace

// Fetch sessions (KIP-227): Fjord declines to create sessions (session_id 0 in every
// answer), which the protocol allows; clients then send full fetch requests.
boost::asio::awaitable<absl::Status> HandleFetch(RequestContext& c) {
  protocol::FetchRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, req.max_wait_ms));
  protocol::FetchResponse resp;
  while (true) {
    const uint64_t generation = c.home.append_generation();
    auto image = c.broker.metadata().Current();
    resp = protocol::FetchResponse{};
    c.arena.clear();
    size_t total = 0;
    bool any_error = false;
    const size_t max_bytes = static_cast<size_t>(std::max(0, req.max_bytes));
    for (const auto& ft : req.topics) {
      auto& rt = resp.responses.emplace_back();
      rt.topic = ft.topic;
      rt.topic_id = ft.topic_id;
      const TopicInfo* topic = c.version >= 13 ? image->FindById(ft.topic_id) : image->Find(ft.topic);
      for (const auto& fp : ft.partitions) {
        auto& rp = rt.partitions.emplace_back();
        rp.partition_index = fp.partition;
        if (!HasPartition(topic, fp.partition)) {
          rp.error_code = c.version >= 13 && topic == nullptr ? kUnknownTopicId : kUnknownTopicOrPartition;
          any_error = true;
          continue;
        }
        // Kafka's rule: the first batch is returned even when larger than the limits.
        const size_t room = total >= max_bytes ? 0 : max_bytes - total;
        const size_t limit = std::min<size_t>(static_cast<size_t>(std::max(0, fp.partition_max_bytes)), room);
        const bool first_data = total == 0;
        TopicPartition tp{topic->name, fp.partition};
        const log::LogConfig log_config = EffectiveLogConfig(*c.broker.effective_config(), topic);
        PartitionRead read = co_await c.broker.RunOn(c.broker.OwnerOf(tp), [&]() {
          PartitionRead r;
          auto log = c.broker.OwnerOf(tp).Log(tp, log_config);
          if (!log.ok()) {
            r.status = log.status();
            return r;
          }
          r.high_watermark = (*log)->high_watermark();
          r.log_start_offset = (*log)->log_start_offset();
          if (limit == 0 && !first_data) return r;
          auto data = (*log)->Read(fp.fetch_offset, std::max<size_t>(limit, 1));
          if (!data.ok()) {
            r.status = data.status();
            return r;
          }
          // A batch beyond the limit is only sent when nothing else has been.
          if (!first_data && data->bytes.size() > limit) return r;
          r.bytes = std::move(data->bytes);
          if (c.version < 4) {
            // Clients older than 0.11 read message sets v0 (Fetch v0-1) or v1 (v2-3).
            std::vector<uint8_t> converted;
            r.status = protocol::DownConvert(protocol::ByteView(r.bytes), c.version < 2 ? 0 : 1,
                                             protocol::kDefaultMaxDecompressed, &converted);
            r.bytes = std::move(converted);
          }
          return r;
        });
        rp.high_watermark = read.high_watermark;
        rp.last_stable_offset = read.high_watermark;
        rp.log_start_offset = read.log_start_offset;
        if (!read.status.ok()) {
          rp.error_code = ToKafkaError(read.status);
          any_error = true;
          continue;
        }
        total += read.bytes.size();
        rp.records = protocol::ByteView(c.arena.emplace_back(std::move(read.bytes)));
      }
    }
    const bool enough = total >= static_cast<size_t>(std::max(1, req.min_bytes)) || req.min_bytes <= 0;
    if (enough || any_error || std::chrono::steady_clock::now() >= deadline) break;
    if (c.home.append_generation() != generation) continue;  // an append raced with the reads
    // Wait for an append anywhere (WakeWaiters cancels the timer) or the deadline.
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_at(deadline);
    auto it = c.home.waiters().insert(c.home.waiters().end(), &timer);
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    c.home.waiters().erase(it);
  }
  resp.session_id = 0;
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
