#include "broker/local_metadata_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "raft/meta_properties.h"
#include "raft/placement.h"

namespace fjord::broker {
namespace {

protocol::Uuid RandomUuid() {
  std::random_device rd;
  protocol::Uuid u;
  for (auto& b : u.bytes) b = static_cast<uint8_t>(rd());
  u.bytes[6] = (u.bytes[6] & 0x0f) | 0x40;  // version 4
  u.bytes[8] = (u.bytes[8] & 0x3f) | 0x80;
  return u;
}

bool ParseBase64Uuid(const std::string& s, protocol::Uuid* out) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  if (s.size() != 22) return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : s) {
    const size_t v = kAlphabet.find(c);
    if (v == std::string::npos) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < 16) out->bytes[n++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  return n == 16;
}

absl::Status WriteAtomically(const std::filesystem::path& path, const std::string& contents) {
  const auto tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("open ", tmp, ": ", std::strerror(errno)));
  const bool ok = ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return absl::UnavailableError(absl::StrCat("write ", tmp, ": ", std::strerror(errno)));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return absl::UnavailableError(absl::StrCat("rename ", tmp));
  int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalMetadataStore>> LocalMetadataStore::Open(const BrokerConfig& config) {
  const auto dir = std::filesystem::path(config.log_dirs.front()) / "__fjord_metadata";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("create ", dir.string(), ": ", ec.message()));
  std::unique_ptr<LocalMetadataStore> store(new LocalMetadataStore(config, dir));
  if (absl::Status s = store->Load(); !s.ok()) return s;
  return store;
}

absl::Status LocalMetadataStore::Load() {
  auto image = std::make_shared<MetadataImage>();
  image->controller_id = config_.node_id;
  // meta.properties as the quorum's nodes keep it (raft/meta_properties.h): written on the
  // first start, and a directory of another node is refused.
  auto meta = controller::ReadMetaProperties(dir_.string());
  if (!meta.ok()) return meta.status();
  if (!*meta) {
    *meta = controller::MetaProperties{config_.node_id, controller::RandomClusterId()};
    if (absl::Status s = controller::WriteMetaProperties(dir_.string(), **meta); !s.ok()) return s;
  } else if ((*meta)->node_id != config_.node_id) {
    return absl::FailedPreconditionError(absl::StrCat((dir_ / "meta.properties").string(),
                                                      " belongs to node.id ", (*meta)->node_id, ", not ",
                                                      config_.node_id));
  }
  image->cluster_id = (*meta)->cluster_id;
  std::string line;
  std::ifstream topics(dir_ / "topics");
  while (std::getline(topics, line)) {
    std::istringstream in(line);
    std::string kind, id;
    if (line.rfind("producer_ids ", 0) == 0) {
      in >> kind >> next_producer_id_;
      continue;
    }
    if (line.rfind("config ", 0) == 0) {  // config <topic> <key> <value to the end of the line>
      std::string topic, key, value;
      in >> kind >> topic >> key;
      std::getline(in >> std::ws, value);
      auto it = image->topics.find(topic);
      if (it == image->topics.end()) {
        return absl::DataLossError(absl::StrCat("config for unknown topic in ", (dir_ / "topics").string()));
      }
      it->second.configs[key] = value;
      continue;
    }
    if (line.rfind("broker_config ", 0) == 0) {  // broker_config <node id or *> <key> <value>
      std::string resource, key, value;
      in >> kind >> resource >> key;
      std::getline(in >> std::ws, value);
      image->broker_configs[resource == "*" ? "" : resource][key] = value;
      continue;
    }
    TopicInfo t;
    in >> kind >> id >> t.partitions >> t.replication_factor >> t.name;
    if (kind != "topic" || !ParseBase64Uuid(id, &t.id) || t.partitions <= 0 || t.name.empty()) {
      return absl::DataLossError(absl::StrCat("corrupt line in ", (dir_ / "topics").string(), ": ", line));
    }
    image->topics[t.name] = t;
  }
  image_ = std::move(image);
  return absl::OkStatus();
}

