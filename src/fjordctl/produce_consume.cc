// fjordctl produce | consume: lines from stdin as records, records to stdout.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "fjordctl/command.h"
#include "fjordctl/offsets.h"
#include "fjordctl/output.h"
#include "protocol/record_batch.h"

namespace fjord::ctl {

namespace {

using boost::asio::awaitable;
using client::KafkaError;

constexpr size_t kBatchRecords = 1000;  // records per batch and per Produce request
constexpr size_t kMaxDecompressed = 64 << 20;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Kafka's default partitioner for keyed records: murmur2 of the key, made positive.
int32_t Murmur2Partition(const std::string& key, int32_t partitions) {
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  uint32_t h = 0x9747b28c ^ static_cast<uint32_t>(key.size());
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  size_t len = key.size(), i = 0;
  for (; len >= 4; len -= 4, i += 4) {
    uint32_t k =
        data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (static_cast<uint32_t>(data[i + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (len) {
    case 3:
      h ^= static_cast<uint32_t>(data[i + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(data[i + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= data[i];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>((h & 0x7fffffff) % static_cast<uint32_t>(partitions));
}

struct Line {
  std::string key, value;
  bool has_key = false;
};

absl::Status CheckProduce(const Args& a) {
  if (a.positional.size() != 1) return absl::InvalidArgumentError("give one topic name");
  int32_t p = 0;
  if (a.Has("--partition") && (!absl::SimpleAtoi(a.Get("--partition"), &p) || p < 0))
    return absl::InvalidArgumentError("--partition wants a partition number");
  const std::string acks = a.Get("--acks", "all");
  if (acks != "all" && acks != "-1" && acks != "1") return absl::InvalidArgumentError("--acks is all or 1");
  if (a.Has("--header")) {
    for (const auto& h : a.values.at("--header"))
      if (h.find('=') == std::string::npos) return absl::InvalidArgumentError("--header wants KEY=VALUE");
  }
  if (a.Has("--key-separator") && a.Get("--key-separator").empty())
    return absl::InvalidArgumentError("--key-separator cannot be empty");
  return absl::OkStatus();
}

// Sends one batch per partition in `pending` to the partitions' leaders.
awaitable<absl::Status> SendBatches(client::Client& client, const std::string& topic,
                                    const std::map<int32_t, std::vector<Line>>& pending,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    const std::map<int32_t, int32_t>& leaders, int16_t acks) {
  std::map<int32_t, std::vector<std::pair<int32_t, std::vector<uint8_t>>>> by_leader;
  const int64_t now = NowMs();
  for (const auto& [partition, lines] : pending) {
    if (lines.empty()) continue;
    std::vector<protocol::Record> records(lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      records[i].offset_delta = static_cast<int32_t>(i);
      if (lines[i].has_key) records[i].key = protocol::ByteView(std::string_view(lines[i].key));
      records[i].value = protocol::ByteView(std::string_view(lines[i].value));
      for (const auto& [k, v] : headers) {
        protocol::RecordHeader& h = records[i].headers.emplace_back();
        h.key = protocol::ByteView(std::string_view(k));
        h.value = protocol::ByteView(std::string_view(v));
      }
    }
    protocol::BatchHeader header;
    header.base_timestamp = header.max_timestamp = now;
    header.last_offset_delta = static_cast<int32_t>(records.size() - 1);
    std::vector<uint8_t> batch;
    if (absl::Status s = protocol::EncodeBatch(header, records, &batch); !s.ok()) co_return s;
    auto leader = leaders.find(partition);
    if (leader == leaders.end() || leader->second < 0)
      co_return absl::UnavailableError(absl::StrCat(topic, "-", partition, " has no leader"));
    by_leader[leader->second].emplace_back(partition, std::move(batch));
  }
  for (const auto& [leader, batches] : by_leader) {
    protocol::ProduceRequest request;
    request.acks = acks;
    request.timeout_ms = 30000;
    auto& t = request.topic_data.emplace_back();
    t.name = topic;
    for (const auto& [partition, batch] : batches) {
      auto& p = t.partition_data.emplace_back();
      p.index = partition;
      p.records = protocol::ByteView(batch);
    }
    auto r = co_await client.Call<protocol::ProduceResponse>(leader, request);
    if (!r.ok()) co_return r.status();
    for (const auto& rt : r->responses) {
      for (const auto& rp : rt.partition_responses) {
        if (rp.error_code != 0) {
          co_return KafkaError(rp.error_code, absl::StrCat(topic, "-", rp.index,
                                                           rp.error_message ? ": " + *rp.error_message : ""));
        }
      }
    }
  }
  co_return absl::OkStatus();
}

// Metadata for one topic; an error unless the topic is there (UNKNOWN_TOPIC_OR_PARTITION
// when the answer leaves it out).
awaitable<absl::StatusOr<protocol::MetadataResponse>> OneTopic(client::Client& client,
                                                               const std::string& topic) {
  std::vector<std::string> wanted(1, topic);
  auto metadata = co_await client.Metadata(wanted);
  if (!metadata.ok()) co_return metadata.status();
  if (metadata->topics.empty() || metadata->topics.front().error_code != 0) {
    co_return KafkaError(metadata->topics.empty() ? int16_t{3} : metadata->topics.front().error_code,
                         std::string("metadata"));
  }
  co_return metadata;
}

awaitable<int> Produce(Context& c, const Args& a) {
  const std::string& topic = a.positional[0];
  const std::string what = "produce " + topic;
  auto metadata = co_await OneTopic(c.client, topic);
  if (!metadata.ok()) co_return Fail(what, metadata.status());
  std::map<int32_t, int32_t> leaders;
  for (const auto& p : metadata->topics.front().partitions) leaders[p.partition_index] = p.leader_id;
  const int32_t partitions = static_cast<int32_t>(leaders.size());
  int32_t fixed = -1;
  if (a.Has("--partition")) {
    (void)absl::SimpleAtoi(a.Get("--partition"), &fixed);
    if (fixed >= partitions) co_return Fail(what, KafkaError(3, "partition " + std::to_string(fixed)));
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (a.Has("--header")) {
    for (const auto& h : a.values.at("--header"))
      headers.emplace_back(h.substr(0, h.find('=')), h.substr(h.find('=') + 1));
  }
  const std::string separator = a.Get("--key-separator");
  const int16_t acks = a.Get("--acks", "all") == "1" ? int16_t{1} : int16_t{-1};
  std::map<int32_t, std::vector<Line>> pending;
  size_t buffered = 0, sent = 0;
  int32_t sticky = 0;  // unkeyed records fill one partition's batch, then the next (Kafka's sticky rule)
  std::string text;
  auto flush = [&]() -> awaitable<absl::Status> {
    absl::Status s = co_await SendBatches(c.client, topic, pending, headers, leaders, acks);
    sent += buffered;
    buffered = 0;
    pending.clear();
    Progress("produced " + std::to_string(sent) + " records");
    co_return s;
  };
  while (std::getline(std::cin, text)) {
    Line line;
    if (!separator.empty()) {
      const size_t at = text.find(separator);
      if (at != std::string::npos) {
        line.key = text.substr(0, at);
        line.has_key = true;
        text = text.substr(at + separator.size());
      }
    }
    line.value = std::move(text);
    int32_t partition = fixed;
    if (partition < 0) partition = line.has_key ? Murmur2Partition(line.key, partitions) : sticky;
    pending[partition].push_back(std::move(line));
    if (++buffered >= kBatchRecords) {
      sticky = (sticky + 1) % partitions;
      if (absl::Status s = co_await flush(); !s.ok()) {
        ProgressDone();
        co_return Fail(what, s);
      }
    }
  }
  if (buffered > 0) {
    if (absl::Status s = co_await flush(); !s.ok()) {
      ProgressDone();
      co_return Fail(what, s);
    }
  }
  ProgressDone();
  if (c.json) {
    Json out = Json::Object();
    out.Set("topic", topic).Set("records", static_cast<int64_t>(sent));
    std::printf("%s\n", out.Dump().c_str());
  } else {
    std::fprintf(stderr, "produced %zu records to %s\n", sent, topic.c_str());
  }
  co_return 0;
}

absl::Status CheckConsume(const Args& a) {
  if (a.positional.size() != 1) return absl::InvalidArgumentError("give one topic name");
  int64_t n = 0;
  if (a.Has("--partition") && (!absl::SimpleAtoi(a.Get("--partition"), &n) || n < 0))
    return absl::InvalidArgumentError("--partition wants a partition number");
  if (a.Has("--count") && (!absl::SimpleAtoi(a.Get("--count"), &n) || n < 1))
    return absl::InvalidArgumentError("--count wants a positive number");
  const std::string from = a.Get("--offset", "earliest");
  if (from != "earliest" && from != "latest" && (!absl::SimpleAtoi(from, &n) || n < 0))
    return absl::InvalidArgumentError("--offset is earliest, latest or an offset");
  absl::Time t;
  std::string err;
  if (a.Has("--from-time") && !absl::ParseTime(absl::RFC3339_full, a.Get("--from-time"), &t, &err))
    return absl::InvalidArgumentError("--from-time wants RFC 3339, e.g. 2026-11-22T10:00:00Z");
  const std::string format = a.Get("--format", "value");
  if (format != "value" && format != "key-value" && format != "json")
    return absl::InvalidArgumentError("--format is value, key-value or json");
  return absl::OkStatus();
}

std::string Text(const std::optional<protocol::ByteView>& v) {
  return v ? std::string(reinterpret_cast<const char*>(v->data()), v->size()) : std::string();
}

void PrintRecord(const std::string& format, const std::string& topic, int32_t partition, int64_t offset,
                 int64_t timestamp, const protocol::Record& r) {
  if (format == "json") {
    Json j = Json::Object();
    j.Set("topic", topic).Set("partition", partition).Set("offset", offset).Set("timestamp", timestamp);
    j.Set("key", r.key ? Json(Text(r.key)) : Json()).Set("value", r.value ? Json(Text(r.value)) : Json());
    Json h = Json::Object();
    for (const auto& hdr : r.headers) h.Set(Text(hdr.key), hdr.value ? Json(Text(hdr.value)) : Json());
    j.Set("headers", std::move(h));
    std::printf("%s\n", j.Dump().c_str());
  } else if (format == "key-value") {
    std::printf("%s\t%s\n", Text(r.key).c_str(), Text(r.value).c_str());
  } else {
    std::printf("%s\n", Text(r.value).c_str());
  }
}

awaitable<int> Consume(Context& c, const Args& a) {
  const std::string& topic = a.positional[0];
  const std::string what = "consume " + topic;
  auto metadata = co_await OneTopic(c.client, topic);
  if (!metadata.ok()) co_return Fail(what, metadata.status());
  const auto& md = metadata->topics.front();
  std::vector<TopicPartition> parts;
  std::map<int32_t, int32_t> leaders;
  for (const auto& p : md.partitions) {
    int32_t only = -1;
    if (a.Has("--partition")) (void)absl::SimpleAtoi(a.Get("--partition"), &only);
    if (only >= 0 && p.partition_index != only) continue;
    parts.emplace_back(topic, p.partition_index);
    leaders[p.partition_index] = p.leader_id;
  }
  if (parts.empty()) co_return Fail(what, KafkaError(3, std::string("no such partition")));
  int64_t count = INT64_MAX;
  if (a.Has("--count")) (void)absl::SimpleAtoi(a.Get("--count"), &count);
  const std::string format = a.Get("--format", "value");
  // Where to start, and where to stop: the end offsets now (as kcat -e does).
  auto ends = co_await OffsetsAt(c.client, parts, kLatest);
  if (!ends.ok()) co_return Fail(what, ends.status());
  std::map<TopicPartition, int64_t> next;
  const std::string from = a.Get("--offset", "earliest");
  if (a.Has("--from-time")) {
    absl::Time t;
    std::string err;
    absl::ParseTime(absl::RFC3339_full, a.Get("--from-time"), &t, &err);
    auto r = co_await OffsetsAt(c.client, parts, absl::ToUnixMillis(t));
    if (!r.ok()) co_return Fail(what, r.status());
    next = std::move(*r);
    for (auto& [tp, off] : next)
      if (off < 0) off = (*ends)[tp];
  } else if (from == "latest") {
    next = *ends;
  } else if (from == "earliest") {
    auto r = co_await OffsetsAt(c.client, parts, kEarliest);
    if (!r.ok()) co_return Fail(what, r.status());
    next = std::move(*r);
  } else {
    int64_t at = 0;
    (void)absl::SimpleAtoi(from, &at);
    for (const auto& tp : parts) next[tp] = at;
  }
  auto version = co_await c.client.VersionFor<protocol::FetchRequest>(leaders.begin()->second);
  if (!version.ok()) co_return Fail(what, version.status());
  int64_t printed = 0;
  while (printed < count) {
    bool more = false;
    for (const auto& tp : parts) {
      if (next[tp] >= (*ends)[tp] || printed >= count) continue;
      more = true;
      protocol::FetchRequest request;
      request.max_wait_ms = 500;
      request.min_bytes = 1;
      request.max_bytes = 8 << 20;
      auto& ft = request.topics.emplace_back();
      if (*version >= 13) {
        ft.topic_id = md.topic_id;
      } else {
        ft.topic = topic;
      }
      auto& fp = ft.partitions.emplace_back();
      fp.partition = tp.second;
      fp.fetch_offset = next[tp];
      fp.partition_max_bytes = 8 << 20;
      auto r = co_await c.client.Call<protocol::FetchResponse>(leaders[tp.second], request);
      if (!r.ok()) co_return Fail(what, r.status());
      if (r->error_code != 0) co_return Fail(what, KafkaError(r->error_code, std::string("fetch")));
      for (const auto& rt : r->responses) {
        for (const auto& rp : rt.partitions) {
          if (rp.error_code != 0)
            co_return Fail(what, KafkaError(rp.error_code, topic + "-" + std::to_string(rp.partition_index)));
          if (!rp.records || rp.records->empty()) continue;
          protocol::ByteView tail;
          auto batches = protocol::SplitBatches(*rp.records, &tail);
          if (!batches.ok()) co_return Fail(what, batches.status());
          for (const protocol::ByteView& b : *batches) {
            protocol::DecodedBatch decoded;
            if (absl::Status s = protocol::DecodeBatch(b, kMaxDecompressed, &decoded); !s.ok())
              co_return Fail(what, s);
            if (!decoded.header.is_control()) {
              for (const auto& rec : decoded.records) {
                const int64_t offset = decoded.header.base_offset + rec.offset_delta;
                if (offset < next[tp] || printed >= count) continue;
                PrintRecord(format, topic, tp.second, offset,
                            decoded.header.base_timestamp + rec.timestamp_delta, rec);
                ++printed;
              }
            }
            next[tp] = std::max(next[tp], decoded.header.last_offset() + 1);
          }
        }
      }
    }
    if (!more) break;
  }
  std::fflush(stdout);
  co_return 0;
}

}  // namespace

std::vector<CommandInfo> ProduceConsumeCommands() {
  return {
      {"produce",
       "",
       "TOPIC",
       "produce each line of stdin as a record",
       "  --key-separator SEP       text before the first SEP is the key (Kafka's partitioner places it)\n"
       "  --header KEY=VALUE        a header on every record (repeatable)\n"
       "  --partition N             every record to partition N\n"
       "  --acks all|1              acknowledgement to wait for (default all)\n",
       {{"--key-separator", true}, {"--header", true}, {"--partition", true}, {"--acks", true}},
       CheckProduce,
       Produce},
      {"consume",
       "",
       "TOPIC",
       "print records up to the end offsets seen at the start",
       "  --partition N             only partition N\n"
       "  --offset earliest|latest|N  where to start (default earliest)\n"
       "  --from-time TIME          start at the first record at or after TIME (RFC 3339)\n"
       "  --count N                 stop after N records\n"
       "  --format value|key-value|json  how to print each record (default value)\n",
       {{"--partition", true},
        {"--offset", true},
        {"--from-time", true},
        {"--count", true},
        {"--format", true}},
       CheckConsume,
       Consume},
  };
}

}  // namespace fjord::ctl
