#include "raft/raft_driver.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace fjord::controller {

absl::StatusOr<std::unique_ptr<RaftDriver>> RaftDriver::Open(DriverOptions options, SendFn send) {
  auto store = raft::RaftStore::Open(options.dir);
  if (!store.ok()) return store.status();
  auto stored = (*store)->Load();
  if (!stored.ok()) return stored.status();
  metadata::MetadataState state;
  if (stored->snapshot.index > 0) {
    metadata::MetadataBatch batch;
    if (!batch.ParseFromString(stored->snapshot.data))
      return absl::DataLossError(
          absl::StrCat("metadata snapshot at ", stored->snapshot.index, " does not parse"));
    auto restored = metadata::MetadataState::Restore(batch, stored->snapshot.index);
    if (!restored.ok()) return restored.status();
    state = std::move(*restored);
  }
  raft::RaftConfig config{
      .id = options.node_id,
      .voters = options.voters,
      .election_ticks = options.election_ticks,
      .heartbeat_ticks = options.heartbeat_ticks,
      .seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  auto node =
      std::make_unique<raft::RaftNode>(config, stored->hard_state, stored->snapshot, std::move(stored->log));
  spdlog::info("raft: node {} opened at term {}, snapshot {}, last index {}", options.node_id, node->term(),
               node->snapshot().index, node->last_index());
  return std::unique_ptr<RaftDriver>(new RaftDriver(std::move(options), std::move(send), std::move(*store),
                                                    std::move(node), std::move(state)));
}

RaftDriver::RaftDriver(DriverOptions options, SendFn send, std::unique_ptr<raft::RaftStore> store,
                       std::unique_ptr<raft::RaftNode> node, metadata::MetadataState state)
    : options_(std::move(options)),
      send_(std::move(send)),
      store_(std::move(store)),
      node_(std::move(node)),
      state_(std::move(state)) {
  applied_ = node_->snapshot().index;
  recent_base_ = applied_;
  PublishStatus();
}

RaftDriver::~RaftDriver() {
  Stop();
}

void RaftDriver::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void RaftDriver::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  applied_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);  // proposals the loop never took
  for (Proposal& p : proposals_) p.done.set_value(absl::UnavailableError("the controller is shutting down"));
  proposals_.clear();
}

void RaftDriver::Receive(raft::Message m) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (inbox_.size() > 10000) return;  // a flood: Raft recovers from dropped messages
    inbox_.push_back(std::move(m));
  }
  wake_.notify_one();
}

absl::StatusOr<Committed> RaftDriver::Propose(const metadata::MetadataBatch& batch, absl::Duration timeout) {
  std::future<absl::StatusOr<Committed>> result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("the controller is shutting down");
    if (status_.role != raft::Role::kLeader)
      return absl::FailedPreconditionError(absl::StrCat("not the leader; leader is ", status_.leader));
    proposals_.push_back({batch.SerializeAsString(), {}});
    result = proposals_.back().done.get_future();
  }
  wake_.notify_one();
  if (result.wait_for(absl::ToChronoMilliseconds(timeout)) != std::future_status::ready)
    return absl::DeadlineExceededError("the change did not commit in time; it may still commit");
  return result.get();
}

QuorumStatus RaftDriver::Status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

std::vector<MetadataUpdate> RaftDriver::UpdatesAfter(uint64_t next, absl::Duration wait) const {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [&] {
    return stopping_ || (next <= recent_base_ && state_.offset() >= next) ||
           (!recent_.empty() && recent_.back().first >= next);
  };
  applied_cv_.wait_for(lock, absl::ToChronoMilliseconds(wait), ready);
  std::vector<MetadataUpdate> out;
  if (stopping_) return out;
  if (next <= recent_base_ && state_.offset() >= next) {
    out.push_back({state_.offset(), true, state_.ToSnapshot().SerializeAsString()});
    next = state_.offset() + 1;
  }
  auto it = std::lower_bound(recent_.begin(), recent_.end(), next,
                             [](const auto& entry, uint64_t offset) { return entry.first < offset; });
  for (; it != recent_.end() && out.size() < 1000; ++it) out.push_back({it->first, false, it->second});
  return out;
}

