// fjord-bench: a load tool on librdkafka, the client most users run.
//
//   fjord-bench --brokers HOST:PORT | --mock BROKERS   (librdkafka's in-memory mock cluster)
//     --mode produce|consume|e2e   e2e: one producer and one consumer in this process;
//                                  every record carries its send time
//     --topic T  --partitions P    the topic is created if missing (P partitions)
//     --record-size BYTES          value size (default 1024; at least 8 in e2e mode)
//     --keys N                     keys drawn from N distinct values, partitioned by
//                                  librdkafka's hash (default 0: no key, round robin)
//     --acks 0|1|all  --compression none|gzip|snappy|lz4|zstd  --idempotence
//     --rate RECORDS_PER_SECOND    0 (default): as fast as possible
//     --count N  --duration SECONDS  bounds: whichever comes first
//     -X KEY=VALUE                 any librdkafka property, for every client (repeatable)
//     --label NAME                 "target" in the summary (default fjord, or mock)
//     --delete-topic               afterwards (keeps long benchmarks' disk use bounded)
//     --broker-pid PID             the broker's process, for its CPU time (cpu_meter.h)
//     --mock-cpu CPU               runs the mock's threads on that CPU only (with the tool
//                                  under `taskset` on another: one core each, as a broker
//                                  on its own machine)
//     --mock-rtt MS                the mock answers every request MS ms late (as a
//                                  broker that waits for its disk before it answers)
//
// Prints a progress line each second on stderr and one JSON summary on stdout: records,
// bytes, seconds, MB/s, CPU seconds of client and broker and the machine's idle share
// over the timed part, and latency histograms with p50/p99/p99.9/max in ms: produce to
// acknowledgement (produce, e2e) and produce to consume (e2e).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <sched.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cpu_meter.h"
#include "latency_recorder.h"

