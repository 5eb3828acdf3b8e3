#include "broker/config_alter.h"
#include "broker/handlers/handlers.h"
#include "fjord_protocol/messages/alter_configs_request.h"
#include "fjord_protocol/messages/alter_configs_response.h"
#include "fjord_protocol/messages/incremental_alter_configs_request.h"
#include "fjord_protocol/messages/incremental_alter_configs_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {

template <typename Result>
void Answer(Result& out, const absl::Status& s) {
  out.error_code = AlterConfigsError(s);
  if (s.ok()) {
    out.error_message = std::nullopt;
  } else {
    out.error_message = std::string(s.message());
  }
}

}  // namespace

// Legacy AlterConfigs: each resource's listed configs replace all its overrides.
boost::asio::awaitable<absl::Status> HandleAlterConfigs(RequestContext& c) {
  protocol::AlterConfigsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::AlterConfigsResponse resp;
  std::vector<std::pair<int8_t, std::string_view>> resources;
  for (const auto& r : req.resources) resources.emplace_back(r.resource_type, r.resource_name);
  const auto repeated = Repeated(resources);
  for (const auto& r : req.resources) {
    std::vector<ConfigChange> changes;
    for (const auto& cfg : r.configs) changes.push_back({cfg.name, ConfigOp::kSet, cfg.value});
    auto& out = resp.responses.emplace_back();
    out.resource_type = r.resource_type;
    out.resource_name = r.resource_name;
    absl::Status result = absl::FailedPreconditionError(kRepeatedResource);
    if (!repeated.contains({r.resource_type, r.resource_name})) {
      result = co_await c.broker.RunBlocking([&] {
        return AlterResourceConfigs(c.broker, r.resource_type, r.resource_name, changes,
                                    /*replace_all=*/true, req.validate_only);
      });
    }
    Answer(out, result);
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

boost::asio::awaitable<absl::Status> HandleIncrementalAlterConfigs(RequestContext& c) {
  protocol::IncrementalAlterConfigsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::IncrementalAlterConfigsResponse resp;
  std::vector<std::pair<int8_t, std::string_view>> resources;
  for (const auto& r : req.resources) resources.emplace_back(r.resource_type, r.resource_name);
  const auto repeated = Repeated(resources);
  for (const auto& r : req.resources) {
    std::vector<ConfigChange> changes;
    for (const auto& cfg : r.configs) {
      changes.push_back({cfg.name, static_cast<ConfigOp>(cfg.config_operation), cfg.value});
    }
    auto& out = resp.responses.emplace_back();
    out.resource_type = r.resource_type;
    out.resource_name = r.resource_name;
    absl::Status result = absl::FailedPreconditionError(kRepeatedResource);
    if (!repeated.contains({r.resource_type, r.resource_name})) {
      result = co_await c.broker.RunBlocking([&] {
        return AlterResourceConfigs(c.broker, r.resource_type, r.resource_name, changes,
                                    /*replace_all=*/false, req.validate_only);
      });
    }
    Answer(out, result);
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
