// fjordctl: the ops CLI. `fjordctl [--brokers LIST] [--json] GROUP COMMAND [ARGS]`.
// Exit codes: 0 done, 1 the operation failed, 2 bad usage.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "fjord/client.h"
#include "fjordctl/command.h"

namespace {

using fjord::ctl::CommandInfo;

std::vector<CommandInfo> AllCommands() {
  std::vector<CommandInfo> all = fjord::ctl::ClusterCommands();
  for (auto& c : fjord::ctl::TopicCommands()) all.push_back(std::move(c));
  for (auto& c : fjord::ctl::GroupCommands()) all.push_back(std::move(c));
  for (auto& c : fjord::ctl::ConfigCommands()) all.push_back(std::move(c));
  for (auto& c : fjord::ctl::ProduceConsumeCommands()) all.push_back(std::move(c));
  return all;
}

constexpr char kGlobalHelp[] =
    "Global flags (anywhere on the line):\n"
    "  --brokers HOST:PORT[,...]  brokers to bootstrap from (default: $FJORD_BROKERS, else localhost:9092)\n"
    "  --json                     print JSON instead of tables\n"
    "  --timeout MS               give up on an operation after MS milliseconds, retries included (30000)\n"
    "  -h, --help                 show help (also after a group or a command)\n";

void PrintHelp(const std::vector<CommandInfo>& all, const std::string& group) {
  std::printf("usage: fjordctl [global flags] %s COMMAND [ARGS]\n\nCommands:\n",
              group.empty() ? "GROUP" : group.c_str());
  for (const auto& c : all) {
    if (!group.empty() && c.group != group) continue;
    const std::string line =
        c.group + (c.name.empty() ? "" : " " + c.name) + (c.usage.empty() ? "" : " " + c.usage);
    std::printf("  %-34s %s\n", line.c_str(), c.summary.c_str());
  }
  std::printf("\n%s\nExit codes: 0 done, 1 the operation failed, 2 bad usage.\n", kGlobalHelp);
}

void PrintCommandHelp(const CommandInfo& c) {
  std::printf("usage: fjordctl [global flags] %s%s%s%s%s\n\n%s\n", c.group.c_str(), c.name.empty() ? "" : " ",
              c.name.c_str(), c.usage.empty() ? "" : " ", c.usage.c_str(), c.summary.c_str());
  if (!c.help.empty()) std::printf("\nFlags:\n%s", c.help.c_str());
  std::printf("\n%s", kGlobalHelp);
}

int Usage(const std::string& why) {
  std::fprintf(stderr, "fjordctl: %s (see fjordctl --help)\n", why.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<CommandInfo> all = AllCommands();
  std::vector<std::string> rest;
  bool json = false, help = false;
  const char* env = std::getenv("FJORD_BROKERS");
  std::string brokers = env != nullptr && *env != '\0' ? env : "localhost:9092";
  int64_t timeout_ms = 30000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      if (a == flag && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (a == "--json") {
      json = true;
    } else if (a == "-h" || a == "--help") {
      help = true;
    } else if (a == "--brokers" || a.rfind("--brokers=", 0) == 0) {
      auto v = value("--brokers");
      if (!v || v->empty()) return Usage("--brokers needs HOST:PORT[,...]");
      brokers = *v;
    } else if (a == "--timeout" || a.rfind("--timeout=", 0) == 0) {
      auto v = value("--timeout");
      if (!v || !absl::SimpleAtoi(*v, &timeout_ms) || timeout_ms <= 0)
        return Usage("--timeout needs milliseconds");
    } else {
      rest.push_back(a);
    }
  }
  if (rest.empty()) {
    PrintHelp(all, "");
    return help ? 0 : 2;
  }
  const std::string group = rest[0];
  const bool known_group =
      std::any_of(all.begin(), all.end(), [&](const auto& c) { return c.group == group; });
  if (!known_group) return Usage("unknown command group '" + group + "'");
  // A group that is itself a command (produce, consume) takes its arguments directly.
  const CommandInfo* command = nullptr;
  size_t first_arg = 2;
  for (const auto& c : all) {
    if (c.group == group && c.name.empty()) command = &c, first_arg = 1;
  }
  if (command == nullptr) {
    if (rest.size() < 2) {
      PrintHelp(all, group);
      return help ? 0 : 2;
    }
    for (const auto& c : all) {
      if (c.group == group && c.name == rest[1]) command = &c;
    }
    if (command == nullptr) return Usage("unknown command '" + group + " " + rest[1] + "'");
  }
  if (help) {
    PrintCommandHelp(*command);
    return 0;
  }
  const std::string label = group + (command->name.empty() ? "" : " " + command->name);
  auto args =
      fjord::ctl::ParseArgs({rest.begin() + static_cast<long>(first_arg), rest.end()}, command->flags);
  if (!args.ok()) return Usage(label + ": " + std::string(args.status().message()));
  if (absl::Status s = command->check(*args); !s.ok()) return Usage(label + ": " + std::string(s.message()));

  fjord::client::ClientOptions options;
  options.bootstrap = absl::StrSplit(brokers, ',', absl::SkipEmpty());
  options.client_id = "fjordctl";
  options.timeout = std::chrono::milliseconds(timeout_ms);
  boost::asio::io_context io;
  fjord::client::Client client(io.get_executor(), options);
  int code = 1;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        if (absl::Status s = co_await client.Bootstrap(); !s.ok()) {
          code = s.code() == absl::StatusCode::kInvalidArgument
                     ? Usage(std::string(s.message()))
                     : fjord::ctl::Fail("cannot reach the cluster", s);
          co_return;
        }
        fjord::ctl::Context ctx{client, json};
        code = co_await command->run(ctx, *args);
      },
      boost::asio::detached);
  io.run();
  return code;
}
