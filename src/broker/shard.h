// A shard: one thread, one io_context, and the partitions it owns. Everything a shard
// owns is touched only on its thread, so nothing here takes a lock.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "broker/metrics.h"
#include "log/io_backend.h"
#include "log/partition_log.h"

namespace fjord::broker {

class GroupCommitter;
}  // namespace fjord::broker
namespace fjord::group {
class GroupCoordinator;
}  // namespace fjord::group
namespace fjord::broker {

inline constexpr char kDeleteDirSuffix[] = "-delete";

// An asio context (io_context, thread_pool) whose execution_context::shutdown is public:
// Broker::Shutdown destroys every context's pending work before any context goes.
template <typename AsioContext>
class ShutdownableContext : public AsioContext {
 public:
  using AsioContext::AsioContext;
  using boost::asio::execution_context::shutdown;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

class Shard {
 public:
  Shard(int id, std::filesystem::path data_dir);
  ~Shard();
  int id() const { return id_; }
  boost::asio::io_context& context() { return ctx_; }

  // Sets up this shard's log I/O backend (before Start and before any log is opened).
  // Returns the backend's name; `why_not_uring` says why auto fell back to pwrite.
  absl::StatusOr<std::string> SetUpIo(log::IoBackendKind kind, std::string* why_not_uring);
  log::IoBackend& io() { return *io_; }

  // The partition's log, opened on first use. Shard thread only.
  // `config` is the topic's current effective config; an open log adopts it.
  absl::StatusOr<log::PartitionLog*> Log(const TopicPartition& tp, const log::LogConfig& config);
  // Calls fn(tp, log) for every open log. Shard thread only.
  template <typename F>
  void ForEachLog(F fn) {
    for (auto& [tp, log] : logs_) fn(tp, *log);
  }
  // The partition's log if it is open, else nullptr. Shard thread only.
  log::PartitionLog* FindOpenLog(const TopicPartition& tp);
  // fsync-before-ack without blocking this thread (see group_commit.h).
  GroupCommitter& committer() { return *committer_; }
  // The group coordinator for the `__consumer_offsets` partitions this shard owns.
  group::GroupCoordinator& groups() { return *groups_; }
  void set_groups(std::unique_ptr<group::GroupCoordinator> groups);
  // Closes the partition's log (if open), renames its directory to *-delete and
  // removes it in the background. Shard thread only.
  absl::Status DeleteLog(const TopicPartition& tp);
  // Removes, in the background, directories a stop cut short of being deleted.
  void RemoveDeletedDirs();
  // Logs a line for each log that went offline since the last call. Shard thread only.
  void ReportOffline();
  // Closes every log cleanly (writes the clean-shutdown markers); a log asked for later
  // is refused, not opened again. Shard thread only.
  void CloseAll();

  // The client connections this shard serves (connection.cc adds and removes its own).
  // Shard thread only.
  using Connections = std::list<boost::asio::ip::tcp::socket*>;
  Connections::iterator AddConnection(boost::asio::ip::tcp::socket* socket);
  void RemoveConnection(Connections::iterator it);
  // A stop's first step: no connection reads another request (each answers what it has
  // read, then closes), new connections are closed at once, waiting fetches answer now
  // and waiting joins and syncs get NOT_COORDINATOR. Shard thread only.
  void StopServing();
  bool stopping() const { return stopping_; }
  // For connections still open a while after StopServing (a client that does not read
  // its answers): closes their sockets. Shard thread only.
  void EndConnections();
  size_t partition_count() const { return logs_.size(); }

  // Long-poll support: a fetch waiting for data parks a timer here; any append on any
  // shard wakes every parked timer on every shard (the fetch then re-checks).
  std::list<boost::asio::steady_timer*>& waiters() { return waiters_; }
  void WakeWaiters();
  // Counts wake-ups, so a fetch can tell that an append raced with its reads.
  uint64_t append_generation() const { return append_generation_; }

  // Counters bumped by this shard's connections; read by scrapes from any thread.
  ShardCounters& counters() { return counters_; }
  // Partition and byte counts of the logs this shard owns. Shard thread only.
  ShardGauges Gauges() const;
  // The topic's traffic through this shard, for the produce and fetch paths to count
  // in (forgotten when the topic's partitions here are deleted). Shard thread only.
  TopicTraffic& traffic(const std::string& topic) { return traffic_[topic]; }

  void Start();
  void Stop();
  void Join();
  // After Join: destroys the work still queued or waiting here (Broker::Shutdown says why
  // this comes before any shard is destroyed). May be called again.
  void DestroyPendingWork() { ctx_.shutdown(); }

 private:
  int id_;
  std::filesystem::path data_dir_;
  ShutdownableContext<boost::asio::io_context> ctx_{1};
  std::thread thread_;
  // Declared before the logs: it outlives them (their Close syncs through it).
  std::unique_ptr<log::IoBackend> io_;
  boost::asio::posix::stream_descriptor io_completions_{ctx_};
  void WatchIoCompletions();
  std::map<TopicPartition, std::unique_ptr<log::PartitionLog>> logs_;
  std::list<boost::asio::steady_timer*> waiters_;
  Connections connections_;
  bool stopping_ = false;
  bool logs_closed_ = false;
  uint64_t append_generation_ = 0;
  ShardCounters counters_;
  std::map<std::string, TopicTraffic, std::less<>> traffic_;
  std::unique_ptr<GroupCommitter> committer_;
  std::unique_ptr<group::GroupCoordinator> groups_;
};

}  // namespace fjord::broker
