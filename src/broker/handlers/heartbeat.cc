#include "broker/handlers/handlers.h"
#include "fjord_protocol/messages/heartbeat_request.h"
#include "fjord_protocol/messages/heartbeat_response.h"
#include "group/coordinator.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

boost::asio::awaitable<absl::Status> HandleHeartbeat(RequestContext& c) {
  protocol::HeartbeatRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::HeartbeatResponse resp;
  resp.error_code = co_await OnGroupCoordinator<int16_t>(
      c, req.group_id, [&](group::GroupCoordinator& gc, std::function<void(int16_t)> done) {
        done(gc.Heartbeat(req.group_id, req.generation_id, req.member_id, req.group_instance_id));
      });
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
