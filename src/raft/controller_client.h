// A broker's (or a tool's) calls to the controller quorum: each write goes to the leader,
// following "not the leader; leader is N" answers and moving on from voters that do not
// answer, until the caller's deadline.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "proto/controller.grpc.pb.h"
#include "raft/quorum_config.h"

namespace fjord::controller {

class ControllerClient {
 public:
  using Rpc = std::function<grpc::Status(rpc::Controller::Stub&, grpc::ClientContext&)>;

  explicit ControllerClient(const std::map<int32_t, VoterAddress>& voters);
  // Runs `rpc` against the leader until it answers (any answer but "not the leader" or
  // "unreachable") or `timeout` passes.
  grpc::Status CallLeader(const Rpc& rpc, absl::Duration timeout);
  // A stub of some voter, rotating on each call (for streams that any voter serves).
  rpc::Controller::Stub& NextVoter(int32_t* id);
  // The stub of voter `id`, or null if it is not a voter.
  rpc::Controller::Stub* StubOf(int32_t id) const;
  int32_t leader_hint() const { return leader_hint_.load(); }

 private:
  std::map<int32_t, std::unique_ptr<rpc::Controller::Stub>> stubs_;
  std::atomic<int32_t> leader_hint_{-1};
  std::atomic<size_t> rotation_{0};
};

// absl and gRPC share their status codes.
absl::Status FromGrpc(const grpc::Status& s);

}  // namespace fjord::controller
