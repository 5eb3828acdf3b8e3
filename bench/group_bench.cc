// group-bench: consumer-group costs seen from librdkafka, against a broker or
// librdkafka's in-memory mock cluster (the reference in the same run).
//
//   group-bench --brokers HOST:PORT | --mock 1  --mode join|commit
//               --members M (join)  --partitions P  --seconds S (commit)  --label NAME
//
// join:   M consumers subscribe at once to a P-partition topic; prints the time from
//         the first subscribe until every partition is assigned to exactly one member
//         and every member has some (a stable assignment).
// commit: one consumer commits offsets for all P partitions, synchronously, in a loop
//         for S seconds; prints commits per second.
// One JSON line on stdout. Bounded by a 60 s deadline.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
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
  int mock = 0;
  std::string mode = "join";
  int members = 10;
  int partitions = 100;
  double seconds = 3;
  std::string label;
  std::string topic = "group-bench";
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "group-bench: %s\nsee the comment at the top of bench/group_bench.cc\n", why.c_str());
  std::exit(2);
}

void Set(rd_kafka_conf_t* c, const char* k, const std::string& v) {
  char err[512];
  if (rd_kafka_conf_set(c, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) Usage(err);
}

void CreateTopic(const std::string& bootstrap, const std::string& topic, int partitions) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstrap);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  if (rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000)) rd_kafka_event_destroy(ev);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

std::atomic<int> g_assigned_total{0};

struct MemberState {
  std::atomic<int> assigned{0};
};

void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
               void* opaque) {
  auto* st = static_cast<MemberState*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, parts);
    st->assigned = parts->cnt;
  } else {
    rd_kafka_assign(rk, nullptr);
    st->assigned = 0;
  }
}

rd_kafka_t* NewConsumer(const std::string& bootstrap, const std::string& group, MemberState* st) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstrap);
  Set(conf, "group.id", group);
  Set(conf, "enable.auto.commit", "false");
  Set(conf, "session.timeout.ms", "10000");
  Set(conf, "heartbeat.interval.ms", "500");
  if (st != nullptr) {
    rd_kafka_conf_set_rebalance_cb(conf, Rebalance);
    rd_kafka_conf_set_opaque(conf, st);
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) Usage(err);
  rd_kafka_poll_set_consumer(rk);
  return rk;
}

double TimeToStableAssignment(const Options& o, const std::string& bootstrap) {
  const std::string group = "group-bench-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand());
  std::vector<MemberState> states(static_cast<size_t>(o.members));
  std::vector<rd_kafka_t*> consumers;
  for (int i = 0; i < o.members; ++i) consumers.push_back(NewConsumer(bootstrap, group, &states[i]));
  std::atomic<bool> stop{false};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (rd_kafka_t* rk : consumers) {
    threads.emplace_back([&, rk] {
      rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(topics, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
      rd_kafka_subscribe(rk, topics);
      rd_kafka_topic_partition_list_destroy(topics);
      while (!stop) {
        if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 20)) rd_kafka_message_destroy(m);
      }
    });
  }
  double seconds = -1;
  const auto deadline = start + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    int total = 0;
    bool everyone = true;
    for (auto& s : states) {
      total += s.assigned;
      everyone &= s.assigned > 0;
    }
    if (total == o.partitions && everyone) {
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& t : threads) t.join();
  for (rd_kafka_t* rk : consumers) {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
  return seconds;
}

double CommitsPerSecond(const Options& o, const std::string& bootstrap, long* commits) {
  rd_kafka_t* rk = NewConsumer(bootstrap, "group-bench-commit-" + std::to_string(::getpid()), nullptr);
  rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(o.partitions);
  for (int p = 0; p < o.partitions; ++p) rd_kafka_topic_partition_list_add(offsets, o.topic.c_str(), p);
  rd_kafka_assign(rk, offsets);
  // Warm-up (not timed): the first commit finds the coordinator.
  for (int p = 0; p < o.partitions; ++p) offsets->elems[p].offset = 1;
  rd_kafka_commit(rk, offsets, 0);
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  *commits = 0;
  while (Clock::now() < end) {
    for (int p = 0; p < o.partitions; ++p) offsets->elems[p].offset = *commits + 2;
    if (rd_kafka_commit(rk, offsets, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) Usage("commit failed");
    ++*commits;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  rd_kafka_topic_partition_list_destroy(offsets);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return static_cast<double>(*commits) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage("missing value for " + a);
      return argv[++i];
    };
    if (a == "--brokers")
      o.brokers = next();
    else if (a == "--mock")
      o.mock = std::atoi(next().c_str());
    else if (a == "--mode")
      o.mode = next();
    else if (a == "--members")
      o.members = std::atoi(next().c_str());
    else if (a == "--partitions")
      o.partitions = std::atoi(next().c_str());
    else if (a == "--seconds")
      o.seconds = std::atof(next().c_str());
    else if (a == "--label")
      o.label = next();
    else if (a == "--topic")
      o.topic = next();
    else
      Usage("unknown flag " + a);
  }
  if (o.brokers.empty() == (o.mock == 0)) Usage("give --brokers or --mock");
  if (o.members <= 0 || o.partitions <= 0 || o.seconds <= 0) Usage("counts must be positive");
  std::string bootstrap = o.brokers;
  rd_kafka_t* mock_host = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
  if (o.mock) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    mock_host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    mock = rd_kafka_mock_cluster_new(mock_host, o.mock);
    bootstrap = rd_kafka_mock_cluster_bootstraps(mock);
    rd_kafka_mock_topic_create(mock, o.topic.c_str(), o.partitions, 1);
  } else {
    CreateTopic(bootstrap, o.topic, o.partitions);
  }
  const char* target = !o.label.empty() ? o.label.c_str() : mock ? "mock" : "fjord";
  if (o.mode == "join") {
    const double s = TimeToStableAssignment(o, bootstrap);
    std::printf("{\"mode\":\"join\",\"target\":\"%s\",\"members\":%d,\"partitions\":%d,\"seconds\":%.3f}\n",
                target, o.members, o.partitions, s);
  } else if (o.mode == "commit") {
    long commits = 0;
    const double rate = CommitsPerSecond(o, bootstrap, &commits);
    std::printf(
        "{\"mode\":\"commit\",\"target\":\"%s\",\"partitions\":%d,\"commits\":%ld,\"commits_per_s\":%.1f}\n",
        target, o.partitions, commits, rate);
  } else {
    Usage("unknown mode " + o.mode);
  }
  if (mock) rd_kafka_mock_cluster_destroy(mock);
  if (mock_host) rd_kafka_destroy(mock_host);
  return 0;
}
