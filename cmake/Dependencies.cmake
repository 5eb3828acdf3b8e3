# Every dependency comes from Debian 12's -dev packages (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(Boost 1.81 REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(RocksDB CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Snappy CONFIG REQUIRED)
find_package(zstd CONFIG REQUIRED)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
if(FJORD_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
  # Whether this machine lets a process set up an io_uring (Docker's default seccomp
  # profile does not): the io_uring runs of the log tests are disabled where it cannot.
  include(CheckCSourceRuns)
  set(CMAKE_REQUIRED_LIBRARIES ${URING_LINK_LIBRARIES})
  set(CMAKE_REQUIRED_INCLUDES ${URING_INCLUDE_DIRS})
  check_c_source_runs([=[
#include <liburing.h>
int main(void) { struct io_uring r; if (io_uring_queue_init(8, &r, 0) < 0) return 1; io_uring_queue_exit(&r); return 0; }
]=] FJORD_IO_URING_WORKS)
  unset(CMAKE_REQUIRED_LIBRARIES)
  unset(CMAKE_REQUIRED_INCLUDES)
endif()
if(FJORD_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
  pkg_check_modules(RDKAFKA IMPORTED_TARGET rdkafka)
endif()

find_program(PYTHON3 NAMES python3 REQUIRED)
