#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/group_commit.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "broker/topic_configs.h"
#include "fjord_protocol/messages/produce_request.h"
#include "fjord_protocol/messages/produce_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/legacy_message_set.h"
#include "protocol/record_batch.h"

namespace fjord::broker {

namespace {

constexpr char kInternalTopicWriter[] = "__admin_client";  // Kafka's AdminUtils.ADMIN_CLIENT_ID

struct Checked {
  int16_t error = kNone;
  std::string message;
  std::vector<std::pair<int32_t, std::string>> record_errors;  // index in its batch, why
  uint8_t* data = nullptr;  // the batches to append, in the request frame or the arena
  size_t size = 0;
};

// Produce v0-2 carry message sets v0/v1: Fjord stores only v2, so the messages are
// rebuilt as one uncompressed v2 batch (as Kafka does when converting formats). A
// magic-0 message has no timestamp and keeps none (-1), as in Kafka; a topic with
// LogAppendTime stamps the batch later, as any other.
absl::Status ConvertLegacy(protocol::ByteView set, std::vector<uint8_t>* out) {
  protocol::DecodedMessageSet legacy;
  if (absl::Status s = protocol::DecodeLegacyMessageSet(set, protocol::kDefaultMaxDecompressed, &legacy);
      !s.ok()) {
    return s;
  }
  if (legacy.messages.empty()) return absl::InvalidArgumentError("empty message set");
  std::vector<protocol::Record> records;
  protocol::BatchHeader h;
  h.base_timestamp = legacy.messages.front().timestamp;
  h.max_timestamp = h.base_timestamp;
  for (size_t i = 0; i < legacy.messages.size(); ++i) {
    const auto& m = legacy.messages[i];
    protocol::Record r;
    const int64_t ts = m.timestamp;
    if (ts < protocol::kNoTimestamp) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid negative timestamp ", ts));
    }
    // Wraps as Java's long does (base -1, a timestamp near the top): readers add it back.
    r.timestamp_delta =
        static_cast<int64_t>(static_cast<uint64_t>(ts) - static_cast<uint64_t>(h.base_timestamp));
    r.offset_delta = static_cast<int32_t>(i);
    r.key = m.key;
    r.value = m.value;
    h.max_timestamp = std::max(h.max_timestamp, ts);
    records.push_back(r);
  }
  h.last_offset_delta = static_cast<int32_t>(records.size() - 1);
  return protocol::EncodeBatch(h, records, out);
}

// Java's long arithmetic, which Kafka's checks and messages use: wrapping.
int64_t JavaAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t JavaSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

// A record's timestamp as Kafka reads it: the batch's first timestamp plus the
// record's delta, or the batch's max timestamp in a batch marked LogAppendTime.
int64_t RecordTimestamp(const protocol::BatchHeader& h, const protocol::Record& r) {
  if (h.timestamp_type() == protocol::TimestampType::kLogAppendTime) return h.max_timestamp;
  return JavaAdd(h.base_timestamp, r.timestamp_delta);
}

// What Kafka checks of one partition's batches (UnifiedLog.analyzeAndValidateRecords,
// LogValidator), and how it answers.
struct PartitionRules {
  int16_t version = 0;       // the Produce request's
  size_t max_batch = 0;      // max.message.bytes
  bool compact = false;      // cleanup.policy has compact: every record needs a key
  bool create_time = false;  // message.timestamp.type=CreateTime
  TimestampBounds bounds;    // KIP-937: message.timestamp.before/after.max.ms
  int64_t now = 0;
  std::string partition;  // "topic-partition", as Kafka names it in its refusals
  std::string where() const { return absl::StrCat(" in topic partition ", partition); }
};

struct RecordRefusal {
  bool timestamp = false;  // INVALID_TIMESTAMP for the request, else INVALID_RECORD
  std::string message;
};

// Why Kafka refuses record `r` of batch `h` (whose timestamp is `ts`): a compacted
// topic's record without a key first, then its timestamp. A CreateTime record without
// a timestamp (-1) is not held to the bounds; a batch a producer marked LogAppendTime
// is refused unless it is a CreateTime topic's with a timestamp.
std::optional<RecordRefusal> Refusal(const protocol::BatchHeader& h, const protocol::Record& r, int64_t ts,
                                     const PartitionRules& rules) {
  if (rules.compact && !r.key) {
    return RecordRefusal{false,
                         absl::StrCat("Compacted topic cannot accept message without key in topic partition ",
                                      rules.partition)};
  }
  if (rules.create_time && ts != protocol::kNoTimestamp) {
    const int64_t behind = JavaSub(rules.now, ts);
    if (behind > rules.bounds.before_max_ms || JavaSub(0, behind) > rules.bounds.after_max_ms) {
      return RecordRefusal{true, absl::StrCat("Timestamp ", ts, " of message with offset ", r.offset_delta,
                                              " is out of range. The timestamp should be within [",
                                              JavaSub(rules.now, rules.bounds.before_max_ms), ", ",
                                              JavaAdd(rules.now, rules.bounds.after_max_ms), "]")};
    }
  } else if (h.timestamp_type() == protocol::TimestampType::kLogAppendTime) {
    return RecordRefusal{
        true, absl::StrCat("Invalid timestamp type in message DefaultRecord(offset=", r.offset_delta,
                           ", timestamp=", ts, ", key=", r.key ? r.key->size() : 0,
                           " bytes, value=", r.value ? r.value->size() : 0,
                           " bytes). Producer should not set timestamp type to LogAppendTime.")};
  }
  return std::nullopt;
}

// Kafka's answer for a batch with refused records (LogValidator.processRecordErrors):
// INVALID_TIMESTAMP if any was refused for its timestamp, else INVALID_RECORD, with
// every record's index and reason.
void Refuse(std::vector<std::pair<int32_t, RecordRefusal>> refused, Checked* out) {
  const bool timestamp =
      std::any_of(refused.begin(), refused.end(), [](const auto& r) { return r.second.timestamp; });
  out->error = timestamp ? kInvalidTimestamp : kInvalidRecord;
  if (timestamp) {
    out->message = "One or more records have been rejected due to invalid timestamp";
  } else {
    std::vector<std::string> shown;
    for (size_t i = 0; i < refused.size() && i < 3; ++i) {
      shown.push_back(absl::StrCat("RecordError(batchIndex=", refused[i].first, ", message='",
                                   refused[i].second.message, "')"));
    }
    out->message = absl::StrCat("One or more records have been rejected due to ", refused.size(),
                                " record errors in total, and only showing the first three errors at most: [",
                                absl::StrJoin(shown, ", "), "]");
  }
  for (auto& [index, why] : refused) out->record_errors.emplace_back(index, std::move(why.message));
}

// The codec a topic's compression.type stores batches in; none for "producer".
std::optional<protocol::Compression> TargetCompression(const std::string& compression_type) {
  using protocol::Compression;
  if (compression_type == "uncompressed") return Compression::kNone;
  if (compression_type == "gzip") return Compression::kGzip;
  if (compression_type == "snappy") return Compression::kSnappy;
  if (compression_type == "lz4") return Compression::kLz4;
  if (compression_type == "zstd") return Compression::kZstd;
  return std::nullopt;
}

// Sets *out's error and message as Kafka answers them; false when it did.
bool Refused(int16_t error, std::string message, Checked* out) {
  out->error = error;
  out->message = std::move(message);
  return false;
}

// Kafka's checks of one batch's header, in its order, codes and words; the header is
// parsed into *h.
bool HeaderAccepted(protocol::ByteView b, const PartitionRules& rules, protocol::BatchHeader* h,
                    Checked* out) {
  auto parsed = protocol::ParseBatchHeader(b);
  if (!parsed.ok()) {
    const bool other_magic =
        parsed.status().code() == absl::StatusCode::kInvalidArgument && b.size() >= 17 && b.data()[16] != 2;
    return Refused(other_magic ? kUnsupportedForMessageFormat : kCorruptMessage,
                   std::string(parsed.status().message()), out);
  }
  *h = *parsed;
  // A client's batch is numbered from 0; the log gives it its offsets.
  if (h->base_offset != 0) {
    return Refused(kInvalidRecord,
                   absl::StrCat("The baseOffset of the record batch in the append to ", rules.partition,
                                " should be 0, but it is ", h->base_offset),
                   out);
  }
  if (rules.version < 7 && h->compression() == protocol::Compression::kZstd) {
    return Refused(kUnsupportedCompressionType,
                   absl::StrCat("Produce requests with version ", rules.version,
                                " are not allowed to use ZStandard compression"),
                   out);
  }
  if (b.size() > rules.max_batch)
    return Refused(kMessageTooLarge, "batch larger than message.max.bytes", out);
  if (!protocol::BatchCrcValid(b)) return Refused(kCorruptMessage, "record batch CRC mismatch", out);
  // Kafka's LogValidator.validateBatch: the offsets the header spans, its count and
  // the records themselves must agree, or the log would number records wrongly.
  const int64_t count_from_offsets = int64_t{h->last_offset_delta} + 1;
  if (count_from_offsets <= 0) {
    return Refused(
        kInvalidRecord,
        absl::StrCat("Batch has an invalid offset range: [0, ", h->last_offset_delta, "]", rules.where()),
        out);
  }
  if (h->record_count <= 0) {
    return Refused(kInvalidRecord,
                   absl::StrCat("Invalid reported count for record batch: ", h->record_count, rules.where()),
                   out);
  }
  if (count_from_offsets != h->record_count) {
    return Refused(kInvalidRecord,
                   absl::StrCat("Inconsistent batch offset range [0, ", h->last_offset_delta,
                                "] and count of records ", h->record_count, rules.where()),
                   out);
  }
  if (h->is_control()) {
    return Refused(kInvalidRecord,
                   absl::StrCat("Clients are not allowed to write control records", rules.where()), out);
  }
  if (h->producer_id >= 0 && h->base_sequence < 0) {
    return Refused(kInvalidRecord,
                   absl::StrCat("Invalid sequence number ", h->base_sequence,
                                " in record batch with producerId ", h->producer_id, rules.where()),
                   out);
  }
  return true;
}

// One walk over batch `b`'s records checks them against its header `h`, and against
// the keys and timestamps the topic's configs ask for. An accepted batch of a
// CreateTime topic then carries the type and max timestamp its records give (Kafka's
// LogValidator: retention, the time index and ListOffsets go by it); the batch is ours
// to edit, in the request's frame buffer or the arena (a LogAppendTime topic stamps it
// later). *rebuild is set when a compressed batch's offset deltas are out of order:
// Kafka rebuilds it with them in order (some old clients numbered them otherwise), and
// stores an uncompressed one as it came.
bool RecordsAccepted(protocol::ByteView b, const protocol::BatchHeader& h, const PartitionRules& rules,
                     bool* rebuild, Checked* out) {
  std::vector<std::pair<int32_t, RecordRefusal>> refused;
  bool deltas_in_order = true;
  int32_t index = 0;
  int64_t max_timestamp = protocol::kNoTimestamp;
  absl::Status walked =
      protocol::CheckRecords(b, protocol::kDefaultMaxDecompressed, [&](const protocol::Record& r) {
        const int64_t ts = RecordTimestamp(h, r);
        max_timestamp = std::max(max_timestamp, ts);
        if (auto why = Refusal(h, r, ts, rules)) refused.emplace_back(index, std::move(*why));
        deltas_in_order &= r.offset_delta == index;
        ++index;
      });
  if (!walked.ok()) {
    return Refused(kInvalidRecord, absl::StrCat("Malformed records (", walked.message(), ")", rules.where()),
                   out);
  }
  if (!deltas_in_order && h.compression() != protocol::Compression::kNone) *rebuild = true;
  if (!refused.empty()) {
    Refuse(std::move(refused), out);
    return false;
  }
  // Transactions (issue: transaction coordinator) are not implemented: refuse rather
  // than store batches whose guarantees we cannot keep.
  if (h.is_transactional())
    return Refused(kInvalidRecord, "transactional producers are not supported yet", out);
  if (rules.create_time &&
      (h.timestamp_type() != protocol::TimestampType::kCreateTime || h.max_timestamp != max_timestamp)) {
    protocol::SetMaxTimestamp(const_cast<uint8_t*>(b.data()), b.size(), protocol::TimestampType::kCreateTime,
                              max_timestamp);
  }
  return true;
}

// As Kafka's LogValidator, the batches marked in `rebuild` are rebuilt (their records
// re-encoded, in the topic's codec when compression.type names one, else in their own)
// into *rebuilt, the others copied; each size is checked again.
bool Rebuilt(const std::vector<protocol::ByteView>& batches, const std::vector<bool>& rebuild,
             std::optional<protocol::Compression> target, const BrokerConfig& config, const TopicInfo* topic,
             size_t max_batch, std::vector<uint8_t>* rebuilt, Checked* out) {
  for (size_t i = 0; i < batches.size(); ++i) {
    const protocol::ByteView b = batches[i];
    const size_t start = rebuilt->size();
    const protocol::Compression codec = target.value_or(protocol::ParseBatchHeader(b)->compression());
    const std::string codec_name(protocol::CompressionName(codec));
    if (!rebuild[i]) {
      rebuilt->insert(rebuilt->end(), b.data(), b.data() + b.size());
    } else if (absl::Status s =
                   protocol::RecompressBatch(b, codec, protocol::kDefaultMaxDecompressed, rebuilt,
                                             EffectiveCompressionLevel(config, topic, codec_name));
               !s.ok()) {
      return Refused(kCorruptMessage, std::string(s.message()), out);
    }
    if (rebuilt->size() - start > max_batch) {
      return Refused(kMessageTooLarge,
                     absl::StrCat("batch larger than message.max.bytes once stored as ", codec_name), out);
    }
  }
  return true;
}

Checked Check(RequestContext& c, const TopicInfo* topic, int32_t partition,
              const std::optional<protocol::ByteView>& records, const BrokerConfig& config,
              const log::LogConfig& log_config) {
  Checked out;
  if (!records || records->empty()) {
    Refused(kInvalidRecord, "no records", &out);
    return out;
  }
  protocol::ByteView view = *records;
  const int magic = protocol::DetectMagic(view);
  // Kafka's checks of a v3+ request's records (ProduceRequest.validateRecords), its codes
  // and words: one batch, of magic 2, and zstd only from v7.
  if (magic < 0) {
    Refused(kCorruptMessage, "records too short for a batch header", &out);
    return out;
  }
  if (magic < 2) {
    if (c.version >= 3) {
      Refused(kInvalidRecord,
              absl::StrCat("Produce requests with version ", c.version,
                           " are only allowed to contain record batches with magic version 2"),
              &out);
      return out;
    }
    auto& converted = c.arena.emplace_back();
    if (absl::Status s = ConvertLegacy(view, &converted); !s.ok()) {
      Refused(s.code() == absl::StatusCode::kDataLoss ? kCorruptMessage : kInvalidRecord,
              std::string(s.message()), &out);
      return out;
    }
    view = protocol::ByteView(converted);
  }
  protocol::ByteView tail;
  auto batches = protocol::SplitBatches(view, &tail);
  if (!batches.ok() || !tail.empty() || batches->empty()) {
    Refused(kCorruptMessage,
            batches.ok() ? "records end in a partial batch" : std::string(batches.status().message()), &out);
    return out;
  }
  if (c.version >= 3 && batches->size() != 1) {
    Refused(kInvalidRecord,
            absl::StrCat("Produce requests with version ", c.version,
                         " are only allowed to contain exactly one record batch"),
            &out);
    return out;
  }
  PartitionRules rules;
  rules.version = c.version;
  rules.max_batch = static_cast<size_t>(EffectiveMaxMessageBytes(config, topic));
  rules.compact = log_config.compact;
  rules.create_time = !log_config.log_append_time;
  rules.bounds = EffectiveTimestampBounds(config, topic);
  rules.now = NowMs();
  rules.partition = absl::StrCat(topic->name, "-", partition);
  const std::optional<protocol::Compression> target =
      TargetCompression(EffectiveCompressionType(config, topic));
  // Batches to rebuild: not in the topic's codec, or compressed with their records'
  // offset deltas out of order.
  std::vector<bool> rebuild(batches->size(), false);
  for (size_t i = 0; i < batches->size(); ++i) {
    protocol::BatchHeader h;
    if (!HeaderAccepted((*batches)[i], rules, &h, &out)) return out;
    bool out_of_order = false;
    if (!RecordsAccepted((*batches)[i], h, rules, &out_of_order, &out)) return out;
    rebuild[i] = out_of_order || (target && h.compression() != *target);
  }
  if (std::find(rebuild.begin(), rebuild.end(), true) != rebuild.end()) {
    auto& rebuilt = c.arena.emplace_back();
    if (!Rebuilt(*batches, rebuild, target, config, topic, rules.max_batch, &rebuilt, &out)) return out;
    view = protocol::ByteView(rebuilt);
  }
  // The records are rewritten in place (offsets): they live in our own frame buffer
  // or arena.
  out.data = const_cast<uint8_t*>(view.data());
  out.size = view.size();
  return out;
}

// A partition whose acknowledgement waits for fsync (acks=all, log.flush.on.ack).
struct DurableWait {
  Shard* shard;
  TopicPartition tp;
  int64_t end_offset;  // every offset below this must be flushed
  size_t topic_index;
  size_t partition_index;
};

// The flushes one durable Produce waits for, started as soon as its records are
// appended. They must not wait for the writer to reach this response: a client that
// pipelines requests (librdkafka sends one partition per request) would otherwise get
// one fdatasync after another, a round trip per request, instead of flushes that run
// side by side and groups that cover every request appended meanwhile.
// Connection executor only: completions are counted there.
class StartedDurableWaits {
 public:
  static std::shared_ptr<StartedDurableWaits> Start(std::vector<DurableWait> waits,
                                                    boost::asio::any_io_executor home) {
    auto self = std::make_shared<StartedDurableWaits>();
    self->waits_ = std::move(waits);
    self->statuses_.resize(self->waits_.size());
    self->left_ = self->waits_.size();
    for (size_t i = 0; i < self->waits_.size(); ++i) {
      const DurableWait& w = self->waits_[i];
      boost::asio::post(w.shard->context(), [w, i, self, home] {
        w.shard->committer().WaitDurable(w.tp, w.end_offset, [i, self, home](absl::Status s) {
          boost::asio::post(home, [i, self, s = std::move(s)]() mutable { self->Report(i, std::move(s)); });
        });
      });
    }
    return self;
  }