namespace {

using Clock = std::chrono::steady_clock;
using fjord::bench::CpuMeter;
using fjord::bench::CpuUse;
using fjord::bench::LatencyRecorder;

struct Options {
  std::string brokers;
  int mock_brokers = 0;
  std::string mode = "produce";
  std::string topic = "bench";
  int partitions = 1;
  int record_size = 1024;
  int keys = 0;
  long count = 100000;
  double duration = 30;
  std::string acks = "all";
  std::string compression = "none";
  bool idempotence = false;
  double rate = 0;
  std::vector<std::pair<std::string, std::string>> extra;  // -X key=value
  std::string label;
  bool delete_topic = false;
  pid_t broker_pid = 0;  // 0: the mock's threads are the broker, or unknown
  int mock_cpu = -1;     // -1: the mock's threads run wherever the tool's may
  int mock_rtt_ms = 0;
};

void PrintHelp(FILE* to) {
  std::fputs(
      "usage: fjord-bench --brokers HOST:PORT | --mock N  [--mode produce|consume|e2e] [--topic T]\n"
      "         [--partitions P] [--record-size BYTES] [--keys N] [--acks 0|1|all]\n"
      "         [--compression CODEC] [--idempotence] [--rate RECORDS_PER_S] [--count N]\n"
      "         [--duration S] [-X KEY=VALUE]... [--label NAME] [--delete-topic]\n"
      "         [--broker-pid PID] [--mock-cpu CPU] [--mock-rtt MS]\n",
      to);
}

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "fjord-bench: %s\n", why.c_str());
  PrintHelp(stderr);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage("missing value for " + a);
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      PrintHelp(stdout);
      std::exit(0);
    } else if (a == "--brokers") {
      o.brokers = next();
    } else if (a == "--mock") {
      o.mock_brokers = std::atoi(next().c_str());
    } else if (a == "--mode") {
      o.mode = next();
    } else if (a == "--topic") {
      o.topic = next();
    } else if (a == "--partitions") {
      o.partitions = std::atoi(next().c_str());
    } else if (a == "--record-size") {
      o.record_size = std::atoi(next().c_str());
    } else if (a == "--keys") {
      o.keys = std::atoi(next().c_str());
    } else if (a == "--count") {
      o.count = std::atol(next().c_str());
    } else if (a == "--duration") {
      o.duration = std::atof(next().c_str());
    } else if (a == "--acks") {
      o.acks = next();
    } else if (a == "--compression") {
      o.compression = next();
    } else if (a == "--idempotence") {
      o.idempotence = true;
    } else if (a == "--rate") {
      o.rate = std::atof(next().c_str());
    } else if (a == "-X") {
      const std::string kv = next();
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) Usage("-X wants KEY=VALUE, got " + kv);
      o.extra.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (a == "--broker-pid") {
      o.broker_pid = static_cast<pid_t>(std::atoi(next().c_str()));
      if (o.broker_pid <= 0) Usage("--broker-pid wants a process id");
    } else if (a == "--mock-cpu") {
      const std::string v = next();
      if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos ||
          std::atoi(v.c_str()) >= CPU_SETSIZE)
        Usage("--mock-cpu wants a CPU number, got " + v);
      o.mock_cpu = std::atoi(v.c_str());
    } else if (a == "--mock-rtt") {
      o.mock_rtt_ms = std::atoi(next().c_str());
      if (o.mock_rtt_ms <= 0) Usage("--mock-rtt wants a positive number of ms");
    } else if (a == "--delete-topic") {
      o.delete_topic = true;
    } else if (a == "--label") {
      o.label = next();
    } else {
      Usage("unknown flag " + a);
    }
  }
  if (o.brokers.empty() && o.mock_brokers <= 0) Usage("give --brokers or --mock");
  if (o.mock_cpu >= 0 && o.mock_brokers <= 0) Usage("--mock-cpu needs --mock");
  if (o.mock_rtt_ms > 0 && o.mock_brokers <= 0) Usage("--mock-rtt needs --mock");
  if (o.mode != "produce" && o.mode != "consume" && o.mode != "e2e")
    Usage("--mode is produce, consume or e2e");
  if (o.partitions < 1 || o.record_size < 0 || o.keys < 0 || o.count < 0 || o.duration <= 0)
    Usage("--partitions, --record-size, --keys, --count and --duration must be positive");
  if (o.mode == "e2e" && o.record_size < 8) Usage("e2e mode needs --record-size of at least 8");
  if (o.idempotence && o.acks != "all" && o.acks != "-1") Usage("--idempotence needs --acks all");
  return o;
}

void Set(rd_kafka_conf_t* c, const std::string& k, const std::string& v) {
  char err[512];
  if (rd_kafka_conf_set(c, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) Usage(err);
}

rd_kafka_conf_t* BaseConf(const Options& o, const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstrap);
  for (const auto& [k, v] : o.extra) Set(conf, k, v);
  return conf;
}

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

double MsSince(int64_t stamp_ns, Clock::time_point now) {
  return static_cast<double>(now.time_since_epoch().count() - stamp_ns) / 1e6;
}

struct ProduceState {
  LatencyRecorder ack;
  std::atomic<long> delivered{0};
  long failed = 0;
  std::string first_error;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<ProduceState*>(opaque);
  if (m->err) {
    if (st->failed++ == 0) st->first_error = rd_kafka_err2str(m->err);
    return;
  }
  st->delivered.fetch_add(1, std::memory_order_relaxed);
  st->ack.Add(MsSince(reinterpret_cast<intptr_t>(m->_private), Clock::now()));
}

// Runs one admin call against a real broker and waits for its answer (best effort:
// "already exists" and "unknown topic" are what a rerun expects).
template <typename Call>
void AdminCall(const Options& o, const std::string& bootstrap, Call call) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, BaseConf(o, bootstrap), err, sizeof err);
  if (!rk) Usage(err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  call(rk, q);
  if (rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 60000)) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

