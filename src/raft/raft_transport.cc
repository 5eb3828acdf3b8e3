#include "raft/raft_transport.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

namespace fjord::controller {

namespace {
constexpr size_t kMaxQueued = 1000;
}

rpc::RaftMessage ToProto(const raft::Message& m, const std::string& cluster_id) {
  rpc::RaftMessage p;
  p.set_cluster_id(cluster_id);
  p.set_type(static_cast<uint32_t>(m.type));
  p.set_from(m.from);
  p.set_to(m.to);
  p.set_term(m.term);
  p.set_index(m.index);
  p.set_log_term(m.log_term);
  for (const raft::Entry& e : m.entries) {
    rpc::RaftEntry* pe = p.add_entries();
    pe->set_term(e.term);
    pe->set_data(e.data);
  }
  p.set_commit(m.commit);
  p.set_snapshot(m.snapshot);
  p.set_ok(m.ok);
  p.set_match(m.match);
  return p;
}

raft::Message FromProto(const rpc::RaftMessage& p) {
  raft::Message m;
  m.type = static_cast<raft::MessageType>(p.type());
  m.from = p.from();
  m.to = p.to();
  m.term = p.term();
  m.index = p.index();
  m.log_term = p.log_term();
  for (const rpc::RaftEntry& e : p.entries()) m.entries.push_back({e.term(), e.data()});
  m.commit = p.commit();
  m.snapshot = p.snapshot();
  m.ok = p.ok();
  m.match = p.match();
  return m;
}

PeerSenders::PeerSenders(const std::map<raft::NodeId, std::string>& peers, std::string cluster_id)
    : cluster_id_(std::move(cluster_id)) {
  for (const auto& [id, target] : peers) {
    auto peer = std::make_unique<Peer>();
    grpc::ChannelArguments args;
    // Reconnect quickly after a peer restarts: elections depend on it.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetMaxReceiveMessageSize(256 * 1024 * 1024);
    args.SetMaxSendMessageSize(256 * 1024 * 1024);
    peer->stub =
        rpc::Raft::NewStub(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
    Peer* raw = peer.get();
    peers_[id] = std::move(peer);
    raw->thread = std::thread([this, raw] { Run(raw); });
  }
}

PeerSenders::~PeerSenders() {
  for (auto& [id, peer] : peers_) {
    std::lock_guard<std::mutex> lock(peer->mu);
    stopping_ = true;
  }
  for (auto& [id, peer] : peers_) {
    peer->cv.notify_all();
    peer->thread.join();
  }
}

void PeerSenders::Send(raft::Message m) {
  auto it = peers_.find(m.to);
  if (it == peers_.end()) return;
  Peer& peer = *it->second;
  {
    std::lock_guard<std::mutex> lock(peer.mu);
    if (peer.queue.size() >= kMaxQueued) peer.queue.pop_front();  // the oldest matters least
    peer.queue.push_back(std::move(m));
  }
  peer.cv.notify_one();
}

void PeerSenders::Run(Peer* peer) {
  while (true) {
    rpc::RaftMessages batch;
    {
      std::unique_lock<std::mutex> lock(peer->mu);
      peer->cv.wait(lock, [&] { return stopping_ || !peer->queue.empty(); });
      if (stopping_) return;
      while (!peer->queue.empty() && batch.messages_size() < 256) {
        *batch.add_messages() = ToProto(peer->queue.front(), cluster_id_);
        peer->queue.pop_front();
      }
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1000));
    rpc::RaftAck ack;
    const grpc::Status s = peer->stub->Step(&ctx, batch, &ack);
    if (!s.ok()) {
      // The peer is down or unreachable: drop what queued meanwhile except the newest few,
      // so a returning peer gets current messages rather than a backlog.
      std::lock_guard<std::mutex> lock(peer->mu);
      while (peer->queue.size() > 8) peer->queue.pop_front();
    }
  }
}

}  // namespace fjord::controller