  // Resumes once every flush has reported.
  boost::asio::awaitable<void> AllReported() {
    if (left_ == 0) co_return;
    co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
        [this](auto handler) {
          auto held = std::make_shared<decltype(handler)>(std::move(handler));
          resume_ = [held] { std::move (*held)(); };
        },
        boost::asio::use_awaitable);
  }

  const std::vector<DurableWait>& waits() const { return waits_; }
  const std::vector<absl::Status>& statuses() const { return statuses_; }

 private:
  void Report(size_t i, absl::Status s) {
    statuses_[i] = std::move(s);
    if (--left_ == 0 && resume_) std::exchange(resume_, nullptr)();
  }

  std::vector<DurableWait> waits_;
  std::vector<absl::Status> statuses_;
  size_t left_ = 0;
  std::function<void()> resume_;  // the writer, once it waits
};

// The deferred half of a durable Produce: wait for the flushes, then answer.
boost::asio::awaitable<absl::Status> AnswerWhenDurable(std::shared_ptr<protocol::ProduceResponse> resp,
                                                       std::shared_ptr<StartedDurableWaits> started,
                                                       int16_t version, int32_t correlation_id,
                                                       std::vector<uint8_t>* out) {
  co_await started->AllReported();
  for (size_t i = 0; i < started->waits().size(); ++i) {
    const absl::Status& s = started->statuses()[i];
    if (s.ok()) continue;
    const DurableWait& w = started->waits()[i];
    auto& rp = resp->responses[w.topic_index].partition_responses[w.partition_index];
    rp.error_code = kKafkaStorageError;
    rp.base_offset = -1;
    rp.log_start_offset = -1;
    rp.error_message = std::string(s.message());
  }
  co_return protocol::AppendResponseFrame(*resp, version, correlation_id, out);
}

}  // namespace

