#include "raft/controller_client.h"

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace fjord::controller {

namespace {
constexpr char kNotLeader[] = "not the leader; leader is ";
}

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

ControllerClient::ControllerClient(const std::map<int32_t, VoterAddress>& voters) {
  for (const auto& [id, addr] : voters) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetMaxReceiveMessageSize(256 * 1024 * 1024);
    stubs_[id] = rpc::Controller::NewStub(
        grpc::CreateCustomChannel(addr.target(), grpc::InsecureChannelCredentials(), args));
  }
}

rpc::Controller::Stub& ControllerClient::NextVoter(int32_t* id) {
  auto it = stubs_.begin();
  std::advance(it, static_cast<ptrdiff_t>(rotation_++ % stubs_.size()));
  if (id != nullptr) *id = it->first;
  return *it->second;
}

rpc::Controller::Stub* ControllerClient::StubOf(int32_t id) const {
  auto it = stubs_.find(id);
  return it == stubs_.end() ? nullptr : it->second.get();
}

grpc::Status ControllerClient::CallLeader(const Rpc& rpc, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  grpc::Status last(grpc::StatusCode::UNAVAILABLE, "no controller answered");
  while (absl::Now() < deadline) {
    int32_t target = leader_hint_.load();
    rpc::Controller::Stub* stub = nullptr;
    if (auto it = stubs_.find(target); it != stubs_.end()) {
      stub = it->second.get();
    } else {
      stub = &NextVoter(&target);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Seconds(20))));
    last = rpc(*stub, ctx);
    if (last.ok()) {
      leader_hint_ = target;
      return last;
    }
    const std::string& msg = last.error_message();
    if (last.error_code() == grpc::StatusCode::FAILED_PRECONDITION && absl::StartsWith(msg, kNotLeader)) {
      int32_t leader = -1;
      if (absl::SimpleAtoi(msg.substr(sizeof(kNotLeader) - 1), &leader) && stubs_.contains(leader) &&
          leader != target) {
        leader_hint_ = leader;
        continue;
      }
      leader_hint_ = -1;  // no leader yet (an election): ask around after a moment
    } else if (last.error_code() == grpc::StatusCode::UNAVAILABLE ||
               last.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      leader_hint_ = -1;
    } else {
      return last;  // a real answer (invalid request, exists, ...)
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return last;
}

}  // namespace fjord::controller
