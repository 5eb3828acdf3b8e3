// fjord-quorum: looks at and exercises a controller quorum over its gRPC services, as
// kafka-metadata-quorum.sh does for KRaft.
//
//   fjord-quorum --quorum 1@host:port,2@host:port,... describe [--json]
//   fjord-quorum --quorum ... metadata [--json]
//   fjord-quorum --quorum ... create-topic NAME [--partitions N] [--replication-factor R]
//   fjord-quorum --quorum ... set-config KEY=VALUE...       (cluster-wide broker defaults)
//   fjord-quorum --quorum ... bench-writes [--count N] [--seconds S] [--concurrency C]
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/controller.grpc.pb.h"
#include "raft/controller_client.h"
#include "raft/metadata_state.h"
#include "raft/quorum_config.h"

namespace {

namespace rpc = fjord::controller::rpc;
using fjord::controller::ControllerClient;

constexpr char kUsage[] =
    "usage: fjord-quorum --quorum ID@HOST:PORT[,...] COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  describe [--json]                 each voter's role, leader, term and log indexes\n"
    "  metadata [--json]                 brokers and topics as the quorum has committed them\n"
    "  create-topic NAME [--partitions N] [--replication-factor R]\n"
    "  set-config KEY=VALUE...           cluster-wide dynamic broker configs\n"
    "  bench-writes [--count N] [--seconds S] [--concurrency C] [--kind topics|configs]\n"
    "                                    commits 1-partition CreateTopics (or one cluster-wide\n"
    "                                    config change each) and reports commits/s\n"
    "\n"
    "--timeout S (default 30) bounds how long a write looks for a leader that commits it.\n";

absl::Duration g_timeout = absl::Seconds(30);

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "fjord-quorum: %s\n", message.c_str());
  return code;
}

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

std::unique_ptr<rpc::Controller::Stub> StubFor(const fjord::controller::VoterAddress& a) {
  return rpc::Controller::NewStub(grpc::CreateChannel(a.target(), grpc::InsecureChannelCredentials()));
}

int Describe(const std::map<int32_t, fjord::controller::VoterAddress>& voters, bool json) {
  if (!json)
    std::printf("%-6s %-22s %-18s %-7s %-6s %-10s %-10s %-10s\n", "NODE", "ADDRESS", "ROLE", "LEADER", "TERM",
                "COMMIT", "LAST", "SNAPSHOT");
  std::string out = "[";
  int reachable = 0;
  for (const auto& [id, addr] : voters) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    rpc::DescribeQuorumResponse r;
    grpc::Status s = StubFor(addr)->DescribeQuorum(&ctx, rpc::DescribeQuorumRequest(), &r);
    if (json) {
      if (out.size() > 1) out += ",";
      out += s.ok() ? Json(r) : absl::StrCat("{\"node_id\":", id, ",\"error\":\"unreachable\"}");
    } else if (s.ok()) {
      std::printf("%-6d %-22s %-18s %-7d %-6lu %-10lu %-10lu %-10lu\n", id, addr.target().c_str(),
                  r.role().c_str(), r.leader_id(), r.term(), r.commit_index(), r.last_index(),
                  r.snapshot_index());
    } else {
      std::printf("%-6d %-22s %-18s\n", id, addr.target().c_str(), "unreachable");
    }
    reachable += s.ok() ? 1 : 0;
  }
  if (json) std::printf("%s]\n", out.c_str());
  return reachable > 0 ? 0 : 1;
}

