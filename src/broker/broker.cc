#include "broker/broker.h"

#include <future>
#include <thread>

#include "broker/topic_configs.h"
#include "spdlog/spdlog.h"

namespace fjord::broker {

Broker::Broker(BrokerConfig config, std::unique_ptr<MetadataStore> metadata)
    : config_(std::move(config)),
      metadata_(std::move(metadata)),
      fetch_sessions_(static_cast<size_t>(config_.max_incremental_fetch_session_cache_slots)) {
  int n = config_.smp > 0 ? config_.smp : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  for (int i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>(i, config_.log_dirs.front()));
}

Broker::~Broker() {
  Shutdown();
}

Shard& Broker::OwnerOf(const TopicPartition& tp) {
  const size_t h = std::hash<std::string>()(tp.topic) * 31 + static_cast<size_t>(tp.partition);
  return *shards_[h % shards_.size()];
}

std::shared_ptr<const BrokerConfig> Broker::effective_config() {
  auto image = metadata_->Current();
  std::lock_guard lock(effective_mu_);
  if (effective_.image != image) {
    effective_.config = std::make_shared<const BrokerConfig>(WithDynamicConfigs(config_, *image));
    effective_.image = std::move(image);
  }
  return effective_.config;
}

absl::StatusOr<int64_t> Broker::NextProducerId() {
  std::lock_guard lock(producer_ids_mu_);
  if (producer_id_next_ == producer_id_end_) {
    constexpr int32_t kBlock = 1000;
    auto first = metadata_->AllocateProducerIds(kBlock);
    if (!first.ok()) return first.status();
    producer_id_next_ = *first;
    producer_id_end_ = *first + kBlock;
  }
  return producer_id_next_++;
}

void Broker::NotifyAppend() {
  for (auto& s : shards_) {
    boost::asio::post(s->context(), [shard = s.get()] { shard->WakeWaiters(); });
  }
}

void Broker::Start() {
  started_ = true;
  for (auto& s : shards_) s->Start();
  spdlog::info("broker: {} shard(s)", shards_.size());
}

void Broker::Shutdown() {
  if (!started_ || shards_.empty()) return;
  for (auto& s : shards_) {
    std::promise<void> done;
    auto fut = done.get_future();
    boost::asio::post(s->context(), [shard = s.get(), &done] {
      shard->CloseAll();
      done.set_value();
    });
    if (fut.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      spdlog::error("shard {} did not close its logs within 30 s", s->id());
    }
  }
  for (auto& s : shards_) s->Stop();
  for (auto& s : shards_) s->Join();
  shards_.clear();
}

}  // namespace fjord::broker