void EnsureTopic(const Options& o, const std::string& bootstrap) {
  AdminCall(o, bootstrap, [&](rd_kafka_t* rk, rd_kafka_queue_t* q) {
    char err[512];
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, 1, err, sizeof err);
    rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 60000, err, sizeof err);
    rd_kafka_AdminOptions_set_request_timeout(opts, 60000, err, sizeof err);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
  });
}

void DeleteTopic(const Options& o, const std::string& bootstrap) {
  AdminCall(o, bootstrap, [&](rd_kafka_t* rk, rd_kafka_queue_t* q) {
    rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(o.topic.c_str());
    rd_kafka_DeleteTopics(rk, &dt, 1, nullptr, q);
    rd_kafka_DeleteTopic_destroy(dt);
  });
}

rd_kafka_t* NewConsumer(const Options& o, const std::string& bootstrap, int64_t start_offset) {
  char err[512];
  rd_kafka_conf_t* conf = BaseConf(o, bootstrap);
  Set(conf, "group.id", "fjord-bench");
  Set(conf, "enable.auto.commit", "false");
  Set(conf, "fetch.max.bytes", "52428800");
  Set(conf, "max.partition.fetch.bytes", "10485760");
  for (const auto& [k, v] : o.extra) Set(conf, k, v);  // -X wins over the defaults above
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) Usage(err);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(o.partitions);
  for (int p = 0; p < o.partitions; ++p)
    rd_kafka_topic_partition_list_add(parts, o.topic.c_str(), p)->offset = start_offset;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  return rk;
}

// The e2e consumer: reads from the beginning and times every record sent after
// `timed_from_ns` (older ones are warm-up or an earlier run's), until told to stop.
struct EndToEnd {
  LatencyRecorder latency;
  std::atomic<long> received{0};
  std::atomic<long> warm_up_received{0};
  std::atomic<int64_t> timed_from_ns{INT64_MAX};
  std::atomic<bool> stop{false};

  void Run(rd_kafka_t* rk) {
    while (!stop.load()) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 50);
      if (!m) continue;
      if (!m->err && m->len >= 8) {
        const auto now = Clock::now();
        int64_t stamp;
        std::memcpy(&stamp, m->payload, 8);
        if (stamp >= timed_from_ns.load()) {
          latency.Add(MsSince(stamp, now));
          received.fetch_add(1);
        } else {
          warm_up_received.fetch_add(1);
        }
      }
      rd_kafka_message_destroy(m);
    }
  }
};

struct Outcome {
  long records = 0;
  double bytes = 0;
  double seconds = 0;  // from the first timed record to the last acknowledgement
  CpuUse cpu;          // over the same interval
};

