// The Kafka APIs this build knows (every API in the spec), their version ranges, and
// the header-version rules. The table itself is generated from the spec.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "protocol/wire.h"

namespace fjord::protocol {

enum ListenerBits : uint8_t { kZkBroker = 1, kBroker = 2, kController = 4 };

struct ApiInfo {
  int16_t api_key;
  const char* name;
  int16_t min_version;
  int16_t max_version;
  int16_t flexible_min_version;  // > max_version when the API has no flexible versions
  uint8_t listeners;             // ListenerBits
  bool latest_version_unstable;

  bool Supports(int16_t v) const { return v >= min_version && v <= max_version; }
  bool Flexible(int16_t v) const { return v >= flexible_min_version; }
};

// Every API of the spec, indexed by api key.
std::span<const ApiInfo> AllApis();
// nullptr for an api key the spec does not define.
const ApiInfo* FindApi(int16_t api_key);

// Request header v2 for flexible versions, else v1; ControlledShutdown v0 uses v0.
inline int16_t RequestHeaderVersion(const ApiInfo& api, int16_t v) {
  if (api.api_key == 7 && v == 0) return 0;
  return api.Flexible(v) ? 2 : 1;
}
// Response header v1 for flexible versions, else v0; ApiVersions always uses v0 so
// that a client can read the answer whatever version it asked for.
inline int16_t ResponseHeaderVersion(const ApiInfo& api, int16_t v) {
  if (api.api_key == 18) return 0;
  return api.Flexible(v) ? 1 : 0;
}

// Decodes a request (or response) body of any API and version, encodes it again into
// *reencoded, and checks that decoding that gives the same message. Used by the
// fuzzer and the golden-capture tests.
absl::Status RoundTripBody(bool request, int16_t api_key, int16_t version, ByteView body,
                           std::vector<uint8_t>* reencoded);

}  // namespace fjord::protocol
