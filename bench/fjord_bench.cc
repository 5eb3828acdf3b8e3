// fjord-bench: a load tool on librdkafka, the client most users run.
//
//   fjord-bench --brokers HOST:PORT | --mock BROKERS   (librdkafka's in-memory mock cluster)
//               --mode produce|consume  --topic T  --partitions P  --record-size BYTES
//               --count N  --duration SECONDS  --acks 0|1|all  --compression CODEC
//               --rate RECORDS_PER_SECOND (0: as fast as possible)  --label NAME
//               --delete-topic (afterwards: keeps a long benchmark's disk and page cache bounded)
//
// Prints a progress line each second on stderr and a JSON summary on stdout: records,
// bytes, seconds, MB/s, and for produce the produce-ack latency p50/p99/p99.9/max (ms).
// Bounded by --count and --duration, whichever comes first.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string brokers;
  int mock_brokers = 0;
  std::string mode = "produce";
  std::string topic = "bench";
  int partitions = 1;
  int record_size = 1024;
  long count = 100000;
  double duration = 30;
  std::string acks = "all";
  std::string compression = "none";
  double rate = 0;
  std::string label;  // "target" in the summary (default: fjord, or mock)
  bool delete_topic = false;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr, "fjord-bench: %s\nsee the comment at the top of bench/fjord_bench.cc for the flags\n",
               why);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--brokers")
      o.brokers = next();
    else if (a == "--mock")
      o.mock_brokers = std::atoi(next().c_str());
    else if (a == "--mode")
      o.mode = next();
    else if (a == "--topic")
      o.topic = next();
    else if (a == "--partitions")
      o.partitions = std::atoi(next().c_str());
    else if (a == "--record-size")
      o.record_size = std::atoi(next().c_str());
    else if (a == "--count")
      o.count = std::atol(next().c_str());
    else if (a == "--duration")
      o.duration = std::atof(next().c_str());
    else if (a == "--acks")
      o.acks = next();
    else if (a == "--compression")
      o.compression = next();
    else if (a == "--rate")
      o.rate = std::atof(next().c_str());
    else if (a == "--delete-topic")
      o.delete_topic = true;
    else if (a == "--label")
      o.label = next();
    else
      Usage(("unknown flag " + a).c_str());
  }
  if (o.brokers.empty() && o.mock_brokers <= 0) Usage("give --brokers or --mock");
  if (o.mode != "produce" && o.mode != "consume") Usage("--mode is produce or consume");
  return o;
}

void Set(rd_kafka_conf_t* c, const char* k, const std::string& v) {
  char err[512];
  if (rd_kafka_conf_set(c, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) Usage(err);
}

struct ProduceState {
  std::vector<double> latencies_ms;
  long delivered = 0;
  long failed = 0;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<ProduceState*>(opaque);
  if (m->err) {
    ++st->failed;
    return;
  }
  ++st->delivered;
  const auto sent = Clock::time_point(Clock::duration(reinterpret_cast<intptr_t>(m->_private)));
  st->latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

// Creates the topic (admin API) when talking to a real broker; ignores "exists".
void EnsureTopic(const Options& o, const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstrap);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, 1, err, sizeof err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

// Deletes the topic (admin API) on a real broker; best effort.
void DeleteTopic(const Options& o, const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstrap);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(o.topic.c_str());
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_DeleteTopics(rk, &dt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_DeleteTopic_destroy(dt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

struct Outcome {
  long records = 0;
  double bytes = 0;
  double seconds = 0;  // from the first timed record to the last acknowledgement
};

Outcome RunProduce(const Options& o, const std::string& bootstrap, ProduceState& st, bool quiet) {
  char err[512];
  long records = 0;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstrap);
  Set(conf, "acks", o.acks);
  Set(conf, "compression.type", o.compression);
  Set(conf, "linger.ms", "5");
  Set(conf, "batch.size", "1048576");
  Set(conf, "queue.buffering.max.kbytes", "262144");
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_conf_set_opaque(conf, &st);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) Usage(err);
  std::string payload(static_cast<size_t>(o.record_size), 'x');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + (i * 7) % 26);
  // Warm-up, not timed: one record per partition, so that connections and metadata
  // are in place for both targets before the clock starts.
  for (int p = 0; p < o.partitions; ++p) {
    rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_PARTITION(p),
        RD_KAFKA_V_VALUE(payload.data(), payload.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(Clock::now().time_since_epoch().count())), RD_KAFKA_V_END);
  }
  rd_kafka_flush(rk, 30000);
  st.delivered = 0;
  st.failed = 0;
  st.latencies_ms.clear();
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  auto last_progress = start;
  while (records < o.count && Clock::now() < deadline) {
    if (o.rate > 0) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(records) / o.rate));
      while (Clock::now() < due)
        rd_kafka_poll(rk, 0), std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    const auto now = Clock::now();
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(o.topic.c_str()),
        RD_KAFKA_V_PARTITION(static_cast<int32_t>(records % o.partitions)),
        RD_KAFKA_V_VALUE(payload.data(), payload.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(now.time_since_epoch().count()))),
        RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 1);
      continue;
    }
    ++records;
    rd_kafka_poll(rk, 0);
    if (!quiet && Clock::now() - last_progress > std::chrono::seconds(1)) {
      last_progress = Clock::now();
      std::fprintf(stderr, "produce: %ld sent, %ld acked, %.1f s\n", records, st.delivered,
                   std::chrono::duration<double>(last_progress - start).count());
    }
  }
  rd_kafka_flush(rk, 60000);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  rd_kafka_destroy(rk);
  return {st.delivered, static_cast<double>(st.delivered) * o.record_size, seconds};
}