boost::asio::awaitable<absl::Status> HandleProduce(RequestContext& c) {
  protocol::ProduceRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  c.send_response = req.acks != 0;
  auto image = c.broker.metadata().Current();
  const std::shared_ptr<const BrokerConfig> config = c.broker.effective_config();
  auto resp_ptr = std::make_shared<protocol::ProduceResponse>();
  protocol::ProduceResponse& resp = *resp_ptr;
  std::vector<DurableWait> waits;
  const bool durable_ack = req.acks == -1 && config->log_flush_on_ack;
  bool appended = false;
  for (const auto& t : req.topic_data) {
    auto& rt = resp.responses.emplace_back();
    rt.name = t.name;
    const TopicInfo* topic = image->Find(t.name);
    for (const auto& p : t.partition_data) {
      auto& rp = rt.partition_responses.emplace_back();
      rp.index = p.index;
      rp.base_offset = -1;  // as Kafka, until the partition is written
      rp.log_start_offset = -1;
      if (req.acks != 0 && req.acks != 1 && req.acks != -1) {
        rp.error_code = kInvalidRequiredAcks;
        continue;
      }
      if (!HasPartition(topic, p.index)) {
        rp.error_code = kUnknownTopicOrPartition;
        continue;
      }
      // The group coordinator's records live there; as in Kafka, only its admin tools'
      // client id may write to it.
      if (IsInternalTopic(t.name) && c.header.client_id != kInternalTopicWriter) {
        rp.error_code = kInvalidTopicException;
        continue;
      }
      // As Kafka's leader, before the records are looked at. The in-sync set is this
      // node alone: partitions have one replica.
      if (const int32_t min_isr = EffectiveMinInsyncReplicas(*config, topic); req.acks == -1 && min_isr > 1) {
        rp.error_code = kNotEnoughReplicas;
        rp.error_message = absl::StrCat("The size of the current ISR Set(", c.broker.config().node_id,
                                        ") is insufficient to satisfy the min.isr requirement of ", min_isr,
                                        " for partition ", t.name, "-", p.index);
        continue;
      }
      const log::LogConfig log_config = EffectiveLogConfig(*config, topic);
      Checked checked = Check(c, topic, p.index, p.records, *config, log_config);
      if (checked.error != kNone) {
        rp.error_code = checked.error;
        rp.error_message = checked.message;
        for (auto& [index, why] : checked.record_errors) {
          rp.record_errors.push_back({index, std::move(why)});
        }
        continue;
      }
      TopicPartition tp{t.name, p.index};
      auto result = co_await c.broker.RunOn(
          c.broker.OwnerOf(tp), [&]() -> absl::StatusOr<std::pair<log::AppendResult, int64_t>> {
            auto log = c.broker.OwnerOf(tp).Log(tp, log_config);
            if (!log.ok()) return log.status();
            auto r = (*log)->Append(checked.data, checked.size, NowMs());
            if (!r.ok()) {
              c.broker.OwnerOf(tp).ReportOffline();
              return r.status();
            }
            if (r->sequence == log::SequenceCheck::kAppend) {
              TopicTraffic& t = c.broker.OwnerOf(tp).traffic(tp.topic);
              t.messages_in += static_cast<uint64_t>(r->last_offset - r->base_offset + 1);
              t.bytes_in += checked.size;
            }
            return std::make_pair(*r, (*log)->log_start_offset());
          });
      if (!result.ok()) {
        rp.error_code = ToKafkaError(result.status());
        rp.error_message = std::string(result.status().message());
        continue;
      }
      if (result->first.sequence == log::SequenceCheck::kOutOfOrderSequence) {
        rp.error_code = kOutOfOrderSequenceNumber;
        continue;
      }
      if (result->first.sequence == log::SequenceCheck::kInvalidEpoch) {
        rp.error_code = kInvalidProducerEpoch;
        continue;
      }
      appended |= result->first.sequence == log::SequenceCheck::kAppend;
      if (durable_ack) {  // a duplicate waits too: its first write may not be flushed yet
        waits.push_back({&c.broker.OwnerOf(tp), tp, result->first.last_offset + 1, resp.responses.size() - 1,
                         rt.partition_responses.size() - 1});
      }
      rp.base_offset = result->first.base_offset;
      rp.log_append_time_ms = result->first.log_append_time;
      rp.log_start_offset = result->second;
    }
  }
  if (appended) c.broker.NotifyAppend();
  if (!c.send_response) {
    // acks=0 gets no answer, so an error could not be seen: as Kafka, the connection
    // closes instead, and the client reconnects and refreshes its metadata.
    for (const auto& rt : resp.responses) {
      for (const auto& rp : rt.partition_responses) {
        if (rp.error_code != kNone) {
          co_return absl::FailedPreconditionError(absl::StrCat("acks=0 produce to ", rt.name, "-", rp.index,
                                                               " failed with error ", rp.error_code));
        }
      }
    }
    co_return absl::OkStatus();
  }
  if (!waits.empty()) {
    boost::asio::any_io_executor home = co_await boost::asio::this_coro::executor;
    auto started = StartedDurableWaits::Start(std::move(waits), home);
    c.deferred = [resp_ptr, started, version = c.version,
                  correlation_id = c.header.correlation_id](std::vector<uint8_t>* out) {
      return AnswerWhenDurable(resp_ptr, started, version, correlation_id, out);
    };
    co_return absl::OkStatus();
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
