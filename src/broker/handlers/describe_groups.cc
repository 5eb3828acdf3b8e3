#include "broker/acl_operations.h"
#include "broker/handlers/handlers.h"
#include "fjord_protocol/messages/describe_groups_request.h"
#include "fjord_protocol/messages/describe_groups_response.h"
#include "group/coordinator.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// An unknown group is described as Dead with no members, as Kafka does.
boost::asio::awaitable<absl::Status> HandleDescribeGroups(RequestContext& c) {
  protocol::DescribeGroupsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::DescribeGroupsResponse resp;
  for (const std::string& id : req.groups) {
    group::GroupDescription d = co_await OnGroupCoordinator<group::GroupDescription>(
        c, id, [&](group::GroupCoordinator& gc, std::function<void(group::GroupDescription)> done) {
          done(gc.Describe(id));
        });
    auto& out = resp.groups.emplace_back();
    out.error_code = d.error;
    out.group_id = id;
    out.group_state = d.state;
    out.protocol_type = d.protocol_type;
    out.protocol_data = d.protocol;
    if (req.include_authorized_operations && d.error == 0) out.authorized_operations = kGroupOperations;
    for (const group::MemberDescription& m : d.members) {
      auto& mo = out.members.emplace_back();
      mo.member_id = m.member_id;
      if (c.version >= 4) mo.group_instance_id = m.instance_id;
      mo.client_id = m.client_id;
      mo.client_host = m.client_host;
      mo.member_metadata = protocol::ByteView(c.arena.emplace_back(m.metadata.begin(), m.metadata.end()));
      mo.member_assignment =
          protocol::ByteView(c.arena.emplace_back(m.assignment.begin(), m.assignment.end()));
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
