// Kafka wire primitives: the types generated messages are made of, a bounds-checked
// Reader and a Writer that can also just count.
//
// The Reader keeps the first error and turns every later read into a no-op that
// returns a default value, so generated decoders stay straight-line code and a
// malformed frame costs at most one pass over what is really there. Every length
// read from the wire is checked against the bytes that remain before anything is
// allocated for it.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace fjord::protocol {

// A non-owning view of bytes inside a frame or a caller's buffer. Decoded
// bytes/records fields point into the frame they came from: the frame must outlive
// the message.
class ByteView {
 public:
  ByteView() = default;
  ByteView(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  ByteView(const std::vector<uint8_t>& v) : data_(v.data()), size_(v.size()) {}  // NOLINT
  explicit ByteView(std::string_view s)
      : data_(reinterpret_cast<const uint8_t*>(s.data())), size_(s.size()) {}

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const uint8_t* begin() const { return data_; }
  const uint8_t* end() const { return data_ + size_; }
  std::string_view as_string_view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  ByteView subview(size_t pos, size_t n) const { return {data_ + pos, std::min(n, size_ - pos)}; }

  friend bool operator==(const ByteView& a, const ByteView& b) {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data_, b.data_, a.size_) == 0);
  }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool is_zero() const {
    return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
  }
  std::string ToString() const;  // Kafka's form: URL-safe base64 without padding
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// A float64 field (client quota values). It converts to and from double as one, but
// two are equal when their bits are: a message must equal itself after a round trip,
// and under IEEE's == a NaN the wire carried would not.
struct BitwiseDouble {
  double value = 0.0;
  BitwiseDouble() = default;
  BitwiseDouble(double v) : value(v) {}      // NOLINT: stands in for a double
  operator double() const { return value; }  // NOLINT
  friend bool operator==(BitwiseDouble a, BitwiseDouble b) {
    return std::bit_cast<uint64_t>(a.value) == std::bit_cast<uint64_t>(b.value);
  }
};

// A tagged field this code does not know, kept so that re-encoding preserves it.
struct RawTaggedField {
  uint32_t tag = 0;
  ByteView data;
  friend bool operator==(const RawTaggedField&, const RawTaggedField&) = default;
};
using UnknownTags = std::vector<RawTaggedField>;

// The most bytes a string (STRING or COMPACT_STRING, nullable or not) can hold, as in Kafka.
inline constexpr size_t kMaxStringBytes = 32767;

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  explicit Reader(ByteView v) : Reader(v.data(), v.size()) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t remaining() const { return ok() ? static_cast<size_t>(end_ - p_) : 0; }
  const uint8_t* position() const { return p_; }
  void Fail(std::string_view what);

  bool Bool() { return Int8() != 0; }
  int8_t Int8() { return static_cast<int8_t>(Fixed<uint8_t>("int8")); }
  int16_t Int16() { return static_cast<int16_t>(Fixed<uint16_t>("int16")); }
  uint16_t Uint16() { return Fixed<uint16_t>("uint16"); }
  int32_t Int32() { return static_cast<int32_t>(Fixed<uint32_t>("int32")); }
  uint32_t Uint32() { return Fixed<uint32_t>("uint32"); }
  int64_t Int64() { return static_cast<int64_t>(Fixed<uint64_t>("int64")); }
  double Float64();
  Uuid ReadUuid();
  uint32_t UVarint();
  uint64_t UVarlong();
  int32_t Varint();   // zig-zag
  int64_t Varlong();  // zig-zag

  // Takes n raw bytes (checked against what remains).
  ByteView Raw(size_t n, const char* what);
  // A sub-reader over the next n bytes; this reader moves past them.
  Reader Sub(size_t n, const char* what) {
    ByteView v = Raw(n, what);
    return Reader(v);
  }

  // Kafka's variable-length types. `compact` selects the flexible-version encoding;
  // `nullable` whether null is allowed in the version being read. `field` names the
  // field in error messages. A null where null is not allowed is an error.
  std::optional<std::string> NullableString(bool compact, bool nullable, const char* field);
  std::string String(bool compact, const char* field);
  std::optional<ByteView> NullableBytes(bool compact, bool nullable, const char* field);
  ByteView Bytes(bool compact, const char* field);
  // Returns the element count, or -1 for null. Refuses counts that could not fit in
  // what remains at min_element_size bytes each (at least one byte is assumed).
  int32_t ArrayLength(bool compact, bool nullable, size_t min_element_size, const char* field);
  // Reads the tagged-field count of a flexible struct; checks it is plausible.
  uint32_t TagCount();

 private:
  template <typename T>
  T Fixed(const char* what) {
    if (!ok()) return 0;
    if (static_cast<size_t>(end_ - p_) < sizeof(T)) {
      Fail(std::string("truncated ") + what);
      return 0;
    }
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | p_[i]);
    p_ += sizeof(T);
    return v;
  }
  // Reads a length: int16/int32 (classic) or uvarint-1 (compact). -1 means null.
  int64_t Length(bool compact, bool wide, const char* field);

  const uint8_t* p_;
  const uint8_t* end_;
  std::string error_;
};

