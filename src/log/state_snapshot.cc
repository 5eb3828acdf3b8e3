#include "log/state_snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "log/checkpoint_file.h"
#include "log/segment.h"
#include "protocol/crc32c.h"
#include "protocol/wire.h"

namespace fjord::log {
namespace {

constexpr char kMagic[4] = {'F', 'J', 'P', 'S'};
constexpr int16_t kVersion = 1;
constexpr char kSuffix[] = ".snapshot";

// Snapshot offsets in `dir`, ascending.
std::vector<int64_t> SnapshotOffsets(const std::filesystem::path& dir) {
  std::vector<int64_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() == 20 + sizeof(kSuffix) - 1 && name.ends_with(kSuffix)) {
      try {
        out.push_back(std::stoll(name.substr(0, 20)));
      } catch (...) {
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Encode(const ProducerStateTable& table, protocol::Writer& w) {
  w.Raw(reinterpret_cast<const uint8_t*>(kMagic), 4);
  w.Int16(kVersion);
  w.Int32(static_cast<int32_t>(table.entries().size()));
  for (const auto& [id, e] : table.entries()) {
    w.Int64(id);
    w.Int16(e.epoch);
    w.Int64(e.last_timestamp);
    w.Int8(static_cast<int8_t>(e.batches.size()));
    for (const BatchMeta& b : e.batches) {
      w.Int32(b.first_seq);
      w.Int32(b.last_seq);
      w.Int64(b.base_offset);
      w.Int64(b.last_offset);
    }
  }
}

std::optional<ProducerStateTable> Decode(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < 14) return std::nullopt;
  const size_t body = bytes.size() - 4;
  protocol::Reader crc_reader(bytes.data() + body, 4);
  if (crc_reader.Uint32() != protocol::Crc32c(bytes.data(), body)) return std::nullopt;
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) return std::nullopt;
  protocol::Reader r(bytes.data() + 4, body - 4);
  if (r.Int16() != kVersion) return std::nullopt;
  const int32_t count = r.Int32();
  ProducerStateTable table;
  for (int32_t i = 0; i < count && r.ok(); ++i) {
    const int64_t id = r.Int64();
    ProducerStateTable::Entry e;
    e.epoch = r.Int16();
    e.last_timestamp = r.Int64();
    const int8_t batches = r.Int8();
    if (batches < 0 || static_cast<size_t>(batches) > ProducerStateTable::kBatchesKept) return std::nullopt;
    for (int8_t b = 0; b < batches; ++b) {
      BatchMeta m{};
      m.first_seq = r.Int32();
      m.last_seq = r.Int32();
      m.base_offset = r.Int64();
      m.last_offset = r.Int64();
      e.batches.push_back(m);
    }
    table.Restore(id, std::move(e));
  }
  if (!r.ok() || r.remaining() != 0) return std::nullopt;
  return table;
}

}  // namespace

std::string EncodeProducerSnapshot(const ProducerStateTable& table) {
  protocol::Writer counter;
  Encode(table, counter);
  std::string bytes(counter.size() + 4, '\0');
  auto* data = reinterpret_cast<uint8_t*>(bytes.data());
  protocol::Writer w(data, bytes.size());
  Encode(table, w);
  w.Uint32(protocol::Crc32c(data, counter.size()));
  return bytes;
}

std::string ProducerSnapshotName(int64_t offset) {
  return Segment::FileName(offset, kSuffix);
}

absl::Status WriteProducerSnapshot(const std::filesystem::path& dir, int64_t offset,
                                   const ProducerStateTable& table) {
  const std::string bytes = EncodeProducerSnapshot(table);
  return WriteFileAtomically(dir / ProducerSnapshotName(offset), bytes.data(), bytes.size());
}

std::optional<LoadedSnapshot> LoadProducerSnapshot(const std::filesystem::path& dir, int64_t max_offset) {
  std::vector<int64_t> offsets = SnapshotOffsets(dir);
  for (auto it = offsets.rbegin(); it != offsets.rend(); ++it) {
    if (*it > max_offset) continue;
    std::ifstream in(dir / Segment::FileName(*it, kSuffix), std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (auto table = Decode(bytes)) return LoadedSnapshot{*it, std::move(*table)};
  }
  return std::nullopt;
}

void PruneProducerSnapshots(const std::filesystem::path& dir, size_t keep, int64_t max_offset) {
  std::vector<int64_t> offsets = SnapshotOffsets(dir);
  std::error_code ec;
  size_t kept = 0;
  for (auto it = offsets.rbegin(); it != offsets.rend(); ++it) {
    if (*it <= max_offset && kept < keep) {
      ++kept;
      continue;
    }
    std::filesystem::remove(dir / Segment::FileName(*it, kSuffix), ec);
  }
}

std::string EncodeLeaderEpochCheckpoint(const std::map<int32_t, int64_t>& epochs) {
  std::string text = absl::StrCat("0\n", epochs.size(), "\n");
  for (const auto& [epoch, start] : epochs) absl::StrAppend(&text, epoch, " ", start, "\n");
  return text;
}

absl::Status WriteLeaderEpochCheckpoint(const std::filesystem::path& dir,
                                        const std::map<int32_t, int64_t>& epochs) {
  const std::string text = EncodeLeaderEpochCheckpoint(epochs);
  return WriteFileAtomically(dir / kLeaderEpochCheckpoint, text.data(), text.size());
}

std::map<int32_t, int64_t> ReadLeaderEpochCheckpoint(const std::filesystem::path& dir) {
  std::map<int32_t, int64_t> out;
  std::ifstream in(dir / kLeaderEpochCheckpoint);
  int version = -1;
  size_t count = 0;
  if (!(in >> version >> count) || version != 0) return {};
  for (size_t i = 0; i < count; ++i) {
    int32_t epoch = 0;
    int64_t start = 0;
    if (!(in >> epoch >> start)) return {};
    out[epoch] = start;
  }
  return out;
}

}  // namespace fjord::log
