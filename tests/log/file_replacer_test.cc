// FileReplacer (file_replacer.h): a partition's small files replaced off the shard, in
// order, on whichever backend FJORD_IO_BACKEND names (ctest runs both).
#include "log/file_replacer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/background_io.h"
#include "support/test_dir.h"

namespace fjord::log {
namespace {

namespace fs = std::filesystem;

class FileReplacerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fjord::testing::FreshTestDir("fjord-file-replacer-test");
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fjord::testing::WaitForBackgroundIo();
    fs::remove_all(dir_);
  }
  std::string Read(const std::string& name) const {
    std::ifstream in(dir_ / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
  std::vector<absl::Status> errors_;
};

TEST_F(FileReplacerTest, ReplacesInTheBackgroundInOrder) {
  std::ofstream(dir_ / "a") << "old a";
  FileReplacer replacer(dir_, ThreadDefaultIoBackend(), [this](absl::Status s) { errors_.push_back(s); });
  std::vector<std::string> durable;
  replacer.Replace({{"a", "new a"}, {"b", "new b"}}, [&] { durable.push_back("first"); });
  replacer.Replace({{"a", "newer a"}}, [&] { durable.push_back("second"); });
  // Only the write of the first batch's temporary files happened here.
  EXPECT_EQ(Read("a"), "old a");
  EXPECT_FALSE(replacer.idle());
  EXPECT_TRUE(durable.empty());
  ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
  EXPECT_TRUE(replacer.idle());
  EXPECT_EQ(durable, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(Read("a"), "newer a");
  EXPECT_EQ(Read("b"), "new b");
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "b"}));  // no temporary file left
  EXPECT_TRUE(errors_.empty());
}

// A close finishes what is queued on its own thread; a background rename still in
// flight cannot land afterwards over what the caller then writes.
TEST_F(FileReplacerTest, FinishCompletesWhatIsQueuedAtOnce) {
  FileReplacer replacer(dir_, ThreadDefaultIoBackend(), [this](absl::Status s) { errors_.push_back(s); });
  int durable = 0;
  replacer.Replace({{"a", "1"}}, [&] { ++durable; });
  replacer.Replace({{"a", "2"}, {"b", "2"}}, [&] { ++durable; });
  ASSERT_TRUE(replacer.Finish().ok());
  EXPECT_TRUE(replacer.idle());
  EXPECT_EQ(durable, 2);
  EXPECT_EQ(Read("a"), "2");
  std::ofstream(dir_ / "a", std::ios::trunc) << "written by the caller";
  ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
  EXPECT_EQ(Read("a"), "written by the caller");
  EXPECT_EQ(Read("b"), "2");
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(durable, 2);  // the abandoned background steps report nothing
  EXPECT_TRUE(errors_.empty());
}

// A step that fails is reported, its batch dropped with its temporary files, and the
// next batch still runs.
TEST_F(FileReplacerTest, AFailedBatchIsReportedAndTheNextOneRuns) {
  FileReplacer replacer(dir_, ThreadDefaultIoBackend(), [this](absl::Status s) { errors_.push_back(s); });
  bool failed_durable = false;
  bool next_durable = false;
  fs::create_directories(dir_ / "sub");
  // Renaming over a non-empty directory fails.
  std::ofstream(dir_ / "sub" / "x") << "x";
  replacer.Replace({{"sub", "file over a directory"}}, [&] { failed_durable = true; });
  replacer.Replace({{"c", "fine"}}, [&] { next_durable = true; });
  ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_NE(errors_[0].message().find("rename"), std::string::npos) << errors_[0];
  EXPECT_FALSE(failed_durable);
  EXPECT_TRUE(next_durable);
  EXPECT_EQ(Read("c"), "fine");
  EXPECT_EQ(Names(), (std::vector<std::string>{"c", "sub"}));
}

// Destroyed with work in flight (a log deleted): nothing runs afterwards.
TEST_F(FileReplacerTest, DestroyedWithWorkInFlightReportsNothing) {
  bool durable = false;
  {
    FileReplacer replacer(dir_, ThreadDefaultIoBackend(), [this](absl::Status s) { errors_.push_back(s); });
    replacer.Replace({{"a", "1"}}, [&] { durable = true; });
  }
  ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
  EXPECT_FALSE(durable);
  EXPECT_TRUE(errors_.empty());
}

}  // namespace
}  // namespace fjord::log