Outcome RunProduce(const Options& o, const std::string& bootstrap, ProduceState& st, EndToEnd* e2e,
                   bool quiet) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstrap);
  Set(conf, "acks", o.acks);
  Set(conf, "compression.type", o.compression);
  Set(conf, "linger.ms", "5");
  Set(conf, "batch.size", "1048576");
  Set(conf, "queue.buffering.max.kbytes", "262144");
  if (o.idempotence) Set(conf, "enable.idempotence", "true");
  for (const auto& [k, v] : o.extra) Set(conf, k, v);
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_conf_set_opaque(conf, &st);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) Usage(err);
  std::string payload(static_cast<size_t>(o.record_size), 'x');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + (i * 7) % 26);
  std::vector<std::string> keys;
  for (int k = 0; k < o.keys; ++k) keys.push_back("key-" + std::to_string(k));

  auto send = [&](long n, int32_t partition) {
    const auto now = Clock::now();
    const int64_t stamp = now.time_since_epoch().count();
    if (payload.size() >= 8) std::memcpy(payload.data(), &stamp, 8);
    const std::string* key = keys.empty() ? nullptr : &keys[static_cast<size_t>(n % o.keys)];
    return rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(key ? key->data() : nullptr, key ? key->size() : 0),
        RD_KAFKA_V_VALUE(payload.data(), payload.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(stamp))), RD_KAFKA_V_END);
  };
  // Warm-up, not timed: one record per partition, so that connections and metadata
  // are in place for every target before the clock starts.
  for (int p = 0; p < o.partitions; ++p) send(p, p);
  rd_kafka_flush(rk, 60000);
  if (e2e) {  // the consumer is fetching too (bounded wait) before the clock starts
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while (e2e->warm_up_received.load() < o.partitions && Clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  st.delivered = 0;
  st.failed = 0;
  st.ack.Clear();

  long records = 0;
  const CpuMeter meter(o.broker_pid);
  const auto cpu_start = meter.Sample();
  const auto start = Clock::now();
  if (e2e) e2e->timed_from_ns = start.time_since_epoch().count();
  const auto deadline = start + Seconds(o.duration);
  auto last_progress = start;
  while (records < o.count && Clock::now() < deadline) {
    if (o.rate > 0) {
      const auto due = start + Seconds(static_cast<double>(records) / o.rate);
      while (Clock::now() < due)
        rd_kafka_poll(rk, 0), std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    const int32_t partition =
        keys.empty() ? static_cast<int32_t>(records % o.partitions) : RD_KAFKA_PARTITION_UA;
    if (send(records, partition) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 1);
      continue;
    }
    ++records;
    rd_kafka_poll(rk, 0);
    if (!quiet && Clock::now() - last_progress > std::chrono::seconds(1)) {
      last_progress = Clock::now();
      std::fprintf(stderr, "%s: %ld sent, %ld acked%s, %.1f s\n", o.mode.c_str(), records,
                   st.delivered.load(),
                   e2e ? (", " + std::to_string(e2e->received.load()) + " consumed").c_str() : "",
                   std::chrono::duration<double>(last_progress - start).count());
    }
  }
  rd_kafka_flush(rk, 60000);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const CpuUse cpu = CpuMeter::Between(cpu_start, meter.Sample());
  if (e2e) {  // wait (bounded) for the consumer to see every acknowledged record
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while (e2e->received.load() < st.delivered.load() && Clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  rd_kafka_destroy(rk);
  return {st.delivered.load(), static_cast<double>(st.delivered.load()) * o.record_size, seconds, cpu};
}

// Reads from the beginning until the end offsets seen at the start (or --count or
// --duration), so the time is that of reading what was there.
Outcome RunConsume(const Options& o, const std::string& bootstrap) {
  const CpuMeter meter(o.broker_pid);
  const auto cpu_start = meter.Sample();
  const auto start = Clock::now();
  const auto deadline = start + Seconds(o.duration);
  auto last_progress = start;
  Outcome out;
  rd_kafka_t* rk = NewConsumer(o, bootstrap, RD_KAFKA_OFFSET_BEGINNING);
  long available = 0;
  for (int p = 0; p < o.partitions; ++p) {
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(rk, o.topic.c_str(), p, &low, &high, 10000) ==
        RD_KAFKA_RESP_ERR_NO_ERROR)
      available += static_cast<long>(high - low);
  }
  const long target = available > 0 ? std::min(available, o.count) : o.count;
  while (out.records < target && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->err) {
      ++out.records;
      out.bytes += static_cast<double>(m->len);
    }
    rd_kafka_message_destroy(m);
    if (Clock::now() - last_progress > std::chrono::seconds(1)) {
      last_progress = Clock::now();
      std::fprintf(stderr, "consume: %ld of %ld records, %.1f s\n", out.records, target,
                   std::chrono::duration<double>(last_progress - start).count());
    }
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out.cpu = CpuMeter::Between(cpu_start, meter.Sample());
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

// Threads started later (the producer's) keep the tool's own CPUs.
void PinMockThreads(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  const std::vector<pid_t> tids = CpuMeter::MockThreads();
  if (tids.empty()) Usage("--mock-cpu: the mock cluster has no thread to pin");
  for (pid_t tid : tids)
    if (::sched_setaffinity(tid, sizeof one, &one) != 0)
      Usage("--mock-cpu " + std::to_string(cpu) + ": " + std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  char err[512];
  std::string bootstrap = o.brokers;
  rd_kafka_t* mock_host = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
  if (o.mock_brokers > 0) {
    rd_kafka_conf_t* c = rd_kafka_conf_new();
    Set(c, "log_level", "3");
    mock_host = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    mock = rd_kafka_mock_cluster_new(mock_host, o.mock_brokers);
    bootstrap = rd_kafka_mock_cluster_bootstraps(mock);
    rd_kafka_mock_topic_create(mock, o.topic.c_str(), o.partitions, 1);
    if (o.mock_cpu >= 0) PinMockThreads(o.mock_cpu);
    for (int id = 1; id <= o.mock_brokers && o.mock_rtt_ms > 0; ++id)
      rd_kafka_mock_broker_set_rtt(mock, id, o.mock_rtt_ms);
  } else if (o.mode != "consume") {
    EnsureTopic(o, bootstrap);
  }

  ProduceState st;
  Outcome outcome;
  EndToEnd e2e;
  if (o.mode == "produce") {
    outcome = RunProduce(o, bootstrap, st, nullptr, /*quiet=*/false);
  } else if (o.mode == "e2e") {
    rd_kafka_t* consumer = NewConsumer(o, bootstrap, RD_KAFKA_OFFSET_BEGINNING);
    std::thread reader([&] { e2e.Run(consumer); });
    outcome = RunProduce(o, bootstrap, st, &e2e, /*quiet=*/false);
    e2e.stop = true;
    reader.join();
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
  } else {
    if (mock) {  // the mock lives in this process: fill it first (not timed)
      Options fill = o;
      fill.rate = 0;
      ProduceState ignored;
      RunProduce(fill, bootstrap, ignored, nullptr, /*quiet=*/true);
    }
    outcome = RunConsume(o, bootstrap);
  }
  std::printf(
      "{\"mode\":\"%s\",\"target\":\"%s\",\"partitions\":%d,\"record_size\":%d,\"keys\":%d,\"acks\":\"%s\","
      "\"compression\":\"%s\",\"idempotence\":%s,\"rate\":%.0f,\"records\":%ld,\"failed\":%ld,\"seconds\":%."
      "3f,"
      "\"records_per_s\":%.0f,\"mb_per_s\":%.2f",
      o.mode.c_str(),
      !o.label.empty() ? o.label.c_str()
      : mock           ? "mock"
                       : "fjord",
      o.partitions, o.record_size, o.keys, o.acks.c_str(), o.compression.c_str(),
      o.idempotence ? "true" : "false", o.rate, outcome.records, st.failed, outcome.seconds,
      static_cast<double>(outcome.records) / outcome.seconds, outcome.bytes / 1e6 / outcome.seconds);
  std::printf(",\"client_cpu_s\":%.2f,\"machine_idle\":%.3f", outcome.cpu.client_s, outcome.cpu.machine_idle);
  if (mock || o.broker_pid > 0) std::printf(",\"broker_cpu_s\":%.2f", outcome.cpu.broker_s);
  if (o.mock_rtt_ms > 0) std::printf(",\"mock_rtt_ms\":%d", o.mock_rtt_ms);
  if (o.mode != "consume") std::printf("%s", st.ack.JsonFields("").c_str());
  if (o.mode == "e2e")
    std::printf(",\"consumed\":%ld%s", e2e.received.load(), e2e.latency.JsonFields("e2e_").c_str());
  if (st.failed) std::printf(",\"first_error\":\"%s\"", st.first_error.c_str());
  std::printf("}\n");
  std::fflush(stdout);
  if (o.delete_topic && !mock) DeleteTopic(o, bootstrap);
  if (mock) rd_kafka_mock_cluster_destroy(mock);
  if (mock_host) rd_kafka_destroy(mock_host);
  return st.failed > 0 ? 1 : 0;
}
