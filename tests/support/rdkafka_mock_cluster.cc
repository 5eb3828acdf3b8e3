// rdkafka-mock-cluster: librdkafka's in-memory mock cluster as a process, so tests can
// point other programs (fjordctl) at it.
//
//   rdkafka-mock-cluster [--brokers N] [--topic NAME:PARTITIONS]...
//
// Prints the bootstrap list on one line, then serves until stdin closes or a signal.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

[[noreturn]] void Usage(const char* why) {
  std::fprintf(
      stderr,
      "rdkafka-mock-cluster: %s\nusage: rdkafka-mock-cluster [--brokers N] [--topic NAME:PARTITIONS]...\n",
      why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Usage("a flag lacks its value");
    std::string v = argv[++i];
    if (a == "--brokers") {
      brokers = std::atoi(v.c_str());
      if (brokers < 1) Usage("--brokers must be at least 1");
    } else if (a == "--topic") {
      auto colon = v.rfind(':');
      int partitions = colon == std::string::npos ? 0 : std::atoi(v.c_str() + colon + 1);
      if (partitions < 1) Usage("--topic takes NAME:PARTITIONS");
      topics.emplace_back(v.substr(0, colon), partitions);
    } else {
      Usage("unknown flag");
    }
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (host == nullptr) {
    std::fprintf(stderr, "rdkafka-mock-cluster: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* mock = rd_kafka_mock_cluster_new(host, brokers);
  if (mock == nullptr) {
    std::fprintf(stderr, "rdkafka-mock-cluster: could not start the mock cluster\n");
    return 1;
  }
  for (const auto& [name, partitions] : topics) {
    if (rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mock, name.c_str(), partitions, 1);
        e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "rdkafka-mock-cluster: topic %s: %s\n", name.c_str(), rd_kafka_err2str(e));
      return 1;
    }
  }
  std::printf("%s\n", rd_kafka_mock_cluster_bootstraps(mock));
  std::fflush(stdout);
  char buf[256];
  while (std::fread(buf, 1, sizeof buf, stdin) > 0) {
  }
  rd_kafka_mock_cluster_destroy(mock);
  rd_kafka_destroy(host);
  return 0;
}
