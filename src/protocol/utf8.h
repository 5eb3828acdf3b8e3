// Kafka's strings are UTF-8, and Kafka (Java) decodes them leniently: each ill-formed
// sequence becomes U+FFFD. Decoding ours the same way keeps ill-formed bytes out of
// everything a string reaches: error messages and responses that clients decode as
// UTF-8, and the controller's metadata records (protobuf refuses to parse a string
// field that is not UTF-8, so such a value would make the quorum's own log unreadable).
#pragma once

#include <string>
#include <string_view>

namespace fjord::protocol {

// `s` with every ill-formed subsequence replaced by U+FFFD, one per maximal subpart
// (Unicode's recommended practice, which Java's decoder follows): a lead byte and the
// continuation bytes that could still have completed it count as one.
std::string WithUtf8Replacements(std::string_view s);

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace fjord::protocol
