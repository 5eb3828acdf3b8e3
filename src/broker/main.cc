// fjord: the broker. `fjord [server.properties] [--override key=value]... [--smp N]`
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "broker/admin_http.h"
#include "broker/broker.h"
#include "broker/config.h"
#include "broker/local_metadata_store.h"
#include "broker/open_file_limit.h"
#include "broker/server.h"
#include "spdlog/spdlog.h"

namespace {

constexpr char kUsage[] =
    "usage: fjord [server.properties] [--override key=value]... [--smp N]\n"
    "\n"
    "Starts a Fjord node. Configuration uses Kafka's server.properties key names\n"
    "(node.id, process.roles, listeners, advertised.listeners, log.dirs, num.partitions,\n"
    "auto.create.topics.enable, log.segment.bytes, message.max.bytes, ...). Overrides are\n"
    "applied after the file. --smp sets the number of shards (default: one per core).\n";

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::vector<std::string> overrides;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if ((a == "--override" || a == "--smp") && i + 1 < argc) {
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
  for (const auto& role : config->process_roles) {
    if (role == "controller") {
      spdlog::warn(
          "process.roles includes controller: the KRaft quorum is not built yet; "
          "this node keeps its metadata locally");
    }
  }
  auto metadata = fjord::broker::LocalMetadataStore::Open(*config);
  if (!metadata.ok()) {
    std::fprintf(stderr, "fjord: %s\n", std::string(metadata.status().message()).c_str());
    return 1;
  }
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
  broker.Shutdown();
  spdlog::info("stopped cleanly");
  return 0;
}