Outcome RunConsume(const Options& o, const std::string& bootstrap) {
  char err[512];
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  auto last_progress = start;
  Outcome out;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstrap);
  Set(conf, "group.id", "fjord-bench");
  Set(conf, "enable.auto.commit", "false");
  Set(conf, "fetch.max.bytes", "52428800");
  Set(conf, "max.partition.fetch.bytes", "10485760");
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) Usage(err);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(o.partitions);
  for (int p = 0; p < o.partitions; ++p) {
    rd_kafka_topic_partition_list_add(parts, o.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  while (out.records < o.count && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->err) {
      ++out.records;
      out.bytes += static_cast<double>(m->len);
    }
    rd_kafka_message_destroy(m);
    if (Clock::now() - last_progress > std::chrono::seconds(1)) {
      last_progress = Clock::now();
      std::fprintf(stderr, "consume: %ld records, %.1f s\n", out.records,
                   std::chrono::duration<double>(last_progress - start).count());
    }
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
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
    mock_host = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    mock = rd_kafka_mock_cluster_new(mock_host, o.mock_brokers);
    bootstrap = rd_kafka_mock_cluster_bootstraps(mock);
    rd_kafka_mock_topic_create(mock, o.topic.c_str(), o.partitions, 1);
  } else if (o.mode == "produce") {
    EnsureTopic(o, bootstrap);
  }

  ProduceState st;
  Outcome outcome;
  double seconds = 0;
  if (o.mode == "produce") {
    outcome = RunProduce(o, bootstrap, st, /*quiet=*/false);
    seconds = outcome.seconds;
  } else {
    if (mock) {  // the mock lives in this process: fill it first (not timed)
      Options fill = o;
      fill.rate = 0;
      ProduceState ignored;
      RunProduce(fill, bootstrap, ignored, /*quiet=*/true);
    }
    const auto start = Clock::now();
    outcome = RunConsume(o, bootstrap);
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
  const long records = outcome.records;
  const double bytes = outcome.bytes;
  std::printf(
      "{\"mode\":\"%s\",\"target\":\"%s\",\"partitions\":%d,\"record_size\":%d,\"acks\":\"%s\",\"rate\":%.0f,"
      "\"records\":%ld,\"failed\":%ld,\"seconds\":%.3f,\"mb_per_s\":%.2f",
      o.mode.c_str(),
      !o.label.empty() ? o.label.c_str()
      : mock           ? "mock"
                       : "fjord",
      o.partitions, o.record_size, o.acks.c_str(), o.rate, records, st.failed, seconds,
      bytes / 1e6 / seconds);
  if (o.mode == "produce") {
    std::vector<double>& l = st.latencies_ms;
    const double mx = l.empty() ? 0 : *std::max_element(l.begin(), l.end());
    std::printf(",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f", Percentile(l, 0.5),
                Percentile(l, 0.99), Percentile(l, 0.999), mx);
  }
  std::printf("}\n");
  std::fflush(stdout);
  if (o.delete_topic && !mock) DeleteTopic(o, bootstrap);
  if (mock) rd_kafka_mock_cluster_destroy(mock);
  if (mock_host) rd_kafka_destroy(mock_host);
  return st.failed > 0 ? 1 : 0;
}
