// The small files beside a partition's segments (snapshots, checkpoints) and how they
// are written: whole, or not at all.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/status.h"

namespace fjord::log {

// Writes `size` bytes to `path` and fsyncs them (no rename: for files the caller
// renames itself).
absl::Status WriteFileSynced(const std::filesystem::path& path, const void* data, size_t size);

// Replaces `path` atomically: write `<path>.tmp`, fsync, rename, fsync the directory.
// A crash leaves the old contents or the new, never a mix.
absl::Status WriteFileAtomically(const std::filesystem::path& path, const void* data, size_t size);

// fsync(2) of a directory, so that the names created or renamed in it survive a crash.
// Any failure is Unavailable: the log's storage is in trouble.
absl::Status SyncDirectory(const std::filesystem::path& dir);

// An offset checkpoint: one decimal number and a newline, replaced atomically.
std::string EncodeOffsetCheckpoint(int64_t offset);
absl::Status WriteOffsetCheckpoint(const std::filesystem::path& path, int64_t offset);
// The checkpointed offset, or nullopt if the file is missing or does not parse.
std::optional<int64_t> ReadOffsetCheckpoint(const std::filesystem::path& path);

}  // namespace fjord::log
