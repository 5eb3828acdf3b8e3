// fjordctl's commands: each is a coroutine on the client that prints its result and
// returns the exit code (0 done, 1 the operation failed; bad usage never gets here).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fjord/client.h"

namespace fjord::ctl {

// Flags a command takes: name (with its dashes) -> whether it takes a value.
using FlagSpec = std::map<std::string, bool>;

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // repeated flags keep every value
  bool Has(const std::string& flag) const { return values.contains(flag); }
  std::string Get(const std::string& flag, const std::string& fallback = "") const {
    auto it = values.find(flag);
    return it == values.end() || it->second.empty() ? fallback : it->second.back();
  }
};

// Splits argv by `spec`: `--flag value`, `--flag=value`, switches, positionals.
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv, const FlagSpec& spec);

struct Context {
  client::Client& client;
  bool json = false;
};

// Prints "fjordctl: <what>: <why>" on stderr and returns exit code 1.
int Fail(const std::string& what, const absl::Status& why);

struct CommandInfo {
  std::string group;    // "topic"
  std::string name;     // "create"
  std::string usage;    // arguments after "fjordctl topic create"
  std::string summary;  // one line
  std::string help;     // the flags, one per line
  FlagSpec flags;
  // Checks positionals and flag values before anything is sent (exit 2 on a problem).
  absl::Status (*check)(const Args&);
  boost::asio::awaitable<int> (*run)(Context&, const Args&);
};

std::vector<CommandInfo> ClusterCommands();
std::vector<CommandInfo> TopicCommands();
std::vector<CommandInfo> GroupCommands();
std::vector<CommandInfo> ConfigCommands();
std::vector<CommandInfo> ProduceConsumeCommands();

}  // namespace fjord::ctl
