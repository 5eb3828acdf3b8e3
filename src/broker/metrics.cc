#include "broker/metrics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "protocol/api_table.h"

namespace fjord::broker {

size_t LatencyBucket(uint64_t micros) {
  const double seconds = static_cast<double>(micros) / 1e6;
  return static_cast<size_t>(
      std::lower_bound(kLatencyBucketsSeconds.begin(), kLatencyBucketsSeconds.end(), seconds) -
      kLatencyBucketsSeconds.begin());
}

void LatencyHistogram::Record(uint64_t micros) {
  if (const size_t b = LatencyBucket(micros); b < buckets.size()) ++buckets[b];
  ++count;
  sum_us += micros;
}

LatencyHistogram& LatencyHistogram::operator+=(const LatencyHistogram& other) {
  for (size_t b = 0; b < buckets.size(); ++b) buckets[b] += other.buckets[b];
  count += other.count;
  sum_us += other.sum_us;
  return *this;
}

void ShardCounters::RecordRequest(int16_t api_key, uint64_t micros) {
  if (api_key < 0 || api_key >= kApis) return;
  ApiCounters& a = apis[static_cast<size_t>(api_key)];
  a.requests.fetch_add(1, std::memory_order_relaxed);
  a.latency_sum_us.fetch_add(micros, std::memory_order_relaxed);
  if (const size_t b = LatencyBucket(micros); b < a.latency_buckets.size())
    a.latency_buckets[b].fetch_add(1, std::memory_order_relaxed);
}

namespace {

// One histogram's series: cumulative buckets, +Inf, sum (seconds) and count. `labels` is
// empty or `key="value"`.
void RenderHistogram(absl::string_view name, absl::string_view labels, const LatencyHistogram& h,
                     std::string* out) {
  const std::string before_le = labels.empty() ? "" : absl::StrCat(labels, ",");
  const std::string own = labels.empty() ? "" : absl::StrCat("{", labels, "}");
  uint64_t cumulative = 0;
  for (size_t b = 0; b < h.buckets.size(); ++b) {
    cumulative += h.buckets[b];
    absl::StrAppend(out, name, "_bucket{", before_le, "le=\"",
                    absl::StrFormat("%g", kLatencyBucketsSeconds[b]), "\"} ", cumulative, "\n");
  }
  absl::StrAppend(out, name, "_bucket{", before_le, "le=\"+Inf\"} ", h.count, "\n");
  absl::StrAppend(out, name, "_sum", own, " ", absl::StrFormat("%.6f", static_cast<double>(h.sum_us) / 1e6),
                  "\n");
  absl::StrAppend(out, name, "_count", own, " ", h.count, "\n");
}

// Per topic, summed over the shards holding its partitions (topic names are
// [a-zA-Z0-9._-], so they need no escaping in a label).
void RenderTopics(const std::vector<ShardGauges>& gauges, std::string* out) {
  std::map<std::string, TopicTraffic> topics;
  for (const ShardGauges& g : gauges) {
    for (const auto& [name, t] : g.topics) {
      TopicTraffic& sum = topics[name];
      sum.messages_in += t.messages_in;
      sum.bytes_in += t.bytes_in;
      sum.bytes_out += t.bytes_out;
    }
  }
  struct Family {
    const char* name;
    const char* help;
    uint64_t TopicTraffic::*field;
  };
  for (const Family& f :
       {Family{"fjord_topic_messages_in_total", "Records appended to the topic.", &TopicTraffic::messages_in},
        Family{"fjord_topic_bytes_in_total", "Record batch bytes appended to the topic.",
               &TopicTraffic::bytes_in},
        Family{"fjord_topic_bytes_out_total", "Record batch bytes fetched from the topic.",
               &TopicTraffic::bytes_out}}) {
    absl::StrAppend(out, "# HELP ", f.name, " ", f.help, "\n# TYPE ", f.name, " counter\n");
    for (const auto& [name, t] : topics)
      absl::StrAppend(out, f.name, "{topic=\"", name, "\"} ", t.*f.field, "\n");
  }
}

void RenderPartitions(const std::vector<ShardGauges>& gauges, std::string* out) {
  struct Family {
    const char* name;
    const char* help;
    int64_t PartitionGauges::*field;
  };
  for (const Family& f :
       {Family{"fjord_partition_log_size_bytes", "Bytes in the partition's log.",
               &PartitionGauges::size_bytes},
        Family{"fjord_partition_log_start_offset", "The partition's first offset.",
               &PartitionGauges::log_start_offset},
        Family{"fjord_partition_log_end_offset", "The offset the partition's next record gets.",
               &PartitionGauges::log_end_offset},
        Family{"fjord_partition_page_cache_window_bytes",
               "Bytes behind the log end its last append left in the page cache: "
               "log.page.cache.window.bytes, grown for consumers behind (0: left to the kernel).",
               &PartitionGauges::page_cache_window_bytes}}) {
    absl::StrAppend(out, "# HELP ", f.name, " ", f.help, "\n# TYPE ", f.name, " gauge\n");
    for (const ShardGauges& g : gauges) {
      for (const PartitionGauges& p : g.logs) {
        absl::StrAppend(out, f.name, "{topic=\"", p.topic, "\",partition=\"", p.partition, "\"} ", p.*f.field,
                        "\n");
      }
    }
  }
}

// A label value as Prometheus' text format wants it: group ids may hold any character.
std::string LabelValue(std::string_view v) {
  std::string out;
  for (char ch : v) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out;
}

// Consumer lag without an exporter: each group's committed offset per partition and,
// where this node holds the partition's log, how far the log end is past it.
void RenderGroups(const std::vector<ShardGauges>& gauges, std::string* out) {
  std::map<std::pair<std::string, int32_t>, int64_t> ends;
  for (const ShardGauges& g : gauges) {
    for (const PartitionGauges& p : g.logs) ends[{p.topic, p.partition}] = p.log_end_offset;
  }
  absl::StrAppend(out,
                  "# HELP fjord_group_committed_offset The group's committed offset for the partition.\n"
                  "# TYPE fjord_group_committed_offset gauge\n");
  for (const ShardGauges& g : gauges) {
    for (const GroupOffsetGauge& o : g.group_offsets) {
      absl::StrAppend(out, "fjord_group_committed_offset{group=\"", LabelValue(o.group), "\",topic=\"",
                      o.topic, "\",partition=\"", o.partition, "\"} ", o.offset, "\n");
    }
  }
  absl::StrAppend(out,
                  "# HELP fjord_group_lag Records between the group's committed offset and the "
                  "partition's end.\n# TYPE fjord_group_lag gauge\n");
  for (const ShardGauges& g : gauges) {
    for (const GroupOffsetGauge& o : g.group_offsets) {
      auto end = ends.find({o.topic, o.partition});
      if (end == ends.end()) continue;  // the log is not open on this node
      absl::StrAppend(out, "fjord_group_lag{group=\"", LabelValue(o.group), "\",topic=\"", o.topic,
                      "\",partition=\"", o.partition, "\"} ", std::max<int64_t>(0, end->second - o.offset),
                      "\n");
    }
  }
}

}  // namespace

std::string RenderPrometheus(const std::vector<const ShardCounters*>& shards,
                             const std::vector<ShardGauges>& gauges, const std::string& io_backend,
                             uint64_t topics) {
  std::string out;
  auto sum = [&](auto get) {
    uint64_t n = 0;
    for (const ShardCounters* s : shards) n += get(*s);
    return n;
  };
  absl::StrAppend(
      &out, "# HELP fjord_requests_total Requests handled, by API.\n# TYPE fjord_requests_total counter\n");
  for (int k = 0; k < ShardCounters::kApis; ++k) {
    const uint64_t n =
        sum([&](const ShardCounters& s) { return s.apis[k].requests.load(std::memory_order_relaxed); });
    if (n == 0) continue;
    absl::StrAppend(&out, "fjord_requests_total{api=\"", protocol::FindApi(static_cast<int16_t>(k))->name,
                    "\"} ", n, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP fjord_request_latency_seconds Time from a request's arrival to its response.\n"
                  "# TYPE fjord_request_latency_seconds histogram\n");
  for (int k = 0; k < ShardCounters::kApis; ++k) {
    LatencyHistogram h;
    h.count = sum([&](const ShardCounters& s) { return s.apis[k].requests.load(std::memory_order_relaxed); });
    if (h.count == 0) continue;
    h.sum_us =
        sum([&](const ShardCounters& s) { return s.apis[k].latency_sum_us.load(std::memory_order_relaxed); });
    for (size_t b = 0; b < h.buckets.size(); ++b) {
      h.buckets[b] = sum([&](const ShardCounters& s) {
        return s.apis[k].latency_buckets[b].load(std::memory_order_relaxed);
      });
    }
    RenderHistogram("fjord_request_latency_seconds",
                    absl::StrCat("api=\"", protocol::FindApi(static_cast<int16_t>(k))->name, "\""), h, &out);
  }
  absl::StrAppend(
      &out, "# HELP fjord_network_bytes_total Bytes received and sent on client connections.\n",
      "# TYPE fjord_network_bytes_total counter\n", "fjord_network_bytes_total{direction=\"in\"} ",
      sum([](const ShardCounters& s) { return s.bytes_in.load(std::memory_order_relaxed); }), "\n",
      "fjord_network_bytes_total{direction=\"out\"} ",
      sum([](const ShardCounters& s) { return s.bytes_out.load(std::memory_order_relaxed); }), "\n");
  absl::StrAppend(&out,
                  "# HELP fjord_connections_closed_bad_input_total Connections closed for malformed input.\n",
                  "# TYPE fjord_connections_closed_bad_input_total counter\n",
                  "fjord_connections_closed_bad_input_total ", sum([](const ShardCounters& s) {
                    return s.connections_closed_bad_input.load(std::memory_order_relaxed);
                  }),
                  "\n");
  absl::StrAppend(
      &out, "# HELP fjord_connections Client connections open.\n", "# TYPE fjord_connections gauge\n",
      "fjord_connections ",
      sum([](const ShardCounters& s) { return s.connections_open.load(std::memory_order_relaxed); }), "\n",
      "# HELP fjord_connections_closed_idle_total Connections closed after connections.max.idle.ms.\n",
      "# TYPE fjord_connections_closed_idle_total counter\n", "fjord_connections_closed_idle_total ",
      sum([](const ShardCounters& s) { return s.connections_closed_idle.load(std::memory_order_relaxed); }),
      "\n",
      "# HELP fjord_connections_refused_total Connections closed as accepted, past max.connections or "
      "max.connections.per.ip.\n",
      "# TYPE fjord_connections_refused_total counter\n", "fjord_connections_refused_total ",
      sum([](const ShardCounters& s) { return s.connections_refused.load(std::memory_order_relaxed); }),
      "\n");
  uint64_t partitions = 0, bytes = 0, flushes = 0, acks = 0, offline = 0, peak_flushes = 0;
  LatencyHistogram flush_time;
  for (const ShardGauges& g : gauges) {
    flush_time += g.group_commit_flush_time;
    offline += g.offline_partitions;
    partitions += g.partitions;
    bytes += g.log_bytes;
    flushes += g.group_commit_flushes;
    acks += g.group_commit_acks;
    peak_flushes = std::max(peak_flushes, g.group_commit_peak_in_flight);
  }
  absl::StrAppend(&out, "# HELP fjord_offline_partitions Partition logs offline after a disk error.\n",
                  "# TYPE fjord_offline_partitions gauge\nfjord_offline_partitions ", offline, "\n");
  absl::StrAppend(
      &out, "# HELP fjord_group_commit_flushes_total fdatasync rounds run for acks=all produce.\n",
      "# TYPE fjord_group_commit_flushes_total counter\nfjord_group_commit_flushes_total ", flushes, "\n");
  absl::StrAppend(
      &out, "# HELP fjord_group_commit_acks_total Partition acknowledgements released by those rounds.\n",
      "# TYPE fjord_group_commit_acks_total counter\nfjord_group_commit_acks_total ", acks, "\n");
  absl::StrAppend(&out,
                  "# HELP fjord_group_commit_flushes_in_flight_peak Most fdatasync rounds one shard has "
                  "run at once.\n",
                  "# TYPE fjord_group_commit_flushes_in_flight_peak gauge\n"
                  "fjord_group_commit_flushes_in_flight_peak ",
                  peak_flushes, "\n");
  absl::StrAppend(&out,
                  "# HELP fjord_group_commit_flush_seconds How long each of those fdatasync rounds took, "
                  "from its start to its completion on the shard.\n",
                  "# TYPE fjord_group_commit_flush_seconds histogram\n");
  RenderHistogram("fjord_group_commit_flush_seconds", "", flush_time, &out);
  absl::StrAppend(&out,
                  "# HELP fjord_topics Topics in the metadata.\n# TYPE fjord_topics gauge\nfjord_topics ",
                  topics, "\n");
  absl::StrAppend(&out, "# HELP fjord_open_partitions Partition logs open on this node.\n",
                  "# TYPE fjord_open_partitions gauge\nfjord_open_partitions ", partitions, "\n");
  absl::StrAppend(&out, "# HELP fjord_log_size_bytes Bytes in the open partition logs.\n",
                  "# TYPE fjord_log_size_bytes gauge\nfjord_log_size_bytes ", bytes, "\n");
  absl::StrAppend(&out,
                  "# HELP fjord_io_backend The log I/O backend in use.\n# TYPE fjord_io_backend gauge\n",
                  "fjord_io_backend{backend=\"", io_backend, "\"} 1\n");
  RenderTopics(gauges, &out);
  RenderPartitions(gauges, &out);
  RenderGroups(gauges, &out);
  return out;
}

}  // namespace fjord::broker
