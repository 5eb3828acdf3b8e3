#include <chrono>

#include <algorithm>
#include <cctype>

#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/api_versions_request.h"
#include "fjord_protocol/messages/api_versions_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Ranges are Kafka 3.9's for each implemented API.
const std::vector<AdvertisedApi>& AdvertisedApis() {
  static const std::vector<AdvertisedApi> apis = {
      {0, 0, 11, HandleProduce},
      {1, 0, 17, HandleFetch},
      {2, 0, 9, HandleListOffsets},
      {3, 0, 12, HandleMetadata},
      {18, 0, 4, HandleApiVersions},
      {19, 0, 7, HandleCreateTopics},
      {20, 0, 6, HandleDeleteTopics},
      {37, 0, 3, HandleCreatePartitions},
      {60, 0, 1, HandleDescribeCluster},
      {22, 0, 5, HandleInitProducerId},
      {32, 0, 4, HandleDescribeConfigs},
      {21, 0, 2, HandleDeleteRecords},
      {33, 0, 2, HandleAlterConfigs},
      {44, 0, 1, HandleIncrementalAlterConfigs},
      {23, 0, 4, HandleOffsetForLeaderEpoch},
      {61, 0, 0, HandleDescribeProducers},
      {35, 0, 4, HandleDescribeLogDirs},
      {75, 0, 0, HandleDescribeTopicPartitions},
      {10, 0, 6, HandleFindCoordinator},
      {11, 0, 9, HandleJoinGroup},
      {14, 0, 5, HandleSyncGroup},
      {12, 0, 4, HandleHeartbeat},
      {13, 0, 5, HandleLeaveGroup},
      {8, 0, 9, HandleOffsetCommit},
      {9, 0, 9, HandleOffsetFetch},
      {16, 0, 5, HandleListGroups},
      {15, 0, 5, HandleDescribeGroups},
      {42, 0, 2, HandleDeleteGroups},
      {47, 0, 0, HandleOffsetDelete},
      {29, 0, 3, HandleDescribeAcls},
      {30, 0, 3, HandleCreateAcls},
      {31, 0, 3, HandleDeleteAcls},
      {55, 0, 2, HandleDescribeQuorum},
  };
  return apis;
}

const AdvertisedApi* FindAdvertised(int16_t api_key) {
  for (const auto& a : AdvertisedApis()) {
    if (a.api_key == api_key) return &a;
  }
  return nullptr;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AppendApiVersionsResponse(int16_t version, int16_t error_code, int32_t correlation_id,
                               std::vector<uint8_t>* out) {
  protocol::ApiVersionsResponse resp;
  resp.error_code = error_code;
  for (const auto& a : AdvertisedApis()) {
    auto& k = resp.api_keys.emplace_back();
    k.api_key = a.api_key;
    k.min_version = a.min_version;
    k.max_version = a.max_version;
  }
  (void)protocol::AppendResponseFrame(resp, version, correlation_id, out);
}

namespace {

// KIP-511: client software name and version are [a-zA-Z0-9] at both ends and
// [a-zA-Z0-9.-] inside; anything else is INVALID_REQUEST.
bool ValidSoftwareField(const std::string& s) {
  auto alnum = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
  if (s.empty() || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char ch) { return alnum(ch) || ch == '.' || ch == '-'; });
}

}  // namespace

boost::asio::awaitable<absl::Status> HandleApiVersions(RequestContext& c) {
  protocol::ApiVersionsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  const bool valid = c.version < 3 || (ValidSoftwareField(req.client_software_name) &&
                                       ValidSoftwareField(req.client_software_version));
  AppendApiVersionsResponse(c.version, valid ? kNone : kInvalidRequest, c.header.correlation_id, c.response);
  co_return absl::OkStatus();
}

}  // namespace fjord::broker
