#include "broker/broker.h"

#include <sched.h>

#include <future>
#include <memory>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/topic_configs.h"
#include "group/coordinator.h"
#include "spdlog/spdlog.h"

namespace fjord::broker {
namespace {

// The CPUs this process may run on (taskset, a container's cpuset), not all the
// machine's: a shard per CPU it cannot use would only take turns with another.
int UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return static_cast<int>(std::thread::hardware_concurrency());
}

// Posts fn(shard) to every shard at once; each future is ready when its shard has run
// it. The promise is shared with the shard, as the work may outlast a timed-out wait.
template <typename F>
std::vector<std::future<void>> PostToEveryShard(std::vector<std::unique_ptr<Shard>>& shards, F fn) {
  std::vector<std::future<void>> done;
  for (auto& s : shards) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    boost::asio::post(s->context(), [shard = s.get(), promise, fn] {
      fn(*shard);
      promise->set_value();
    });
  }
  return done;
}

// How long a stop waits for connections to answer what they have read. Longer only
// for a client that does not read its answers, or a produce waiting on a slow disk.
constexpr auto kConnectionDrain = std::chrono::seconds(5);

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Broker::Broker(BrokerConfig config, std::unique_ptr<MetadataStore> metadata)
    : config_(std::move(config)),
      metadata_(std::move(metadata)),
      fetch_sessions_(static_cast<size_t>(config_.max_incremental_fetch_session_cache_slots)) {
  int n = config_.smp > 0 ? config_.smp : UsableCpus();
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

Shard& Broker::GroupShard(const std::string& group_id) {
  return OwnerOf(
      {std::string(kOffsetsTopic), group::PartitionFor(group_id, config_.offsets_topic_num_partitions)});
}

namespace {

// Every 100 ms: sessions, rebalance deadlines, offsets retention.
boost::asio::awaitable<void> TickGroups(Shard& shard) {
  boost::asio::steady_timer timer(shard.context());
  while (true) {
    timer.expires_after(std::chrono::milliseconds(100));
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
    shard.groups().Tick();
  }
}

// Every log.retention.check.interval.ms: each open log, with its topic's current
// config, compacts (cleanup.policy=compact) and deletes the closed segments past
// retention.ms / retention.bytes (cleanup.policy=delete), and forgets idempotent
// producers idle past producer.id.expiration.ms.
boost::asio::awaitable<void> EnforceRetention(Broker& broker, Shard& shard) {
  boost::asio::steady_timer timer(shard.context());
  while (true) {
    timer.expires_after(std::chrono::milliseconds(broker.config().log_retention_check_interval_ms));
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
    auto image = broker.metadata().Current();
    auto config = broker.effective_config();
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    shard.ForEachLog([&](const TopicPartition& tp, log::PartitionLog& log) {
      log.SetConfig(EffectiveLogConfig(*config, image->Find(tp.topic)));
      if (absl::Status s = log.CheckpointRecoveryPoint(); !s.ok()) {
        spdlog::error("recovery point of {}-{}: {}", tp.topic, tp.partition, s.ToString());
      }
      auto compacted = config->log_cleaner_enable ? log.Compact(now) : log::CompactionStats{};
      if (!compacted.ok()) {
        spdlog::error("compaction of {}-{}: {}", tp.topic, tp.partition, compacted.status().ToString());
      } else if (compacted->segments_rewritten > 0) {
        spdlog::info("compaction of {}-{}: {} segment(s), {} records removed, {} -> {} bytes", tp.topic,
                     tp.partition, compacted->segments_rewritten, compacted->records_removed,
                     compacted->bytes_before, compacted->bytes_after);
      }
      if (const size_t expired = log.ExpireProducers(now); expired > 0) {
        spdlog::info("{}-{}: forgot {} idempotent producer(s) idle past producer.id.expiration.ms", tp.topic,
                     tp.partition, expired);
      }
      auto deleted = log.ApplyRetention(now);
      if (!deleted.ok()) {
        spdlog::error("retention of {}-{}: {}", tp.topic, tp.partition, deleted.status().ToString());
      } else if (*deleted > 0) {
        spdlog::info("retention: deleted {} segment(s) of {}-{}; log start offset {}", *deleted, tp.topic,
                     tp.partition, log.log_start_offset());
      }
    });
  }
}

// flush.ms (log.flush.interval.ms): Kafka checks only every
// log.flush.scheduler.interval.ms (by default never, so flush.ms does nothing there);
// here a log whose topic sets it is checked at least once a second.
boost::asio::awaitable<void> FlushByTime(Broker& broker, Shard& shard) {
  boost::asio::steady_timer timer(shard.context());
  while (true) {
    timer.expires_after(
        std::chrono::milliseconds(std::min<int64_t>(broker.config().log_flush_scheduler_interval_ms, 1000)));
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
    shard.ForEachLog([&](const TopicPartition& tp, log::PartitionLog& log) {
      if (absl::Status s = log.FlushIfDue(); !s.ok()) {
        spdlog::error("flush of {}-{}: {}", tp.topic, tp.partition, s.ToString());
      }
    });
  }
}

}  // namespace

absl::Status Broker::Start() {
  // Chosen once, with one line saying which (and why, when io_uring is not available).
  const log::IoBackendKind io_kind = *log::ParseIoBackendKind(config_.log_io_backend);
  std::string io_name;
  std::string why_not_uring;
  for (auto& s : shards_) {
    auto name = s->SetUpIo(io_kind, &why_not_uring);
    if (!name.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("log.io.backend=", config_.log_io_backend, ": ", name.status().message()));
    }
    io_name = *name;
  }
  io_backend_ = io_name;
  shards_.front()->RemoveDeletedDirs();  // (the loop starts below; completions wait for it)
  if (why_not_uring.empty()) {
    spdlog::info("log I/O backend: {} (log.io.backend={})", io_name, config_.log_io_backend);
  } else {
    spdlog::warn("log I/O backend: {} (io_uring is unavailable: {})", io_name, why_not_uring);
  }
  // The internal offsets topic, as Kafka creates it: compacted, its own segment size.
  if (metadata_->Current()->Find(std::string(kOffsetsTopic)) == nullptr) {
    CreateTopicRequest create;
    create.name = std::string(kOffsetsTopic);
    create.partitions = config_.offsets_topic_num_partitions;
    create.replication_factor = 1;
    create.configs = {{"cleanup.policy", "compact"},
                      {"segment.bytes", std::to_string(config_.offsets_topic_segment_bytes)}};
    auto created = metadata_->CreateTopic(create);
    if (!created.ok() && created.status().code() != absl::StatusCode::kAlreadyExists) return created.status();
  }
  const int32_t offsets_partitions = metadata_->Current()->Find(std::string(kOffsetsTopic))->partitions;
  group::Settings settings;
  settings.offsets_partitions = offsets_partitions;
  settings.min_session_timeout_ms = config_.group_min_session_timeout_ms;
  settings.max_session_timeout_ms = config_.group_max_session_timeout_ms;
  settings.initial_rebalance_delay_ms = config_.group_initial_rebalance_delay_ms;
  settings.max_size = config_.group_max_size;
  settings.offset_metadata_max_bytes = config_.offset_metadata_max_bytes;
  settings.offsets_retention_ms = config_.offsets_retention_ms;
  settings.offsets_retention_check_interval_ms = config_.offsets_retention_check_interval_ms;
  for (auto& s : shards_) {
    Shard* shard = s.get();
    shard->set_groups(std::make_unique<group::GroupCoordinator>(
        settings, [this, shard](int32_t p) -> absl::StatusOr<log::PartitionLog*> {
          const TopicPartition tp{std::string(kOffsetsTopic), p};
          auto image = metadata_->Current();
          return shard->Log(tp, EffectiveLogConfig(*effective_config(), image->Find(tp.topic)));
        }));
  }
  started_ = true;
  for (auto& s : shards_) s->Start();
  // Load every group now, each on the shard that owns its partition.
  auto load = [this, offsets_partitions](Shard& shard) {
    for (int32_t p = 0; p < offsets_partitions; ++p) {
      if (&OwnerOf({std::string(kOffsetsTopic), p}) != &shard) continue;
      if (absl::Status st = shard.groups().Load(p); !st.ok()) {
        spdlog::error("loading {}-{}: {}", kOffsetsTopic, p, st.ToString());
      }
    }
    boost::asio::co_spawn(shard.context(), TickGroups(shard), boost::asio::detached);
    boost::asio::co_spawn(shard.context(), EnforceRetention(*this, shard), boost::asio::detached);
    boost::asio::co_spawn(shard.context(), FlushByTime(*this, shard), boost::asio::detached);
  };
  for (auto& f : PostToEveryShard(shards_, load)) f.wait();
  spdlog::info("broker: {} shard(s)", shards_.size());
  return absl::OkStatus();
}

