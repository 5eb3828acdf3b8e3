#include "raft/meta_properties.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace fjord::controller {

absl::StatusOr<std::optional<MetaProperties>> ReadMetaProperties(const std::string& dir) {
  const std::string path = dir + "/meta.properties";
  std::ifstream in(path);
  if (!in) return std::optional<MetaProperties>();
  std::map<std::string, std::string> kv;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    const size_t eq = l.find('=');
    if (eq == absl::string_view::npos)
      return absl::DataLossError(absl::StrCat(path, ": line '", l, "' has no '='"));
    kv[std::string(l.substr(0, eq))] = std::string(l.substr(eq + 1));
  }
  MetaProperties props;
  if (kv["version"] != "1") return absl::DataLossError(absl::StrCat(path, ": version must be 1"));
  if (!absl::SimpleAtoi(kv["node.id"], &props.node_id))
    return absl::DataLossError(absl::StrCat(path, ": node.id is missing or not a number"));
  props.cluster_id = kv["cluster.id"];
  if (!ValidClusterId(props.cluster_id)) return absl::DataLossError(absl::StrCat(path, ": bad cluster.id"));
  return std::optional<MetaProperties>(props);
}

absl::Status WriteMetaProperties(const std::string& dir, const MetaProperties& props) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  const std::string text = absl::StrCat("#Written by fjord format\nversion=1\nnode.id=", props.node_id,
                                        "\ncluster.id=", props.cluster_id, "\n");
  const std::string tmp = dir + "/meta.properties.tmp", path = dir + "/meta.properties";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp));
  const bool ok =
      ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
    return absl::InternalError(absl::StrCat("cannot write ", path));
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

std::string RandomClusterId() {
  std::random_device rd;
  std::string bytes(16, '\0');
  for (char& c : bytes) c = static_cast<char>(rd());
  return absl::WebSafeBase64Escape(bytes);
}

bool ValidClusterId(const std::string& id) {
  std::string raw;
  return id.size() == 22 && absl::WebSafeBase64Unescape(id, &raw) && raw.size() == 16;
}

}  // namespace fjord::controller
