#include "broker/fetch_sessions.h"

#include <algorithm>
#include <limits>

namespace fjord::broker {

bool SamePartition(const SessionPartition& a, const SessionPartition& b) {
  if (a.partition != b.partition) return false;
  const protocol::Uuid zero{};
  if (!(a.topic_id == zero) && !(b.topic_id == zero)) return a.topic_id == b.topic_id;
  return a.topic == b.topic;
}

int32_t FetchSessionCache::Create(std::vector<SessionPartition> partitions) {
  if (slots_ == 0) return 0;
  std::lock_guard lock(mu_);
  if (sessions_.size() >= slots_) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    sessions_.erase(oldest);
  }
  int32_t id = next_id_;
  while (id == 0 || sessions_.contains(id)) id = id == std::numeric_limits<int32_t>::max() ? 1 : id + 1;
  next_id_ = id == std::numeric_limits<int32_t>::max() ? 1 : id + 1;
  Session& s = sessions_[id];
  s.partitions = std::move(partitions);
  s.last_used = std::chrono::steady_clock::now();
  return id;
}

void FetchSessionCache::Remove(int32_t session_id) {
  std::lock_guard lock(mu_);
  sessions_.erase(session_id);
}

FetchSessionCache::Incremental FetchSessionCache::Update(int32_t session_id, int32_t epoch,
                                                         const std::vector<SessionPartition>& upserts,
                                                         const std::vector<SessionPartition>& forgotten) {
  Incremental out;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) {
    out.error = Error::kSessionIdNotFound;
    return out;
  }
  Session& s = it->second;
  if (epoch != s.next_epoch) {
    out.error = Error::kInvalidEpoch;
    return out;
  }
  for (const SessionPartition& u : upserts) {
    auto existing = std::find_if(s.partitions.begin(), s.partitions.end(),
                                 [&](const SessionPartition& p) { return SamePartition(p, u); });
    if (existing == s.partitions.end()) {
      s.partitions.push_back(u);
    } else {
      existing->fetch_offset = u.fetch_offset;
      existing->max_bytes = u.max_bytes;
      existing->current_leader_epoch = u.current_leader_epoch;
      existing->last_fetched_epoch = u.last_fetched_epoch;
    }
  }
  // Kafka's order: updates first, then forgotten partitions (naming one in both forgets it).
  for (const SessionPartition& f : forgotten) {
    std::erase_if(s.partitions, [&](const SessionPartition& p) { return SamePartition(p, f); });
  }
  s.next_epoch = s.next_epoch == std::numeric_limits<int32_t>::max() ? 1 : s.next_epoch + 1;
  s.last_used = std::chrono::steady_clock::now();
  out.partitions = s.partitions;
  return out;
}

std::vector<bool> FetchSessionCache::Settle(int32_t session_id, bool full,
                                            const std::vector<SessionPartition>& read,
                                            const std::vector<PartitionOutcome>& outcomes) {
  std::vector<bool> carry(outcomes.size(), true);
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return carry;  // evicted meanwhile: answer in full
  auto& parts = it->second.partitions;
  for (size_t i = 0; i < outcomes.size() && i < read.size(); ++i) {
    // Usually the session's i-th partition; search only if it changed meanwhile.
    auto match = i < parts.size() && SamePartition(parts[i], read[i])
                     ? parts.begin() + static_cast<std::ptrdiff_t>(i)
                     : std::find_if(parts.begin(), parts.end(),
                                    [&](const SessionPartition& p) { return SamePartition(p, read[i]); });
    if (match == parts.end()) continue;
    const PartitionOutcome& o = outcomes[i];
    SessionPartition& p = *match;
    const bool news = o.has_records || o.has_error || o.diverging || o.high_watermark != p.high_watermark ||
                      o.log_start_offset != p.log_start_offset;
    carry[i] = full || news;
    p.high_watermark = o.high_watermark;
    p.log_start_offset = o.log_start_offset;
  }
  return carry;
}

size_t FetchSessionCache::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace fjord::broker
