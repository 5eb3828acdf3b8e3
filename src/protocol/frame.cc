#include "protocol/frame.h"

#include "absl/strings/str_cat.h"

namespace fjord::protocol {

absl::StatusOr<ParsedRequest> ParseRequest(ByteView frame) {
  if (frame.size() < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("request of ", frame.size(), " bytes is shorter than its header"));
  }
  Reader peek(frame);
  const int16_t api_key = peek.Int16();
  const int16_t version = peek.Int16();
  ParsedRequest req;
  req.api = FindApi(api_key);
  // Unknown key or version: read only the fields every header version has.
  int16_t header_version = 0;
  if (req.api != nullptr && req.api->Supports(version))
    header_version = RequestHeaderVersion(*req.api, version);
  else if (frame.size() >= 10)
    header_version = 1;  // best effort: client id, for the logs
  Reader r(frame);
  req.header.Read(r, header_version);
  if (!r.ok()) {
    if (req.api == nullptr || !req.api->Supports(version)) {
      // Could not read the client id of an unusable request; the fixed part suffices.
      Reader fixed(frame);
      req.header = RequestHeader{};
      req.header.Read(fixed, 0);
      req.body = ByteView();
      return req;
    }
    return absl::InvalidArgumentError(absl::StrCat("request header: ", r.error()));
  }
  req.body = ByteView(r.position(), r.remaining());
  return req;
}

}  // namespace fjord::protocol
