#include "broker/shard.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <boost/asio/executor_work_guard.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/client_warnings.h"
#include "broker/group_commit.h"
#include "group/coordinator.h"
#include "spdlog/spdlog.h"

namespace fjord::broker {

Shard::Shard(int id, std::filesystem::path data_dir)
    : id_(id), data_dir_(std::move(data_dir)), committer_(std::make_unique<GroupCommitter>(*this)) {}

Shard::~Shard() = default;

absl::StatusOr<std::string> Shard::SetUpIo(log::IoBackendKind kind, std::string* why_not_uring) {
  auto io = log::MakeIoBackend(kind, why_not_uring);
  if (!io.ok()) return io.status();
  io_ = std::move(*io);
  const int fd = ::dup(io_->completion_fd());
  if (fd < 0) return absl::InternalError("dup of the I/O completion eventfd failed");
  io_completions_.assign(fd);
  WatchIoCompletions();
  return std::string(io_->name());
}

void Shard::WatchIoCompletions() {
  io_completions_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                             [this](const boost::system::error_code& ec) {
                               if (ec) return;  // shutting down
                               io_->RunCompletions();
                               WatchIoCompletions();
                             });
}

void Shard::set_groups(std::unique_ptr<group::GroupCoordinator> groups) {
  groups_ = std::move(groups);
}

log::PartitionLog* Shard::FindOpenLog(const TopicPartition& tp) {
  auto it = logs_.find(tp);
  return it == logs_.end() ? nullptr : it->second.get();
}

absl::StatusOr<log::PartitionLog*> Shard::Log(const TopicPartition& tp, const log::LogConfig& config) {
  auto it = logs_.find(tp);
  if (it != logs_.end()) {
    if (it->second->config() != config) it->second->SetConfig(config);
    return it->second.get();
  }
  // A request still running after the stop closed the logs: opened again, the log
  // would lose its clean-shutdown marker and be recovered at the next start.
  if (logs_closed_) return absl::UnavailableError(absl::StrCat("shard ", id_, " has closed its logs"));
  // (Offline logs are reported by ReportOffline after the request that found out.)
  auto log =
      log::PartitionLog::Open(data_dir_ / absl::StrCat(tp.topic, "-", tp.partition), config, io_.get());
  if (!log.ok()) {
    // Every request for the partition tries again (and fails): budgeted, as clients retry.
    if (LogOpenFailureWarnings().Admit()) {
      spdlog::error("shard {}: cannot open log {}-{}: {}", id_, tp.topic, tp.partition,
                    log.status().ToString());
    }
    return log.status();
  }
  auto* p = log->get();
  logs_[tp] = std::move(*log);
  return p;
}

absl::Status Shard::DeleteLog(const TopicPartition& tp) {
  committer_->Forget(tp);
  logs_.erase(tp);
  traffic_.erase(tp.topic);
  // As Kafka does: renamed to <dir>.<unique>-delete at once (a topic re-created under
  // the same name starts empty, and a restart sweeps leftovers), removed in the background.
  const std::filesystem::path dir = data_dir_ / absl::StrCat(tp.topic, "-", tp.partition);
  const std::filesystem::path doomed =
      data_dir_ /
      absl::StrCat(tp.topic, "-", tp.partition, ".", absl::ToUnixNanos(absl::Now()), kDeleteDirSuffix);
  if (::rename(dir.c_str(), doomed.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();  // never written
    return absl::UnavailableError(
        absl::StrCat("delete ", tp.topic, "-", tp.partition, ": rename: ", std::strerror(errno)));
  }
  io_->RemoveInBackground(doomed, [doomed](absl::Status s) {
    if (!s.ok()) spdlog::error("removing {}: {}", doomed.string(), s.ToString());
  });
  return absl::OkStatus();
}

void Shard::RemoveDeletedDirs() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(data_dir_, ec)) {
    if (!e.path().filename().string().ends_with(kDeleteDirSuffix)) continue;
    spdlog::info("removing {} (a deletion cut short by the last stop)", e.path().string());
    io_->RemoveInBackground(e.path(), nullptr);
  }
}

void Shard::CloseAll() {
  // Each close fsyncs the log's files: with thousands of partitions this takes seconds,
  // so the operator sees it start and end.
  const auto start = std::chrono::steady_clock::now();
  spdlog::info("shard {}: closing {} log(s)", id_, logs_.size());
  for (auto& [tp, log] : logs_) {
    if (absl::Status s = log->Close(); !s.ok()) {
      spdlog::error("shard {}: closing {}-{}: {}", id_, tp.topic, tp.partition, s.ToString());
    }
  }
  spdlog::info("shard {}: closed {} log(s) in {:.2f} s", id_, logs_.size(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  logs_.clear();
  logs_closed_ = true;
}

Shard::Connections::iterator Shard::AddConnection(boost::asio::ip::tcp::socket* socket) {
  return connections_.insert(connections_.end(), socket);
}

void Shard::RemoveConnection(Connections::iterator it) {
  connections_.erase(it);
}

void Shard::StopServing() {
  stopping_ = true;
  boost::system::error_code ignored;
  for (boost::asio::ip::tcp::socket* socket : connections_) {
    socket->shutdown(boost::asio::ip::tcp::socket::shutdown_receive, ignored);  // a waiting read ends
  }
  WakeWaiters();
  if (groups_) groups_->Resign();
}

void Shard::EndConnections() {
  boost::system::error_code ignored;
  for (boost::asio::ip::tcp::socket* socket : connections_) {
    socket->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket->close(ignored);  // cancels its waiting reads and writes
  }
}

void Shard::ReportOffline() {
  for (auto& [tp, log] : logs_) {
    if (log->TakeOfflineReport()) {
      spdlog::error(
          "shard {}: partition {}-{} is offline after a disk error ({}); it stays offline until restart", id_,
          tp.topic, tp.partition, log->offline_reason().ToString());
    }
  }
}

ShardGauges Shard::Gauges() const {
  ShardGauges g;
  g.partitions = logs_.size();
  for (const auto& [tp, log] : logs_) g.offline_partitions += log->offline() ? 1 : 0;
  g.logs.reserve(logs_.size());
  for (const auto& [tp, log] : logs_) {
    g.log_bytes += log->size_bytes();
    g.logs.push_back({tp.topic, tp.partition, static_cast<int64_t>(log->size_bytes()),
                      log->log_start_offset(), log->log_end_offset(),
                      static_cast<int64_t>(log->page_cache_window())});
  }
  g.topics.insert(traffic_.begin(), traffic_.end());
  if (groups_) {
    for (auto& o : groups_->CommittedOffsets())
      g.group_offsets.push_back({std::move(o.group), std::move(o.topic), o.partition, o.offset});
  }
  g.group_commit_flushes = committer_->flushes();
  g.group_commit_acks = committer_->completed_waits();
  g.group_commit_peak_in_flight = committer_->peak_flushes_in_flight();
  g.group_commit_flush_time = committer_->flush_time();
  return g;
}

void Shard::WakeWaiters() {
  ++append_generation_;
  for (auto* t : waiters_) t->cancel();
}

void Shard::Start() {
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(ctx_);
    ctx_.run();
  });
}

void Shard::Stop() {
  ctx_.stop();
}

void Shard::Join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace fjord::broker
