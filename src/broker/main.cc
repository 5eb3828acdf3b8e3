// fjord: a node (broker, controller, or both), and the storage commands:
//   fjord [server.properties] [--override key=value]... [--smp N]
//   fjord format [server.properties] [--override key=value]... --cluster-id ID [--ignore-formatted]
//   fjord random-uuid
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "broker/admin_http.h"
#include "broker/broker.h"
#include "broker/config.h"
#include "broker/controller_metadata_store.h"
#include "broker/local_metadata_store.h"
#include "broker/open_file_limit.h"
#include "broker/server.h"
#include "broker/storage_format.h"
#include "raft/controller.h"
#include "raft/meta_properties.h"
#include "spdlog/spdlog.h"

namespace {

constexpr char kUsage[] =
    "usage: fjord [server.properties] [--override key=value]... [--smp N]\n"
    "       fjord format [server.properties] [--override key=value]... --cluster-id ID [--ignore-formatted]\n"
    "       fjord random-uuid\n"
    "\n"
    "Starts a Fjord node. Configuration uses Kafka's server.properties key names\n"
    "(node.id, process.roles, listeners, advertised.listeners, log.dirs, num.partitions,\n"
    "controller.quorum.voters, controller.listener.names, auto.create.topics.enable, ...).\n"
    "Overrides are applied after the file. --smp sets the number of shards (default: one\n"
    "per CPU the process may run on). `format` writes meta.properties for a cluster id\n"
    "into every log dir and the metadata dir, as kafka-storage format does; `random-uuid`\n"
    "prints a new cluster id.\n"
    "A single node that is its own one-voter quorum formats itself on first start.\n";

// Runs until SIGINT or SIGTERM (a node with no Kafka listener: a controller alone).
void WaitForSignal() {
  boost::asio::io_context ctx(1);
  boost::asio::signal_set signals(ctx, SIGINT, SIGTERM);
  signals.async_wait(
      [&](const boost::system::error_code&, int sig) { spdlog::info("signal {}: shutting down", sig); });
  ctx.run();
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string command, cluster_id_arg;
  bool ignore_formatted = false;
  int first = 1;
  if (argc > 1 && (std::string(argv[1]) == "format" || std::string(argv[1]) == "random-uuid")) {
    command = argv[1];
    first = 2;
  }
  if (command == "random-uuid") {
    std::printf("%s\n", fjord::controller::RandomClusterId().c_str());
    return 0;
  }
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (command == "format" && a == "--cluster-id" && i + 1 < argc) {
      cluster_id_arg = argv[++i];
    } else if (command == "format" && a == "--ignore-formatted") {
      ignore_formatted = true;
    } else if ((a == "--override" || a == "--smp") && i + 1 < argc) {
      overrides.push_back(a == "--smp" ? std::string("smp=") + argv[++i] : argv[++i]);
    } else if (a.rfind("--smp=", 0) == 0) {
      overrides.push_back("smp=" + a.substr(6));
    } else if (!a.empty() && a[0] != '-' && config_path.empty()) {
      config_path = a;
    } else {
      std::fprintf(stderr, "fjord: unexpected argument '%s'\n\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  // sendfile(2) has no MSG_NOSIGNAL: a peer that closes while a Fetch response is sent
  // from a file would otherwise kill the process with SIGPIPE instead of failing the write.
  std::signal(SIGPIPE, SIG_IGN);
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  std::vector<std::string> warnings;
  auto config = fjord::broker::LoadConfig(config_path, overrides, &warnings);
  if (!config.ok()) {
    std::fprintf(stderr, "fjord: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  for (const auto& w : warnings) spdlog::warn("{}", w);
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "fjord: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  if (command == "format") {
    if (cluster_id_arg.empty())
      return fail(absl::InvalidArgumentError("format needs --cluster-id (fjord random-uuid makes one)"));
    if (absl::Status s = fjord::broker::FormatStorage(*config, cluster_id_arg, ignore_formatted); !s.ok())
      return fail(s);
    std::printf("Formatted %s (node %d) for cluster %s\n", config->metadata_dir().c_str(), config->node_id,
                cluster_id_arg.c_str());
    return 0;
  }

  // With controller.quorum.voters the quorum owns the metadata; without, a lone broker
  // keeps its own (a development mode with no controller at all).
  const bool quorum = !config->controller_quorum_voters.empty();
  std::string cluster_id;
  if (quorum) {
    auto formatted = fjord::broker::EnsureFormatted(*config);
    if (!formatted.ok()) return fail(formatted.status());
    cluster_id = *formatted;
  } else if (config->has_role("controller")) {
    return fail(absl::InvalidArgumentError(
        "process.roles includes controller but controller.quorum.voters is not set"));
  }
  std::unique_ptr<fjord::controller::Controller> controller;
  if (config->has_role("controller")) {
    const fjord::broker::Listener* listener = config->controller_listener();
    if (listener == nullptr)
      return fail(
          absl::InvalidArgumentError("a controller needs a listener named in controller.listener.names (e.g. "
                                     "CONTROLLER://localhost:9093)"));
    auto voters = fjord::controller::ParseVoters(config->controller_quorum_voters);
    if (!voters.ok()) return fail(voters.status());
    auto started = fjord::controller::Controller::Start(
        {.node_id = config->node_id,
         .voters = *voters,
         .listen_host = listener->host,
         .listen_port = listener->port,
         .metadata_dir = config->metadata_dir() + "/__cluster_metadata-0",
         .cluster_id = cluster_id,
         .election_timeout_ms = config->controller_quorum_election_timeout_ms,
         .session_timeout_ms = config->broker_session_timeout_ms,
         .snapshot_bytes = static_cast<uint64_t>(config->metadata_snapshot_bytes)});
    if (!started.ok()) return fail(started.status());
    controller = std::move(*started);
  }
  if (!config->has_role("broker")) {
    WaitForSignal();
    controller->Stop();
    spdlog::info("stopped cleanly");
    return 0;
  }
  absl::StatusOr<std::unique_ptr<fjord::broker::MetadataStore>> metadata;
  if (quorum) {
    metadata = fjord::broker::ControllerMetadataStore::Open(*config, cluster_id, absl::Seconds(60));
  } else {
    metadata = fjord::broker::LocalMetadataStore::Open(*config);
  }
  if (!metadata.ok()) return fail(metadata.status());
  spdlog::info("open-file limit: {}", fjord::broker::RaiseOpenFileLimit());
  fjord::broker::Broker broker(*config, std::move(*metadata));
  if (absl::Status s = broker.Start(); !s.ok()) {
    spdlog::critical("cannot start: {}", s.ToString());
    return 1;
  }
  boost::asio::io_context accept_ctx(1);
  fjord::broker::Server server(broker, accept_ctx);
  auto port = server.Listen();
  if (!port.ok()) {
    std::fprintf(stderr, "fjord: %s\n", std::string(port.status().message()).c_str());
    broker.Shutdown();
    return 1;
  }
  fjord::broker::AdminHttp admin(broker, accept_ctx);
  auto admin_port = admin.Listen(config->admin_listener.host, config->admin_listener.port);
  if (!admin_port.ok()) {
    std::fprintf(stderr, "fjord: %s\n", std::string(admin_port.status().message()).c_str());
    server.Close();
    broker.Shutdown();
    return 1;
  }
  if (controller) admin.set_extra_metrics([c = controller.get()] { return c->Metrics(); });
  admin.set_ready(true);
  spdlog::info("admin http on {}:{} (/metrics, /health, /ready)", config->admin_listener.host, *admin_port);
  const auto adv = config->advertised_client_listener();
  spdlog::info("fjord node {} serving Kafka on port {} (advertised {}:{}), data in {}", config->node_id,
               *port, adv.host, adv.port, config->log_dirs.front());
  boost::asio::signal_set signals(accept_ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
    server.Close();
    admin.Close();
    accept_ctx.stop();
  });
  accept_ctx.run();
  // The listeners' cancelled accepts are still queued; an accepted socket belongs to a
  // shard's context, so they must finish while the shards exist (destroyed with
  // accept_ctx after the shards, they touched freed memory: ASan, at every stop).
  accept_ctx.restart();
  accept_ctx.poll();
  broker.Shutdown();
  spdlog::info("stopped cleanly");
  return 0;
}