void RaftDriver::Loop() {
  using Clock = std::chrono::steady_clock;
  const auto tick = std::chrono::milliseconds(options_.tick_ms);
  auto next_tick = Clock::now();  // tick at once: a sole voter elects itself without waiting
  while (true) {
    std::vector<raft::Message> inbox;
    std::vector<Proposal> proposals;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_until(lock, next_tick, [&] { return stopping_ || !inbox_.empty() || !proposals_.empty(); });
      if (stopping_) break;
      inbox.swap(inbox_);
      proposals.swap(proposals_);
    }
    for (const raft::Message& m : inbox) {
      node_->Step(m);
      if (m.type == raft::MessageType::kAppendResponse) NoteAppendAnswer(m.from);
    }
    for (Proposal& p : proposals) {
      auto index = node_->Propose(std::move(p.data));
      if (!index.ok()) {
        p.done.set_value(
            absl::FailedPreconditionError(absl::StrCat("not the leader; leader is ", node_->leader())));
      } else {
        waiters_[*index] = Waiter{node_->term(), std::move(p.done)};
      }
    }
    if (Clock::now() >= next_tick) {
      node_->Tick();
      next_tick += tick;
      if (next_tick < Clock::now()) next_tick = Clock::now() + tick;  // fell behind: do not burst
    }
    HandleReady();
  }
  for (auto& [index, w] : waiters_)
    w.done.set_value(absl::UnavailableError("the controller is shutting down"));
  waiters_.clear();
}

void RaftDriver::NoteAppendAnswer(raft::NodeId from) {
  if (node_->role() != raft::Role::kLeader) return;
  if (answers_term_ != node_->term()) {  // another leadership's answers are not this one's
    last_answer_ms_.clear();
    caught_up_ms_.clear();
    answers_term_ = node_->term();
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  last_answer_ms_[from] = now;
  if (node_->MatchIndex(from) >= node_->last_index()) caught_up_ms_[from] = now;
}

void RaftDriver::HandleReady() {
  raft::Ready ready = node_->TakeReady();
  if (ready.empty()) return PublishStatus();
  // 1. Persist: a vote or an ack promises only what is durable.
  if (absl::Status s = store_->Save(ready); !s.ok()) {
    spdlog::critical("raft: cannot persist the metadata log ({}); stopping rather than answer unbacked",
                     s.ToString());
    std::_Exit(70);
  }
  // 2. Send.
  for (raft::Message& m : ready.messages) send_(std::move(m));
  // 3. Apply.
  if (ready.snapshot) InstallSnapshot(*ready.snapshot);
  for (size_t i = 0; i < ready.committed.size(); ++i)
    ApplyEntry(ready.first_committed_index + i, ready.committed[i]);
  MaybeCompact();
  PublishStatus();
}

void RaftDriver::ApplyEntry(uint64_t index, const raft::Entry& e) {
  absl::StatusOr<Committed> result = Committed{index, {}};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (e.data.empty()) {  // a new leader's no-op
      state_.Apply(metadata::MetadataBatch(), index).IgnoreError();
    } else {
      metadata::MetadataBatch batch;
      if (!batch.ParseFromString(e.data)) {
        spdlog::error("raft: entry {} is not a metadata batch; skipped", index);
        result = absl::DataLossError("entry does not parse");
      } else {
        auto applied = state_.Apply(batch, index);
        if (applied.ok()) {
          result = Committed{index, *applied};
          recent_.emplace_back(index, e.data);
          if (recent_.size() > options_.watch_window) {
            recent_base_ = recent_.front().first;
            recent_.pop_front();
          }
        } else {
          result = applied.status();
        }
      }
    }
  }
  applied_ = index;
  bytes_since_snapshot_ += e.data.size();
  applied_cv_.notify_all();
  auto it = waiters_.find(index);
  if (it == waiters_.end()) return;
  if (it->second.term == e.term) {
    it->second.done.set_value(std::move(result));
  } else {  // another leader's entry took that index: ours was lost
    it->second.done.set_value(absl::UnavailableError("leadership changed before the change committed"));
  }
  waiters_.erase(it);
}

