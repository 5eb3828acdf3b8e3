#include "protocol/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace fjord::protocol {
namespace {

absl::Status TooLarge(std::string_view codec, size_t max_output) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(codec), ": decompressed data exceeds the limit of ", max_output, " bytes"));
}

absl::Status GzipCompress(ByteView in, std::vector<uint8_t>* out, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level == kDefaultLevel ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("gzip: deflateInit2 failed");
  }
  const size_t start = out->size();
  out->resize(start + deflateBound(&zs, in.size()) + 32);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out->data() + start;
  zs.avail_out = static_cast<uInt>(out->size() - start);
  int rc = deflate(&zs, Z_FINISH);
  out->resize(start + zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError("gzip: deflate did not finish");
  return absl::OkStatus();
}

absl::Status GzipDecompress(ByteView in, size_t max_output, std::vector<uint8_t>* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return absl::InternalError("gzip: inflateInit2 failed");
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  const size_t start = out->size();
  size_t produced = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    size_t chunk = std::max<size_t>(in.size() * 4, 16384);
    if (produced + chunk > max_output) chunk = max_output - produced + 1;
    out->resize(start + produced + chunk);
    zs.next_out = out->data() + start + produced;
    zs.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = zs.total_out;
    // Before the end-of-stream test: the last chunk has room for one byte too many.
    if (produced > max_output) {
      inflateEnd(&zs);
      out->resize(start);
      return TooLarge("gzip", max_output);
    }
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      inflateEnd(&zs);
      out->resize(start);
      return absl::InvalidArgumentError(absl::StrCat("gzip: corrupt data (", zs.msg ? zs.msg : "error", ")"));
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      out->resize(start);
      return absl::InvalidArgumentError("gzip: truncated data");
    }
  }
  inflateEnd(&zs);
  out->resize(start + produced);
  return absl::OkStatus();
}

// xerial snappy-java framing: magic, version and compatible-version, then blocks
// each prefixed by a big-endian int32 compressed length.
constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

absl::Status SnappyBlock(const uint8_t* p, size_t n, size_t max_output, std::vector<uint8_t>* out) {
  size_t len = 0;
  if (!snappy::GetUncompressedLength(reinterpret_cast<const char*>(p), n, &len)) {
    return absl::InvalidArgumentError("snappy: corrupt block header");
  }
  if (len > max_output) return TooLarge("snappy", max_output);
  const size_t start = out->size();
  out->resize(start + len);
  if (!snappy::RawUncompress(reinterpret_cast<const char*>(p), n,
                             reinterpret_cast<char*>(out->data() + start))) {
    out->resize(start);
    return absl::InvalidArgumentError("snappy: corrupt data");
  }
  return absl::OkStatus();
}

absl::Status SnappyDecompress(ByteView in, size_t max_output, std::vector<uint8_t>* out) {
  if (in.size() >= 16 && std::memcmp(in.data(), kXerialMagic, 8) == 0) {
    const size_t start = out->size();
    Reader r(in.data() + 16, in.size() - 16);
    while (r.remaining() > 0) {
      int32_t n = r.Int32();
      if (n < 0) return absl::InvalidArgumentError("snappy: negative xerial block length");
      ByteView block = r.Raw(static_cast<size_t>(n), "snappy xerial block");
      if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat("snappy: ", r.error()));
      absl::Status s = SnappyBlock(block.data(), block.size(), max_output - (out->size() - start), out);
      if (!s.ok()) {
        out->resize(start);
        return s;
      }
    }
    return absl::OkStatus();
  }
  return SnappyBlock(in.data(), in.size(), max_output, out);
}

absl::Status Lz4Compress(ByteView in, std::vector<uint8_t>* out, int level) {
  LZ4F_preferences_t prefs{};
  if (level != kDefaultLevel && level != 9) prefs.compressionLevel = level;  // 9: the fast mode
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentSize = in.size();
  const size_t start = out->size();
  out->resize(start + LZ4F_compressFrameBound(in.size(), &prefs));
  size_t n = LZ4F_compressFrame(out->data() + start, out->size() - start, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out->resize(start);
    return absl::InternalError(absl::StrCat("lz4: ", LZ4F_getErrorName(n)));
  }
  out->resize(start + n);
  return absl::OkStatus();
}

absl::Status Lz4Decompress(ByteView in, size_t max_output, std::vector<uint8_t>* out) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
    return absl::InternalError("lz4: cannot create a decompression context");
  }
  const size_t start = out->size();
  size_t produced = 0, consumed = 0;
  size_t hint = 1;
  absl::Status status;
  while (hint != 0) {
    if (consumed == in.size()) {
      status = absl::InvalidArgumentError("lz4: truncated frame");
      break;
    }
    if (produced >= max_output + 1) {
      status = TooLarge("lz4", max_output);
      break;
    }
    size_t room = std::min<size_t>(std::max<size_t>(65536, in.size() * 2), max_output + 1 - produced);
    out->resize(start + produced + room);
    size_t dst = room, src = in.size() - consumed;
    hint = LZ4F_decompress(ctx, out->data() + start + produced, &dst, in.data() + consumed, &src, nullptr);
    if (LZ4F_isError(hint)) {
      status = absl::InvalidArgumentError(absl::StrCat("lz4: ", LZ4F_getErrorName(hint)));
      break;
    }
    produced += dst;
    consumed += src;
    if (produced > max_output) {
      status = TooLarge("lz4", max_output);
      break;
    }
    if (dst == 0 && src == 0) {
      status = absl::InvalidArgumentError("lz4: no progress on corrupt frame");
      break;
    }
  }
  LZ4F_freeDecompressionContext(ctx);
  out->resize(status.ok() ? start + produced : start);
  return status;
}

