// CPU time spent by the client, the broker and the whole machine over a timed run, read
// from /proc. On a machine where the load tool and the broker share the cores, MB/s
// alone cannot say whether the broker was slow or simply got less CPU: these figures
// say what each side spent per byte and how much of the machine stayed idle.
//
// - client: this process, minus its threads named "rdk:mock*" (librdkafka's mock
//   cluster, when it runs in here);
// - broker: the mock's threads, or the process `broker_pid` (all its threads, io_uring
//   workers included; the kernel's own writeback threads are not counted);
// - machine idle: the share of all CPUs' time spent idle or waiting for I/O.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fjord::bench {

struct CpuSample {
  double client_s = 0;
  double broker_s = 0;
  uint64_t machine_idle = 0;  // ticks, all CPUs
  uint64_t machine_total = 0;
};

struct CpuUse {
  double client_s = 0;
  double broker_s = 0;
  double machine_idle = 0;  // 0..1
};

class CpuMeter {
 public:
  explicit CpuMeter(pid_t broker_pid) : broker_pid_(broker_pid) {}

  CpuSample Sample() const {
    CpuSample s;
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    double mock = 0;
    for (pid_t tid : MockThreads()) mock += CpuTicks("/proc/self/task/" + std::to_string(tid) + "/stat");
    s.client_s = (CpuTicks("/proc/self/stat") - mock) / tick;
    s.broker_s = (broker_pid_ > 0 ? CpuTicks("/proc/" + std::to_string(broker_pid_) + "/stat") : mock) / tick;
    std::ifstream stat("/proc/stat");
    std::string cpu;
    uint64_t v[8] = {};
    stat >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >> v[7];
    for (uint64_t x : v) s.machine_total += x;
    s.machine_idle = v[3] + v[4];  // idle + iowait
    return s;
  }

  // The ids of this process's threads named "rdk:mock*": librdkafka's mock cluster.
  static std::vector<pid_t> MockThreads() {
    std::vector<pid_t> tids;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
      std::string comm;
      CpuTicks(task.path() / "stat", &comm);
      if (comm.rfind("rdk:mock", 0) == 0)
        tids.push_back(static_cast<pid_t>(std::stol(task.path().filename())));
    }
    return tids;
  }

  static CpuUse Between(const CpuSample& a, const CpuSample& b) {
    CpuUse u;
    u.client_s = b.client_s - a.client_s;
    u.broker_s = b.broker_s - a.broker_s;
    const uint64_t total = b.machine_total - a.machine_total;
    u.machine_idle = total > 0 ? static_cast<double>(b.machine_idle - a.machine_idle) / total : 0;
    return u;
  }

 private:
  // utime + stime of a process's or thread's /proc/.../stat line (a process's counts all
  // its threads); the name in parentheses may hold spaces.
  static double CpuTicks(const std::filesystem::path& stat_path, std::string* comm = nullptr) {
    std::ifstream in(stat_path);
    std::string line;
    if (!std::getline(in, line)) return 0;
    const size_t open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) return 0;
    if (comm) *comm = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; rest >> field; ++i) {  // fields 14 and 15 (1-based) of proc(5)
      if (i == 14) utime = std::stod(field);
      if (i == 15) {
        stime = std::stod(field);
        break;
      }
    }
    return utime + stime;
  }

  pid_t broker_pid_;
};

}  // namespace fjord::bench
