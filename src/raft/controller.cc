#include "raft/controller.h"

#include <grpcpp/grpcpp.h>

#include <random>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/controller.grpc.pb.h"
#include "raft/placement.h"
#include "raft/raft_transport.h"
#include "spdlog/spdlog.h"

namespace fjord::controller {

namespace {

using metadata::MetadataBatch;
using metadata::MetadataRecord;
using metadata::MetadataState;

constexpr absl::Duration kWriteTimeout = absl::Seconds(15);

grpc::Status ToGrpc(const absl::Status& s) {
  return s.ok() ? grpc::Status::OK
                : grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

std::string RandomTopicId() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::string id(16, '\0');
  do {
    for (char& c : id) c = static_cast<char>(rng());
  } while (id == std::string(16, '\0'));
  return id;
}

const char* RoleName(raft::Role r) {
  switch (r) {
    case raft::Role::kLeader:
      return "leader";
    case raft::Role::kCandidate:
      return "candidate";
    case raft::Role::kPreCandidate:
      return "prevote-candidate";
    case raft::Role::kFollower:
      return "follower";
  }
  return "?";
}

// The one-record batch that fences a broker (its session ran out, or it is stopping).
MetadataBatch FenceBrokerBatch(int32_t broker_id, int64_t broker_epoch) {
  MetadataBatch batch;
  auto* fence = batch.add_records()->mutable_fence_broker();
  fence->set_broker_id(broker_id);
  fence->set_broker_epoch(broker_epoch);
  return batch;
}

// Partition records for `replicas`, led by the first replica that is not fenced.
void AddPartitions(const MetadataState& state, const std::string& topic_id, int32_t first,
                   const std::vector<std::vector<int32_t>>& replicas, MetadataBatch* batch) {
  for (size_t i = 0; i < replicas.size(); ++i) {
    metadata::PartitionRecord* p = batch->add_records()->mutable_partition();
    p->set_topic_id(topic_id);
    p->set_partition(first + static_cast<int32_t>(i));
    p->mutable_replicas()->Add(replicas[i].begin(), replicas[i].end());
    p->mutable_isr()->Add(replicas[i].begin(), replicas[i].end());
    p->set_leader(-1);
    for (int32_t b : replicas[i]) {
      auto it = state.brokers().find(b);
      if (it != state.brokers().end() && !it->second.fenced) {
        p->set_leader(b);
        break;
      }
    }
  }
}

absl::StatusOr<std::vector<std::vector<int32_t>>> Place(const MetadataState& state, int32_t first,
                                                        int32_t count, int32_t replication_factor) {
  std::vector<metadata::PlacementBroker> live;
  for (const auto& [id, b] : state.brokers()) {
    if (!b.fenced) live.push_back({id, b.rack});
  }
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return metadata::PlaceReplicas(live, first, count, replication_factor, rng());
}

}  // namespace

class RaftService final : public rpc::Raft::Service {
 public:
  RaftService(RaftDriver& driver, int32_t node_id, std::string cluster_id)
      : driver_(driver), node_id_(node_id), cluster_id_(std::move(cluster_id)) {}
  grpc::Status Step(grpc::ServerContext*, const rpc::RaftMessages* batch, rpc::RaftAck*) override {
    for (const rpc::RaftMessage& m : batch->messages()) {
      if (m.cluster_id() != cluster_id_)
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            absl::StrCat("cluster ", m.cluster_id(), " is not this node's ", cluster_id_));
      if (m.to() != node_id_)
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "addressed to another node");
    }
    for (const rpc::RaftMessage& m : batch->messages()) driver_.Receive(FromProto(m));
    return grpc::Status::OK;
  }

 private:
  RaftDriver& driver_;
  const int32_t node_id_;
  const std::string cluster_id_;
};

class ControllerServices final : public rpc::Controller::Service {
 public:
  ControllerServices(RaftDriver& driver, const ControllerOptions& options)
      : raft(driver, options.node_id, options.cluster_id), driver_(driver), options_(options) {}

  RaftService raft;

  // The leader's view of when each broker last heartbeat (not replicated: a new leader
  // gives every broker a full session from when it took over).
  std::chrono::steady_clock::time_point LastHeartbeat(int32_t id) {
    std::lock_guard<std::mutex> lock(hb_mu_);
    auto it = heartbeats_.find(id);
    return it == heartbeats_.end() ? std::chrono::steady_clock::time_point() : it->second;
  }

