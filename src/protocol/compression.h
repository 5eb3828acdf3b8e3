// The compression codecs of Kafka record batches, on Debian's zlib, snappy, lz4 and
// zstd. Decompression is bounded: output beyond `max_output` is an error, so a small
// compressed batch cannot make us allocate without limit.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "protocol/wire.h"

namespace fjord::protocol {

// Values of the batch attributes' low three bits.
enum class Compression : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

std::string_view CompressionName(Compression c);

// A codec's level as Kafka's compression.<codec>.level configs give it (KIP-390):
// gzip 1-9 (-1: zlib's default), lz4 1-17 (9, the default, is LZ4's fast mode, as in
// Kafka's Java code; others its high-compression mode), zstd -131072 to 22 (3).
// kDefaultLevel is each codec's default; snappy has no levels.
inline constexpr int kDefaultLevel = std::numeric_limits<int>::min();

// Appends the compressed form of `in` to *out. Snappy output is raw snappy, as
// librdkafka writes; lz4 output is the standard LZ4 frame format.
absl::Status Compress(Compression c, ByteView in, std::vector<uint8_t>* out, int level = kDefaultLevel);

// Appends the decompressed form of `in` to *out. Snappy accepts both raw snappy and
// the xerial framing that Java clients write.
absl::Status Decompress(Compression c, ByteView in, size_t max_output, std::vector<uint8_t>* out);

// LZ4 inside a magic-0 message (clients before Kafka 0.10): those clients computed the
// frame descriptor's checksum over the frame's magic number too (KAFKA-3160, fixed with
// magic 1), so Kafka reads magic-0 LZ4 without checking that byte, and so does this.
// Everything else in the frame is checked as Decompress checks it.
absl::Status DecompressLz4IgnoringDescriptorChecksum(ByteView in, size_t max_output,
                                                     std::vector<uint8_t>* out);

// Default bound for one batch's decompressed size.
inline constexpr size_t kDefaultMaxDecompressed = 256u << 20;

}  // namespace fjord::protocol
