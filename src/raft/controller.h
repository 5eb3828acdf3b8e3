// A controller: one voter of the metadata quorum. It runs the RaftDriver, serves the
// Raft and Controller gRPC services on the controller listener, and, while it leads,
// fences brokers whose heartbeats stopped for broker.session.timeout.ms.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "raft/quorum_config.h"
#include "raft/raft_driver.h"

namespace grpc {
class Server;
}

namespace fjord::controller {

struct ControllerOptions {
  int32_t node_id = 1;
  std::map<int32_t, VoterAddress> voters;
  std::string listen_host = "0.0.0.0";  // the controller listener
  uint16_t listen_port = 9093;
  std::string metadata_dir;  // <metadata.log.dir>/__cluster_metadata-0
  std::string cluster_id;
  int election_timeout_ms = 1000;              // controller.quorum.election.timeout.ms
  int session_timeout_ms = 9000;               // broker.session.timeout.ms
  uint64_t snapshot_bytes = 20 * 1024 * 1024;  // metadata.log.max.record.bytes.between.snapshots
};

class ControllerServices;

class Controller {
 public:
  static absl::StatusOr<std::unique_ptr<Controller>> Start(ControllerOptions options);
  ~Controller();
  void Stop();
  uint16_t port() const { return port_; }
  RaftDriver& driver() { return *driver_; }
  // Prometheus text: this voter's role, term, leader and log indexes.
  std::string Metrics() const;

 private:
  Controller() = default;
  // While leading: records the cluster id once, and fences brokers whose session expired.
  void LeaderChores();

  ControllerOptions options_;
  std::unique_ptr<class PeerSenders> peers_;
  std::unique_ptr<RaftDriver> driver_;
  std::unique_ptr<ControllerServices> services_;
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::thread chores_;
};

}  // namespace fjord::controller
