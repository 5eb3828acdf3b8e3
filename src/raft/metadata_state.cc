#include "raft/metadata_state.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace fjord::metadata {

namespace {

bool Contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::vector<int32_t> ToVector(const google::protobuf::RepeatedField<int32_t>& f) {
  return std::vector<int32_t>(f.begin(), f.end());
}

}  // namespace

std::string TopicIdString(const std::string& id) {
  return absl::WebSafeBase64Escape(id);
}

absl::Status ValidateTopicName(const std::string& name) {
  // In Kafka's words (its Topic.validate), checked in its order.
  if (name.empty()) return absl::InvalidArgumentError("Topic name is illegal, it can't be empty");
  if (name == "." || name == "..") return absl::InvalidArgumentError("Topic name cannot be \".\" or \"..\"");
  if (name.size() > 249) {
    return absl::InvalidArgumentError(
        absl::StrCat("Topic name is illegal, it can't be longer than 249 characters, topic name: ", name));
  }
  for (char c : name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Topic name \"", name,
          "\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNoCollision(const std::string& name, const std::vector<std::string_view>& existing) {
  auto unified = [](std::string_view n) {
    std::string u(n);
    std::replace(u.begin(), u.end(), '.', '_');
    return u;
  };
  if (name.find_first_of("._") == std::string::npos) return absl::OkStatus();
  const std::string mine = unified(name);
  std::optional<std::string_view> colliding;
  for (std::string_view other : existing) {
    if (other != name && other.size() == name.size() && unified(other) == mine &&
        (!colliding || other < *colliding)) {
      colliding = other;
    }
  }
  if (!colliding) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("Topic '", name, "' collides with existing topic: ", std::string(*colliding)));
}

absl::Status ValidatePartitionIncrease(const std::string& name, int32_t have, int32_t count) {
  if (count == have) return absl::OutOfRangeError(absl::StrCat("Topic already has ", have, " partition(s)."));
  if (count < have) {
    return absl::OutOfRangeError(absl::StrCat("The topic ", name, " currently has ", have, " partition(s); ",
                                              count, " would not be an increase."));
  }
  return ValidateNewPartitionCount(int64_t{count} - have);
}

absl::Status ValidateNewPartitionCount(int64_t added) {
  if (added > kMaxNewPartitionsPerRequest) return absl::ResourceExhaustedError(kTooManyPartitions);
  return absl::OkStatus();
}

absl::Status TopicAlreadyExists(const std::string& name) {
  return absl::AlreadyExistsError(absl::StrCat("Topic '", name, "' already exists."));
}

absl::Status ValidateNewTopicCounts(int32_t partitions, int32_t replication_factor) {
  if (replication_factor <= 0) {
    return absl::FailedPreconditionError(
        "Replication factor must be larger than 0, or -1 to use the default value.");
  }
  if (partitions <= 0) {
    return absl::OutOfRangeError("Number of partitions was set to an invalid non-positive value.");
  }
  return ValidateNewPartitionCount(partitions);
}

const TopicState* MetadataState::FindTopic(const std::string& name) const {
  auto it = topic_ids_by_name_.find(name);
  return it == topic_ids_by_name_.end() ? nullptr : FindTopicById(it->second);
}

const TopicState* MetadataState::FindTopicById(const std::string& id) const {
  auto it = topics_.find(id);
  return it == topics_.end() ? nullptr : &it->second;
}

const std::map<std::string, std::string>* MetadataState::Configs(int32_t type,
                                                                 const std::string& name) const {
  auto it = configs_.find({type, name});
  return it == configs_.end() ? nullptr : &it->second;
}

