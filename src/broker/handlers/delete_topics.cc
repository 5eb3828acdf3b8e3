#include <algorithm>
#include <array>
#include <set>

#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/delete_topics_request.h"
#include "fjord_protocol/messages/delete_topics_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

// Removes the topic from the metadata first (so no new request reaches it), then each
// owning shard closes the partition's log and deletes its directory.
boost::asio::awaitable<absl::Status> HandleDeleteTopics(RequestContext& c) {
  protocol::DeleteTopicsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  // v0-5 name topics in topic_names; v6 in topics (by name or by id).
  std::vector<std::pair<std::optional<std::string>, protocol::Uuid>> wanted;
  for (const auto& n : req.topic_names) wanted.emplace_back(n, protocol::Uuid{});
  for (const auto& t : req.topics) wanted.emplace_back(t.name, t.topic_id);
  std::vector<std::string_view> names;
  std::vector<std::array<uint8_t, 16>> ids;  // of the entries that give only an id
  for (const auto& [name, id] : wanted) {
    if (name.has_value()) names.push_back(*name);
    if (!name.has_value() && !id.is_zero()) ids.push_back(id.bytes);
  }
  const auto repeated = Repeated(names);
  const auto repeated_ids = Repeated(ids);
  // A topic named by one entry and given by id in another: as Kafka, neither deletes it;
  // the name's entry is answered INVALID_REQUEST and the id's entry not at all.
  auto image = c.broker.metadata().Current();
  std::set<std::array<uint8_t, 16>> aliased;
  for (std::string_view name : names) {
    const TopicInfo* t = repeated.contains(name) ? nullptr : image->Find(std::string(name));
    if (t != nullptr && !repeated_ids.contains(t->id.bytes) &&
        std::find(ids.begin(), ids.end(), t->id.bytes) != ids.end()) {
      aliased.insert(t->id.bytes);
    }
  }
  protocol::DeleteTopicsResponse resp;
  // delete.topic.enable=false: Kafka's controller refuses the whole request, with
  // TOPIC_DELETION_DISABLED from v3 (INVALID_REQUEST before it had that code).
  if (!c.broker.effective_config()->delete_topic_enable) {
    for (const auto& [name, id] : wanted) {
      auto& out = resp.responses.emplace_back();
      out.name = name;
      out.topic_id = id;
      out.error_code = c.version >= 3 ? kTopicDeletionDisabled : kInvalidRequest;
      if (c.version >= 5) out.error_message = "Topic deletion is disabled.";
    }
    co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
  }
  auto refuse = [&](const std::optional<std::string>& name, const protocol::Uuid& id, const char* why) {
    auto& out = resp.responses.emplace_back();
    out.name = name;
    out.topic_id = id;
    out.error_code = kInvalidRequest;
    if (c.version >= 5) out.error_message = why;
  };
  for (const auto& [name, id] : wanted) {
    if (name.has_value() && repeated.contains(*name)) continue;
    if (!name.has_value() && repeated_ids.contains(id.bytes)) continue;
    // Kafka's controller reads each v6 entry as a name or an id, not both, not neither.
    if (name.has_value() && !id.is_zero()) {
      refuse(name, id, "You may not specify both topic name and topic id.");
      continue;
    }
    if (!name.has_value() && id.is_zero()) {
      refuse(name, id, "Neither topic name nor id were specified.");
      continue;
    }
    if (!name.has_value() && aliased.contains(id.bytes)) continue;
    if (const TopicInfo* t = name.has_value() ? image->Find(*name) : nullptr;
        t && aliased.contains(t->id.bytes)) {
      refuse(name, t->id, "The provided topic name maps to an ID that was already supplied.");
      continue;
    }
    auto& out = resp.responses.emplace_back();
    out.name = name;
    out.topic_id = id;
    std::string topic_name;
    if (name.has_value()) {
      topic_name = *name;
    } else if (const TopicInfo* t = image->FindById(id)) {
      topic_name = t->name;
    } else {
      out.error_code = kUnknownTopicId;
      continue;
    }
    if (IsInternalTopic(topic_name)) {  // the group coordinator's state lives there
      out.error_code = kInvalidRequest;
      if (c.version >= 5) out.error_message = "internal topic " + topic_name + " cannot be deleted";
      continue;
    }
    auto removed = co_await c.broker.RunBlocking([&] { return c.broker.metadata().DeleteTopic(topic_name); });
    if (!removed.ok()) {
      out.error_code = ToKafkaError(removed.status());
      out.error_message = std::string(removed.status().message());
      continue;
    }
    out.name = removed->name;
    out.topic_id = removed->id;
    for (int32_t p = 0; p < removed->partitions; ++p) {
      TopicPartition tp{removed->name, p};
      absl::Status s =
          co_await c.broker.RunOn(c.broker.OwnerOf(tp), [&]() { return c.broker.OwnerOf(tp).DeleteLog(tp); });
      if (!s.ok()) {
        out.error_code = kKafkaStorageError;
        out.error_message = std::string(s.message());
      }
    }
  }
  for (std::string_view name : repeated)
    refuse(std::string(name), protocol::Uuid{}, kDuplicateTopicName.data());
  for (const auto& id : repeated_ids) refuse(std::nullopt, protocol::Uuid{id}, "Duplicate topic id.");
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
