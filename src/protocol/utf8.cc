#include "protocol/utf8.h"

#include <cstddef>
#include <cstdint>

namespace fjord::protocol {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// How many bytes of `s` from `at` form one well-formed character; when none do, the
// length of the maximal subpart to replace, as a negative number.
int Sequence(std::string_view s, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t lead = byte(at);
  if (lead < 0x80) return 1;
  int length = 0;
  uint8_t low = 0x80, high = 0xBF;  // the range of the second byte (Unicode's table 3-7)
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlongs
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // no overlongs
    if (lead == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return -1;
  }
  for (int i = 1; i < length; ++i) {
    if (at + i >= s.size()) return -i;
    const uint8_t b = byte(at + i);
    if (i == 1 ? (b < low || b > high) : (b < 0x80 || b > 0xBF)) return -i;
  }
  return length;
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<uint8_t>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  if (IsAscii(s)) return true;
  for (size_t at = 0; at < s.size();) {
    const int n = Sequence(s, at);
    if (n < 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

std::string WithUtf8Replacements(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t at = 0; at < s.size();) {
    const int n = Sequence(s, at);
    if (n > 0) {
      out.append(s.substr(at, static_cast<size_t>(n)));
      at += static_cast<size_t>(n);
    } else {
      out.append(kReplacement);
      at += static_cast<size_t>(-n);
    }
  }
  return out;
}

}  // namespace fjord::protocol
