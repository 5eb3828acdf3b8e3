// The committed captures from real clients (tests/golden/captures/, written by
// protocol_client_capture_test with FJORD_UPDATE_GOLDEN=1) decode and re-encode
// byte-identically, with valid record batches. Runs without any client installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "protocol/golden_check.h"

namespace fjord::protocol::testing {
namespace {

namespace fs = std::filesystem;

fs::path CaptureDir() {
  const char* src = std::getenv("FJORD_SOURCE_DIR");
  return fs::path(src ? src : ".") / "tests/golden/captures";
}

TEST(Golden, EveryCommittedCaptureRoundTrips) {
  ASSERT_TRUE(fs::is_directory(CaptureDir())) << CaptureDir();
  std::map<std::string, int> per_client;
  int produce_with_records = 0;
  for (const auto& entry : fs::recursive_directory_iterator(CaptureDir())) {
    if (entry.path().extension() != ".bin") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<uint8_t> frame((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    GoldenSummary s;
    absl::Status st = CheckGoldenFrame(frame, &s);
    ASSERT_TRUE(st.ok()) << entry.path() << ": " << st;
    per_client[entry.path().parent_path().filename().string()]++;
    if (s.api_key == 0 && s.records > 0) ++produce_with_records;
  }
  // kcat x5 codecs, confluent-kafka-python x5, kafka-python x2, kafkajs x2,
  // platformatic-kafka x4, kcat consumer.
  EXPECT_GE(per_client.size(), 19u);
  EXPECT_GE(produce_with_records, 18);
  for (const char* name : {"kcat-zstd", "confluent-kafka-python-lz4", "kafkajs-gzip", "kafka-python-none",
                           "platformatic-kafka-snappy", "kcat-consumer"}) {
    EXPECT_GT(per_client[name], 0) << name;
  }
}

}  // namespace
}  // namespace fjord::protocol::testing