absl::Status MetadataState::Check(const MetadataBatch& batch) const {
  // What earlier records of this batch create, so later ones may refer to it.
  std::map<std::string, std::string> new_names;     // name -> id
  std::map<std::string, int32_t> partition_counts;  // id -> count after this batch's records
  auto partitions_of = [&](const std::string& id) -> int32_t {
    if (auto it = partition_counts.find(id); it != partition_counts.end()) return it->second;
    const TopicState* t = FindTopicById(id);
    return t == nullptr ? -1 : static_cast<int32_t>(t->partitions.size());
  };
  for (const MetadataRecord& r : batch.records()) {
    switch (r.record_case()) {
      case MetadataRecord::kCluster:
        if (!cluster_id_.empty() && cluster_id_ != r.cluster().cluster_id())
          return absl::FailedPreconditionError("the cluster id is already set");
        break;
      case MetadataRecord::kRegisterBroker:
        if (r.register_broker().broker_id() < 0) return absl::InvalidArgumentError("negative broker id");
        break;
      case MetadataRecord::kFenceBroker:
      case MetadataRecord::kUnfenceBroker: {
        const bool fence = r.has_fence_broker();
        const int32_t id = fence ? r.fence_broker().broker_id() : r.unfence_broker().broker_id();
        const int64_t epoch = fence ? r.fence_broker().broker_epoch() : r.unfence_broker().broker_epoch();
        auto it = brokers_.find(id);
        if (it == brokers_.end())
          return absl::NotFoundError(absl::StrCat("broker ", id, " is not registered"));
        if (it->second.epoch != epoch)
          return absl::FailedPreconditionError(absl::StrCat("broker ", id, " epoch ", epoch, " is stale"));
        if (it->second.fenced == fence)
          return absl::FailedPreconditionError(
              absl::StrCat("broker ", id, fence ? " is already fenced" : " is not fenced"));
        break;
      }
      case MetadataRecord::kTopic: {
        const TopicRecord& t = r.topic();
        if (t.name().empty()) return absl::InvalidArgumentError("empty topic name");
        if (t.topic_id().size() != 16) return absl::InvalidArgumentError("a topic id has 16 bytes");
        if (FindTopic(t.name()) != nullptr || new_names.contains(t.name()))
          return TopicAlreadyExists(t.name());
        if (topics_.contains(t.topic_id()) || partition_counts.contains(t.topic_id()))
          return absl::AlreadyExistsError("topic id already in use");
        new_names[t.name()] = t.topic_id();
        partition_counts[t.topic_id()] = 0;
        break;
      }
      case MetadataRecord::kPartition: {
        const PartitionRecord& p = r.partition();
        const int32_t count = partitions_of(p.topic_id());
        if (count < 0) return absl::NotFoundError("partition of an unknown topic");
        if (p.partition() != count)
          return absl::FailedPreconditionError(
              absl::StrCat("partition ", p.partition(), " where ", count, " comes next"));
        if (p.replicas().empty()) return absl::InvalidArgumentError("a partition needs replicas");
        std::set<int32_t> distinct(p.replicas().begin(), p.replicas().end());
        if (distinct.size() != static_cast<size_t>(p.replicas_size()))
          return absl::InvalidArgumentError("a broker appears twice among a partition's replicas");
        for (int32_t b : p.replicas()) {
          if (!brokers_.contains(b))
            return absl::InvalidArgumentError(absl::StrCat("broker ", b, " is not registered"));
        }
        partition_counts[p.topic_id()] = count + 1;
        break;
      }
      case MetadataRecord::kPartitionChange: {
        const PartitionChangeRecord& c = r.partition_change();
        const TopicState* t = FindTopicById(c.topic_id());
        if (t == nullptr || c.partition() < 0 || c.partition() >= static_cast<int32_t>(t->partitions.size()))
          return absl::NotFoundError("change to an unknown partition");
        const PartitionState& p = t->partitions[static_cast<size_t>(c.partition())];
        if (c.expected_partition_epoch() >= 0 && c.expected_partition_epoch() != p.partition_epoch)
          return absl::FailedPreconditionError(
              absl::StrCat("partition epoch is ", p.partition_epoch, ", not ", c.expected_partition_epoch()));
        if (c.isr().empty()) return absl::InvalidArgumentError("an empty ISR");
        for (int32_t b : c.isr()) {
          if (!Contains(p.replicas, b))
            return absl::InvalidArgumentError(absl::StrCat("broker ", b, " is not a replica"));
        }
        if (c.leader() != -1 && !Contains(ToVector(c.isr()), c.leader()))
          return absl::InvalidArgumentError("the leader must be in the ISR");
        break;
      }
      case MetadataRecord::kRemoveTopic:
        if (!topics_.contains(r.remove_topic().topic_id())) return absl::NotFoundError("no such topic");
        break;
      case MetadataRecord::kConfig: {
        const ConfigRecord& c = r.config();
        if (c.resource_type() == kTopicResource) {
          if (FindTopic(c.resource_name()) == nullptr && !new_names.contains(c.resource_name()))
            return absl::NotFoundError(absl::StrCat("topic '", c.resource_name(), "' does not exist"));
        } else if (c.resource_type() != kBrokerResource) {
          return absl::InvalidArgumentError(absl::StrCat("resource type ", c.resource_type()));
        }
        if (c.name().empty()) return absl::InvalidArgumentError("empty config name");
        break;
      }
      case MetadataRecord::kProducerIds:
        if (r.producer_ids().count() <= 0 || r.producer_ids().count() > (1 << 20))
          return absl::InvalidArgumentError("producer id blocks hold 1 to 1,048,576 ids");
        break;
      case MetadataRecord::RECORD_NOT_SET:
        return absl::InvalidArgumentError("an empty metadata record");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ApplyResult> MetadataState::Apply(const MetadataBatch& batch, uint64_t offset) {
  offset_ = std::max(offset_, offset);  // a refused batch still moves the offset
  if (absl::Status s = Check(batch); !s.ok()) return s;
  ApplyResult result;
  for (const MetadataRecord& r : batch.records()) {
    ApplyResult one = ApplyOne(r, offset, false);
    if (one.first_producer_id >= 0) result.first_producer_id = one.first_producer_id;
  }
  return result;
}

ApplyResult MetadataState::ApplyOne(const MetadataRecord& r, uint64_t offset, bool from_snapshot) {
  ApplyResult result;
  switch (r.record_case()) {
    case MetadataRecord::kCluster:
      cluster_id_ = r.cluster().cluster_id();
      break;
    case MetadataRecord::kRegisterBroker: {
      const RegisterBrokerRecord& rb = r.register_broker();
      BrokerState& b = brokers_[rb.broker_id()];
      const bool was_serving = b.epoch >= 0 && !b.fenced;
      b.id = rb.broker_id();
      b.epoch = from_snapshot ? rb.broker_epoch() : static_cast<int64_t>(offset);
      b.endpoints.assign(rb.endpoints().begin(), rb.endpoints().end());
      b.rack = rb.rack();
      b.incarnation_id = rb.incarnation_id();
      b.fenced = from_snapshot ? rb.fenced() : true;
      b.must_register = from_snapshot && rb.must_register();
      // A new incarnation starts fenced: the old one's leaderships move now.
      if (was_serving && b.fenced) MoveLeadershipFrom(b.id);
      break;
    }
    case MetadataRecord::kFenceBroker:
      brokers_[r.fence_broker().broker_id()].fenced = true;
      brokers_[r.fence_broker().broker_id()].must_register = true;
      MoveLeadershipFrom(r.fence_broker().broker_id());
      break;
    case MetadataRecord::kUnfenceBroker:
      brokers_[r.unfence_broker().broker_id()].fenced = false;
      ElectLeaders(r.unfence_broker().broker_id());
      break;
    case MetadataRecord::kTopic:
      topics_[r.topic().topic_id()] = TopicState{r.topic().name(), r.topic().topic_id(), {}};
      topic_ids_by_name_[r.topic().name()] = r.topic().topic_id();
      break;
    case MetadataRecord::kPartition: {
      const PartitionRecord& p = r.partition();
      topics_[p.topic_id()].partitions.push_back(
          {ToVector(p.replicas()), ToVector(p.isr()), p.leader(), p.leader_epoch(), p.partition_epoch()});
      break;
    }
    case MetadataRecord::kPartitionChange: {
      const PartitionChangeRecord& c = r.partition_change();
      PartitionState& p = topics_[c.topic_id()].partitions[static_cast<size_t>(c.partition())];
      if (p.leader != c.leader()) ++p.leader_epoch;
      p.leader = c.leader();
      p.isr = ToVector(c.isr());
      ++p.partition_epoch;
      break;
    }
    case MetadataRecord::kRemoveTopic: {
      auto it = topics_.find(r.remove_topic().topic_id());
      configs_.erase({kTopicResource, it->second.name});
      topic_ids_by_name_.erase(it->second.name);
      topics_.erase(it);
      break;
    }
    case MetadataRecord::kConfig: {
      const ConfigRecord& c = r.config();
      auto& configs = configs_[{c.resource_type(), c.resource_name()}];
      if (c.has_value()) {
        configs[c.name()] = c.value();
      } else {
        configs.erase(c.name());
      }
      if (configs.empty()) configs_.erase({c.resource_type(), c.resource_name()});
      break;
    }
    case MetadataRecord::kProducerIds:
      if (from_snapshot) {
        next_producer_id_ = r.producer_ids().next_producer_id();
      } else {
        result.first_producer_id = next_producer_id_;
        next_producer_id_ += r.producer_ids().count();
      }
      break;
    case MetadataRecord::RECORD_NOT_SET:
      break;
  }
  return result;
}

bool MetadataState::UncleanElectionAllowed(const std::string& topic) const {
  constexpr char kKey[] = "unclean.leader.election.enable";
  for (const auto* configs : {Configs(kTopicResource, topic), Configs(kBrokerResource, "")}) {
    if (configs == nullptr) continue;
    if (auto it = configs->find(kKey); it != configs->end()) return it->second == "true";
  }
  return false;  // Kafka's default
}

bool MetadataState::Serving(int32_t broker) const {
  auto b = brokers_.find(broker);
  return b != brokers_.end() && !b->second.fenced;
}

void MetadataState::MoveLeadershipFrom(int32_t fenced) {
  for (auto& [id, topic] : topics_) {
    const bool unclean = UncleanElectionAllowed(topic.name);
    for (PartitionState& p : topic.partitions) {
      bool changed = false;
      if (Contains(p.isr, fenced) && p.isr.size() > 1) {  // Kafka keeps the last ISR member
        p.isr.erase(std::find(p.isr.begin(), p.isr.end(), fenced));
        changed = true;
      }
      if (p.leader == fenced) {
        p.leader = -1;
        for (int32_t r : p.replicas) {  // replica order: the preferred first
          if (r != fenced && Contains(p.isr, r) && Serving(r)) {
            p.leader = r;
            break;
          }
        }
        if (p.leader == -1 && unclean) {  // the topic accepts losing what only the ISR had
          for (int32_t r : p.replicas) {
            if (r != fenced && Serving(r)) {
              p.leader = r;
              p.isr = {r};
              break;
            }
          }
        }
        ++p.leader_epoch;
        changed = true;
      }
      if (changed) ++p.partition_epoch;
    }
  }
}

void MetadataState::ElectLeaders(int32_t unfenced) {
  for (auto& [id, topic] : topics_) {
    const bool unclean = UncleanElectionAllowed(topic.name);
    for (PartitionState& p : topic.partitions) {
      if (p.leader != -1) continue;
      if (!Contains(p.isr, unfenced) && unclean && Contains(p.replicas, unfenced)) p.isr = {unfenced};
      if (Contains(p.isr, unfenced)) {
        p.leader = unfenced;
        ++p.leader_epoch;
        ++p.partition_epoch;
      }
    }
  }
}

MetadataBatch MetadataState::ToSnapshot() const {
  MetadataBatch out;
  if (!cluster_id_.empty()) out.add_records()->mutable_cluster()->set_cluster_id(cluster_id_);
  for (const auto& [id, b] : brokers_) {
    RegisterBrokerRecord* r = out.add_records()->mutable_register_broker();
    r->set_broker_id(id);
    for (const Endpoint& e : b.endpoints) *r->add_endpoints() = e;
    r->set_rack(b.rack);
    r->set_incarnation_id(b.incarnation_id);
    r->set_broker_epoch(b.epoch);
    r->set_fenced(b.fenced);
    r->set_must_register(b.must_register);
  }
  for (const auto& [id, t] : topics_) {
    TopicRecord* tr = out.add_records()->mutable_topic();
    tr->set_name(t.name);
    tr->set_topic_id(id);
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const PartitionState& p = t.partitions[i];
      PartitionRecord* pr = out.add_records()->mutable_partition();
      pr->set_topic_id(id);
      pr->set_partition(static_cast<int32_t>(i));
      pr->mutable_replicas()->Add(p.replicas.begin(), p.replicas.end());
      pr->mutable_isr()->Add(p.isr.begin(), p.isr.end());
      pr->set_leader(p.leader);
      pr->set_leader_epoch(p.leader_epoch);
      pr->set_partition_epoch(p.partition_epoch);
    }
  }
  for (const auto& [resource, configs] : configs_) {
    for (const auto& [name, value] : configs) {
      ConfigRecord* c = out.add_records()->mutable_config();
      c->set_resource_type(resource.first);
      c->set_resource_name(resource.second);
      c->set_name(name);
      c->set_value(value);
    }
  }
  out.add_records()->mutable_producer_ids()->set_next_producer_id(next_producer_id_);
  return out;
}

absl::StatusOr<MetadataState> MetadataState::Restore(const MetadataBatch& snapshot, uint64_t offset) {
  MetadataState state;
  for (const MetadataRecord& r : snapshot.records()) {
    switch (r.record_case()) {  // a snapshot holds only records that create state
      case MetadataRecord::kCluster:
      case MetadataRecord::kRegisterBroker:
      case MetadataRecord::kTopic:
      case MetadataRecord::kPartition:
      case MetadataRecord::kConfig:
      case MetadataRecord::kProducerIds:
        break;
      default:
        return absl::DataLossError("a snapshot holds a record of a kind snapshots never write");
    }
    // A topic named or numbered twice would leave the name index pointing at a topic
    // that a later record renamed: the state would no longer be its own snapshot.
    if (r.has_topic() && (state.FindTopic(r.topic().name()) != nullptr ||
                          state.FindTopicById(r.topic().topic_id()) != nullptr))
      return absl::DataLossError("a snapshot holds a topic name or topic id twice");
    if (r.has_partition()) {
      const TopicState* t = state.FindTopicById(r.partition().topic_id());
      if (t == nullptr || r.partition().partition() != static_cast<int32_t>(t->partitions.size()))
        return absl::DataLossError("a snapshot's partition record is out of place");
    }
    if (r.has_config() && r.config().resource_type() == kTopicResource &&
        state.FindTopic(r.config().resource_name()) == nullptr)
      return absl::DataLossError("a snapshot's topic config names no topic");
    state.ApplyOne(r, offset, true);
  }
  state.offset_ = offset;
  return state;
}

}  // namespace fjord::metadata
