// Raft messages over gRPC: one sender thread per peer with a bounded queue (Raft
// tolerates loss, so a full queue or a failed call drops the message); each call
// carries everything queued for that peer, in order. And the conversions between
// raft::Message and its protobuf.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "proto/controller.grpc.pb.h"
#include "raft/raft_types.h"

namespace fjord::controller {

rpc::RaftMessage ToProto(const raft::Message& m, const std::string& cluster_id);
raft::Message FromProto(const rpc::RaftMessage& p);

class PeerSenders {
 public:
  // peer id → gRPC target (host:port)
  PeerSenders(const std::map<raft::NodeId, std::string>& peers, std::string cluster_id);
  ~PeerSenders();
  void Send(raft::Message m);  // never blocks

 private:
  struct Peer {
    std::unique_ptr<rpc::Raft::Stub> stub;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<raft::Message> queue;
    std::thread thread;
  };
  void Run(Peer* peer);

  const std::string cluster_id_;
  std::map<raft::NodeId, std::unique_ptr<Peer>> peers_;
  bool stopping_ = false;  // guarded by each peer's mu when read there
};

}  // namespace fjord::controller
