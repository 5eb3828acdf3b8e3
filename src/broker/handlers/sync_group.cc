#include "broker/handlers/handlers.h"
#include "fjord_protocol/messages/sync_group_request.h"
#include "fjord_protocol/messages/sync_group_response.h"
#include "group/coordinator.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Followers wait for the leader's assignments; the leader's are written first.
boost::asio::awaitable<absl::Status> HandleSyncGroup(RequestContext& c) {
  protocol::SyncGroupRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  group::SyncRequest sync;
  sync.group_id = req.group_id;
  sync.generation = req.generation_id;
  sync.member_id = req.member_id;
  sync.instance_id = req.group_instance_id;
  sync.protocol_type = req.protocol_type;
  sync.protocol = req.protocol_name;
  for (const auto& a : req.assignments) {
    sync.assignments.emplace_back(a.member_id, std::string(a.assignment.as_string_view()));
  }
  group::SyncResult result = co_await OnGroupCoordinator<group::SyncResult>(
      c, req.group_id, [&](group::GroupCoordinator& gc, std::function<void(group::SyncResult)> done) {
        gc.Sync(sync, std::move(done));
      });
  protocol::SyncGroupResponse resp;
  resp.error_code = result.error;
  if (c.version >= 5) {
    resp.protocol_type = result.protocol_type;
    resp.protocol_name = result.protocol;
  }
  resp.assignment =
      protocol::ByteView(c.arena.emplace_back(result.assignment.begin(), result.assignment.end()));
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
