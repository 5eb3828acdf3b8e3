// Request and response frames: a big-endian int32 size, then a header, then a body.
//
// Request header v0: int16 api_key, int16 api_version, int32 correlation_id.
//                v1: v0 + nullable string client_id (int16 length, never compact).
//                v2: v1 + tagged fields.
// Response header v0: int32 correlation_id; v1: v0 + tagged fields.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fjord_protocol/messages/request_header.h"
#include "fjord_protocol/messages/response_header.h"
#include "protocol/api_table.h"
#include "protocol/codec.h"

namespace fjord::protocol {

struct ParsedRequest {
  RequestHeader header;
  const ApiInfo* api = nullptr;  // null when the api key is unknown
  ByteView body;                 // what follows the header (only when api != null)
};

// Parses a request frame without its size prefix. An unknown api key or an
// unsupported version still yields the header (so the broker can answer), with
// api == nullptr or the version out of api->Supports().
absl::StatusOr<ParsedRequest> ParseRequest(ByteView frame);

// Appends a request frame (size prefix, header, body) for message M.
template <typename M>
absl::Status AppendRequestFrame(const M& body, int16_t version, int32_t correlation_id,
                                std::optional<std::string> client_id, std::vector<uint8_t>* out) {
  const ApiInfo* api = FindApi(M::kApiKey);
  RequestHeader h;
  h.request_api_key = M::kApiKey;
  h.request_api_version = version;
  h.correlation_id = correlation_id;
  h.client_id = std::move(client_id);
  const size_t start = out->size();
  out->resize(start + 4);
  if (absl::Status s = Encode(h, RequestHeaderVersion(*api, version), out); !s.ok()) return s;
  if (absl::Status s = Encode(body, version, out); !s.ok()) return s;
  Writer w(out->data() + start, 4);
  w.Int32(static_cast<int32_t>(out->size() - start - 4));
  return absl::OkStatus();
}

// Appends a response frame (size prefix, header, body) for message M; `holes` as in
// Encode, and the size prefix counts their bytes.
template <typename M>
absl::Status AppendResponseFrame(const M& body, int16_t version, int32_t correlation_id,
                                 std::vector<uint8_t>* out, Holes* holes = nullptr) {
  const ApiInfo* api = FindApi(M::kApiKey);
  ResponseHeader h;
  h.correlation_id = correlation_id;
  const size_t start = out->size();
  out->resize(start + 4);
  if (absl::Status s = Encode(h, ResponseHeaderVersion(*api, version), out); !s.ok()) return s;
  const uint64_t holes_before = holes != nullptr ? holes->bytes : 0;
  if (absl::Status s = Encode(body, version, out, holes); !s.ok()) return s;
  const uint64_t size = out->size() - start - 4 + (holes != nullptr ? holes->bytes - holes_before : 0);
  if (size > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InternalError(absl::StrCat(M::kName, ": response of ", size, " bytes"));
  }
  Writer w(out->data() + start, 4);
  w.Int32(static_cast<int32_t>(size));
  return absl::OkStatus();
}

}  // namespace fjord::protocol
