#include "broker/controller_metadata_store.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace fjord::broker {

namespace {

namespace rpc = controller::rpc;
constexpr absl::Duration kWriteTimeout = absl::Seconds(30);
constexpr absl::Duration kCatchUpTimeout = absl::Seconds(15);
// How long a stop waits for the quorum to fence it before it goes on (a quorum without
// a leader fences it after the session timeout instead).
constexpr absl::Duration kAnnounceStopTimeout = absl::Seconds(5);

std::string RandomBytes(size_t n) {
  std::random_device rd;
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rd());
  return out;
}

protocol::Uuid ToUuid(const std::string& bytes) {
  protocol::Uuid u;
  std::copy_n(bytes.begin(), std::min<size_t>(bytes.size(), 16), u.bytes.begin());
  return u;
}

}  // namespace

ControllerMetadataStore::ControllerMetadataStore(const BrokerConfig& config, std::string cluster_id,
                                                 std::map<int32_t, controller::VoterAddress> voters)
    : config_(config),
      cluster_id_(std::move(cluster_id)),
      incarnation_id_(RandomBytes(16)),
      voters_(std::move(voters)),
      client_(voters_),
      image_(std::make_shared<MetadataImage>()) {}

absl::StatusOr<std::unique_ptr<ControllerMetadataStore>> ControllerMetadataStore::Open(
    const BrokerConfig& config, const std::string& cluster_id, absl::Duration timeout) {
  auto voters = controller::ParseVoters(config.controller_quorum_voters);
  if (!voters.ok()) return voters.status();
  auto store =
      std::unique_ptr<ControllerMetadataStore>(new ControllerMetadataStore(config, cluster_id, *voters));
  {
    std::lock_guard<std::mutex> lock(store->mu_);
    store->Publish();
  }
  const absl::Time deadline = absl::Now() + timeout;
  if (absl::Status s = store->Register(timeout); !s.ok()) return s;
  store->watcher_ = std::thread([raw = store.get()] { raw->WatchLoop(); });
  // The first heartbeat unfences us; then wait to see that in the metadata.
  rpc::BrokerHeartbeatResponse hb;
  grpc::Status st = store->Heartbeat(false, deadline - absl::Now(), &hb);
  if (!st.ok()) return controller::FromGrpc(st);
  {
    std::unique_lock<std::mutex> lock(store->mu_);
    const bool caught_up = store->applied_.wait_until(lock, absl::ToChronoTime(deadline), [&] {
      auto it = store->state_.brokers().find(config.node_id);
      return it != store->state_.brokers().end() && it->second.epoch == store->broker_epoch_.load() &&
             !it->second.fenced;
    });
    if (!caught_up)
      return absl::DeadlineExceededError("the metadata did not show this broker unfenced in time");
  }
  store->heartbeater_ = std::thread([raw = store.get()] { raw->HeartbeatLoop(); });
  spdlog::info("broker {} registered with the controller quorum (epoch {}) and is unfenced", config.node_id,
               store->broker_epoch_.load());
  return store;
}

ControllerMetadataStore::~ControllerMetadataStore() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    if (watch_ctx_ != nullptr) watch_ctx_->TryCancel();
  }
  applied_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  if (heartbeater_.joinable()) heartbeater_.join();
}

absl::Status ControllerMetadataStore::Register(absl::Duration timeout) {
  rpc::RegisterBrokerRequest req;
  req.set_broker_id(config_.node_id);
  req.set_rack(config_.broker_rack);
  req.set_incarnation_id(incarnation_id_);
  req.set_cluster_id(cluster_id_);
  const Listener adv = config_.advertised_client_listener();
  metadata::Endpoint* e = req.add_endpoints();
  e->set_listener(adv.name);
  e->set_host(adv.host);
  e->set_port(adv.port);
  rpc::RegisterBrokerResponse resp;
  grpc::Status st =
      client_.CallLeader([&](rpc::Controller::Stub& stub,
                             grpc::ClientContext& ctx) { return stub.RegisterBroker(&ctx, req, &resp); },
                         timeout);
  if (!st.ok())
    return absl::Status(controller::FromGrpc(st).code(),
                        absl::StrCat("registering with the controller quorum: ", st.error_message()));
  broker_epoch_ = resp.broker_epoch();
  return absl::OkStatus();
}

