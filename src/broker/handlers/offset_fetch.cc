#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/offset_fetch_request.h"
#include "fjord_protocol/messages/offset_fetch_response.h"
#include "group/coordinator.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {

using Wanted = std::optional<std::vector<std::pair<std::string, int32_t>>>;

struct GroupOffsets {
  int16_t error = 0;
  std::vector<group::FetchedOffset> offsets;
};

boost::asio::awaitable<GroupOffsets> FetchGroup(RequestContext& c, const std::string& group_id,
                                                const Wanted& wanted) {
  co_return co_await OnGroupCoordinator<GroupOffsets>(
      c, group_id, [&](group::GroupCoordinator& gc, std::function<void(GroupOffsets)> done) {
        GroupOffsets g;
        g.offsets = gc.Fetch(group_id, wanted, &g.error);
        done(std::move(g));
      });
}

// Groups the fetched offsets by topic, in the order they came.
template <typename TopicOut>
void Fill(const GroupOffsets& g, int16_t version, std::vector<TopicOut>* topics) {
  for (const group::FetchedOffset& f : g.offsets) {
    if (topics->empty() || topics->back().name != f.topic) {
      auto& t = topics->emplace_back();
      t.name = f.topic;
    }
    auto& p = topics->back().partitions.emplace_back();
    p.partition_index = f.partition;
    p.committed_offset = f.offset;
    if (version >= 5) p.committed_leader_epoch = f.leader_epoch;
    p.metadata = f.metadata;
    p.error_code = version < 2 ? g.error : 0;  // v2+ carry the group's error once, above
  }
}

}  // namespace

// v0-7: one group (v2+: null topics = all); v8+: several groups at once.
boost::asio::awaitable<absl::Status> HandleOffsetFetch(RequestContext& c) {
  protocol::OffsetFetchRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::OffsetFetchResponse resp;
  if (c.version < 8) {
    Wanted wanted;
    if (req.topics) {
      wanted.emplace();
      for (const auto& t : *req.topics) {
        for (int32_t p : t.partition_indexes) wanted->emplace_back(t.name, p);
      }
    }
    GroupOffsets g = co_await FetchGroup(c, req.group_id, wanted);
    Fill(g, c.version, &resp.topics);
    if (c.version >= 2) resp.error_code = g.error;
  } else {
    for (const auto& rg : req.groups) {
      Wanted wanted;
      if (rg.topics) {
        wanted.emplace();
        for (const auto& t : *rg.topics) {
          for (int32_t p : t.partition_indexes) wanted->emplace_back(t.name, p);
        }
      }
      GroupOffsets g = co_await FetchGroup(c, rg.group_id, wanted);
      auto& out = resp.groups.emplace_back();
      out.group_id = rg.group_id;
      out.error_code = g.error;
      Fill(g, c.version, &out.topics);
    }
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace fjord::broker