absl::Status LocalMetadataStore::Persist(const MetadataImage& image) {
  std::string out;
  for (const auto& [name, t] : image.topics) {
    absl::StrAppend(&out, "topic ", t.id.ToString(), " ", t.partitions, " ", t.replication_factor, " ", name,
                    "\n");
  }
  for (const auto& [name, t] : image.topics) {
    for (const auto& [k, v] : t.configs) absl::StrAppend(&out, "config ", name, " ", k, " ", v, "\n");
  }
  for (const auto& [resource, configs] : image.broker_configs) {
    for (const auto& [k, v] : configs) {
      absl::StrAppend(&out, "broker_config ", resource.empty() ? "*" : resource, " ", k, " ", v, "\n");
    }
  }
  absl::StrAppend(&out, "producer_ids ", next_producer_id_, "\n");
  return WriteAtomically(dir_ / "topics", out);
}

std::shared_ptr<const MetadataImage> LocalMetadataStore::Current() const {
  std::lock_guard lock(mu_);
  return image_;
}

absl::StatusOr<TopicInfo> LocalMetadataStore::CreateTopic(const CreateTopicRequest& request) {
  auto resolved = ResolveNewTopic(request, config_.num_partitions, config_.default_replication_factor);
  if (!resolved.ok()) return resolved.status();
  TopicInfo t = std::move(*resolved);
  if (absl::Status s = metadata::CheckEnoughBrokers(t.replication_factor, 1); !s.ok()) return s;
  std::lock_guard lock(mu_);
  if (image_->topics.contains(t.name)) {
    return metadata::TopicAlreadyExists(t.name);
  }
  std::vector<std::string_view> names;
  for (const auto& [name, topic] : image_->topics) names.push_back(name);
  if (absl::Status s = metadata::ValidateNoCollision(t.name, names); !s.ok()) return s;
  t.id = RandomUuid();
  if (request.validate_only) return t;
  auto next = std::make_shared<MetadataImage>(*image_);
  next->topics[t.name] = t;
  if (absl::Status s = Persist(*next); !s.ok()) return s;
  image_ = std::move(next);
  return t;
}

absl::StatusOr<int64_t> LocalMetadataStore::AllocateProducerIds(int32_t count) {
  std::lock_guard lock(mu_);
  const int64_t first = next_producer_id_;
  next_producer_id_ += count;
  if (absl::Status s = Persist(*image_); !s.ok()) {
    next_producer_id_ = first;
    return s;
  }
  return first;
}

absl::Status LocalMetadataStore::SetTopicConfigs(const std::string& topic,
                                                 std::map<std::string, std::string> configs) {
  std::lock_guard lock(mu_);
  if (!image_->topics.contains(topic))
    return absl::NotFoundError(absl::StrCat("topic '", topic, "' does not exist"));
  auto next = std::make_shared<MetadataImage>(*image_);
  next->topics[topic].configs = std::move(configs);
  if (absl::Status s = Persist(*next); !s.ok()) return s;
  image_ = std::move(next);
  return absl::OkStatus();
}

absl::Status LocalMetadataStore::SetBrokerConfigs(const std::string& resource,
                                                  std::map<std::string, std::string> configs) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<MetadataImage>(*image_);
  if (configs.empty()) {
    next->broker_configs.erase(resource);
  } else {
    next->broker_configs[resource] = std::move(configs);
  }
  if (absl::Status s = Persist(*next); !s.ok()) return s;
  image_ = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<TopicInfo> LocalMetadataStore::DeleteTopic(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = image_->topics.find(name);
  if (it == image_->topics.end())
    return absl::NotFoundError(absl::StrCat("topic '", name, "' does not exist"));
  TopicInfo removed = it->second;
  auto next = std::make_shared<MetadataImage>(*image_);
  next->topics.erase(name);
  if (absl::Status s = Persist(*next); !s.ok()) return s;
  image_ = std::move(next);
  return removed;
}

absl::StatusOr<TopicInfo> LocalMetadataStore::CreatePartitions(const std::string& name, int32_t count,
                                                               bool validate_only) {
  std::lock_guard lock(mu_);
  auto it = image_->topics.find(name);
  if (it == image_->topics.end())
    return absl::NotFoundError(absl::StrCat("topic '", name, "' does not exist"));
  if (absl::Status s = metadata::ValidatePartitionIncrease(name, it->second.partitions, count); !s.ok())
    return s;
  TopicInfo t = it->second;
  t.partitions = count;
  if (validate_only) return t;
  auto next = std::make_shared<MetadataImage>(*image_);
  next->topics[name] = t;
  if (absl::Status s = Persist(*next); !s.ok()) return s;
  image_ = std::move(next);
  return t;
}

}  // namespace fjord::broker
