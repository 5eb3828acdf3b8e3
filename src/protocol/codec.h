// Decoding and encoding whole messages of the generated types.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "protocol/wire.h"

namespace fjord::protocol {

// Decodes `body` as message M at `version`. bytes/records fields of *out point into
// `body`. Bytes after the message are left unread, as Kafka's broker leaves them:
// librdkafka (2.12, the newest; its open issue #5049) sends 3 such bytes in every
// Metadata v9+ request for all topics, and Kafka answers it. With `trailing`, their
// count.
template <typename M>
absl::Status Decode(ByteView body, int16_t version, M* out, size_t* trailing = nullptr) {
  if (version < M::kMinVersion || version > M::kMaxVersion) {
    return absl::InvalidArgumentError(absl::StrCat(M::kName, ": unsupported version ", version));
  }
  *out = M{};
  Reader r(body);
  out->Read(r, version);
  if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat(M::kName, " v", version, ": ", r.error()));
  if (trailing != nullptr) *trailing = r.remaining();
  return absl::OkStatus();
}

// Bytes m takes at `version`, or the reason it cannot be encoded at that version.
template <typename M>
absl::StatusOr<size_t> EncodedSize(const M& m, int16_t version) {
  if (version < M::kMinVersion || version > M::kMaxVersion) {
    return absl::InvalidArgumentError(absl::StrCat(M::kName, ": unsupported version ", version));
  }
  Writer counter;
  m.Write(counter, version);
  if (!counter.ok())
    return absl::InvalidArgumentError(absl::StrCat(M::kName, " v", version, ": ", counter.error()));
  return counter.size();
}

// Appends the encoding of m at `version` to *out. With `holes`, bytes fields without
// data are left out of *out and their positions in it added there (Writer).
template <typename M>
absl::Status Encode(const M& m, int16_t version, std::vector<uint8_t>* out, Holes* holes = nullptr) {
  absl::StatusOr<size_t> size = EncodedSize(m, version);
  if (!size.ok()) return size.status();
  const size_t start = out->size();
  out->resize(start + *size);
  Writer w(out->data() + start, *size);
  const uint64_t hole_bytes_before = holes != nullptr ? holes->bytes : 0;
  const size_t first_hole = holes != nullptr ? holes->at.size() : 0;
  w.set_hole_sink(holes);
  m.Write(w, version);
  if (!w.ok() || w.size() != *size) {
    out->resize(start);
    if (holes != nullptr) {
      holes->at.resize(first_hole);
      holes->bytes = hole_bytes_before;
    }
    return absl::InternalError(absl::StrCat(M::kName, ": encoding disagreed with its size: ", w.error()));
  }
  if (holes != nullptr) {
    for (size_t i = first_hole; i < holes->at.size(); ++i) holes->at[i] += start;
  }
  return absl::OkStatus();
}

// Decode, re-encode into *reencoded, decode again and compare. A failure after the first
// decode is InternalError: a disagreement, never the input's fault.
template <typename M>
absl::Status RoundTrip(ByteView body, int16_t version, std::vector<uint8_t>* reencoded) {
  M first;
  if (absl::Status s = Decode(body, version, &first); !s.ok()) return s;
  reencoded->clear();
  // What decodes must encode: a broker repeats strings and arrays back in its answers.
  if (absl::Status s = Encode(first, version, reencoded); !s.ok()) {
    return absl::InternalError(absl::StrCat("decoded message does not encode: ", s.message()));
  }
  M second;
  if (absl::Status s = Decode(ByteView(*reencoded), version, &second); !s.ok()) {
    return absl::InternalError(absl::StrCat("re-encoded message does not decode: ", s.message()));
  }
  if (!(first == second)) return absl::InternalError(absl::StrCat(M::kName, ": re-encoded message differs"));
  return absl::OkStatus();
}

}  // namespace fjord::protocol
