#include "broker/handlers/handlers.h"
#include "fjord_protocol/messages/join_group_request.h"
#include "fjord_protocol/messages/join_group_response.h"
#include "group/coordinator.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Answered when the group's rebalance completes (or at once for errors and for
// members handed a member id, KIP-394).
boost::asio::awaitable<absl::Status> HandleJoinGroup(RequestContext& c) {
  protocol::JoinGroupRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  group::JoinRequest join;
  join.version = c.version;
  join.group_id = req.group_id;
  join.member_id = req.member_id;
  join.instance_id = req.group_instance_id;
  join.client_id = c.header.client_id.value_or("");
  join.client_host = "/" + c.client_host;
  join.session_timeout_ms = req.session_timeout_ms;
  join.rebalance_timeout_ms = c.version >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  join.protocol_type = req.protocol_type;
  for (const auto& p : req.protocols)
    join.protocols.push_back({p.name, std::string(p.metadata.as_string_view())});
  group::JoinResult result = co_await OnGroupCoordinator<group::JoinResult>(
      c, req.group_id, [&](group::GroupCoordinator& gc, std::function<void(group::JoinResult)> done) {
        gc.Join(join, std::move(done));
      });
  protocol::JoinGroupResponse resp;
  resp.error_code = result.error;
  resp.generation_id = result.generation;
  if (c.version >= 7) {
    resp.protocol_type = result.protocol_type;
    resp.protocol_name = result.protocol;
  } else {
    resp.protocol_name = result.protocol.value_or("");
  }
  resp.leader = result.leader;
  resp.member_id = result.member_id;
  for (const group::JoinedMember& m : result.members) {
    auto& out = resp.members.emplace_back();
    out.member_id = m.member_id;
    if (c.version >= 5) out.group_instance_id = m.instance_id;
    out.metadata = protocol::ByteView(c.arena.emplace_back(m.metadata.begin(), m.metadata.end()));
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
