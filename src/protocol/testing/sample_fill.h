// Test support: fills any generated message with non-default values for one version,
// so that round trips exercise every field that version has.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "protocol/codec.h"
#include "protocol/wire.h"

namespace fjord::protocol::testing {

class SampleGen {
 public:
  // null_mode: every field nullable in the version is set to null.
  SampleGen(uint64_t seed, bool null_mode, bool unknown_tags)
      : rng_(seed), null_mode_(null_mode), unknown_tags_(unknown_tags) {}

  bool null_mode() const { return null_mode_; }
  int ArrayCount() const { return depth_ >= 4 ? 0 : 2; }
  // With fill off, Fill() leaves every field at its default.
  void set_fill(bool on) { fill_ = on; }
  bool fill() const { return fill_; }
  void Enter() { ++depth_; }
  void Leave() { --depth_; }

  template <typename T>
  T Value() {
    if constexpr (std::is_same_v<T, bool>) {
      return (rng_() & 1) != 0;
    } else if constexpr (std::is_same_v<T, double>) {
      return static_cast<double>(rng_() % 100000) / 7.0;
    } else if constexpr (std::is_same_v<T, Uuid>) {
      Uuid u;
      for (auto& b : u.bytes) b = static_cast<uint8_t>(rng_());
      return u;
    } else {
      return static_cast<T>(rng_());
    }
  }
  // A value that differs from `current` (the field's default).
  template <typename T>
  T Different(const T& current) {
    if constexpr (std::is_same_v<T, bool>) {
      return !current;
    } else {
      T v = Value<T>();
      if (v == current) {
        if constexpr (std::is_same_v<T, Uuid>) {
          v.bytes[0] ^= 1;
        } else {
          v = static_cast<T>(v + 1);
        }
      }
      return v;
    }
  }
  std::string String() { return absl::StrCat("s", rng_() % 100000); }
  ByteView Bytes() {
    auto& b = arena_.emplace_back(1 + rng_() % 40);
    for (auto& x : b) x = static_cast<uint8_t>(rng_());
    return ByteView(b);
  }
  void MaybeAddUnknownTag(UnknownTags& tags) {
    if (!unknown_tags_ || depth_ > 1) return;
    tags.push_back({static_cast<uint32_t>(10000 + depth_), Bytes()});
  }

 private:
  std::mt19937_64 rng_;
  bool null_mode_;
  bool unknown_tags_;
  int depth_ = 0;
  bool fill_ = true;
  std::deque<std::vector<uint8_t>> arena_;
};

// Encodes m, decodes it, checks equality, re-encodes and checks the bytes match.
template <typename M>
absl::Status CheckRoundTrip(const M& m, int16_t version, std::vector<uint8_t>* encoded) {
  encoded->clear();
  if (absl::Status s = Encode(m, version, encoded); !s.ok()) return s;
  M decoded;
  if (absl::Status s = Decode(ByteView(*encoded), version, &decoded); !s.ok()) return s;
  if (!(decoded == m))
    return absl::InternalError(absl::StrCat(M::kName, " v", version, ": decoded message differs"));
  std::vector<uint8_t> again;
  if (absl::Status s = Encode(decoded, version, &again); !s.ok()) return s;
  if (again != *encoded)
    return absl::InternalError(absl::StrCat(M::kName, " v", version, ": re-encoding differs"));
  return absl::OkStatus();
}

// Fills the request (or response) of api_key for `version` and round-trips it.
absl::Status FillAndRoundTrip(bool request, int16_t api_key, int16_t version, SampleGen& g,
                              std::vector<uint8_t>* encoded);

}  // namespace fjord::protocol::testing
