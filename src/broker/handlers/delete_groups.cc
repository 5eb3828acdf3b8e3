#include "broker/handlers/handlers.h"
#include "fjord_protocol/messages/delete_groups_request.h"
#include "fjord_protocol/messages/delete_groups_response.h"
#include "group/coordinator.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Only an empty group can go (NON_EMPTY_GROUP); its offsets go with it.
boost::asio::awaitable<absl::Status> HandleDeleteGroups(RequestContext& c) {
  protocol::DeleteGroupsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::DeleteGroupsResponse resp;
  for (const std::string& id : req.groups_names) {
    auto& out = resp.results.emplace_back();
    out.group_id = id;
    out.error_code = co_await OnGroupCoordinator<int16_t>(
        c, id, [&](group::GroupCoordinator& gc, std::function<void(int16_t)> done) { done(gc.Delete(id)); });
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