// Where a hole-aware encoding left bytes for the caller to send: each hole's position
// in the output (the caller's bytes go there, before what follows), in order, and the
// bytes of all holes together (the frame's size counts them; the output does not hold
// them).
struct Holes {
  std::vector<size_t> at;
  uint64_t bytes = 0;
};

// Writes big-endian Kafka encodings into a buffer, or, constructed without one,
// only counts the bytes it would write. The first encoding error sticks.
class Writer {
 public:
  Writer() = default;  // counting mode
  Writer(uint8_t* out, size_t capacity) : out_(out), capacity_(capacity) {}
  // Bytes without data (a ByteView of null data and non-zero size) become holes: they
  // take no room in the output (nor in the count), and their positions and size are
  // added to *holes, for the caller to send in their place (a Fetch response's records
  // go from the file with sendfile). Without a sink such bytes are an encoding error.
  void set_hole_sink(Holes* holes) { holes_ = holes; }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t size() const { return pos_; }
  bool counting() const { return out_ == nullptr; }
  void Fail(std::string_view what) {
    if (error_.empty()) error_ = std::string(what);
  }

  void Bool(bool v) { Int8(v ? 1 : 0); }
  void Int8(int8_t v) { Fixed<uint8_t>(static_cast<uint8_t>(v)); }
  void Int16(int16_t v) { Fixed<uint16_t>(static_cast<uint16_t>(v)); }
  void Uint16(uint16_t v) { Fixed<uint16_t>(v); }
  void Int32(int32_t v) { Fixed<uint32_t>(static_cast<uint32_t>(v)); }
  void Uint32(uint32_t v) { Fixed<uint32_t>(v); }
  void Int64(int64_t v) { Fixed<uint64_t>(static_cast<uint64_t>(v)); }
  void Float64(double v);
  void WriteUuid(const Uuid& u) { Raw(u.bytes.data(), u.bytes.size()); }
  void UVarint(uint32_t v) { UVarlong(v); }
  void UVarlong(uint64_t v);
  void Varint(int32_t v) { UVarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31)); }
  void Varlong(int64_t v) { UVarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void Raw(const uint8_t* p, size_t n);

  void String(bool compact, std::string_view s);
  void NullableString(bool compact, bool nullable, const std::optional<std::string>& s, const char* field);
  void Bytes(bool compact, ByteView b);
  void NullableBytes(bool compact, bool nullable, const std::optional<ByteView>& b, const char* field);
  void ArrayLength(bool compact, size_t n);
  void NullArray(bool compact, bool nullable, const char* field);

 private:
  template <typename T>
  void Fixed(T v) {
    if (out_ != nullptr) {
      if (capacity_ - pos_ < sizeof(T)) return Overflow();
      for (size_t i = 0; i < sizeof(T); ++i)
        out_[pos_ + i] = static_cast<uint8_t>(v >> (8 * (sizeof(T) - 1 - i)));
    }
    pos_ += sizeof(T);
  }
  void Overflow() { Fail("encode buffer too small"); }
  void Hole(size_t n);

  uint8_t* out_ = nullptr;
  size_t capacity_ = 0;
  Holes* holes_ = nullptr;
  size_t pos_ = 0;
  std::string error_;
};

// Size in bytes of v as an unsigned varint.
inline size_t UVarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes a tagged field: its tag, its size, then the body `write_body` produces.
template <typename F>
void WriteTaggedField(Writer& w, uint32_t tag, F&& write_body) {
  Writer counter;
  write_body(counter);
  if (!counter.ok()) return w.Fail(counter.error());
  w.UVarint(tag);
  w.UVarint(static_cast<uint32_t>(counter.size()));
  write_body(w);
}

}  // namespace fjord::protocol
