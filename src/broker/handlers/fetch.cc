#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>

#include "broker/fetch_sessions.h"
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

// From this size on, a partition's records are sent from the file (sendfile) rather
// than read into memory: below it, a copy costs less than the descriptor and syscalls.
constexpr uint64_t kZeroCopyFrom = 16 * 1024;

struct PartitionRead {
  absl::Status status;
  int16_t error = kNone;  // a Kafka answer decided on the shard (the leader epochs)
  std::optional<std::pair<int32_t, int64_t>> diverging;  // {epoch, end offset}
  std::vector<uint8_t> bytes;                            // records read into memory, or:
  log::FileSlice slice;                                  // records to send from the file
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  bool conversion_refused = false;  // message.downconversion.enable=false
};

// What one partition's fetch produced.
struct Result {
  int16_t error = kNone;
  std::optional<std::pair<int32_t, int64_t>> diverging;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  std::optional<protocol::ByteView> records;  // data-less (a hole) when sent from `slice`
  log::FileSlice slice;
};

// Lists the file slices with where they go in the response: the holes the encoder
// left for them.
void PlaceSlices(const protocol::Holes& holes, std::vector<log::FileSlice*>& files,
                 std::vector<ResponseSlice>* slices) {
  for (size_t k = 0; k < holes.at.size(); ++k) slices->push_back({holes.at[k], std::move(*files[k])});
}

// The request's partitions as session entries (names resolved from ids for v13+).
std::vector<SessionPartition> RequestedPartitions(const protocol::FetchRequest& req, int16_t version,
                                                  const MetadataImage& image) {
  std::vector<SessionPartition> out;
  for (const auto& ft : req.topics) {
    std::string name = ft.topic;
    if (version >= 13) {
      const TopicInfo* t = image.FindById(ft.topic_id);
      name = t ? t->name : "";
    }
    for (const auto& fp : ft.partitions) {
      out.push_back({.topic = name,
                     .topic_id = ft.topic_id,
                     .partition = fp.partition,
                     .fetch_offset = fp.fetch_offset,
                     .max_bytes = fp.partition_max_bytes,
                     .current_leader_epoch = fp.current_leader_epoch,
                     .last_fetched_epoch = fp.last_fetched_epoch});
    }
  }
  return out;
}

std::vector<SessionPartition> ForgottenPartitions(const protocol::FetchRequest& req, int16_t version,
                                                  const MetadataImage& image) {
  std::vector<SessionPartition> out;
  for (const auto& ft : req.forgotten_topics_data) {
    std::string name = ft.topic;
    if (version >= 13) {
      const TopicInfo* t = image.FindById(ft.topic_id);
      name = t ? t->name : "";
    }
    for (int32_t p : ft.partitions) out.push_back({.topic = name, .topic_id = ft.topic_id, .partition = p});
  }
  return out;
}

// KIP-595: a client that names the epoch of the last record it fetched (v12+) learns
// whether its log diverged from this one, as Kafka's Partition.readRecords tells it:
// OutOfRange when that epoch's end is unknown here or the offset is below the log
// start; {epoch, end offset} when the offset lies past where that epoch ended here (the
// client truncates to it and no records are sent); nothing when the two logs agree.
absl::StatusOr<std::optional<std::pair<int32_t, int64_t>>> CheckLastFetchedEpoch(
    const log::PartitionLog& log, const SessionPartition& target) {
  if (target.last_fetched_epoch < 0) return std::nullopt;
  const auto [epoch, end] = log.EndOffsetForEpoch(target.last_fetched_epoch);
  if (epoch < 0 || end < 0) {
    return absl::OutOfRangeError(
        absl::StrCat("the end of last fetched epoch ", target.last_fetched_epoch, " is not known"));
  }
  if (target.fetch_offset < log.log_start_offset()) {
    return absl::OutOfRangeError(
        absl::StrCat("offset ", target.fetch_offset, " is below the log start ", log.log_start_offset()));
  }
  if (epoch < target.last_fetched_epoch || end < target.fetch_offset) return std::make_pair(epoch, end);
  return std::nullopt;
}

}  // namespace

