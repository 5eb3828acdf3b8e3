// The I/O backends' read-side calls (io_backend.h), on whichever backend
// FJORD_IO_BACKEND names: ctest runs this binary once per backend.
#include "log/io_backend.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/background_io.h"
#include "support/resident_pages.h"
#include "support/test_dir.h"

namespace fjord::log {
namespace {

namespace fs = std::filesystem;
using fjord::testing::ResidentPages;

constexpr uint64_t kFileBytes = 4 << 20;

class IoBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fjord::testing::FreshTestDir("fjord-io-backend-test");
    fs::create_directories(dir_);
    file_ = dir_ / "data";
    fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd_, 0);
    std::vector<char> block(1 << 20);
    for (uint64_t at = 0; at < kFileBytes; at += block.size()) {
      for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>('a' + (at + i) % 26);
      ASSERT_EQ(::pwrite(fd_, block.data(), block.size(), static_cast<off_t>(at)),
                static_cast<ssize_t>(block.size()));
    }
    // On the device, and out of the page cache: reads now come from the disk.
    ASSERT_EQ(::fdatasync(fd_), 0);
    ASSERT_EQ(::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED), 0);
    ASSERT_LT(ResidentPages(file_, 0, kFileBytes), 16u);
  }
  void TearDown() override {
    fjord::testing::WaitForBackgroundIo();
    if (fd_ >= 0) ::close(fd_);
    fs::remove_all(dir_);
  }

  // Runs the backend's completions until `status` is set, for about five seconds at most.
  static void RunUntilSet(const std::optional<absl::Status>& status) {
    IoBackend& io = ThreadDefaultIoBackend();
    for (int i = 0; i < 5000 && !status.has_value(); ++i) {
      io.RunCompletions();
      if (!status.has_value()) ::usleep(1000);
    }
  }

  fs::path dir_;
  fs::path file_;
  int fd_ = -1;
};

TEST_F(IoBackendTest, PageInProbesEndEachStepAndTheRange) {
  EXPECT_EQ(PageInProbes(1000, 0), (std::vector<uint64_t>{1000}));
  EXPECT_EQ(PageInProbes(1000, 1), (std::vector<uint64_t>{1000}));
  EXPECT_EQ(PageInProbes(0, kPageInStep), (std::vector<uint64_t>{kPageInStep - 1}));
  EXPECT_EQ(
      PageInProbes(10, 2 * kPageInStep + 5),
      (std::vector<uint64_t>{10 + kPageInStep - 1, 10 + 2 * kPageInStep - 1, 10 + 2 * kPageInStep + 4}));
}

// A Fetch of a range that left the page cache waits on this, off the shard: the call
// returns at once, the callback runs from RunCompletions, and by then the range is in.
TEST_F(IoBackendTest, PageInBringsARangeBackIntoThePageCache) {
  IoBackend& io = ThreadDefaultIoBackend();
  const uint64_t from = 1 << 20;
  const uint64_t n = 2 << 20;
  std::optional<absl::Status> status;
  io.PageInInBackground(::dup(fd_), from, n, [&status](absl::Status s) { status = std::move(s); });
  EXPECT_FALSE(status.has_value());  // callbacks run only inside RunCompletions
  RunUntilSet(status);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->ok()) << *status;
  for (uint64_t probe : PageInProbes(from, n)) EXPECT_EQ(ResidentPages(file_, probe, probe + 1), 1u) << probe;
  EXPECT_EQ(ResidentPages(file_, 0, 256 << 10), 0u);  // nothing before the range was read
  char byte = 0;
  ASSERT_EQ(::pread(fd_, &byte, 1, static_cast<off_t>(from + n - 1)), 1);
  EXPECT_EQ(byte, static_cast<char>('a' + (from + n - 1) % 26));
}

TEST_F(IoBackendTest, PageInReportsAReadThatFails) {
  IoBackend& io = ThreadDefaultIoBackend();
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  std::optional<absl::Status> status;
  io.PageInInBackground(dir_fd, 0, 3 * kPageInStep, [&status](absl::Status s) { status = std::move(s); });
  RunUntilSet(status);
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->ok());
  EXPECT_NE(status->message().find("read"), std::string::npos) << *status;
}

// The first piece of a Fetch from the disk asks for the rest of its range this way.
TEST_F(IoBackendTest, ReadAheadAsksForARangeOffTheCallingThread) {
  IoBackend& io = ThreadDefaultIoBackend();
  io.ReadAheadInBackground(::dup(fd_), 2 << 20, 1 << 20);
  ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
  // Advisory, and the reads it started may still be running: some of it is there.
  EXPECT_GE(ResidentPages(file_, 2 << 20, 3 << 20), 32u);
  EXPECT_EQ(ResidentPages(file_, 0, 1 << 20), 0u);
}

// FileReplacer's steps: a rename and a directory fsync, each reported from RunCompletions.
TEST_F(IoBackendTest, RenameAndDirectorySyncRunOffTheCallingThread) {
  IoBackend& io = ThreadDefaultIoBackend();
  std::optional<absl::Status> renamed;
  io.RenameInBackground(file_.string(), (dir_ / "renamed").string(),
                        [&renamed](absl::Status s) { renamed = std::move(s); });
  EXPECT_FALSE(renamed.has_value());  // callbacks run only inside RunCompletions
  RunUntilSet(renamed);
  ASSERT_TRUE(renamed.has_value());
  EXPECT_TRUE(renamed->ok()) << *renamed;
  EXPECT_FALSE(fs::exists(file_));
  EXPECT_EQ(fs::file_size(dir_ / "renamed"), kFileBytes);

  std::optional<absl::Status> synced;
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  io.SyncDirectoryInBackground(dir_fd, [&synced](absl::Status s) { synced = std::move(s); });
  RunUntilSet(synced);
  ASSERT_TRUE(synced.has_value());
  EXPECT_TRUE(synced->ok()) << *synced;

  std::optional<absl::Status> missing;
  io.RenameInBackground((dir_ / "no-such-file").string(), (dir_ / "x").string(),
                        [&missing](absl::Status s) { missing = std::move(s); });
  RunUntilSet(missing);
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->ok());
  EXPECT_NE(missing->message().find("rename"), std::string::npos) << *missing;
}

TEST(JoinDoneTest, RunsOnceAfterTheLastWithTheFirstError) {
  int runs = 0;
  absl::Status seen;
  IoBackend::Done each = JoinDone(3, [&](absl::Status s) {
    ++runs;
    seen = std::move(s);
  });
  each(absl::OkStatus());
  each(absl::UnavailableError("first"));
  EXPECT_EQ(runs, 0);
  each(absl::InternalError("second"));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(seen, absl::UnavailableError("first"));
}

}  // namespace
}  // namespace fjord::log
