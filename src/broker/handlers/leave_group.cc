#include "broker/handlers/handlers.h"
#include "fjord_protocol/messages/leave_group_request.h"
#include "fjord_protocol/messages/leave_group_response.h"
#include "group/coordinator.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// v0-2 name one member; v3+ a batch (KIP-345: static members leave by instance id).
boost::asio::awaitable<absl::Status> HandleLeaveGroup(RequestContext& c) {
  protocol::LeaveGroupRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  std::vector<group::LeavingMember> members;
  if (c.version < 3) {
    members.push_back({req.member_id, std::nullopt});
  } else {
    for (const auto& m : req.members) members.push_back({m.member_id, m.group_instance_id});
  }
  struct Outcome {
    int16_t group_error = 0;
    std::vector<int16_t> member_errors;
  };
  Outcome outcome = co_await OnGroupCoordinator<Outcome>(
      c, req.group_id, [&](group::GroupCoordinator& gc, std::function<void(Outcome)> done) {
        Outcome o;
        o.member_errors = gc.Leave(req.group_id, members, &o.group_error);
        done(std::move(o));
      });
  protocol::LeaveGroupResponse resp;
  resp.error_code =
      outcome.group_error != 0 || c.version >= 3 ? outcome.group_error : outcome.member_errors[0];
  if (c.version >= 3) {
    for (size_t i = 0; i < members.size(); ++i) {
      auto& out = resp.members.emplace_back();
      out.member_id = members[i].member_id;
      out.group_instance_id = members[i].instance_id;
      out.error_code = outcome.member_errors[i];
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