grpc::Status ControllerMetadataStore::Heartbeat(bool want_shut_down, absl::Duration timeout,
                                                rpc::BrokerHeartbeatResponse* resp) {
  return client_.CallLeader(
      [&](rpc::Controller::Stub& stub, grpc::ClientContext& ctx) {
        rpc::BrokerHeartbeatRequest req;
        req.set_broker_id(config_.node_id);
        req.set_broker_epoch(broker_epoch_.load());
        req.set_want_shut_down(want_shut_down);
        return stub.BrokerHeartbeat(&ctx, req, resp);
      },
      timeout);
}

void ControllerMetadataStore::AnnounceStop() {
  if (stop_announced_.exchange(true)) return;
  if (heartbeater_.joinable()) heartbeater_.join();
  const auto start = std::chrono::steady_clock::now();
  rpc::BrokerHeartbeatResponse resp;
  if (grpc::Status st = Heartbeat(true, kAnnounceStopTimeout, &resp); !st.ok()) {
    spdlog::warn(
        "could not tell the controller quorum that this broker is stopping ({}); it fences it after "
        "broker.session.timeout.ms",
        st.error_message());
    return;
  }
  spdlog::info("stop: the controller quorum fenced this broker (epoch {}) in {:.2f} s; its leaderships moved",
               broker_epoch_.load(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

void ControllerMetadataStore::HeartbeatLoop() {
  const auto interval = std::chrono::milliseconds(config_.broker_heartbeat_interval_ms);
  bool failing = false;
  auto quit = [this] { return stopping_.load() || stop_announced_.load(); };
  while (!quit()) {
    for (auto slept = std::chrono::milliseconds(0); slept < interval && !quit();
         slept += std::chrono::milliseconds(20)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (quit()) return;
    rpc::BrokerHeartbeatResponse resp;
    grpc::Status st = Heartbeat(false, absl::Milliseconds(config_.broker_session_timeout_ms / 2), &resp);
    if (!st.ok()) {
      if (!failing) spdlog::warn("heartbeat to the controller quorum failed: {}", st.error_message());
      failing = true;
      continue;
    }
    if (failing) spdlog::info("heartbeats reach the controller quorum again");
    failing = false;
    {
      // The leader moved: watch it instead (the stream reconnects from where it was).
      std::lock_guard<std::mutex> lock(watch_mu_);
      const int32_t leader = client_.leader_hint();
      if (watch_ctx_ != nullptr && leader >= 0 && leader != watched_voter_) watch_ctx_->TryCancel();
    }
    if (resp.register_again()) {
      spdlog::warn("the controller fenced this broker (epoch {}); registering again", broker_epoch_.load());
      if (absl::Status s = Register(absl::Milliseconds(config_.broker_session_timeout_ms)); !s.ok()) {
        spdlog::warn("{}", s.ToString());
      } else {
        spdlog::info("registered again with epoch {}", broker_epoch_.load());
      }
    }
  }
}

void ControllerMetadataStore::WatchLoop() {
  while (!stopping_.load()) {
    // Follow the leader's log where we know the leader: a controller cut off from the
    // others would serve a stale view.
    int32_t voter = client_.leader_hint();
    rpc::Controller::Stub* stub = client_.StubOf(voter);
    if (stub == nullptr) stub = &client_.NextVoter(&voter);
    grpc::ClientContext ctx;
    {
      std::lock_guard<std::mutex> lock(watch_mu_);
      if (stopping_.load()) return;
      watch_ctx_ = &ctx;
      watched_voter_ = voter;
    }
    rpc::WatchMetadataRequest req;
    {
      std::lock_guard<std::mutex> lock(mu_);
      req.set_from_offset(state_.offset() + 1);
    }
    auto reader = stub->WatchMetadata(&ctx, req);
    rpc::MetadataUpdate u;
    while (reader->Read(&u)) {
      std::lock_guard<std::mutex> lock(mu_);
      if (u.snapshot()) {
        auto restored = metadata::MetadataState::Restore(u.batch(), u.offset());
        if (!restored.ok()) {
          spdlog::error("metadata snapshot at {} from the controller is unusable: {}", u.offset(),
                        restored.status().ToString());
          break;
        }
        state_ = std::move(*restored);
      } else if (u.offset() > state_.offset()) {
        state_.Apply(u.batch(), u.offset())
            .IgnoreError();  // refused batches never come; replay is idempotent
      }
      image_stale_ = true;  // rebuilt when next asked for, not once per batch
      applied_.notify_all();
    }
    reader->Finish().IgnoreError();
    {
      std::lock_guard<std::mutex> lock(watch_mu_);
      watch_ctx_ = nullptr;
    }
    if (!stopping_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void ControllerMetadataStore::Publish() const {
  auto image = std::make_shared<MetadataImage>();
  image->cluster_id = cluster_id_;
  image->controller_id = config_.node_id;  // admin requests come here and are forwarded
  for (const auto& [id, t] : state_.topics()) {
    TopicInfo info;
    info.name = t.name;
    info.id = ToUuid(id);
    info.partitions = static_cast<int32_t>(t.partitions.size());
    info.replication_factor =
        static_cast<int16_t>(t.partitions.empty() ? 1 : t.partitions.front().replicas.size());
    if (const auto* configs = state_.Configs(metadata::kTopicResource, t.name)) info.configs = *configs;
    image->topics[t.name] = std::move(info);
  }
  for (const auto& [resource, configs] : state_.all_configs()) {
    if (resource.first == metadata::kBrokerResource) image->broker_configs[resource.second] = configs;
  }
  image_ = std::move(image);
}

std::shared_ptr<const MetadataImage> ControllerMetadataStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (image_stale_) {
    Publish();
    image_stale_ = false;
  }
  return image_;
}

absl::Status ControllerMetadataStore::WaitForOffset(uint64_t offset, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (applied_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] { return state_.offset() >= offset; }))
    return absl::OkStatus();
  return absl::DeadlineExceededError(
      absl::StrCat("committed at ", offset, " but this broker's metadata is still at ", state_.offset()));
}

absl::StatusOr<TopicInfo> ControllerMetadataStore::CreateTopic(const CreateTopicRequest& request) {
  auto resolved = ResolveNewTopic(request, config_.num_partitions, config_.default_replication_factor);
  if (!resolved.ok()) return resolved.status();
  TopicInfo t = std::move(*resolved);
  rpc::CreateTopicRequest req;
  req.set_name(t.name);
  req.set_partitions(t.partitions);
  req.set_replication_factor(t.replication_factor);
  for (const auto& [k, v] : t.configs) (*req.mutable_configs())[k] = v;
  req.set_validate_only(request.validate_only);
  rpc::CreateTopicResponse resp;
  grpc::Status st =
      client_.CallLeader([&](rpc::Controller::Stub& stub,
                             grpc::ClientContext& ctx) { return stub.CreateTopic(&ctx, req, &resp); },
                         kWriteTimeout);
  if (!st.ok()) return controller::FromGrpc(st);
  t.id = ToUuid(resp.topic_id());
  if (!request.validate_only) {
    if (absl::Status s = WaitForOffset(resp.offset(), kCatchUpTimeout); !s.ok()) return s;
  }
  return t;
}

absl::StatusOr<TopicInfo> ControllerMetadataStore::DeleteTopic(const std::string& name) {
  const TopicInfo* found = Current()->Find(name);
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("topic '", name, "' does not exist"));
  TopicInfo info = *found;
  rpc::DeleteTopicRequest req;
  req.set_name(name);
  rpc::WriteResponse resp;
  grpc::Status st =
      client_.CallLeader([&](rpc::Controller::Stub& stub,
                             grpc::ClientContext& ctx) { return stub.DeleteTopic(&ctx, req, &resp); },
                         kWriteTimeout);
  if (!st.ok()) return controller::FromGrpc(st);
  if (absl::Status s = WaitForOffset(resp.offset(), kCatchUpTimeout); !s.ok()) return s;
  return info;
}

absl::StatusOr<TopicInfo> ControllerMetadataStore::CreatePartitions(const std::string& name, int32_t count,
                                                                    bool validate_only) {
  const TopicInfo* found = Current()->Find(name);
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("topic '", name, "' does not exist"));
  TopicInfo info = *found;
  if (absl::Status s = metadata::ValidatePartitionIncrease(name, info.partitions, count); !s.ok()) return s;
  rpc::CreatePartitionsRequest req;
  req.set_name(name);
  req.set_count(count);
  req.set_validate_only(validate_only);
  rpc::WriteResponse resp;
  grpc::Status st =
      client_.CallLeader([&](rpc::Controller::Stub& stub,
                             grpc::ClientContext& ctx) { return stub.CreatePartitions(&ctx, req, &resp); },
                         kWriteTimeout);
  if (!st.ok()) return controller::FromGrpc(st);
  info.partitions = count;
  if (!validate_only) {
    if (absl::Status s = WaitForOffset(resp.offset(), kCatchUpTimeout); !s.ok()) return s;
  }
  return info;
}

absl::Status ControllerMetadataStore::AlterConfigs(int32_t type, const std::string& name,
                                                   const std::map<std::string, std::string>& configs) {
  rpc::AlterConfigsRequest req;
  req.set_resource_type(type);
  req.set_resource_name(name);
  for (const auto& [k, v] : configs) (*req.mutable_configs())[k] = v;
  rpc::WriteResponse resp;
  grpc::Status st =
      client_.CallLeader([&](rpc::Controller::Stub& stub,
                             grpc::ClientContext& ctx) { return stub.AlterConfigs(&ctx, req, &resp); },
                         kWriteTimeout);
  if (!st.ok()) return controller::FromGrpc(st);
  return WaitForOffset(resp.offset(), kCatchUpTimeout);
}

absl::Status ControllerMetadataStore::SetTopicConfigs(const std::string& topic,
                                                      std::map<std::string, std::string> configs) {
  if (Current()->Find(topic) == nullptr)
    return absl::NotFoundError(absl::StrCat("topic '", topic, "' does not exist"));
  return AlterConfigs(metadata::kTopicResource, topic, configs);
}

absl::Status ControllerMetadataStore::SetBrokerConfigs(const std::string& resource,
                                                       std::map<std::string, std::string> configs) {
  return AlterConfigs(metadata::kBrokerResource, resource, configs);
}

absl::StatusOr<int64_t> ControllerMetadataStore::AllocateProducerIds(int32_t count) {
  rpc::AllocateProducerIdsRequest req;
  req.set_broker_id(config_.node_id);
  req.set_broker_epoch(broker_epoch_.load());
  req.set_count(count);
  rpc::AllocateProducerIdsResponse resp;
  grpc::Status st =
      client_.CallLeader([&](rpc::Controller::Stub& stub,
                             grpc::ClientContext& ctx) { return stub.AllocateProducerIds(&ctx, req, &resp); },
                         kWriteTimeout);
  if (!st.ok()) return controller::FromGrpc(st);
  return resp.first_producer_id();
}

absl::StatusOr<QuorumDescription> ControllerMetadataStore::DescribeQuorum() {
  // Any voter answers with its own view; only the leader's has the replicas.
  rpc::DescribeQuorumResponse resp;
  grpc::Status st = client_.CallLeader(
      [&](rpc::Controller::Stub& stub, grpc::ClientContext& ctx) {
        return stub.DescribeQuorum(&ctx, rpc::DescribeQuorumRequest(), &resp);
      },
      kWriteTimeout);
  if (st.ok() && resp.role() != "leader") {
    rpc::Controller::Stub* leader = client_.StubOf(resp.leader_id());
    if (leader == nullptr) return absl::UnavailableError("the controller quorum has no leader");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(kWriteTimeout));
    st = leader->DescribeQuorum(&ctx, rpc::DescribeQuorumRequest(), &resp);
  }
  if (!st.ok()) return controller::FromGrpc(st);
  if (resp.role() != "leader") return absl::UnavailableError("the controller quorum has no leader");
  QuorumDescription q;
  q.leader_id = resp.leader_id();
  q.leader_epoch = static_cast<int64_t>(resp.term());
  q.high_watermark = static_cast<int64_t>(resp.commit_index());
  for (const auto& [in, out] :
       {std::pair{&resp.voters(), &q.voters}, std::pair{&resp.observers(), &q.observers}}) {
    for (const rpc::VoterState& v : *in) {
      out->push_back({v.id(), v.match_index() == 0 ? -1 : static_cast<int64_t>(v.match_index()),
                      v.last_answer_ms() == 0 ? -1 : v.last_answer_ms(),
                      v.caught_up_ms() == 0 ? -1 : v.caught_up_ms()});
    }
  }
  for (const auto& [id, address] : voters_) q.voter_endpoints[id] = {address.host, address.port};
  return q;
}

}  // namespace fjord::broker
