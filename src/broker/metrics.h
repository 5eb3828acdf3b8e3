// Broker metrics, rendered in Prometheus' text format by the admin endpoint.
//
// Counters live per shard and are bumped with relaxed atomics by the shard that owns
// them (no sharing on the hot path); a scrape sums the shards. Latency histograms use
// fixed buckets (seconds, as Prometheus expects).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fjord::broker {

inline constexpr std::array<double, 12> kLatencyBucketsSeconds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5};

// The first bucket that holds `micros`, or kLatencyBucketsSeconds.size() when only +Inf does.
size_t LatencyBucket(uint64_t micros);

// A latency histogram kept by one thread (a shard's) and copied out for a scrape.
struct LatencyHistogram {
  std::array<uint64_t, kLatencyBucketsSeconds.size()> buckets{};  // not cumulative
  uint64_t count = 0;
  uint64_t sum_us = 0;

  void Record(uint64_t micros);
  LatencyHistogram& operator+=(const LatencyHistogram& other);
};

struct ApiCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> latency_sum_us{0};
  std::array<std::atomic<uint64_t>, kLatencyBucketsSeconds.size()> latency_buckets{};
};

struct ShardCounters {
  static constexpr int kApis = 88;
  std::array<ApiCounters, kApis> apis;
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> connections_closed_bad_input{0};
  std::atomic<int64_t> connections_open{0};          // client connections this shard serves
  std::atomic<uint64_t> connections_closed_idle{0};  // connections.max.idle.ms
  std::atomic<uint64_t> connections_refused{0};      // past max.connections(.per.ip)

  void RecordRequest(int16_t api_key, uint64_t micros);
};

// A topic's traffic through one shard (Kafka's BrokerTopicMetrics), kept by the shard
// that owns the topic's partitions and touched only on its thread.
struct TopicTraffic {
  uint64_t messages_in = 0;  // records appended (duplicates of idempotent producers not)
  uint64_t bytes_in = 0;     // record batch bytes appended
  uint64_t bytes_out = 0;    // record batch bytes fetched
};

// One open partition log, as a scrape sees it (Kafka's Log metrics).
struct PartitionGauges {
  std::string topic;
  int32_t partition = 0;
  int64_t size_bytes = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  int64_t page_cache_window_bytes = 0;
};

// A group's committed offset for a partition (from the shard's group coordinator).
struct GroupOffsetGauge {
  std::string group, topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// What a scrape collects from each shard's own data (asked on the shard's thread).
struct ShardGauges {
  uint64_t partitions = 0;
  uint64_t log_bytes = 0;
  uint64_t offline_partitions = 0;           // logs taken offline by a disk error
  uint64_t group_commit_flushes = 0;         // fdatasync rounds for acks=all (log.flush.on.ack)
  uint64_t group_commit_acks = 0;            // partition acknowledgements they released
  uint64_t group_commit_peak_in_flight = 0;  // most of those rounds running at once
  LatencyHistogram group_commit_flush_time;  // how long each of those rounds took
  std::map<std::string, TopicTraffic> topics;
  std::vector<PartitionGauges> logs;
  std::vector<GroupOffsetGauge> group_offsets;
};

std::string RenderPrometheus(const std::vector<const ShardCounters*>& shards,
                             const std::vector<ShardGauges>& gauges, const std::string& io_backend,
                             uint64_t topics);

}  // namespace fjord::broker
