#include "absl/strings/str_cat.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/create_partitions_request.h"
#include "fjord_protocol/messages/create_partitions_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

boost::asio::awaitable<absl::Status> HandleCreatePartitions(RequestContext& c) {
  protocol::CreatePartitionsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::CreatePartitionsResponse resp;
  const int32_t node = c.broker.config().node_id;
  auto image = c.broker.metadata().Current();
  std::vector<std::string_view> names;
  for (const auto& t : req.topics) names.push_back(t.name);
  const auto repeated = Repeated(names);
  // As Kafka's controller, the cap holds for the request as a whole: all or none.
  int64_t new_partitions = 0;
  for (const auto& t : req.topics) {
    const TopicInfo* now = image->Find(t.name);
    if (!repeated.contains(t.name) && now != nullptr)
      new_partitions += std::max<int64_t>(int64_t{t.count} - now->partitions, 0);
  }
  const absl::Status too_many = metadata::ValidateNewPartitionCount(new_partitions);
  for (const auto& t : req.topics) {
    if (repeated.contains(t.name)) continue;
    auto& out = resp.results.emplace_back();
    out.name = t.name;
    if (!too_many.ok()) {
      out.error_code = kPolicyViolation;
      out.error_message = std::string(too_many.message());
      continue;
    }
    const TopicInfo* now = image->Find(t.name);
    if (t.assignments && now != nullptr && t.count > now->partitions &&
        static_cast<int32_t>(t.assignments->size()) != t.count - now->partitions) {
      out.error_code = kInvalidReplicaAssignment;
      out.error_message =
          absl::StrCat("Attempted to add ", t.count - now->partitions, " additional partition(s), but only ",
                       t.assignments->size(), " assignment(s) were specified.");
      continue;
    }
    if (t.assignments && now != nullptr) {
      if (auto error =
              ManualAssignmentError(*t.assignments, node, static_cast<size_t>(now->replication_factor))) {
        out.error_code = kInvalidReplicaAssignment;
        out.error_message = std::move(*error);
        continue;
      }
    }
    auto r = co_await c.broker.RunBlocking(
        [&] { return c.broker.metadata().CreatePartitions(t.name, t.count, req.validate_only); });
    if (!r.ok()) {
      switch (r.status().code()) {
        case absl::StatusCode::kOutOfRange:
          out.error_code = kInvalidPartitions;
          break;
        case absl::StatusCode::kResourceExhausted:
          out.error_code = kPolicyViolation;
          break;
        default:
          out.error_code = ToKafkaError(r.status());
      }
      out.error_message = std::string(r.status().message());
    }
  }
  for (std::string_view name : repeated) {
    auto& out = resp.results.emplace_back();
    out.name = std::string(name);
    out.error_code = kInvalidRequest;
    out.error_message = std::string(kDuplicateTopicName);
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