void Broker::Shutdown() {
  if (!started_ || shards_.empty()) return;
  if (config_.controlled_shutdown_enable) metadata_->AnnounceStop();
  EndClientConnections();
  CloseLogs();
  for (auto& s : shards_) s->Stop();
  for (auto& s : shards_) s->Join();
  metadata_threads_.stop();
  metadata_threads_.join();
  // Work still queued in one context may hold a coroutine of another (a call posted to
  // another shard or to the metadata threads); destroying that work posts the
  // coroutine's teardown to its own context. So every context's pending work is destroyed
  // while all of them exist, in rounds, as a round can post into a queue it emptied
  // already (destroying shard after shard touched a freed shard's context: ASan).
  for (int round = 0; round < 3; ++round) {
    metadata_threads_.shutdown();
    for (auto& s : shards_) s->DestroyPendingWork();
  }
  shards_.clear();
}

int64_t Broker::OpenClientConnections() {
  int64_t open = 0;
  for (auto& s : shards_) open += s->counters().connections_open.load(std::memory_order_relaxed);
  return open;
}

// Kafka closes its connections first, and what they had in flight goes unanswered.
// Here a connection answers the requests it has read (an appended produce is
// acknowledged, so a producer need not send it again) and reads no more.
void Broker::EndClientConnections() {
  const auto start = std::chrono::steady_clock::now();
  const int64_t open = OpenClientConnections();
  if (open > 0) spdlog::info("stop: answering and closing {} client connection(s)", open);
  for (auto& f : PostToEveryShard(shards_, [](Shard& s) { s.StopServing(); })) f.wait();
  if (open == 0 && OpenClientConnections() == 0) return;
  while (OpenClientConnections() > 0 && std::chrono::steady_clock::now() - start < kConnectionDrain) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (const int64_t left = OpenClientConnections(); left > 0) {
    spdlog::warn("stop: {} client connection(s) still open after {:.0f} s; closing them", left,
                 SecondsSince(start));
    for (auto& f : PostToEveryShard(shards_, [](Shard& s) { s.EndConnections(); })) f.wait();
    return;
  }
  spdlog::info("stop: client connections closed in {:.2f} s", SecondsSince(start));
}

// All shards close their logs at once, so that no shard waits for another's fsyncs to
// start its own.
void Broker::CloseLogs() {
  std::vector<std::future<void>> closed = PostToEveryShard(shards_, [](Shard& s) { s.CloseAll(); });
  for (size_t i = 0; i < closed.size(); ++i) {
    for (int waited = 30; closed[i].wait_for(std::chrono::seconds(30)) != std::future_status::ready;
         waited += 30) {
      spdlog::warn("shard {} is still closing its logs after {} s", shards_[i]->id(), waited);
    }
  }
}

}  // namespace fjord::broker
