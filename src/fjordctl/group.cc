// fjordctl group list | describe | delete | reset-offsets.
#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "fjordctl/command.h"
#include "fjordctl/offsets.h"
#include "fjordctl/output.h"

namespace fjord::ctl {

namespace {

using boost::asio::awaitable;
using client::KafkaError;

absl::Status OneGroup(const Args& a) {
  return a.positional.size() == 1 ? absl::OkStatus() : absl::InvalidArgumentError("give one group id");
}

absl::Status SomeGroups(const Args& a) {
  return a.positional.empty() ? absl::InvalidArgumentError("give at least one group id") : absl::OkStatus();
}

absl::Status NoArgs(const Args& a) {
  return a.positional.empty() ? absl::OkStatus() : absl::InvalidArgumentError("takes no arguments");
}

// Committed offsets of every partition the group has any for (OffsetFetch, all topics).
awaitable<absl::StatusOr<std::map<TopicPartition, int64_t>>> Committed(client::Client& client,
                                                                       int32_t coordinator,
                                                                       const std::string& group) {
  auto version = co_await client.VersionFor<protocol::OffsetFetchRequest>(coordinator);
  if (!version.ok()) co_return version.status();
  protocol::OffsetFetchRequest request;
  if (*version >= 8) {  // groups are batched from v8
    auto& g = request.groups.emplace_back();
    g.group_id = group;
    g.topics = std::nullopt;  // every topic
  } else {
    request.group_id = group;
    request.topics = std::nullopt;  // every topic (v2+)
  }
  auto r = co_await client.Call<protocol::OffsetFetchResponse>(coordinator, request);
  if (!r.ok()) co_return r.status();
  std::map<TopicPartition, int64_t> out;
  if (!r->groups.empty()) {
    const auto& rg = r->groups.front();
    if (rg.error_code != 0) co_return KafkaError(rg.error_code, "offsets of group " + group);
    for (const auto& t : rg.topics) {
      for (const auto& p : t.partitions) {
        if (p.error_code == 0 && p.committed_offset >= 0)
          out[TopicPartition(t.name, p.partition_index)] = p.committed_offset;
      }
    }
    co_return out;
  }
  if (r->error_code != 0) co_return KafkaError(r->error_code, "offsets of group " + group);
  for (const auto& t : r->topics) {
    for (const auto& p : t.partitions) {
      if (p.error_code == 0 && p.committed_offset >= 0)
        out[TopicPartition(t.name, p.partition_index)] = p.committed_offset;
    }
  }
  co_return out;
}

awaitable<int> List(Context& c, const Args& a) {
  // Every broker coordinates some groups: ask each.
  std::map<std::string, std::pair<std::string, std::string>> groups;  // id -> (state, type)
  std::vector<int32_t> nodes;
  for (const auto& [id, b] : c.client.brokers()) nodes.push_back(id);
  for (int32_t node : nodes) {
    protocol::ListGroupsRequest request;
    if (a.Has("--state")) request.states_filter = a.values.at("--state");
    auto r = co_await c.client.Call<protocol::ListGroupsResponse>(node, request);
    if (!r.ok()) co_return Fail("group list", r.status());
    if (r->error_code != 0)
      co_return Fail("group list", KafkaError(r->error_code, "broker " + std::to_string(node)));
    for (const auto& g : r->groups) groups[g.group_id] = {g.group_state, g.protocol_type};
  }
  if (c.json) {
    Json out = Json::Array();
    for (const auto& [id, st] : groups) {
      Json j = Json::Object();
      j.Set("group", id).Set("state", st.first).Set("protocol_type", st.second);
      out.Push(std::move(j));
    }
    std::printf("%s\n", out.Dump().c_str());
  } else {
    Table t("GROUP", "STATE", "PROTOCOL TYPE");
    for (const auto& [id, st] : groups) t.Add(id, st.first.empty() ? "-" : st.first, st.second);
    std::printf("%s", t.Render().c_str());
  }
  co_return 0;
}

struct LagRow {
  TopicPartition tp;
  int64_t committed = -1, end = -1;
  std::string member, client, host;
};

// Member ids by assigned partition, from each member's ConsumerProtocolAssignment.
std::map<TopicPartition, const protocol::describe_groups_response::DescribedGroupMember*> Owners(
    const protocol::describe_groups_response::DescribedGroup& g) {
  std::map<TopicPartition, const protocol::describe_groups_response::DescribedGroupMember*> owners;
  if (g.protocol_type != "consumer") return owners;
  for (const auto& m : g.members) {
    if (m.member_assignment.size() < 2) continue;
    protocol::Reader r(m.member_assignment);
    const int16_t version = r.Int16();
    protocol::ConsumerProtocolAssignment assignment;
    if (!protocol::Decode(protocol::ByteView(r.position(), r.remaining()), std::min<int16_t>(version, 3),
                          &assignment)
             .ok()) {
      continue;  // an assignment this version of fjordctl cannot read: shown unowned
    }
    for (const auto& tp : assignment.assigned_partitions) {
      for (int32_t p : tp.partitions) owners[TopicPartition(tp.topic, p)] = &m;
    }
  }
  return owners;
}

int PrintDescribe(bool json, const protocol::describe_groups_response::DescribedGroup& g,
                  const std::vector<LagRow>& rows) {
  int64_t total_lag = 0;
  for (const auto& r : rows) total_lag += r.committed >= 0 && r.end >= 0 ? r.end - r.committed : 0;
  if (json) {
    Json members = Json::Array();
    for (const auto& m : g.members) {
      Json j = Json::Object();
      j.Set("member_id", m.member_id).Set("client_id", m.client_id).Set("client_host", m.client_host);
      j.Set("group_instance_id", m.group_instance_id ? Json(*m.group_instance_id) : Json());
      members.Push(std::move(j));
    }
    Json parts = Json::Array();
    for (const auto& r : rows) {
      Json j = Json::Object();
      j.Set("topic", r.tp.first).Set("partition", r.tp.second);
      j.Set("committed_offset", r.committed >= 0 ? Json(r.committed) : Json());
      j.Set("end_offset", r.end >= 0 ? Json(r.end) : Json());
      j.Set("lag", r.committed >= 0 && r.end >= 0 ? Json(r.end - r.committed) : Json());
      j.Set("member_id", r.member.empty() ? Json() : Json(r.member));
      parts.Push(std::move(j));
    }
    Json out = Json::Object();
    out.Set("group", g.group_id).Set("state", g.group_state).Set("protocol_type", g.protocol_type);
    out.Set("assignor", g.protocol_data)
        .Set("members", std::move(members))
        .Set("partitions", std::move(parts));
    out.Set("total_lag", total_lag);
    std::printf("%s\n", out.Dump().c_str());
    return 0;
  }
  std::printf("%s %s\n%s %s\n%s %s\n%s %zu\n%s %lld\n\n", Bold("GROUP").c_str(), g.group_id.c_str(),
              Bold("STATE").c_str(), g.group_state.c_str(), Bold("ASSIGNOR").c_str(),
              g.protocol_data.empty() ? "-" : g.protocol_data.c_str(), Bold("MEMBERS").c_str(),
              g.members.size(), Bold("TOTAL LAG").c_str(), static_cast<long long>(total_lag));
  Table t("TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "MEMBER", "CLIENT", "HOST");
  for (const auto& r : rows) {
    t.Add(r.tp.first, std::to_string(r.tp.second), r.committed >= 0 ? std::to_string(r.committed) : "-",
          r.end >= 0 ? std::to_string(r.end) : "-",
          r.committed >= 0 && r.end >= 0 ? std::to_string(r.end - r.committed) : "-",
          r.member.empty() ? "-" : r.member, r.client.empty() ? "-" : r.client,
          r.host.empty() ? "-" : r.host);
  }
  std::printf("%s", t.Render().c_str());
  return 0;
}

awaitable<int> Describe(Context& c, const Args& a) {
  const std::string& group = a.positional[0];
  const std::string what = "group describe " + group;
  auto coordinator = co_await c.client.Coordinator(group);
  if (!coordinator.ok()) co_return Fail(what, coordinator.status());
  protocol::DescribeGroupsRequest request;
  request.groups.push_back(group);
  auto described = co_await c.client.Call<protocol::DescribeGroupsResponse>(*coordinator, request);
  if (!described.ok()) co_return Fail(what, described.status());
  if (described->groups.empty()) co_return Fail(what, absl::DataLossError(std::string("empty answer")));
  const auto& g = described->groups.front();
  if (g.error_code != 0) co_return Fail(what, KafkaError(g.error_code, std::string("describe")));
  if (g.group_state == "Dead")
    co_return Fail(what, KafkaError(69, std::string("describe")));  // GROUP_ID_NOT_FOUND
  auto committed = co_await Committed(c.client, *coordinator, group);
  if (!committed.ok()) co_return Fail(what, committed.status());
  const auto owners = Owners(g);
  std::set<TopicPartition> all;
  for (const auto& [tp, off] : *committed) all.insert(tp);
  for (const auto& [tp, m] : owners) all.insert(tp);
  std::vector<TopicPartition> wanted(all.begin(), all.end());
  std::map<TopicPartition, int64_t> ends;
  if (!wanted.empty()) {
    auto e = co_await OffsetsAt(c.client, wanted, kLatest);
    if (!e.ok()) co_return Fail(what, e.status());
    ends = std::move(*e);
  }
  std::vector<LagRow> rows;
  for (const auto& tp : wanted) {
    LagRow& r = rows.emplace_back();
    r.tp = tp;
    if (auto it = committed->find(tp); it != committed->end()) r.committed = it->second;
    if (auto it = ends.find(tp); it != ends.end()) r.end = it->second;
    if (auto it = owners.find(tp); it != owners.end()) {
      r.member = it->second->member_id;
      r.client = it->second->client_id;
      r.host = it->second->client_host;
    }
  }
  co_return PrintDescribe(c.json, g, rows);
}

awaitable<int> Delete(Context& c, const Args& a) {
  int code = 0;
  Json out = Json::Array();
  Table t("GROUP", "STATUS");
  for (const std::string& group : a.positional) {
    auto coordinator = co_await c.client.Coordinator(group);
    if (!coordinator.ok()) co_return Fail("group delete " + group, coordinator.status());
    protocol::DeleteGroupsRequest request;
    request.groups_names.push_back(group);
    auto r = co_await c.client.Call<protocol::DeleteGroupsResponse>(*coordinator, request);
    if (!r.ok()) co_return Fail("group delete " + group, r.status());
    for (const auto& result : r->results) {
      const absl::Status s = KafkaError(result.error_code, "group " + result.group_id);
      if (!s.ok()) code = Fail("group delete " + result.group_id, s);
      Json j = Json::Object();
      j.Set("group", result.group_id).Set("deleted", s.ok());
      if (!s.ok()) j.Set("error", client::ErrorName(result.error_code));
      out.Push(std::move(j));
      t.Add(result.group_id, s.ok() ? Green("deleted") : Red(client::ErrorName(result.error_code)));
    }
  }
  std::printf("%s%s", c.json ? out.Dump().c_str() : t.Render().c_str(), c.json ? "\n" : "");
  co_return code;
}

absl::Status CheckReset(const Args& a) {
  if (absl::Status s = OneGroup(a); !s.ok()) return s;
  int modes = 0;
  for (const char* m : {"--to-earliest", "--to-latest", "--to-datetime", "--shift-by"})
    modes += a.Has(m) ? 1 : 0;
  if (modes != 1)
    return absl::InvalidArgumentError("give one of --to-earliest, --to-latest, --to-datetime, --shift-by");
  if (!a.Has("--topic")) return absl::InvalidArgumentError("give --topic TOPIC (repeatable)");
  int64_t shift = 0;
  if (a.Has("--shift-by") && !absl::SimpleAtoi(a.Get("--shift-by"), &shift))
    return absl::InvalidArgumentError("--shift-by wants a whole number (negative to go back)");
  absl::Time t;
  std::string err;
  if (a.Has("--to-datetime") && !absl::ParseTime(absl::RFC3339_full, a.Get("--to-datetime"), &t, &err))
    return absl::InvalidArgumentError("--to-datetime wants RFC 3339, e.g. 2026-11-22T10:00:00Z");
  return absl::OkStatus();
}

awaitable<int> ResetOffsets(Context& c, const Args& a) {
  const std::string& group = a.positional[0];
  const std::string what = "group reset-offsets " + group;
  std::vector<std::string> topics = a.values.at("--topic");
  auto metadata = co_await c.client.Metadata(topics);
  if (!metadata.ok()) co_return Fail(what, metadata.status());
  std::vector<TopicPartition> wanted;
  for (const auto& t : metadata->topics) {
    if (t.error_code != 0)
      co_return Fail(what, KafkaError(t.error_code, "topic " + t.name.value_or(std::string())));
    for (const auto& p : t.partitions) wanted.emplace_back(t.name.value_or(std::string()), p.partition_index);
  }
  auto coordinator = co_await c.client.Coordinator(group);
  if (!coordinator.ok()) co_return Fail(what, coordinator.status());
  auto committed = co_await Committed(c.client, *coordinator, group);
  if (!committed.ok()) co_return Fail(what, committed.status());
  auto earliest = co_await OffsetsAt(c.client, wanted, kEarliest);
  if (!earliest.ok()) co_return Fail(what, earliest.status());
  auto latest = co_await OffsetsAt(c.client, wanted, kLatest);
  if (!latest.ok()) co_return Fail(what, latest.status());
  std::map<TopicPartition, int64_t> at_time;
  if (a.Has("--to-datetime")) {
    absl::Time t;
    std::string err;
    absl::ParseTime(absl::RFC3339_full, a.Get("--to-datetime"), &t, &err);
    auto r = co_await OffsetsAt(c.client, wanted, absl::ToUnixMillis(t));
    if (!r.ok()) co_return Fail(what, r.status());
    at_time = std::move(*r);
  }
  int64_t shift = 0;
  if (a.Has("--shift-by")) (void)absl::SimpleAtoi(a.Get("--shift-by"), &shift);
  // New offsets, clamped to [earliest, latest] as Kafka's tool does.
  std::map<TopicPartition, std::pair<int64_t, int64_t>> plan;  // tp -> (current or -1, new)
  for (const auto& tp : wanted) {
    const int64_t lo = (*earliest)[tp], hi = (*latest)[tp];
    const auto cur = committed->find(tp);
    const int64_t current = cur == committed->end() ? -1 : cur->second;
    int64_t target = hi;
    if (a.Has("--to-earliest")) target = lo;
    if (a.Has("--to-datetime")) target = at_time[tp] < 0 ? hi : at_time[tp];
    if (a.Has("--shift-by")) target = (current < 0 ? hi : current) + shift;
    plan[tp] = {current, std::clamp(target, lo, hi)};
  }
  const bool execute = a.Has("--execute");
  if (execute) {
    protocol::OffsetCommitRequest request;
    request.group_id = group;
    request.generation_id_or_member_epoch = -1;  // an admin commit: the group must be empty
    size_t done = 0;
    for (const auto& [tp, change] : plan) {
      if (request.topics.empty() || request.topics.back().name != tp.first)
        request.topics.emplace_back().name = tp.first;
      auto& p = request.topics.back().partitions.emplace_back();
      p.partition_index = tp.second;
      p.committed_offset = change.second;
      Progress("resetting " + std::to_string(++done) + "/" + std::to_string(plan.size()) + " partitions");
    }
    auto r = co_await c.client.Call<protocol::OffsetCommitResponse>(*coordinator, request);
    ProgressDone();
    if (!r.ok()) co_return Fail(what, r.status());
    for (const auto& t : r->topics) {
      for (const auto& p : t.partitions) {
        if (p.error_code != 0) {
          co_return Fail(what, KafkaError(p.error_code, t.name + "-" + std::to_string(p.partition_index) +
                                                            (p.error_code == 25 || p.error_code == 22
                                                                 ? " (stop the group's consumers first)"
                                                                 : "")));
        }
      }
    }
  }
  if (c.json) {
    Json out = Json::Array();
    for (const auto& [tp, change] : plan) {
      Json j = Json::Object();
      j.Set("topic", tp.first).Set("partition", tp.second);
      j.Set("current_offset", change.first >= 0 ? Json(change.first) : Json())
          .Set("new_offset", change.second);
      out.Push(std::move(j));
    }
    Json top = Json::Object();
    top.Set("group", group).Set("executed", execute).Set("partitions", std::move(out));
    std::printf("%s\n", top.Dump().c_str());
  } else {
    Table t("TOPIC", "PARTITION", "CURRENT", "NEW");
    for (const auto& [tp, change] : plan) {
      t.Add(tp.first, std::to_string(tp.second), change.first >= 0 ? std::to_string(change.first) : "-",
            std::to_string(change.second));
    }
    std::printf(
        "%s%s\n", t.Render().c_str(),
        execute ? "offsets committed" : "dry run: nothing changed (add --execute to commit these offsets)");
  }
  co_return 0;
}

}  // namespace

std::vector<CommandInfo> GroupCommands() {
  return {
      {"group",
       "list",
       "",
       "consumer groups on every broker, with their state",
       "  --state STATE             only groups in this state (Stable, Empty, ...; repeatable)\n",
       {{"--state", true}},
       NoArgs,
       List},
      {"group",
       "describe",
       "GROUP",
       "members, assignments, committed offset and lag per partition",
       "",
       {},
       OneGroup,
       Describe},
      {"group", "delete", "GROUP...", "delete empty groups and their offsets", "", {}, SomeGroups, Delete},
      {"group",
       "reset-offsets",
       "GROUP",
       "move committed offsets (a dry run unless --execute)",
       "  --topic TOPIC             a topic whose partitions to reset (repeatable)\n"
       "  --to-earliest             to each partition's log start\n"
       "  --to-latest               to each partition's end\n"
       "  --to-datetime TIME        to the first offset at or after TIME (RFC 3339)\n"
       "  --shift-by N              by N from the committed offset (negative: back)\n"
       "  --execute                 commit the new offsets (the group must have no members)\n",
       {{"--topic", true},
        {"--to-earliest", false},
        {"--to-latest", false},
        {"--to-datetime", true},
        {"--shift-by", true},
        {"--execute", false}},
       CheckReset,
       ResetOffsets},
  };
}

}  // namespace fjord::ctl
