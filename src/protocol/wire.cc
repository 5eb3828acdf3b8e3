#include "protocol/wire.h"

#include <bit>
#include <limits>

#include "protocol/utf8.h"

namespace fjord::protocol {

std::string Uuid::ToString() const {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

void Reader::Fail(std::string_view what) {
  if (error_.empty()) error_ = std::string(what);
  p_ = end_;
}

double Reader::Float64() {
  return std::bit_cast<double>(Fixed<uint64_t>("float64"));
}

Uuid Reader::ReadUuid() {
  Uuid u;
  ByteView v = Raw(16, "uuid");
  if (ok()) std::memcpy(u.bytes.data(), v.data(), 16);
  return u;
}

uint64_t Reader::UVarlong() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (!ok()) return 0;
    if (p_ == end_) {
      Fail("truncated varint");
      return 0;
    }
    uint8_t b = *p_++;
    if (shift == 63 && b > 1) break;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  Fail("varint longer than 10 bytes");
  return 0;
}

uint32_t Reader::UVarint() {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (!ok()) return 0;
    if (p_ == end_) {
      Fail("truncated varint");
      return 0;
    }
    uint8_t b = *p_++;
    if (shift == 28 && (b & 0xf0) != 0) break;
    v |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  Fail("varint longer than 5 bytes");
  return 0;
}

int32_t Reader::Varint() {
  uint32_t u = UVarint();
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t Reader::Varlong() {
  uint64_t u = UVarlong();
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

ByteView Reader::Raw(size_t n, const char* what) {
  if (!ok()) return {};
  if (n > static_cast<size_t>(end_ - p_)) {
    Fail(std::string(what) + ": length " + std::to_string(n) + " exceeds the " + std::to_string(end_ - p_) +
         " bytes remaining");
    return {};
  }
  ByteView v(p_, n);
  p_ += n;
  return v;
}

int64_t Reader::Length(bool compact, bool wide, const char* field) {
  if (compact) return static_cast<int64_t>(UVarint()) - 1;
  return wide ? Int32() : Int16();
}

std::optional<std::string> Reader::NullableString(bool compact, bool nullable, const char* field) {
  int64_t n = Length(compact, /*wide=*/false, field);
  if (!ok()) return std::string();
  if (n < 0) {
    if (n == -1 && nullable) return std::nullopt;
    Fail(std::string(field) + ": " + (n == -1 ? "null in a non-nullable version" : "negative length"));
    return std::string();
  }
  // As Kafka: a string holds at most 32767 bytes, compact or not, and what is decoded
  // must fit again once ill-formed UTF-8 is replaced (a record or answer that repeats
  // it could not be written otherwise).
  if (n > static_cast<int64_t>(kMaxStringBytes)) {
    Fail(std::string(field) + ": string of " + std::to_string(n) + " bytes, more than 32767");
    return std::string();
  }
  ByteView v = Raw(static_cast<size_t>(n), field);
  std::string out = WithUtf8Replacements(v.as_string_view());  // as Kafka decodes: see utf8.h
  if (out.size() > kMaxStringBytes) {
    Fail(std::string(field) + ": " + std::to_string(out.size()) +
         " bytes once its ill-formed UTF-8 is replaced, more than 32767");
    return std::string();
  }
  return out;
}

std::string Reader::String(bool compact, const char* field) {
  auto s = NullableString(compact, /*nullable=*/false, field);
  return s ? std::move(*s) : std::string();
}

std::optional<ByteView> Reader::NullableBytes(bool compact, bool nullable, const char* field) {
  int64_t n = Length(compact, /*wide=*/true, field);
  if (!ok()) return ByteView();
  if (n < 0) {
    if (n == -1 && nullable) return std::nullopt;
    Fail(std::string(field) + ": " + (n == -1 ? "null in a non-nullable version" : "negative length"));
    return ByteView();
  }
  return Raw(static_cast<size_t>(n), field);
}

ByteView Reader::Bytes(bool compact, const char* field) {
  auto b = NullableBytes(compact, /*nullable=*/false, field);
  return b ? *b : ByteView();
}

int32_t Reader::ArrayLength(bool compact, bool nullable, size_t min_element_size, const char* field) {
  int64_t n = Length(compact, /*wide=*/true, field);
  if (!ok()) return 0;
  if (n < 0) {
    if (n == -1 && nullable) return -1;
    Fail(std::string(field) + ": " +
         (n == -1 ? "null array in a non-nullable version" : "negative array length"));
    return 0;
  }
  size_t per = std::max<size_t>(min_element_size, 1);
  if (static_cast<uint64_t>(n) > remaining() / per) {
    Fail(std::string(field) + ": " + std::to_string(n) + " elements cannot fit in the " +
         std::to_string(remaining()) + " bytes remaining");
    return 0;
  }
  return static_cast<int32_t>(n);
}

uint32_t Reader::TagCount() {
  uint32_t n = UVarint();
  // Each tagged field takes at least two bytes (tag and size).
  if (ok() && n > remaining() / 2) {
    Fail("tagged field count " + std::to_string(n) + " cannot fit in the " + std::to_string(remaining()) +
         " bytes remaining");
    return 0;
  }
  return n;
}

void Writer::Float64(double v) {
  Fixed<uint64_t>(std::bit_cast<uint64_t>(v));
}

void Writer::UVarlong(uint64_t v) {
  while (v >= 0x80) {
    Fixed<uint8_t>(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  Fixed<uint8_t>(static_cast<uint8_t>(v));
}

void Writer::Raw(const uint8_t* p, size_t n) {
  if (p == nullptr && n != 0) return Hole(n);
  if (out_ != nullptr) {
    if (capacity_ - pos_ < n) return Overflow();
    if (n != 0) std::memcpy(out_ + pos_, p, n);
  }
  pos_ += n;
}

void Writer::Hole(size_t n) {
  if (counting()) return;  // the writing pass reports a missing sink
  if (holes_ == nullptr) return Fail("bytes without data outside a hole-aware encoding");
  holes_->at.push_back(pos_);
  holes_->bytes += n;
}

void Writer::String(bool compact, std::string_view s) {
  if (s.size() > kMaxStringBytes) return Fail("string longer than 32767 bytes");
  if (compact) {
    UVarint(static_cast<uint32_t>(s.size() + 1));
  } else {
    Int16(static_cast<int16_t>(s.size()));
  }
  Raw(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

void Writer::NullableString(bool compact, bool nullable, const std::optional<std::string>& s,
                            const char* field) {
  if (s) return String(compact, *s);
  if (!nullable) return Fail(std::string(field) + ": null in a non-nullable version");
  if (compact) {
    UVarint(0);
  } else {
    Int16(-1);
  }
}

void Writer::Bytes(bool compact, ByteView b) {
  if (compact) {
    UVarint(static_cast<uint32_t>(b.size() + 1));
  } else {
    Int32(static_cast<int32_t>(b.size()));
  }
  Raw(b.data(), b.size());
}

void Writer::NullableBytes(bool compact, bool nullable, const std::optional<ByteView>& b, const char* field) {
  if (b) return Bytes(compact, *b);
  if (!nullable) return Fail(std::string(field) + ": null in a non-nullable version");
  if (compact) {
    UVarint(0);
  } else {
    Int32(-1);
  }
}

void Writer::ArrayLength(bool compact, size_t n) {
  if (compact) {
    UVarint(static_cast<uint32_t>(n + 1));
  } else {
    Int32(static_cast<int32_t>(n));
  }
}

void Writer::NullArray(bool compact, bool nullable, const char* field) {
  if (!nullable) return Fail(std::string(field) + ": null in a non-nullable version");
  if (compact) {
    UVarint(0);
  } else {
    Int32(-1);
  }
}

}  // namespace fjord::protocol
