// Test support: wait for this thread's default log I/O backend to go idle.
#pragma once

#include <unistd.h>

#include "log/io_backend.h"

namespace fjord::testing {

// Runs the default backend's completions until no background work is left (true) or
// about five seconds have passed (false; background fdatasyncs on a loaded machine).
// Recovery and retention unlink removed segments in the background (an io_uring
// unlinkat, or the pwrite backend's thread), so a test removes its directory only
// after this: a remove_all racing that unlink finds a file gone under it and throws.
inline bool WaitForBackgroundIo() {
  log::IoBackend& io = log::ThreadDefaultIoBackend();
  for (int i = 0; i < 2500 && io.pending() > 0; ++i) {
    io.RunCompletions();
    ::usleep(2000);
  }
  io.RunCompletions();
  return io.pending() == 0;
}

}  // namespace fjord::testing
