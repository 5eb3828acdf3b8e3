#include <algorithm>

#include "absl/strings/ascii.h"
#include "broker/handlers/handlers.h"
#include "fjord_protocol/messages/list_groups_request.h"
#include "fjord_protocol/messages/list_groups_response.h"
#include "group/coordinator.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Every group on every shard's coordinator; v4+ filter by state, v5+ by type (all
// of Fjord's groups are "classic").
boost::asio::awaitable<absl::Status> HandleListGroups(RequestContext& c) {
  protocol::ListGroupsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  auto matches = [](const std::vector<std::string>& filter, const std::string& value) {
    return filter.empty() || std::any_of(filter.begin(), filter.end(), [&](const std::string& f) {
             return absl::AsciiStrToLower(f) == absl::AsciiStrToLower(value);
           });
  };
  protocol::ListGroupsResponse resp;
  for (size_t i = 0; i < c.broker.shard_count(); ++i) {
    Shard& shard = c.broker.shard(i);
    auto groups = co_await c.broker.RunOn(shard, [&] { return shard.groups().List(); });
    for (const group::GroupListing& g : groups) {
      if (c.version >= 4 && !matches(req.states_filter, g.state)) continue;
      if (c.version >= 5 && !matches(req.types_filter, "classic")) continue;
      auto& out = resp.groups.emplace_back();
      out.group_id = g.group_id;
      out.protocol_type = g.protocol_type;
      if (c.version >= 4) out.group_state = g.state;
      if (c.version >= 5) out.group_type = "classic";
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
