// Test support: run a real program as a child process, feed its stdin, bound its time.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace fjord::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed or not started
  bool timed_out = false;
  std::string output;  // stdout and stderr together
};

// Runs argv[0] (looked up on PATH) with `input` on stdin; kills it after `timeout`.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& input,
                         std::chrono::milliseconds timeout);

// True when `program` is found on PATH (or is an existing path).
bool HaveProgram(const std::string& program);

// The source tree (FJORD_SOURCE_DIR, set by ctest).
std::string SourceDir();

}  // namespace fjord::testing