int Metadata(ControllerClient& client, size_t voters, bool json) {
  rpc::DescribeMetadataResponse r;
  int32_t id = 0;
  grpc::Status s;
  for (size_t attempt = 0; attempt < voters; ++attempt) {  // the first controller that answers
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    s = client.NextVoter(&id).DescribeMetadata(&ctx, rpc::DescribeMetadataRequest(), &r);
    if (s.ok()) break;
  }
  if (!s.ok()) return Fail(absl::StrCat("no controller answered; controller ", id, ": ", s.error_message()));
  if (json) {
    std::printf("%s\n", Json(r).c_str());
    return 0;
  }
  auto state = fjord::metadata::MetadataState::Restore(r.state(), r.offset());
  if (!state.ok()) return Fail(state.status().ToString());
  std::printf("cluster %s, metadata offset %lu (from controller %d)\n\n", state->cluster_id().c_str(),
              r.offset(), id);
  std::printf("%-7s %-8s %-8s %-8s %s\n", "BROKER", "EPOCH", "FENCED", "RACK", "ENDPOINTS");
  for (const auto& [bid, b] : state->brokers()) {
    std::string endpoints;
    for (const auto& e : b.endpoints)
      absl::StrAppend(&endpoints, e.listener(), "://", e.host(), ":", e.port(), " ");
    std::printf("%-7d %-8ld %-8s %-8s %s\n", bid, b.epoch, b.fenced ? "yes" : "no",
                b.rack.empty() ? "-" : b.rack.c_str(), endpoints.c_str());
  }
  std::printf("\n%-30s %-10s %-7s %-12s %s\n", "TOPIC", "PARTITION", "LEADER", "LEADER-EPOCH",
              "REPLICAS / ISR");
  for (const auto& [tid, t] : state->topics()) {
    for (size_t p = 0; p < t.partitions.size(); ++p) {
      const auto& ps = t.partitions[p];
      std::string replicas, isr;
      for (int32_t x : ps.replicas) absl::StrAppend(&replicas, replicas.empty() ? "" : ",", x);
      for (int32_t x : ps.isr) absl::StrAppend(&isr, isr.empty() ? "" : ",", x);
      std::printf("%-30s %-10zu %-7d %-12d %s / %s\n", t.name.c_str(), p, ps.leader, ps.leader_epoch,
                  replicas.c_str(), isr.c_str());
    }
  }
  return 0;
}

grpc::Status CreateTopic(ControllerClient& client, const std::string& name, int32_t partitions, int32_t rf,
                         rpc::CreateTopicResponse* resp) {
  rpc::CreateTopicRequest req;
  req.set_name(name);
  req.set_partitions(partitions);
  req.set_replication_factor(rf);
  return client.CallLeader([&](rpc::Controller::Stub& stub,
                               grpc::ClientContext& ctx) { return stub.CreateTopic(&ctx, req, resp); },
                           g_timeout);
}

grpc::Status SetConfigs(ControllerClient& client, const std::map<std::string, std::string>& configs,
                        rpc::WriteResponse* resp) {
  rpc::AlterConfigsRequest req;
  req.set_resource_type(fjord::metadata::kBrokerResource);
  for (const auto& [k, v] : configs) (*req.mutable_configs())[k] = v;
  return client.CallLeader([&](rpc::Controller::Stub& stub,
                               grpc::ClientContext& ctx) { return stub.AlterConfigs(&ctx, req, resp); },
                           g_timeout);
}

