// fjordctl cluster info | health | quorum: brokers, controller, and partitions that are
// under-replicated (ISR smaller than the replica set) or offline (no leader); the
// metadata quorum as its leader sees it (DescribeQuorum, as kafka-metadata-quorum.sh).
#include <chrono>
#include <cstdio>

#include "fjord_protocol/messages/describe_quorum_request.h"
#include "fjord_protocol/messages/describe_quorum_response.h"
#include "fjordctl/command.h"
#include "fjordctl/output.h"

namespace fjord::ctl {

namespace {

struct Summary {
  size_t topics = 0, partitions = 0, under_replicated = 0, offline = 0;
  std::vector<std::string> offline_names, under_replicated_names;
};

Summary Summarise(const protocol::MetadataResponse& m) {
  Summary s;
  for (const auto& t : m.topics) {
    ++s.topics;
    for (const auto& p : t.partitions) {
      ++s.partitions;
      const std::string name = t.name.value_or(std::string("?")) + "-" + std::to_string(p.partition_index);
      if (p.leader_id < 0) {
        ++s.offline;
        s.offline_names.push_back(name);
      } else if (p.isr_nodes.size() < p.replica_nodes.size()) {
        ++s.under_replicated;
        s.under_replicated_names.push_back(name);
      }
    }
  }
  return s;
}

absl::Status NoArgs(const Args& a) {
  return a.positional.empty() ? absl::OkStatus() : absl::InvalidArgumentError("takes no arguments");
}

boost::asio::awaitable<int> Info(Context& c, const Args&) {
  auto m = co_await c.client.Metadata();
  if (!m.ok()) co_return Fail("cluster info", m.status());
  const Summary s = Summarise(*m);
  if (c.json) {
    Json brokers = Json::Array();
    for (const auto& b : m->brokers) {
      Json j = Json::Object();
      j.Set("node_id", b.node_id).Set("host", b.host).Set("port", b.port);
      j.Set("rack", b.rack ? Json(*b.rack) : Json());
      brokers.Push(std::move(j));
    }
    Json out = Json::Object();
    out.Set("cluster_id", m->cluster_id.value_or(std::string(""))).Set("controller_id", m->controller_id);
    out.Set("brokers", std::move(brokers)).Set("topics", static_cast<int64_t>(s.topics));
    out.Set("partitions", static_cast<int64_t>(s.partitions));
    out.Set("under_replicated_partitions", static_cast<int64_t>(s.under_replicated));
    out.Set("offline_partitions", static_cast<int64_t>(s.offline));
    std::printf("%s\n", out.Dump().c_str());
    co_return 0;
  }
  std::printf("%s %s\n%s %d\n\n", Bold("CLUSTER").c_str(), m->cluster_id.value_or(std::string("-")).c_str(),
              Bold("CONTROLLER").c_str(), m->controller_id);
  Table brokers("ID", "HOST", "PORT", "RACK");
  for (const auto& b : m->brokers) {
    brokers.Add(std::to_string(b.node_id) + (b.node_id == m->controller_id ? "*" : ""), b.host,
                std::to_string(b.port), b.rack.value_or(std::string("-")));
  }
  std::printf("%s\n", brokers.Render().c_str());
  Table counts("TOPICS", "PARTITIONS", "UNDER-REPLICATED", "OFFLINE");
  counts.Add(std::to_string(s.topics), std::to_string(s.partitions), std::to_string(s.under_replicated),
             std::to_string(s.offline));
  std::printf("%s", counts.Render().c_str());
  co_return 0;
}

// Exit 0 when every partition has a leader and a full ISR, 1 otherwise (for scripts).
boost::asio::awaitable<int> Health(Context& c, const Args&) {
  auto m = co_await c.client.Metadata();
  if (!m.ok()) co_return Fail("cluster health", m.status());
  const Summary s = Summarise(*m);
  const bool healthy = !m->brokers.empty() && s.offline == 0 && s.under_replicated == 0;
  if (c.json) {
    Json out = Json::Object();
    out.Set("healthy", healthy).Set("brokers", static_cast<int64_t>(m->brokers.size()));
    out.Set("controller_id", m->controller_id);
    Json offline = Json::Array(), under = Json::Array();
    for (const auto& n : s.offline_names) offline.Push(n);
    for (const auto& n : s.under_replicated_names) under.Push(n);
    out.Set("offline_partitions", std::move(offline)).Set("under_replicated_partitions", std::move(under));
    std::printf("%s\n", out.Dump().c_str());
  } else {
    std::printf("%s %s\n", Bold("HEALTHY").c_str(), healthy ? Green("yes").c_str() : Red("no").c_str());
    std::printf("brokers: %zu, controller: %d\n", m->brokers.size(), m->controller_id);
    std::printf(
        "offline partitions: %zu%s\n", s.offline,
        s.offline ? (" (" + s.offline_names.front() + (s.offline > 1 ? ", ..." : "") + ")").c_str() : "");
    std::printf("under-replicated partitions: %zu\n", s.under_replicated);
  }
  co_return healthy ? 0 : 1;
}

// The metadata log's leader, epoch and high watermark, and each voter's and observer's
// log end offset and lag behind the high watermark.
boost::asio::awaitable<int> Quorum(Context& c, const Args&) {
  protocol::DescribeQuorumRequest request;
  request.topics.push_back({"__cluster_metadata", {{0, {}}}, {}});
  auto answer = co_await c.client.Call<protocol::DescribeQuorumResponse>(client::Client::kAnyBroker, request);
  if (!answer.ok()) co_return Fail("cluster quorum", answer.status());
  if (answer->error_code != 0)
    co_return Fail("cluster quorum",
                   client::KafkaError(answer->error_code, answer->error_message.value_or(std::string())));
  if (answer->topics.size() != 1 || answer->topics[0].partitions.size() != 1)
    co_return Fail("cluster quorum", absl::InternalError("the answer holds no metadata partition"));
  const auto& p = answer->topics[0].partitions[0];
  if (p.error_code != 0)
    co_return Fail("cluster quorum",
                   client::KafkaError(p.error_code, p.error_message.value_or(std::string())));
  std::map<int32_t, std::string> endpoints;  // v2
  for (const auto& n : answer->nodes) {
    if (!n.listeners.empty())
      endpoints[n.node_id] = n.listeners[0].host + ":" + std::to_string(n.listeners[0].port);
  }
  struct Row {
    int32_t id = -1;
    std::string role;
    int64_t end = -1;
    int64_t caught_up_ms = -1;  // wall clock; -1 unknown
  };
  std::vector<Row> rows;
  for (const auto& v : p.current_voters) {
    rows.push_back(Row{v.replica_id, v.replica_id == p.leader_id ? "leader" : "follower", v.log_end_offset,
                       v.last_caught_up_timestamp});
  }
  for (const auto& o : p.observers)
    rows.push_back(Row{o.replica_id, "observer", o.log_end_offset, o.last_caught_up_timestamp});
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  auto lag = [&](int64_t end) {
    return end < 0 ? int64_t{-1} : std::max<int64_t>(0, p.high_watermark - end);
  };
  if (c.json) {
    Json replicas = Json::Array();
    for (const Row& r : rows) {
      Json j = Json::Object();
      j.Set("node_id", r.id).Set("role", r.role).Set("log_end_offset", r.end);
      j.Set("lag", r.end < 0 ? Json() : Json(lag(r.end)));
      j.Set("last_caught_up_ms_ago",
            r.caught_up_ms < 0 ? Json() : Json(std::max<int64_t>(0, now_ms - r.caught_up_ms)));
      j.Set("endpoint", endpoints.contains(r.id) ? Json(endpoints[r.id]) : Json());
      replicas.Push(std::move(j));
    }
    Json out = Json::Object();
    out.Set("leader_id", p.leader_id)
        .Set("leader_epoch", p.leader_epoch)
        .Set("high_watermark", p.high_watermark);
    out.Set("replicas", std::move(replicas));
    std::printf("%s\n", out.Dump().c_str());
    co_return 0;
  }
  std::printf("%s %d\n%s %d\n%s %ld\n\n", Bold("LEADER").c_str(), p.leader_id, Bold("EPOCH").c_str(),
              p.leader_epoch, Bold("HIGH WATERMARK").c_str(), static_cast<long>(p.high_watermark));
  Table table("NODE", "ROLE", "LOG END OFFSET", "LAG", "CAUGHT UP", "ENDPOINT");
  for (const Row& r : rows) {
    const bool known = r.end >= 0;
    table.Add(std::to_string(r.id), r.role, known ? std::to_string(r.end) : "unknown",
              known ? std::to_string(lag(r.end)) : "-",
              r.caught_up_ms < 0 ? "never"
                                 : std::to_string(std::max<int64_t>(0, now_ms - r.caught_up_ms)) + " ms ago",
              endpoints.contains(r.id) ? endpoints[r.id] : "-");
  }
  std::printf("%s", table.Render().c_str());
  co_return 0;
}

}  // namespace

std::vector<CommandInfo> ClusterCommands() {
  return {
      {"cluster", "info", "", "brokers, the controller, and partition counts", "", {}, NoArgs, Info},
      {"cluster",
       "health",
       "",
       "offline and under-replicated partitions; exit 1 unless healthy",
       "",
       {},
       NoArgs,
       Health},
      {"cluster",
       "quorum",
       "",
       "the metadata quorum: leader, epoch, and each controller's log end offset and lag",
       "",
       {},
       NoArgs,
       Quorum},
  };
}

}  // namespace fjord::ctl