void RaftDriver::InstallSnapshot(const raft::Snapshot& s) {
  metadata::MetadataBatch batch;
  absl::StatusOr<metadata::MetadataState> restored = batch.ParseFromString(s.data)
                                                         ? metadata::MetadataState::Restore(batch, s.index)
                                                         : absl::DataLossError("does not parse");
  if (!restored.ok()) {
    spdlog::critical("raft: the leader's snapshot at {} is unusable: {}", s.index,
                     restored.status().ToString());
    std::_Exit(70);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = std::move(*restored);
    recent_.clear();
    recent_base_ = s.index;
  }
  spdlog::info("raft: installed the leader's snapshot at index {}", s.index);
  applied_ = s.index;
  bytes_since_snapshot_ = 0;
  applied_cv_.notify_all();
  for (auto it = waiters_.begin(); it != waiters_.end() && it->first <= s.index;) {
    it->second.done.set_value(absl::UnavailableError("leadership changed; the outcome is in the snapshot"));
    it = waiters_.erase(it);
  }
}

void RaftDriver::MaybeCompact() {
  if (bytes_since_snapshot_ < options_.snapshot_bytes || applied_ <= node_->snapshot().index) return;
  std::string data;
  {
    std::lock_guard<std::mutex> lock(mu_);
    data = state_.ToSnapshot().SerializeAsString();
  }
  if (absl::Status s = node_->Compact(applied_, std::move(data)); !s.ok()) {
    spdlog::error("raft: compaction at {} refused: {}", applied_, s.ToString());
    return;
  }
  if (absl::Status s = store_->SaveSnapshot(node_->snapshot()); !s.ok()) {
    spdlog::critical("raft: cannot persist a snapshot ({})", s.ToString());
    std::_Exit(70);
  }
  bytes_since_snapshot_ = 0;
  spdlog::info("raft: snapshot at index {} ({} bytes); log compacted", applied_,
               node_->snapshot().data.size());
}

void RaftDriver::PublishStatus() {
  std::lock_guard<std::mutex> lock(mu_);
  const bool became_leader = node_->role() == raft::Role::kLeader &&
                             (status_.role != raft::Role::kLeader || status_.term != node_->term());
  if (became_leader) {
    status_.leader_since = std::chrono::steady_clock::now();
    spdlog::info("raft: node {} is the leader of term {}", node_->id(), node_->term());
  }
  if (node_->leader() != status_.leader && node_->leader() != raft::kNoNode && !became_leader)
    spdlog::info("raft: node {} follows leader {} in term {}", node_->id(), node_->leader(), node_->term());
  status_.node_id = node_->id();
  status_.leader = node_->leader();
  status_.role = node_->role();
  status_.term = node_->term();
  status_.commit = node_->commit_index();
  status_.last = node_->last_index();
  status_.snapshot_index = node_->snapshot().index;
  status_.applied = applied_;
  status_.voters = node_->voters();
  status_.observers = node_->observers();
  status_.match = node_->MatchIndexes();
  const bool leader = node_->role() == raft::Role::kLeader;
  const bool current = leader && answers_term_ == node_->term();
  status_.last_answer_ms = current ? last_answer_ms_ : std::map<raft::NodeId, int64_t>{};
  status_.caught_up_ms = current ? caught_up_ms_ : std::map<raft::NodeId, int64_t>{};
}

}  // namespace fjord::controller
