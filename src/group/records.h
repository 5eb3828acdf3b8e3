// The records of `__consumer_offsets`, laid out as Kafka lays them out (so Kafka's
// own tools can read them). Keys and values are big-endian, strings int16-length
// prefixed, nullable strings -1 for null, bytes int32-length prefixed.
//
//   OffsetCommitKey   int16 version (1), string group, string topic, int32 partition
//   OffsetCommitValue int16 version (3), int64 offset, int32 leader epoch,
//                     string metadata, int64 commit timestamp
//   GroupMetadataKey  int16 version (2), string group
//   GroupMetadataValue int16 version (3), string protocol type, int32 generation,
//                     nullable string protocol, nullable string leader,
//                     int64 state timestamp, int32 member count, then per member:
//                     string member id, nullable string instance id, string client id,
//                     string client host, int32 rebalance timeout, int32 session
//                     timeout, bytes subscription, bytes assignment
// A record with a null value is a tombstone: the offset (or the group) is deleted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/wire.h"

namespace fjord::group {

struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
};

struct OffsetValue {
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp = 0;
};

struct GroupKey {
  std::string group;
};

struct MemberRecord {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::string subscription;  // the chosen protocol's metadata
  std::string assignment;
};

struct GroupValue {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t state_timestamp = 0;
  std::vector<MemberRecord> members;
};

// One decoded record: which key, and the value (nullopt for a tombstone).
struct OffsetRecord {
  OffsetKey key;
  std::optional<OffsetValue> value;
};
struct GroupRecord {
  GroupKey key;
  std::optional<GroupValue> value;
};
using CoordinatorRecord = std::variant<OffsetRecord, GroupRecord>;

// A record's key and value bytes (value nullopt for a tombstone).
struct EncodedRecord {
  std::string key;
  std::optional<std::string> value;
};
// Fails for a string over 32767 bytes, which the format cannot hold.
absl::StatusOr<EncodedRecord> Encode(const CoordinatorRecord& record);

// Decodes a key and value; unknown key versions are an error (the caller skips them).
absl::StatusOr<CoordinatorRecord> Decode(protocol::ByteView key,
                                         const std::optional<protocol::ByteView>& value);

}  // namespace fjord::group
