// The metadata state machine on arbitrary input: a sequence of length-prefixed
// MetadataBatch bytes applied to a state that has brokers, or one snapshot restored.
// Never a crash; and after every applied batch the state's snapshot must restore to a
// state whose snapshot is byte-identical (the replay path and the snapshot path agree).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "google/protobuf/stubs/logging.h"
#include "raft/metadata_state.h"

using fjord::metadata::MetadataBatch;
using fjord::metadata::MetadataState;

namespace {

void CheckSnapshotRoundTrip(const MetadataState& state) {
  const MetadataBatch snap = state.ToSnapshot();
  auto restored = MetadataState::Restore(snap, state.offset());
  if (!restored.ok() || restored->ToSnapshot().SerializeAsString() != snap.SerializeAsString()) std::abort();
}

}  // namespace

// protobuf logs an error for every string field that is not UTF-8 (the parse fails,
// which is the case being fuzzed): thousands of lines that would bury a real report.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 1) {
    MetadataBatch batch;
    if (!batch.ParseFromString(input)) return 0;
    auto restored = MetadataState::Restore(batch, 1);
    if (restored.ok()) CheckSnapshotRoundTrip(*restored);
    return 0;
  }
  MetadataState state;
  for (int32_t id = 1; id <= 3; ++id) {
    MetadataBatch b;
    b.add_records()->mutable_register_broker()->set_broker_id(id);
    (void)state.Apply(b, static_cast<uint64_t>(id));
  }
  uint64_t offset = 10;
  size_t pos = 0;
  while (pos + 2 <= input.size()) {
    const size_t len =
        static_cast<uint8_t>(input[pos]) | static_cast<size_t>(static_cast<uint8_t>(input[pos + 1])) << 8;
    pos += 2;
    if (len > input.size() - pos) break;
    MetadataBatch batch;
    if (batch.ParseFromString(input.substr(pos, len))) {
      (void)state.Apply(batch, offset++);
      CheckSnapshotRoundTrip(state);
    }
    pos += len;
  }
  return 0;
}
