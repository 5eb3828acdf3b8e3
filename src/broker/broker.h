// The broker: its shards, its metadata, and the helpers handlers use to reach the
// shard that owns a partition.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <mutex>
#include <vector>

#include "broker/config.h"
#include "broker/fetch_sessions.h"
#include "broker/metadata_store.h"
#include "broker/request_memory.h"
#include "broker/shard.h"

namespace fjord::broker {

class Broker {
 public:
  Broker(BrokerConfig config, std::unique_ptr<MetadataStore> metadata);
  ~Broker();

  // The static configuration (file and overrides).
  const BrokerConfig& config() const { return config_; }
  // The static configuration with the dynamic configs of the current metadata image
  // laid over it: what topic defaults and size limits come from. Recomputed when the
  // image changes; any thread.
  std::shared_ptr<const BrokerConfig> effective_config();
  MetadataStore& metadata() { return *metadata_; }
  FetchSessionCache& fetch_sessions() { return fetch_sessions_; }
  RequestMemory& request_memory() { return request_memory_; }
  Shard& shard(size_t i) { return *shards_[i]; }
  size_t shard_count() const { return shards_.size(); }
  // The log I/O backend the shards use ("io_uring" or "pwrite"), chosen at Start().
  const std::string& io_backend() const { return io_backend_; }
  // The shard that owns a partition (a stable hash of topic and partition).
  Shard& OwnerOf(const TopicPartition& tp);
  // The shard whose group coordinator owns `group_id` (the owner of its
  // `__consumer_offsets` partition).
  Shard& GroupShard(const std::string& group_id);

  // Runs fn() on `shard`'s thread and resumes the caller on its own executor with the
  // result. fn must not block. It runs while the awaiting coroutine is suspended, so it
  // should capture by reference: GCC 12 may copy a co_await operand's temporaries
  // bitwise, which breaks captured objects that point into themselves (short strings).
  template <typename F>
  auto RunOn(Shard& shard, F fn) -> boost::asio::awaitable<decltype(fn())> {
    // Already on the owner's thread: no hop (and no two context switches).
    if (shard.context().get_executor().running_in_this_thread()) co_return fn();
    co_return co_await PostTo(shard, std::move(fn));
  }

  // Runs fn(), which may block, off the shards: on the broker's metadata threads. For
  // calls to the controller quorum (a write waits for its commit, up to 30 s while the
  // quorum has no leader), so the calling shard keeps serving its other connections
  // meanwhile. Capture by reference, as for RunOn.
  template <typename F>
  auto RunBlocking(F fn) -> boost::asio::awaitable<decltype(fn())> {
    co_return co_await PostToExecutor(metadata_threads_.get_executor(), std::move(fn));
  }

  // Runs fn() on `shard`'s thread and resumes the caller on its own executor.
  template <typename F>
  static auto PostTo(Shard& shard, F fn) {
    return PostToExecutor(shard.context().get_executor(), std::move(fn));
  }
  template <typename Executor, typename F>
  static auto PostToExecutor(Executor target, F fn) {
    using R = decltype(fn());
    auto initiate = [target](auto handler, F work) {
      boost::asio::post(target, [work = std::move(work), handler = std::move(handler)]() mutable {
        R result = work();
        auto ex = boost::asio::get_associated_executor(handler);
        boost::asio::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
          std::move(handler)(std::move(result));
        });
      });
    };
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(R)>(
        initiate, boost::asio::use_awaitable, std::move(fn));
  }

  // A new producer id, taken from a block reserved in the metadata (1000 at a time).
  absl::StatusOr<int64_t> NextProducerId();

  // After an append: wake long-polling fetches on every shard.
  void NotifyAppend();

  // Starts the shards; creates `__consumer_offsets` if missing, loads the groups, and
  // starts each coordinator's timer.
  absl::Status Start();
  // Ends the client connections (each answers what it has read), closes every log
  // cleanly, joins the shard threads.
  void Shutdown();

 private:
  // Shutdown's steps: the connections first, so that no request reaches a closed log.
  void EndClientConnections();
  void CloseLogs();
  int64_t OpenClientConnections();
  BrokerConfig config_;
  std::string io_backend_;
  std::unique_ptr<MetadataStore> metadata_;
  // RunBlocking's threads; declared after metadata_, so they are joined before it goes.
  ShutdownableContext<boost::asio::thread_pool> metadata_threads_{2};
  FetchSessionCache fetch_sessions_;
  RequestMemory request_memory_{config_.queued_max_request_bytes};
  struct Effective {
    std::shared_ptr<const MetadataImage> image;  // what `config` was computed from
    std::shared_ptr<const BrokerConfig> config;
  };
  std::mutex effective_mu_;
  Effective effective_;
  std::vector<std::unique_ptr<Shard>> shards_;
  bool started_ = false;
  std::mutex producer_ids_mu_;  // InitProducerId is rare: a lock is fine here
  int64_t producer_id_next_ = 0;
  int64_t producer_id_end_ = 0;
};

}  // namespace fjord::broker