  grpc::Status RegisterBroker(grpc::ServerContext*, const rpc::RegisterBrokerRequest* req,
                              rpc::RegisterBrokerResponse* resp) override {
    if (!req->cluster_id().empty() && req->cluster_id() != options_.cluster_id)
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("broker of cluster ", req->cluster_id(), " cannot join cluster ",
                                       options_.cluster_id));
    MetadataBatch batch;
    metadata::RegisterBrokerRecord* r = batch.add_records()->mutable_register_broker();
    r->set_broker_id(req->broker_id());
    *r->mutable_endpoints() = req->endpoints();
    r->set_rack(req->rack());
    r->set_incarnation_id(req->incarnation_id());
    auto committed = driver_.Propose(batch, kWriteTimeout);
    if (!committed.ok()) return ToGrpc(committed.status());
    Touch(req->broker_id());
    resp->set_broker_epoch(static_cast<int64_t>(committed->offset));
    spdlog::info("controller: broker {} registered with epoch {}", req->broker_id(), committed->offset);
    return grpc::Status::OK;
  }

  grpc::Status BrokerHeartbeat(grpc::ServerContext*, const rpc::BrokerHeartbeatRequest* req,
                               rpc::BrokerHeartbeatResponse* resp) override {
    if (auto s = LeaderOnly(); !s.ok()) return s;
    struct Seen {
      bool known = false, fenced = true, must_register = false;
    };
    const Seen seen = driver_.WithState([&](const MetadataState& st) {
      auto it = st.brokers().find(req->broker_id());
      if (it == st.brokers().end() || it->second.epoch != req->broker_epoch()) return Seen{};
      return Seen{true, it->second.fenced, it->second.must_register};
    });
    if (!seen.known || seen.must_register) {
      resp->set_fenced(true);
      resp->set_register_again(!req->want_shut_down());
      return grpc::Status::OK;
    }
    if (req->want_shut_down()) {
      if (!seen.fenced) {
        auto committed =
            driver_.Propose(FenceBrokerBatch(req->broker_id(), req->broker_epoch()), kWriteTimeout);
        if (!committed.ok()) return ToGrpc(committed.status());
        spdlog::info("controller: broker {} (epoch {}) is stopping: fenced, its leaderships moved",
                     req->broker_id(), req->broker_epoch());
      }
      resp->set_fenced(true);
      return grpc::Status::OK;
    }
    Touch(req->broker_id());
    if (seen.fenced) {
      MetadataBatch batch;
      batch.add_records()->mutable_unfence_broker()->set_broker_id(req->broker_id());
      batch.mutable_records(0)->mutable_unfence_broker()->set_broker_epoch(req->broker_epoch());
      auto committed = driver_.Propose(batch, kWriteTimeout);
      if (!committed.ok()) return ToGrpc(committed.status());
      spdlog::info("controller: broker {} (epoch {}) unfenced", req->broker_id(), req->broker_epoch());
    }
    resp->set_fenced(false);
    return grpc::Status::OK;
  }

  grpc::Status WatchMetadata(grpc::ServerContext* ctx, const rpc::WatchMetadataRequest* req,
                             grpc::ServerWriter<rpc::MetadataUpdate>* writer) override {
    uint64_t next = std::max<uint64_t>(req->from_offset(), 1);
    while (!ctx->IsCancelled() && !stopping_.load()) {
      // Short waits, so a closed stream or a stopping server is noticed quickly.
      for (const auto& u : driver_.UpdatesAfter(next, absl::Milliseconds(100))) {
        rpc::MetadataUpdate out;
        out.set_offset(u.offset);
        out.set_snapshot(u.snapshot);
        if (!out.mutable_batch()->ParseFromString(u.batch))
          return grpc::Status(grpc::StatusCode::DATA_LOSS, "batch");
        if (!writer->Write(out)) return grpc::Status::OK;  // the broker went away
        next = u.offset + 1;
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status AlterPartition(grpc::ServerContext*, const rpc::AlterPartitionRequest* req,
                              rpc::AlterPartitionResponse* resp) override {
    if (auto s = LeaderOnly(); !s.ok()) return s;
    absl::Status check = driver_.WithState([&](const MetadataState& st) -> absl::Status {
      auto b = st.brokers().find(req->broker_id());
      if (b == st.brokers().end() || b->second.epoch != req->broker_epoch())
        return absl::FailedPreconditionError("stale broker epoch");
      const metadata::TopicState* t = st.FindTopicById(req->topic_id());
      if (t == nullptr || req->partition() < 0 ||
          req->partition() >= static_cast<int32_t>(t->partitions.size()))
        return absl::NotFoundError("unknown topic or partition");
      const metadata::PartitionState& p = t->partitions[static_cast<size_t>(req->partition())];
      if (p.leader != req->broker_id()) return absl::FailedPreconditionError("not the partition's leader");
      if (p.leader_epoch != req->leader_epoch()) return absl::FailedPreconditionError("fenced leader epoch");
      return absl::OkStatus();
    });
    if (!check.ok()) return ToGrpc(check);
    MetadataBatch batch;
    metadata::PartitionChangeRecord* c = batch.add_records()->mutable_partition_change();
    c->set_topic_id(req->topic_id());
    c->set_partition(req->partition());
    c->set_leader(req->broker_id());
    *c->mutable_isr() = req->new_isr();
    c->set_expected_partition_epoch(req->partition_epoch());
    auto committed = driver_.Propose(batch, kWriteTimeout);
    if (!committed.ok()) return ToGrpc(committed.status());
    driver_.WithState([&](const MetadataState& st) {
      const auto& p = st.FindTopicById(req->topic_id())->partitions[static_cast<size_t>(req->partition())];
      resp->set_leader_epoch(p.leader_epoch);
      resp->set_partition_epoch(p.partition_epoch);
      resp->mutable_isr()->Add(p.isr.begin(), p.isr.end());
      return 0;
    });
    resp->set_offset(committed->offset);
    return grpc::Status::OK;
  }

  grpc::Status AllocateProducerIds(grpc::ServerContext*, const rpc::AllocateProducerIdsRequest* req,
                                   rpc::AllocateProducerIdsResponse* resp) override {
    const bool known = driver_.WithState([&](const MetadataState& st) {
      auto b = st.brokers().find(req->broker_id());
      return b != st.brokers().end() && b->second.epoch == req->broker_epoch();
    });
    if (!known) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "stale broker epoch");
    MetadataBatch batch;
    batch.add_records()->mutable_producer_ids()->set_broker_id(req->broker_id());
    const int32_t count = req->count() > 0 ? req->count() : 1000;
    batch.mutable_records(0)->mutable_producer_ids()->set_count(count);
    auto committed = driver_.Propose(batch, kWriteTimeout);
    if (!committed.ok()) return ToGrpc(committed.status());
    resp->set_first_producer_id(committed->result.first_producer_id);
    resp->set_count(count);
    resp->set_offset(committed->offset);
    return grpc::Status::OK;
  }

  grpc::Status CreateTopic(grpc::ServerContext*, const rpc::CreateTopicRequest* req,
                           rpc::CreateTopicResponse* resp) override {
    if (auto s = LeaderOnly(); !s.ok()) return s;
    if (auto s = metadata::ValidateTopicName(req->name()); !s.ok()) return ToGrpc(s);
    const int32_t partitions = req->assignments_size() > 0 ? req->assignments_size() : req->partitions();
    // With assignments, each partition's replica list says the factor (checked with them).
    const int32_t replication_factor = req->assignments_size() > 0 ? 1 : req->replication_factor();
    if (auto s = metadata::ValidateNewTopicCounts(partitions, replication_factor); !s.ok()) return ToGrpc(s);
    const std::string id = RandomTopicId();
    MetadataBatch batch;
    absl::Status built = driver_.WithState([&](const MetadataState& st) -> absl::Status {
      if (st.FindTopic(req->name()) != nullptr) return metadata::TopicAlreadyExists(req->name());
      std::vector<std::string_view> names;
      for (const auto& [id, topic] : st.topics()) names.push_back(topic.name);
      if (auto s = metadata::ValidateNoCollision(req->name(), names); !s.ok()) return s;
      std::vector<std::vector<int32_t>> replicas;
      if (req->assignments_size() > 0) {
        for (const rpc::ReplicaAssignment& a : req->assignments()) {
          for (int32_t b : a.replicas()) {
            if (!st.brokers().contains(b))
              return absl::InvalidArgumentError(absl::StrCat("assignment names unregistered broker ", b));
          }
          replicas.emplace_back(a.replicas().begin(), a.replicas().end());
        }
      } else {
        auto placed = Place(st, 0, partitions, req->replication_factor());
        if (!placed.ok()) return placed.status();
        replicas = std::move(*placed);
      }
      metadata::TopicRecord* t = batch.add_records()->mutable_topic();
      t->set_name(req->name());
      t->set_topic_id(id);
      AddPartitions(st, id, 0, replicas, &batch);
      for (const auto& [k, v] : req->configs()) {
        metadata::ConfigRecord* c = batch.add_records()->mutable_config();
        c->set_resource_type(metadata::kTopicResource);
        c->set_resource_name(req->name());
        c->set_name(k);
        c->set_value(v);
      }
      resp->set_replication_factor(static_cast<int32_t>(replicas[0].size()));
      return absl::OkStatus();
    });
    if (!built.ok()) return ToGrpc(built);
    resp->set_topic_id(id);
    resp->set_partitions(partitions);
    if (req->validate_only()) return grpc::Status::OK;
    auto committed = driver_.Propose(batch, kWriteTimeout);
    if (!committed.ok()) return ToGrpc(committed.status());
    resp->set_offset(committed->offset);
    return grpc::Status::OK;
  }

  grpc::Status DeleteTopic(grpc::ServerContext*, const rpc::DeleteTopicRequest* req,
                           rpc::WriteResponse* resp) override {
    if (auto s = LeaderOnly(); !s.ok()) return s;
    MetadataBatch batch;
    const metadata::TopicState* found = nullptr;
    driver_.WithState([&](const MetadataState& st) {
      found = st.FindTopic(req->name());
      if (found != nullptr) {
        batch.add_records()->mutable_remove_topic()->set_topic_id(found->id);
        resp->set_topic_id(found->id);
        resp->set_partitions(static_cast<int32_t>(found->partitions.size()));
      }
      return 0;
    });
    if (found == nullptr)
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("topic '", req->name(), "' does not exist"));
    return Write(batch, resp);
  }

  grpc::Status CreatePartitions(grpc::ServerContext*, const rpc::CreatePartitionsRequest* req,
                                rpc::WriteResponse* resp) override {
    if (auto s = LeaderOnly(); !s.ok()) return s;
    MetadataBatch batch;
    absl::Status built = driver_.WithState([&](const MetadataState& st) -> absl::Status {
      const metadata::TopicState* t = st.FindTopic(req->name());
      if (t == nullptr) return absl::NotFoundError(absl::StrCat("topic '", req->name(), "' does not exist"));
      const auto have = static_cast<int32_t>(t->partitions.size());
      if (auto s = metadata::ValidatePartitionIncrease(req->name(), have, req->count()); !s.ok()) return s;
      auto placed =
          Place(st, have, req->count() - have, static_cast<int32_t>(t->partitions[0].replicas.size()));
      if (!placed.ok()) return placed.status();
      AddPartitions(st, t->id, have, *placed, &batch);
      resp->set_topic_id(t->id);
      resp->set_partitions(req->count());
      return absl::OkStatus();
    });
    if (!built.ok()) return ToGrpc(built);
    if (req->validate_only()) return grpc::Status::OK;
    return Write(batch, resp);
  }

  grpc::Status AlterConfigs(grpc::ServerContext*, const rpc::AlterConfigsRequest* req,
                            rpc::WriteResponse* resp) override {
    if (auto s = LeaderOnly(); !s.ok()) return s;
    MetadataBatch batch;
    driver_.WithState([&](const MetadataState& st) {
      const auto* old = st.Configs(req->resource_type(), req->resource_name());
      auto add = [&](const std::string& name, const std::string* value) {
        metadata::ConfigRecord* c = batch.add_records()->mutable_config();
        c->set_resource_type(req->resource_type());
        c->set_resource_name(req->resource_name());
        c->set_name(name);
        if (value != nullptr) c->set_value(*value);
      };
      if (old != nullptr) {
        for (const auto& [k, v] : *old) {
          if (!req->configs().contains(k)) add(k, nullptr);
        }
      }
      for (const auto& [k, v] : req->configs()) {
        if (old == nullptr || !old->contains(k) || old->at(k) != v) add(k, &v);
      }
      return 0;
    });
    if (batch.records().empty()) {
      resp->set_offset(driver_.Status().applied);
      return grpc::Status::OK;
    }
    return Write(batch, resp);
  }

  grpc::Status DescribeQuorum(grpc::ServerContext*, const rpc::DescribeQuorumRequest*,
                              rpc::DescribeQuorumResponse* resp) override {
    const QuorumStatus s = driver_.Status();
    resp->set_node_id(s.node_id);
    resp->set_leader_id(s.leader);
    resp->set_term(s.term);
    resp->set_role(RoleName(s.role));
    resp->set_commit_index(s.commit);
    resp->set_last_index(s.last);
    resp->set_snapshot_index(s.snapshot_index);
    resp->set_applied_index(s.applied);
    resp->set_cluster_id(options_.cluster_id);
    if (s.role == raft::Role::kLeader) {
      for (const auto& [ids, out] : {std::pair{&s.voters, resp->mutable_voters()},
                                     std::pair{&s.observers, resp->mutable_observers()}}) {
        for (raft::NodeId id : *ids) {
          auto it = s.match.find(id);
          rpc::VoterState* v = out->Add();
          v->set_id(id);
          v->set_match_index(it == s.match.end() ? 0 : it->second);
          if (auto a = s.last_answer_ms.find(id); a != s.last_answer_ms.end())
            v->set_last_answer_ms(a->second);
          if (auto u = s.caught_up_ms.find(id); u != s.caught_up_ms.end()) v->set_caught_up_ms(u->second);
        }
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status DescribeMetadata(grpc::ServerContext*, const rpc::DescribeMetadataRequest*,
                                rpc::DescribeMetadataResponse* resp) override {
    driver_.WithState([&](const MetadataState& st) {
      resp->set_offset(st.offset());
      *resp->mutable_state() = st.ToSnapshot();
      return 0;
    });
    return grpc::Status::OK;
  }

  void Stop() { stopping_ = true; }

 private:
  grpc::Status LeaderOnly() const {
    const QuorumStatus s = driver_.Status();
    if (s.role == raft::Role::kLeader) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("not the leader; leader is ", s.leader));
  }

  grpc::Status Write(const MetadataBatch& batch, rpc::WriteResponse* resp) {
    auto committed = driver_.Propose(batch, kWriteTimeout);
    if (!committed.ok()) return ToGrpc(committed.status());
    resp->set_offset(committed->offset);
    return grpc::Status::OK;
  }

  void Touch(int32_t broker) {
    std::lock_guard<std::mutex> lock(hb_mu_);
    heartbeats_[broker] = std::chrono::steady_clock::now();
  }

  RaftDriver& driver_;
  const ControllerOptions& options_;
  std::atomic<bool> stopping_{false};
  std::mutex hb_mu_;
  std::map<int32_t, std::chrono::steady_clock::time_point> heartbeats_;
};

absl::StatusOr<std::unique_ptr<Controller>> Controller::Start(ControllerOptions options) {
  auto c = std::unique_ptr<Controller>(new Controller());
  c->options_ = std::move(options);
  const ControllerOptions& o = c->options_;
  if (!o.voters.contains(o.node_id))
    return absl::InvalidArgumentError(absl::StrCat(
        "node.id ", o.node_id, " is not among controller.quorum.voters; a controller must be a voter"));
  std::map<raft::NodeId, std::string> peers;
  std::vector<raft::NodeId> voters;
  for (const auto& [id, addr] : o.voters) {
    voters.push_back(id);
    if (id != o.node_id) peers[id] = addr.target();
  }
  c->peers_ = std::make_unique<PeerSenders>(peers, o.cluster_id);
  DriverOptions d{.node_id = o.node_id,
                  .voters = voters,
                  .dir = o.metadata_dir,
                  // controller.quorum.election.timeout.ms bounds the randomized timeout
                  // from above: a follower campaigns after 9 to 17 ticks of 1/20 of it
                  // (45-85 %) without a leader, so a dead leader is replaced within it.
                  .tick_ms = std::max(5, o.election_timeout_ms / 20),
                  .election_ticks = 9,
                  .heartbeat_ticks = 2,
                  .snapshot_bytes = o.snapshot_bytes};
  PeerSenders* senders = c->peers_.get();
  auto driver = RaftDriver::Open(d, [senders](raft::Message m) { senders->Send(std::move(m)); });
  if (!driver.ok()) return driver.status();
  c->driver_ = std::move(*driver);
  c->services_ = std::make_unique<ControllerServices>(*c->driver_, c->options_);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(
      absl::StrCat(o.listen_host.empty() ? "0.0.0.0" : o.listen_host, ":", o.listen_port),
      grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(256 * 1024 * 1024);
  builder.SetMaxSendMessageSize(256 * 1024 * 1024);
  builder.RegisterService(&c->services_->raft);
  builder.RegisterService(c->services_.get());
  c->server_ = builder.BuildAndStart();
  if (c->server_ == nullptr || port == 0)
    return absl::UnavailableError(
        absl::StrCat("cannot listen on the controller listener ", o.listen_host, ":", o.listen_port));
  c->port_ = static_cast<uint16_t>(port);
  c->driver_->Start();
  c->chores_ = std::thread([raw = c.get()] { raw->LeaderChores(); });
  spdlog::info("controller {} of cluster {} serving the quorum on port {} ({} voters)", o.node_id,
               o.cluster_id, c->port_, o.voters.size());
  return c;
}

void Controller::LeaderChores() {
  const auto session = std::chrono::milliseconds(options_.session_timeout_ms);
  while (true) {
    {
      std::unique_lock<std::mutex> lock(stop_mu_);
      if (stop_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_.load(); })) return;
    }
    const QuorumStatus s = driver_->Status();
    if (s.role != raft::Role::kLeader) continue;
    // The first leader of a new cluster records the cluster id its voters were formatted with.
    if (driver_->WithState([](const MetadataState& st) { return st.cluster_id().empty(); })) {
      MetadataBatch batch;
      batch.add_records()->mutable_cluster()->set_cluster_id(options_.cluster_id);
      driver_->Propose(batch, absl::Seconds(5)).IgnoreError();
    }
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::pair<int32_t, int64_t>> expired;
    driver_->WithState([&](const MetadataState& st) {
      for (const auto& [id, b] : st.brokers()) {
        if (b.fenced) continue;
        const auto last = std::max(services_->LastHeartbeat(id), s.leader_since);
        if (now - last > session) expired.emplace_back(id, b.epoch);
      }
      return 0;
    });
    for (const auto& [id, epoch] : expired) {
      auto committed = driver_->Propose(FenceBrokerBatch(id, epoch), absl::Seconds(5));
      if (committed.ok()) {
        spdlog::warn(
            "controller: broker {} (epoch {}) missed heartbeats for {} ms: fenced, its leaderships moved", id,
            epoch, options_.session_timeout_ms);
      }
    }
  }
}

std::string Controller::Metrics() const {
  const QuorumStatus s = driver_->Status();
  std::string out =
      "# HELP fjord_raft_role This controller's Raft role (1 for the current one).\n# TYPE fjord_raft_role "
      "gauge\n";
  for (raft::Role r :
       {raft::Role::kLeader, raft::Role::kFollower, raft::Role::kCandidate, raft::Role::kPreCandidate})
    absl::StrAppend(&out, "fjord_raft_role{role=\"", RoleName(r), "\"} ", s.role == r ? 1 : 0, "\n");
  auto gauge = [&](const char* name, const char* help, int64_t value) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " gauge\n", name, " ", value, "\n");
  };
  gauge("fjord_raft_term", "The current Raft term.", static_cast<int64_t>(s.term));
  gauge("fjord_raft_leader_id", "The controller this one follows (-1: none known).", s.leader);
  gauge("fjord_raft_commit_index", "The highest metadata log index known committed.",
        static_cast<int64_t>(s.commit));
  gauge("fjord_raft_applied_index", "The highest index applied to the metadata state.",
        static_cast<int64_t>(s.applied));
  gauge("fjord_raft_last_index", "The highest index in this controller's log.", static_cast<int64_t>(s.last));
  gauge("fjord_raft_snapshot_index", "The index of the latest metadata snapshot.",
        static_cast<int64_t>(s.snapshot_index));
  return out;
}

void Controller::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_.exchange(true)) return;
  }
  stop_cv_.notify_all();
  if (services_) services_->Stop();
  if (chores_.joinable()) chores_.join();
  // The driver first: it answers every waiting write "shutting down", so no handler
  // holds the server's shutdown up for a write timeout.
  if (driver_) driver_->Stop();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  peers_.reset();
}

Controller::~Controller() {
  Stop();
}

}  // namespace fjord::controller
