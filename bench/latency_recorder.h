// Latency samples of one benchmark run, summarised as percentiles and as a histogram
// with fixed log-spaced buckets (so runs and targets can be compared bucket by bucket).
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <vector>

namespace fjord::bench {

class LatencyRecorder {
 public:
  // Upper bounds of the histogram's buckets in milliseconds; the last bucket is open.
  static constexpr std::array<double, 16> kBucketUpperMs = {0.1, 0.2, 0.5, 1,   2,    5,    10,   20,
                                                            50,  100, 200, 500, 1000, 2000, 5000, 1e300};

  void Add(double ms) {
    samples_.push_back(ms);
    size_t b = 0;
    while (ms > kBucketUpperMs[b]) ++b;
    ++counts_[b];
  }
  void Clear() {
    samples_.clear();
    counts_.fill(0);
  }
  size_t size() const { return samples_.size(); }

  double Percentile(double p) {
    if (samples_.empty()) return 0;
    const size_t i = static_cast<size_t>(p * static_cast<double>(samples_.size() - 1));
    std::nth_element(samples_.begin(), samples_.begin() + static_cast<long>(i), samples_.end());
    return samples_[i];
  }
  double Max() const { return samples_.empty() ? 0 : *std::max_element(samples_.begin(), samples_.end()); }

  // `,"<prefix>p50_ms":…,"<prefix>histogram":[[upper_ms,count],…]` for a JSON object.
  std::string JsonFields(const std::string& prefix) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  ",\"%sp50_ms\":%.3f,\"%sp99_ms\":%.3f,\"%sp999_ms\":%.3f,\"%smax_ms\":%.3f", prefix.c_str(),
                  Percentile(0.5), prefix.c_str(), Percentile(0.99), prefix.c_str(), Percentile(0.999),
                  prefix.c_str(), Max());
    std::string out = buf;
    out += ",\"" + prefix + "histogram\":[";
    for (size_t b = 0; b < counts_.size(); ++b) {
      if (b) out += ",";
      std::snprintf(buf, sizeof buf, "[%s,%ld]",
                    b + 1 == counts_.size() ? "null" : std::to_string(kBucketUpperMs[b]).c_str(), counts_[b]);
      out += buf;
    }
    return out + "]";
  }

 private:
  std::vector<double> samples_;
  std::array<long, kBucketUpperMs.size()> counts_{};
};

}  // namespace fjord::bench