int BenchWrites(ControllerClient& client, int64_t count, double seconds, int concurrency, bool topics) {
  std::atomic<int64_t> next{0}, done{0}, failed{0};
  const std::string prefix =
      absl::StrCat("bench-", std::chrono::system_clock::now().time_since_epoch().count(), "-");
  const auto start = std::chrono::steady_clock::now();
  const auto stop_at = start + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      while (std::chrono::steady_clock::now() < stop_at) {
        const int64_t i = next++;
        if (i >= count) return;
        rpc::CreateTopicResponse resp;
        rpc::WriteResponse written;
        const bool ok = topics
                            ? CreateTopic(client, prefix + std::to_string(i), 1, 1, &resp).ok()
                            : SetConfigs(client, {{"fjord.bench.write", std::to_string(i)}}, &written).ok();
        if (ok) {
          ++done;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "{\"kind\": \"%s\", \"committed\": %ld, \"failed\": %ld, \"seconds\": %.3f, \"commits_per_second\": "
      "%.1f, "
      "\"concurrency\": %d}\n",
      topics ? "topics" : "configs", done.load(), failed.load(), elapsed,
      static_cast<double>(done.load()) / elapsed, concurrency);
  return failed.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string quorum;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-h" || args[i] == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args[i] == "--quorum" && i + 1 < args.size()) {
      quorum = args[++i];
    } else if (args[i] == "--timeout" && i + 1 < args.size()) {
      int64_t t = 0;
      if (!absl::SimpleAtoi(args[++i], &t) || t <= 0)
        return Fail("--timeout takes a positive number of seconds", 2);
      g_timeout = absl::Seconds(t);
    } else {
      rest.push_back(args[i]);
    }
  }
  if (quorum.empty() || rest.empty())
    return Fail(absl::StrCat("needs --quorum and a command\n\n", kUsage), 2);
  auto voters = fjord::controller::ParseVoters(quorum);
  if (!voters.ok()) return Fail(std::string(voters.status().message()), 2);
  ControllerClient client(*voters);
  const std::string command = rest[0];
  bool json = false;
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;
  for (size_t i = 1; i < rest.size(); ++i) {
    if (rest[i] == "--json") {
      json = true;
    } else if (rest[i].rfind("--", 0) == 0 && i + 1 < rest.size()) {
      flags[rest[i]] = rest[i + 1];
      ++i;
    } else if (rest[i].rfind("--", 0) == 0) {
      return Fail(absl::StrCat("option ", rest[i], " needs a value"), 2);
    } else {
      positional.push_back(rest[i]);
    }
  }
  auto int_flag = [&](const std::string& name, int64_t fallback, int64_t* out) {
    auto it = flags.find(name);
    if (it == flags.end()) {
      *out = fallback;
      return true;
    }
    return absl::SimpleAtoi(it->second, out) && *out > 0;
  };
  if (command == "describe") return Describe(*voters, json);
  if (command == "metadata") return Metadata(client, voters->size(), json);
  if (command == "create-topic") {
    int64_t partitions = 0, rf = 0;
    if (positional.size() != 1 || !int_flag("--partitions", 1, &partitions) ||
        !int_flag("--replication-factor", 1, &rf))
      return Fail("usage: create-topic NAME [--partitions N] [--replication-factor R]", 2);
    rpc::CreateTopicResponse resp;
    grpc::Status s =
        CreateTopic(client, positional[0], static_cast<int32_t>(partitions), static_cast<int32_t>(rf), &resp);
    if (!s.ok()) return Fail(s.error_message());
    std::printf("created topic %s (%s) with %d partitions at offset %lu\n", positional[0].c_str(),
                fjord::metadata::TopicIdString(resp.topic_id()).c_str(), resp.partitions(), resp.offset());
    return 0;
  }
  if (command == "set-config") {
    std::map<std::string, std::string> configs;
    for (const std::string& kv : positional) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return Fail(absl::StrCat("'", kv, "' is not KEY=VALUE"), 2);
      configs[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    rpc::WriteResponse resp;
    grpc::Status s = SetConfigs(client, configs, &resp);
    if (!s.ok()) return Fail(s.error_message());
    std::printf("committed at offset %lu\n", resp.offset());
    return 0;
  }
  if (command == "bench-writes") {
    int64_t count = 0, seconds = 0, concurrency = 0;
    if (!int_flag("--count", 1000000, &count) || !int_flag("--seconds", 10, &seconds) ||
        !int_flag("--concurrency", 1, &concurrency))
      return Fail("bench-writes: --count, --seconds and --concurrency take positive integers", 2);
    const std::string kind = flags.contains("--kind") ? flags["--kind"] : "topics";
    if (kind != "topics" && kind != "configs") return Fail("bench-writes: --kind is topics or configs", 2);
    return BenchWrites(client, count, static_cast<double>(seconds), static_cast<int>(concurrency),
                       kind == "topics");
  }
  return Fail(absl::StrCat("unknown command '", command, "'\n\n", kUsage), 2);
}
