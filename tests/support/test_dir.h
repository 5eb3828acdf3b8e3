// Test support: a directory of the test's own under the system's temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace fjord::testing {

// `<tmp>/<prefix>-<pid>-<current test's name>`, emptied (not created): each test of each
// process gets its own, so ctest may run binaries side by side.
inline std::filesystem::path FreshTestDir(const std::string& prefix) {
  const auto dir = std::filesystem::temp_directory_path() /
                   (prefix + "-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace fjord::testing