absl::Status ZstdCompress(ByteView in, std::vector<uint8_t>* out, int level) {
  const size_t start = out->size();
  out->resize(start + ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out->data() + start, out->size() - start, in.data(), in.size(),
                           level == kDefaultLevel ? 3 : level);
  if (ZSTD_isError(n)) {
    out->resize(start);
    return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
  }
  out->resize(start + n);
  return absl::OkStatus();
}

absl::Status ZstdDecompress(ByteView in, size_t max_output, std::vector<uint8_t>* out) {
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (ds == nullptr) return absl::InternalError("zstd: cannot create a stream");
  ZSTD_initDStream(ds);
  const size_t start = out->size();
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t produced = 0;
  absl::Status status;
  size_t rc = 1;
  while (true) {
    size_t room =
        std::min<size_t>(std::max<size_t>(ZSTD_DStreamOutSize(), in.size() * 4), max_output + 1 - produced);
    out->resize(start + produced + room);
    ZSTD_outBuffer output{out->data() + start + produced, room, 0};
    rc = ZSTD_decompressStream(ds, &output, &input);
    produced += output.pos;
    if (ZSTD_isError(rc)) {
      status = absl::InvalidArgumentError(absl::StrCat("zstd: ", ZSTD_getErrorName(rc)));
      break;
    }
    if (produced > max_output) {
      status = TooLarge("zstd", max_output);
      break;
    }
    if (rc == 0 && input.pos == input.size) break;  // frame(s) complete
    if (input.pos == input.size && output.pos < room) {
      status = absl::InvalidArgumentError("zstd: truncated frame");
      break;
    }
  }
  ZSTD_freeDStream(ds);
  out->resize(status.ok() ? start + produced : start);
  return status;
}

}  // namespace

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

absl::Status DecompressLz4IgnoringDescriptorChecksum(ByteView in, size_t max_output,
                                                     std::vector<uint8_t>* out) {
  // Frame: magic 04 22 4d 18, FLG, BD, content size (8, if FLG bit 3), dictionary id (4,
  // if FLG bit 0), HC = second byte of XXH32(FLG..dictionary id, seed 0).
  constexpr uint8_t kMagic[4] = {0x04, 0x22, 0x4d, 0x18};
  if (in.size() < 7 || std::memcmp(in.data(), kMagic, 4) != 0) return Lz4Decompress(in, max_output, out);
  const uint8_t flg = in.data()[4];
  const size_t descriptor = 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
  if (in.size() < 4 + descriptor + 1) return absl::InvalidArgumentError("lz4: truncated frame header");
  std::vector<uint8_t> frame(in.data(), in.data() + in.size());
  frame[4 + descriptor] = static_cast<uint8_t>(XXH32(frame.data() + 4, descriptor, 0) >> 8);
  return Lz4Decompress(ByteView(frame), max_output, out);
}

absl::Status Compress(Compression c, ByteView in, std::vector<uint8_t>* out, int level) {
  switch (c) {
    case Compression::kNone:
      out->insert(out->end(), in.begin(), in.end());
      return absl::OkStatus();
    case Compression::kGzip:
      return GzipCompress(in, out, level);
    case Compression::kSnappy: {
      const size_t start = out->size();
      out->resize(start + snappy::MaxCompressedLength(in.size()));
      size_t n = 0;
      snappy::RawCompress(reinterpret_cast<const char*>(in.data()), in.size(),
                          reinterpret_cast<char*>(out->data() + start), &n);
      out->resize(start + n);
      return absl::OkStatus();
    }
    case Compression::kLz4:
      return Lz4Compress(in, out, level);
    case Compression::kZstd:
      return ZstdCompress(in, out, level);
  }
  return absl::InvalidArgumentError("unknown compression codec");
}

absl::Status Decompress(Compression c, ByteView in, size_t max_output, std::vector<uint8_t>* out) {
  switch (c) {
    case Compression::kNone:
      if (in.size() > max_output) return TooLarge("none", max_output);
      out->insert(out->end(), in.begin(), in.end());
      return absl::OkStatus();
    case Compression::kGzip:
      return GzipDecompress(in, max_output, out);
    case Compression::kSnappy:
      return SnappyDecompress(in, max_output, out);
    case Compression::kLz4:
      return Lz4Decompress(in, max_output, out);
    case Compression::kZstd:
      return ZstdDecompress(in, max_output, out);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown compression codec ", static_cast<int>(c)));
}

}  // namespace fjord::protocol
