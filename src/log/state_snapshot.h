// What a partition log would otherwise rebuild by scanning every batch header at
// open: the idempotent-producer state and the leader-epoch start offsets. Both are
// written beside the segments so that opening reads only the batches after them.
//
// `<20-digit offset>.snapshot` - producer state covering every batch below `offset`
// (written at each segment roll and at a clean close; the last two are kept).
// Big-endian:
//    0  4  magic "FJPS"
//    4  2  version (1)
//    6  4  producer count N
//   then N times:
//          8 producer id, 2 epoch, 8 max timestamp of its last batch,
//          1 batch count B (at most 5), then B times:
//          4 first sequence, 4 last sequence, 8 base offset, 8 last offset
//   end    4 CRC32C of every byte before it
// A snapshot that is short, has a bad magic, version or CRC is ignored (the log
// then scans from an older snapshot, or from the start).
//
// `leader-epoch-checkpoint` - Kafka's text format: a line "0" (version), a line with
// the entry count, then one "<epoch> <start offset>" line per entry.
// Both files are written atomically (temp file, fsync, rename, fsync of the directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "log/producer_state.h"

namespace fjord::log {

absl::Status WriteProducerSnapshot(const std::filesystem::path& dir, int64_t offset,
                                   const ProducerStateTable& table);
// What WriteProducerSnapshot writes, and the file's name, for writing it elsewhere.
std::string EncodeProducerSnapshot(const ProducerStateTable& table);
std::string ProducerSnapshotName(int64_t offset);

struct LoadedSnapshot {
  int64_t offset;
  ProducerStateTable table;
};
// The newest valid snapshot at or below `max_offset`, if any.
std::optional<LoadedSnapshot> LoadProducerSnapshot(const std::filesystem::path& dir, int64_t max_offset);

// Deletes snapshots other than the newest `keep`, and any above `max_offset` (a torn
// tail was cut below them).
void PruneProducerSnapshots(const std::filesystem::path& dir, size_t keep, int64_t max_offset);

absl::Status WriteLeaderEpochCheckpoint(const std::filesystem::path& dir,
                                        const std::map<int32_t, int64_t>& epochs);
// What WriteLeaderEpochCheckpoint writes, under kLeaderEpochCheckpoint.
std::string EncodeLeaderEpochCheckpoint(const std::map<int32_t, int64_t>& epochs);
inline constexpr char kLeaderEpochCheckpoint[] = "leader-epoch-checkpoint";
// Missing or unreadable: empty.
std::map<int32_t, int64_t> ReadLeaderEpochCheckpoint(const std::filesystem::path& dir);

}  // namespace fjord::log