// Fetch with KIP-227 sessions: session_epoch -1 is a sessionless full fetch, 0 opens a
// session (full fetch), n > 0 continues one (incremental: only changed partitions are
// named in the request and only partitions with news are answered).
boost::asio::awaitable<absl::Status> HandleFetch(RequestContext& c) {
  protocol::FetchRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  FetchSessionCache& sessions = c.broker.fetch_sessions();
  protocol::FetchResponse resp;
  std::vector<SessionPartition> targets;
  int32_t session_id = 0;
  bool full = true;
  {
    auto image = c.broker.metadata().Current();
    if (req.session_epoch == FetchSessionCache::kFinalEpoch ||
        req.session_epoch == FetchSessionCache::kInitialEpoch) {
      if (req.session_id != 0) sessions.Remove(req.session_id);
      targets = RequestedPartitions(req, c.version, *image);
      if (req.session_epoch == FetchSessionCache::kInitialEpoch) session_id = sessions.Create(targets);
    } else {
      auto inc =
          sessions.Update(req.session_id, req.session_epoch, RequestedPartitions(req, c.version, *image),
                          ForgottenPartitions(req, c.version, *image));
      if (inc.error != FetchSessionCache::Error::kNone) {
        resp.error_code = inc.error == FetchSessionCache::Error::kSessionIdNotFound
                              ? kFetchSessionIdNotFound
                              : kInvalidFetchSessionEpoch;
        co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
      }
      targets = std::move(inc.partitions);
      session_id = req.session_id;
      full = false;
    }
  }

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, req.max_wait_ms));
  // As Kafka: the request's limit, and the broker's fetch.max.bytes.
  const size_t max_bytes =
      static_cast<size_t>(std::clamp(req.max_bytes, 0, c.broker.effective_config()->fetch_max_bytes));
  std::vector<Result> results;
  while (true) {
    const uint64_t generation = c.home.append_generation();
    auto image = c.broker.metadata().Current();
    const std::shared_ptr<const BrokerConfig> config = c.broker.effective_config();
    results.clear();
    results.resize(targets.size());
    c.arena.clear();
    size_t total = 0;
    bool answer_now = false;  // an error or a divergence: no waiting for more bytes
    for (size_t i = 0; i < targets.size(); ++i) {
      const SessionPartition& target = targets[i];
      Result& result = results[i];
      const TopicInfo* topic = image->Find(target.topic);
      if (!HasPartition(topic, target.partition)) {
        result.error = c.version >= 13 && topic == nullptr ? kUnknownTopicId : kUnknownTopicOrPartition;
        answer_now = true;
        continue;
      }
      // Kafka's rule: the first batch is returned even when larger than the limits.
      const size_t room = total >= max_bytes ? 0 : max_bytes - total;
      const size_t limit = std::min<size_t>(static_cast<size_t>(std::max(0, target.max_bytes)), room);
      const bool first_data = total == 0;
      const TopicPartition tp{topic->name, target.partition};
      const log::LogConfig log_config = EffectiveLogConfig(*config, topic);
      const bool convert = c.version < 4;
      const bool may_convert = !convert || EffectiveDownConversion(*config, topic);
      PartitionRead read = co_await c.broker.RunOn(c.broker.OwnerOf(tp), [&]() {
        PartitionRead r;
        auto log = c.broker.OwnerOf(tp).Log(tp, log_config);
        if (!log.ok()) {
          r.status = log.status();
          return r;
        }
        r.error = CurrentLeaderEpochError(target.current_leader_epoch, (*log)->leader_epoch());
        if (r.error != kNone) return r;
        r.high_watermark = (*log)->high_watermark();
        r.log_start_offset = (*log)->log_start_offset();
        auto diverging = CheckLastFetchedEpoch(**log, target);
        if (!diverging.ok()) {
          r.status = diverging.status();
          return r;
        }
        r.diverging = *diverging;
        if (r.diverging.has_value()) return r;
        if (limit == 0 && !first_data) return r;
        auto slice = (*log)->ReadSlice(target.fetch_offset, std::max<size_t>(limit, 1), c.connection_id);
        if (!slice.ok()) {
          r.status = slice.status();
          return r;
        }
        // A batch beyond the limit is only sent when nothing else has been.
        if (slice->length == 0 || (!first_data && slice->length > limit)) return r;
        TopicTraffic& traffic = c.broker.OwnerOf(tp).traffic(tp.topic);
        if (c.version >= 4 && slice->length >= kZeroCopyFrom && c.slices != nullptr) {
          traffic.bytes_out += slice->length;
          r.slice = std::move(*slice);
          return r;
        }
        r.bytes.resize(slice->length);
        if (::pread(slice->fd.get(), r.bytes.data(), r.bytes.size(), static_cast<off_t>(slice->position)) !=
            static_cast<ssize_t>(r.bytes.size())) {
          r.status = log::IoError(errno, "read segment");
          return r;
        }
        if (!may_convert) {  // as Kafka, only when there is something to convert
          r.bytes.clear();
          r.conversion_refused = true;
          return r;
        }
        if (convert) {
          // Clients older than 0.11 read message sets v0 (Fetch v0-1) or v1 (v2-3).
          std::vector<uint8_t> converted;
          r.status = protocol::DownConvert(protocol::ByteView(r.bytes), c.version < 2 ? 0 : 1,
                                           protocol::kDefaultMaxDecompressed, &converted);
          r.bytes = std::move(converted);
        }
        if (r.status.ok()) traffic.bytes_out += r.bytes.size();
        return r;
      });
      if (read.error != kNone || !read.status.ok()) {
        // As Kafka: an error comes without the partition's offsets.
        result.error = read.error != kNone ? read.error : ToKafkaError(read.status);
        answer_now = true;
        continue;
      }
      result.high_watermark = read.high_watermark;
      result.log_start_offset = read.log_start_offset;
      result.diverging = read.diverging;
      if (read.diverging.has_value()) {
        answer_now = true;  // as Kafka, a divergence is answered at once
        continue;
      }
      if (read.conversion_refused) {
        result.error = kUnsupportedVersion;
        answer_now = true;
        continue;
      }
      total += read.bytes.size() + read.slice.length;
      if (read.slice.length > 0) {
        result.records = protocol::ByteView(nullptr, read.slice.length);
        result.slice = std::move(read.slice);
      } else if (!read.bytes.empty()) {
        result.records = protocol::ByteView(c.arena.emplace_back(std::move(read.bytes)));
      }
    }
    const bool enough = total >= static_cast<size_t>(std::max(1, req.min_bytes)) || req.min_bytes <= 0;
    // A stopping node answers with what it has rather than wait out the deadline.
    if (enough || answer_now || c.home.stopping() || std::chrono::steady_clock::now() >= deadline) break;
    if (c.home.append_generation() != generation) continue;  // an append raced with the reads
    // Wait for an append anywhere (WakeWaiters cancels the timer) or the deadline.
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_at(deadline);
    auto it = c.home.waiters().insert(c.home.waiters().end(), &timer);
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    c.home.waiters().erase(it);
  }

  std::vector<bool> carry(targets.size(), true);
  if (session_id != 0) {
    std::vector<PartitionOutcome> outcomes;
    outcomes.reserve(results.size());
    for (const Result& r : results) {
      outcomes.push_back({r.records.has_value(), r.error != kNone, r.high_watermark, r.log_start_offset,
                          r.diverging.has_value()});
    }
    carry = sessions.Settle(session_id, full, targets, outcomes);
  }
  protocol::fetch_response::FetchableTopicResponse* topic_out = nullptr;
  std::vector<log::FileSlice*> files;  // in response order, as the encoder meets their holes
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!carry[i]) continue;
    const SessionPartition& t = targets[i];
    if (topic_out == nullptr || topic_out->topic != t.topic || !(topic_out->topic_id == t.topic_id)) {
      topic_out = &resp.responses.emplace_back();
      topic_out->topic = t.topic;
      topic_out->topic_id = t.topic_id;
    }
    auto& rp = topic_out->partitions.emplace_back();
    rp.partition_index = t.partition;
    rp.error_code = results[i].error;
    rp.high_watermark = results[i].high_watermark;
    rp.last_stable_offset = results[i].high_watermark;
    rp.log_start_offset = results[i].log_start_offset;
    // As Kafka: a read_committed fetch (isolation level 1) that read lists the aborted
    // transactions among the records (none: transactional batches are refused), other
    // answers have no list.
    if (req.isolation_level != 1 || results[i].error != kNone || results[i].diverging.has_value()) {
      rp.aborted_transactions.reset();
    }
    if (results[i].diverging.has_value()) {
      rp.diverging_epoch.epoch = results[i].diverging->first;
      rp.diverging_epoch.end_offset = results[i].diverging->second;
    }
    rp.records = results[i].records.value_or(protocol::ByteView());
    if (results[i].slice.length > 0) files.push_back(&results[i].slice);
  }
  resp.session_id = session_id;
  protocol::Holes holes;
  if (absl::Status s =
          protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response, &holes);
      !s.ok()) {
    co_return s;
  }
  if (holes.at.size() != files.size())
    co_return absl::InternalError("fetch response: holes and file slices disagree");
  PlaceSlices(holes, files, c.slices);
  co_return absl::OkStatus();
}

}  // namespace fjord::broker
