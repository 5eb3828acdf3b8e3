#include <cstdio>

#include "absl/strings/str_cat.h"
#include "fjordctl/command.h"

namespace fjord::ctl {

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv, const FlagSpec& spec) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() < 2 || a[0] != '-' || a == "--") {
      args.positional.push_back(a);
      continue;
    }
    std::string name = a, value;
    const size_t eq = a.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    }
    auto it = spec.find(name);
    if (it == spec.end()) return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    if (!it->second) {
      if (inline_value) return absl::InvalidArgumentError(absl::StrCat(name, " takes no value"));
      args.values[name];
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argv.size()) return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      value = argv[++i];
    }
    args.values[name].push_back(value);
  }
  return args;
}

int Fail(const std::string& what, const absl::Status& why) {
  std::fprintf(stderr, "fjordctl: %s: %s\n", what.c_str(), std::string(why.message()).c_str());
  return 1;
}

}  // namespace fjord::ctl
