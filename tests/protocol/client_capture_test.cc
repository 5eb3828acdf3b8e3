// Golden bytes from real clients: kcat/librdkafka, confluent-kafka-python, kafka-python
// and kafkajs, run as processes against a capture listener. Every request they send
// must decode and re-encode byte-identically, and every record batch must carry a
// valid CRC, the codec asked for, and exactly the records produced.
//
// FJORD_UPDATE_GOLDEN=1 also writes the captures to tests/golden/captures/, which the
// offline protocol_golden_test (and the fuzzer's seed corpus) use.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "protocol/capture_listener.h"
#include "protocol/golden_check.h"
#include "support/subprocess.h"

namespace fjord::protocol::testing {
namespace {

using fjord::testing::HaveProgram;
using fjord::testing::ProcessResult;
using fjord::testing::RunProcess;
using fjord::testing::SourceDir;

constexpr int kRecords = 40;

bool MissingAllowed() {
  return std::getenv("FJORD_ALLOW_MISSING_CLIENTS") != nullptr;
}

void SaveCaptures(const std::string& name, const std::vector<CapturedFrame>& frames) {
  if (std::getenv("FJORD_UPDATE_GOLDEN") == nullptr) return;
  namespace fs = std::filesystem;
  fs::path dir = fs::path(SourceDir()) / "tests/golden/captures" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::set<std::pair<int, int>> seen;
  int n = 0;
  for (const auto& f : frames) {
    // One capture per (api, version) keeps the corpus small; Fetch repeats are dropped.
    if (!seen.insert({f.api_key, f.api_version}).second) continue;
    std::ofstream out(dir / absl::StrCat(n++, "-api", f.api_key, "-v", f.api_version, ".bin"),
                      std::ios::binary);
    out.write(reinterpret_cast<const char*>(f.frame.data()), static_cast<std::streamsize>(f.frame.size()));
  }
}

struct ProduceCase {
  std::string client;   // for names and messages
  std::string program;  // must be on PATH
  std::string codec;
  std::vector<std::string> argv;  // {port} is replaced
  std::string input;
  bool headers = true;
};

void RunProduceCase(const ProduceCase& c) {
  if (!HaveProgram(c.program)) {
    if (MissingAllowed()) GTEST_SKIP() << c.program << " not installed";
    FAIL() << c.program << " is not installed (scripts/install-deps.sh installs it)";
  }
  CaptureListener listener;
  std::vector<std::string> argv = c.argv;
  for (auto& a : argv) {
    if (auto pos = a.find("{port}"); pos != std::string::npos)
      a.replace(pos, 6, std::to_string(listener.port()));
  }
  ProcessResult r = RunProcess(argv, c.input, std::chrono::seconds(60));
  ASSERT_FALSE(r.timed_out) << c.client << " timed out:\n" << r.output;
  ASSERT_EQ(r.exit_code, 0) << c.client << " failed:\n" << r.output;
  std::vector<CapturedFrame> frames = listener.frames();
  ASSERT_GT(listener.CountOf(0), 0) << "no Produce request captured";
  int records = 0;
  std::multiset<std::string> values;
  for (const auto& f : frames) {
    GoldenSummary s;
    absl::Status st = CheckGoldenFrame(f.frame, &s);
    ASSERT_TRUE(st.ok()) << c.client << " api " << f.api_key << " v" << f.api_version << ": " << st;
    if (f.api_key != 0) continue;
    for (Compression codec : s.codecs) {
      EXPECT_EQ(CompressionName(codec), c.codec) << c.client << "\n" << r.output;
    }
    for (int h : s.header_counts) {
      if (c.headers) {
        EXPECT_GE(h, 1);
      }
    }
    records += s.records;
    values.insert(s.values.begin(), s.values.end());
  }
  EXPECT_EQ(records, kRecords) << c.client << " " << c.codec;
  EXPECT_EQ(values.size(), static_cast<size_t>(kRecords));
  SaveCaptures(absl::StrCat(c.client, "-", c.codec), frames);
  std::printf("%s %s: %zu requests captured, %d records, Produce v%d\n", c.client.c_str(), c.codec.c_str(),
              frames.size(), records, [&] {
                for (const auto& f : frames)
                  if (f.api_key == 0) return static_cast<int>(f.api_version);
                return -1;
              }());
}

std::string KcatInput(const std::string& codec) {
  std::string s;
  for (int i = 0; i < kRecords; ++i) {
    s += absl::StrCat("key", i, ":kcat-", codec, "-", i, "-", std::string(200, 'y'), "\n");
  }
  return s;
}

class Kcat : public ::testing::TestWithParam<std::string> {};

TEST_P(Kcat, ProducesGoldenBatches) {
  const std::string codec = GetParam();
  RunProduceCase({"kcat",
                  "kcat",
                  codec,
                  {"kcat", "-b", "127.0.0.1:{port}", "-P", "-t", "golden", "-z", codec, "-K", ":", "-H",
                   "h=v", "-X", "client.id=fjord-golden-kcat", "-X", "linger.ms=100"},
                  KcatInput(codec)});
}

INSTANTIATE_TEST_SUITE_P(Codecs, Kcat, ::testing::Values("none", "gzip", "snappy", "lz4", "zstd"));

class ConfluentKafkaPython : public ::testing::TestWithParam<std::string> {};

TEST_P(ConfluentKafkaPython, ProducesGoldenBatches) {
  const std::string codec = GetParam();
  RunProduceCase({"confluent-kafka-python",
                  "/usr/bin/python3",
                  codec,
                  {"/usr/bin/python3", SourceDir() + "/tests/clients/confluent_produce.py",
                   "127.0.0.1:{port}", "golden", codec, std::to_string(kRecords)},
                  ""});
}

INSTANTIATE_TEST_SUITE_P(Codecs, ConfluentKafkaPython,
                         ::testing::Values("none", "gzip", "snappy", "lz4", "zstd"));

class KafkaPython : public ::testing::TestWithParam<std::string> {};

TEST_P(KafkaPython, ProducesGoldenBatches) {
  const std::string codec = GetParam();
  RunProduceCase({"kafka-python",
                  "/usr/bin/python3",
                  codec,
                  {"/usr/bin/python3", SourceDir() + "/tests/clients/kafka_python_produce.py",
                   "127.0.0.1:{port}", "golden", codec, std::to_string(kRecords)},
                  ""});
}

INSTANTIATE_TEST_SUITE_P(Codecs, KafkaPython, ::testing::Values("none", "gzip"));

class Kafkajs : public ::testing::TestWithParam<std::string> {};

TEST_P(Kafkajs, ProducesGoldenBatches) {
  const std::string codec = GetParam();
  RunProduceCase({"kafkajs",
                  "node",
                  codec,
                  {"node", SourceDir() + "/tests/clients/kafkajs_produce.js", "127.0.0.1:{port}", "golden",
                   codec, std::to_string(kRecords)},
                  ""});
}

INSTANTIATE_TEST_SUITE_P(Codecs, Kafkajs, ::testing::Values("none", "gzip"));

// @platformatic/kafka speaks the newest (flexible) versions: Produce v9+, Metadata v12.
class Platformatic : public ::testing::TestWithParam<std::string> {};

// Node's major version, or 0 when node is missing.
int NodeMajor() {
  ProcessResult r =
      RunProcess({"node", "-p", "process.versions.node.split('.')[0]"}, "", std::chrono::seconds(10));
  return r.exit_code == 0 ? std::atoi(r.output.c_str()) : 0;
}

TEST_P(Platformatic, ProducesGoldenBatches) {
  const std::string codec = GetParam();
  // The client targets Node 22; tests/clients/node-shims.mjs carries it on Node 20.
  // Debian 12's own nodejs is 18, where it cannot run: say so instead of failing.
  if (HaveProgram("node") && NodeMajor() < 20) GTEST_SKIP() << "@platformatic/kafka needs Node >= 20";
  RunProduceCase({"platformatic-kafka",
                  "node",
                  codec,
                  {"node", "--import", SourceDir() + "/tests/clients/node-shims.mjs",
                   SourceDir() + "/tests/clients/platformatic_produce.mjs", "127.0.0.1:{port}", "golden",
                   codec, std::to_string(kRecords)},
                  ""});
}

// zstd is left out: this client needs Node 22's zlib for it (kcat and confluent-kafka cover zstd).
INSTANTIATE_TEST_SUITE_P(Codecs, Platformatic, ::testing::Values("none", "gzip", "snappy", "lz4"));

// A consumer's first requests: ListOffsets and Fetch at the newest versions.
TEST(KcatConsumer, SendsGoldenFetchAndListOffsets) {
  if (!HaveProgram("kcat")) {
    if (MissingAllowed()) GTEST_SKIP();
    FAIL() << "kcat is not installed";
  }
  CaptureListener listener;
  ProcessResult r =
      RunProcess({"kcat", "-b", absl::StrCat("127.0.0.1:", listener.port()), "-C", "-t", "golden", "-o",
                  "beginning", "-e", "-X", "client.id=fjord-golden-kcat-consumer"},
                 "", std::chrono::seconds(30));
  ASSERT_FALSE(r.timed_out) << r.output;
  EXPECT_GT(listener.CountOf(1), 0) << r.output;
  for (const auto& f : listener.frames()) {
    GoldenSummary s;
    absl::Status st = CheckGoldenFrame(f.frame, &s);
    ASSERT_TRUE(st.ok()) << "api " << f.api_key << " v" << f.api_version << ": " << st;
  }
  SaveCaptures("kcat-consumer", listener.frames());
}

}  // namespace
}  // namespace fjord::protocol::testing
