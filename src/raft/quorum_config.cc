#include "raft/quorum_config.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace fjord::controller {

absl::StatusOr<std::map<int32_t, VoterAddress>> ParseVoters(const std::string& value) {
  std::map<int32_t, VoterAddress> voters;
  for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const size_t at = item.find('@');
    const size_t colon = item.rfind(':');
    int32_t id = 0;
    uint32_t port = 0;
    if (at == absl::string_view::npos || colon == absl::string_view::npos || colon < at ||
        !absl::SimpleAtoi(item.substr(0, at), &id) || id < 0 ||
        !absl::SimpleAtoi(item.substr(colon + 1), &port) || port == 0 || port > 65535 || colon == at + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("controller.quorum.voters: '", item, "' is not id@host:port"));
    }
    std::string host(item.substr(at + 1, colon - at - 1));
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (!voters.emplace(id, VoterAddress{host, static_cast<uint16_t>(port)}).second)
      return absl::InvalidArgumentError(
          absl::StrCat("controller.quorum.voters: voter ", id, " appears twice"));
  }
  if (voters.empty() || voters.size() > 7)
    return absl::InvalidArgumentError("controller.quorum.voters: 1 to 7 voters, e.g. 1@localhost:9093");
  return voters;
}

}  // namespace fjord::controller
