#include "group/coordinator.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "fjord_protocol/messages/consumer_protocol_subscription.h"
#include "protocol/record_batch.h"
#include "protocol/wire.h"

namespace fjord::group {
namespace {

constexpr std::string_view kConsumerProtocolType = "consumer";

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The client id, then '-' and 16 hex digits, as Kafka's (which ends in a UUID). A client
// id near the 32767-byte limit of a string is cut, at a character's start, so the
// member id still fits the answers and records that carry it.
std::string NewMemberId(const std::string& client_id) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  constexpr size_t kSuffix = 17;
  size_t keep = std::min(client_id.size(), protocol::kMaxStringBytes - kSuffix);
  while (keep > 0 && keep < client_id.size() && (static_cast<uint8_t>(client_id[keep]) & 0xC0) == 0x80)
    --keep;
  return absl::StrCat(client_id.substr(0, keep), "-", absl::Hex(rng(), absl::kZeroPad16));
}

constexpr size_t kReadChunk = 1 << 20;

}  // namespace

int32_t PartitionFor(const std::string& group_id, int32_t partitions) {
  int32_t h = 0;  // Java's String.hashCode (UTF-16 units; ASCII ids are the common case)
  for (unsigned char ch : group_id) h = static_cast<int32_t>(31u * static_cast<uint32_t>(h) + ch);
  return (h & 0x7fffffff) % partitions;
}

const char* GroupCoordinator::StateName(State s) {
  switch (s) {
    case State::kEmpty:
      return "Empty";
    case State::kPreparingRebalance:
      return "PreparingRebalance";
    case State::kCompletingRebalance:
      return "CompletingRebalance";
    case State::kStable:
      return "Stable";
    case State::kDead:
      return "Dead";
  }
  return "Dead";
}

// --- persistence -------------------------------------------------------------

absl::Status GroupCoordinator::EnsureLoaded(int32_t partition) {
  if (loaded_.contains(partition)) return absl::OkStatus();
  auto log = offsets_log_(partition);
  if (!log.ok()) return log.status();
  int64_t offset = (*log)->log_start_offset();
  while (offset < (*log)->log_end_offset()) {
    auto read = (*log)->Read(offset, kReadChunk);
    if (!read.ok()) return read.status();
    protocol::ByteView tail;
    auto batches = protocol::SplitBatches(protocol::ByteView(read->bytes), &tail);
    if (!batches.ok()) return batches.status();
    if (batches->empty()) break;
    for (protocol::ByteView b : *batches) {
      protocol::DecodedBatch batch;
      if (absl::Status s = protocol::DecodeBatch(b, protocol::kDefaultMaxDecompressed, &batch); !s.ok())
        return s;
      for (const protocol::Record& r : batch.records) {
        if (!r.key) continue;
        auto rec = Decode(*r.key, r.value);
        if (rec.ok()) Apply(*rec, partition);
      }
      offset = batch.header.last_offset() + 1;
    }
  }
  loaded_.insert(partition);
  return absl::OkStatus();
}

absl::Status GroupCoordinator::Persist(int32_t partition, const std::vector<CoordinatorRecord>& records) {
  if (records.empty()) return absl::OkStatus();
  auto log = offsets_log_(partition);
  if (!log.ok()) return log.status();
  std::vector<EncodedRecord> encoded;
  encoded.reserve(records.size());
  for (const CoordinatorRecord& r : records) {
    absl::StatusOr<EncodedRecord> e = Encode(r);
    if (!e.ok()) return e.status();  // nothing written: a record replay would skip
    encoded.push_back(*std::move(e));
  }
  std::vector<protocol::Record> batch_records(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    batch_records[i].offset_delta = static_cast<int32_t>(i);
    batch_records[i].key = protocol::ByteView(std::string_view(encoded[i].key));
    if (encoded[i].value) batch_records[i].value = protocol::ByteView(std::string_view(*encoded[i].value));
  }
  protocol::BatchHeader h;
  h.base_timestamp = WallMs();
  h.max_timestamp = h.base_timestamp;
  h.last_offset_delta = static_cast<int32_t>(encoded.size() - 1);
  std::vector<uint8_t> batch;
  if (absl::Status s = protocol::EncodeBatch(h, batch_records, &batch); !s.ok()) return s;
  auto appended = (*log)->Append(batch.data(), batch.size(), h.base_timestamp);
  if (!appended.ok()) return appended.status();
  for (const CoordinatorRecord& r : records) Apply(r, partition);
  return absl::OkStatus();
}

// The one place records change state: live appends and start-up replay alike.
void GroupCoordinator::Apply(const CoordinatorRecord& record, int32_t partition) {
  if (const auto* o = std::get_if<OffsetRecord>(&record)) {
    if (o->value) {
      Group& g = GetOrCreate(o->key.group);
      g.partition = partition;
      g.offsets[{o->key.topic, o->key.partition}] = *o->value;
    } else if (Group* g = Find(o->key.group)) {
      g->offsets.erase({o->key.topic, o->key.partition});
      if (g->offsets.empty() && g->members.empty() && g->state == State::kEmpty && g->generation == 0) {
        groups_.erase(o->key.group);
      }
    }
    return;
  }
  const auto& gr = std::get<GroupRecord>(record);
  if (!gr.value) {
    if (Group* g = Find(gr.key.group)) {
      g->state = State::kDead;
      groups_.erase(gr.key.group);
    }
    return;
  }
  Group& g = GetOrCreate(gr.key.group);
  g.partition = partition;
  const GroupValue& v = *gr.value;
  g.protocol_type = v.protocol_type;
  g.generation = v.generation;
  g.protocol = v.protocol;
  g.leader = v.leader;
  g.state_timestamp_ms = v.state_timestamp;
  const auto now = Clock::now();
  std::map<std::string, Member> members;
  for (const MemberRecord& mr : v.members) {
    Member m;
    if (auto it = g.members.find(mr.member_id); it != g.members.end())
      m = std::move(it->second);
    else
      m.session_deadline = now + std::chrono::milliseconds(mr.session_timeout_ms),
      m.join_order = next_join_order_++;
    m.member_id = mr.member_id;
    m.instance_id = mr.instance_id;
    m.client_id = mr.client_id;
    m.client_host = mr.client_host;
    m.rebalance_timeout_ms = mr.rebalance_timeout_ms;
    m.session_timeout_ms = mr.session_timeout_ms;
    m.protocol_type = v.protocol_type;
    if (m.protocols.empty() && v.protocol) m.protocols = {{*v.protocol, mr.subscription}};
    m.assignment = mr.assignment;
    members.emplace(mr.member_id, std::move(m));
  }
  g.members = std::move(members);
  g.static_members.clear();
  for (const auto& [id, m] : g.members) {
    if (m.instance_id) g.static_members[*m.instance_id] = id;
  }
  g.state = g.members.empty() ? State::kEmpty : State::kStable;
}

GroupCoordinator::Group* GroupCoordinator::Find(const std::string& group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

GroupCoordinator::Group& GroupCoordinator::GetOrCreate(const std::string& group_id) {
  auto [it, inserted] = groups_.try_emplace(group_id);
  if (inserted) {
    it->second.id = group_id;
    it->second.partition = PartitionFor(group_id, settings_.offsets_partitions);
    it->second.state_timestamp_ms = WallMs();
  }
  return it->second;
}

GroupValue GroupCoordinator::Snapshot(const Group& g) const {
  GroupValue v;
  v.protocol_type = g.protocol_type;
  v.generation = g.generation;
  v.protocol = g.protocol;
  v.leader = g.leader;
  v.state_timestamp = WallMs();
  for (const auto& [id, m] : g.members) {
    MemberRecord mr;
    mr.member_id = id;
    mr.instance_id = m.instance_id;
    mr.client_id = m.client_id;
    mr.client_host = m.client_host;
    mr.rebalance_timeout_ms = m.rebalance_timeout_ms;
    mr.session_timeout_ms = m.session_timeout_ms;
    mr.subscription = ChosenMetadata(g, m);
    mr.assignment = m.assignment;
    v.members.push_back(std::move(mr));
  }
  return v;
}

// --- rebalancing ---------------------------------------------------------------

void GroupCoordinator::SetState(Group& g, State s) {
  g.state = s;
  g.state_timestamp_ms = WallMs();
}

std::optional<std::string> GroupCoordinator::ChooseProtocol(const Group& g) const {
  // Kafka's rule: among the protocols every member supports, each member votes for
  // its most preferred one; the most votes win (ties: the first candidate).
  std::vector<std::string> candidates;
  bool first = true;
  for (const auto& [id, m] : g.members) {
    std::vector<std::string> names;
    for (const Protocol& p : m.protocols) names.push_back(p.name);
    if (first) {
      candidates = names;
      first = false;
    } else {
      std::erase_if(candidates, [&](const std::string& c) {
        return std::find(names.begin(), names.end(), c) == names.end();
      });
    }
  }
  if (candidates.empty()) return std::nullopt;
  std::map<std::string, int> votes;
  for (const auto& [id, m] : g.members) {
    for (const Protocol& p : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), p.name) != candidates.end()) {
        ++votes[p.name];
        break;
      }
    }
  }
  std::string best = candidates.front();
  for (const std::string& c : candidates) {
    if (votes[c] > votes[best]) best = c;
  }
  return best;
}

bool GroupCoordinator::SupportsProtocols(const Group& g, const JoinRequest& r) const {
  if (r.protocol_type.empty() || r.protocols.empty()) return false;
  if (g.members.empty()) return true;
  if (r.protocol_type != g.protocol_type) return false;
  // At least one protocol that every current member also supports.
  for (const Protocol& p : r.protocols) {
    bool all = true;
    for (const auto& [id, m] : g.members) {
      all &= std::any_of(m.protocols.begin(), m.protocols.end(),
                         [&](const Protocol& q) { return q.name == p.name; });
    }
    if (all) return true;
  }
  return false;
}

std::string GroupCoordinator::ChosenMetadata(const Group& g, const Member& m) {
  for (const Protocol& p : m.protocols) {
    if (g.protocol && p.name == *g.protocol) return p.metadata;
  }
  return {};
}

std::optional<std::set<std::string>> GroupCoordinator::SubscribedTopics(const Group& g) {
  if (g.protocol_type != kConsumerProtocolType || !g.protocol) return std::nullopt;
  std::set<std::string> topics;
  for (const auto& [id, m] : g.members) {
    // A version, then ConsumerProtocolSubscription v0, the prefix of every later version
    // (Kafka reads it the same way, so a newer client's subscription still parses).
    const std::string metadata = ChosenMetadata(g, m);
    protocol::Reader r{protocol::ByteView(std::string_view(metadata))};
    const int16_t version = r.Int16();
    protocol::ConsumerProtocolSubscription subscription;
    subscription.Read(r, 0);
    if (!r.ok() || version < 0) return std::nullopt;
    topics.insert(subscription.topics.begin(), subscription.topics.end());
  }
  return topics;
}

bool GroupCoordinator::Fenced(const Group& g, const std::optional<std::string>& instance_id,
                              const std::string& member_id) {
  if (!instance_id) return false;
  auto s = g.static_members.find(*instance_id);
  return s != g.static_members.end() && s->second != member_id;
}

void GroupCoordinator::AnswerWaitingSyncs(Group& g, const std::function<SyncResult(const Member&)>& answer) {
  for (auto& [id, m] : g.members) {
    if (!m.awaiting_sync) continue;
    auto done = std::move(m.awaiting_sync);
    m.awaiting_sync = nullptr;
    done(answer(m));
  }
}

void GroupCoordinator::BecomeEmpty(Group& g) {
  g.protocol.reset();
  g.leader.reset();
  SetState(g, State::kEmpty);
  (void)Persist(g.partition, {GroupRecord{{g.id}, Snapshot(g)}});
}

void GroupCoordinator::AfterMembersLeft(Group& g, Clock::time_point now) {
  if (g.members.empty() && g.state != State::kPreparingRebalance) {
    ++g.generation;
    BecomeEmpty(g);
  } else if (g.state == State::kStable || g.state == State::kCompletingRebalance) {
    PrepareRebalance(g, now);
  } else {
    MaybeCompleteJoin(g, now, false);
  }
}

void GroupCoordinator::PrepareRebalance(Group& g, Clock::time_point now) {
  if (g.state == State::kCompletingRebalance) {
    AnswerWaitingSyncs(g, [](const Member&) { return SyncResult{kRebalanceInProgress, {}, {}, {}}; });
  }
  int32_t timeout = 0;
  for (const auto& [id, m] : g.members) timeout = std::max(timeout, m.rebalance_timeout_ms);
  const bool was_empty = g.state == State::kEmpty;
  SetState(g, State::kPreparingRebalance);
  g.rebalance_deadline = now + std::chrono::milliseconds(timeout);
  if (was_empty && settings_.initial_rebalance_delay_ms > 0) {
    g.in_initial_delay = true;
    g.initial_delay_deadline =
        now + std::chrono::milliseconds(std::min(settings_.initial_rebalance_delay_ms, std::max(timeout, 1)));
  }
}

void GroupCoordinator::MaybeCompleteJoin(Group& g, Clock::time_point now, bool deadline_passed) {
  if (g.state != State::kPreparingRebalance) return;
  if (g.in_initial_delay) {
    if (now < g.initial_delay_deadline) return;
    g.in_initial_delay = false;
  }
  const bool all_joined =
      g.pending.empty() && std::all_of(g.members.begin(), g.members.end(), [](const auto& kv) {
        return static_cast<bool>(kv.second.awaiting_join);
      });
  if (all_joined || deadline_passed) CompleteJoin(g);
}

void GroupCoordinator::CompleteJoin(Group& g) {
  // Members that did not rejoin in time are out (static ones too: their session is
  // what keeps them, and it was not renewed by a join).
  std::vector<std::string> gone;
  for (const auto& [id, m] : g.members) {
    if (!m.awaiting_join) gone.push_back(id);
  }
  for (const std::string& id : gone) RemoveMember(g, id);
  g.pending.clear();
  ++g.generation;
  if (g.members.empty()) return BecomeEmpty(g);
  g.protocol = ChooseProtocol(g);
  if (!g.leader || !g.members.contains(*g.leader)) {
    const auto first = std::min_element(g.members.begin(), g.members.end(), [](const auto& a, const auto& b) {
      return a.second.join_order < b.second.join_order;
    });
    g.leader = first->first;
  }
  SetState(g, State::kCompletingRebalance);
  const auto now = Clock::now();
  for (auto& [id, m] : g.members) {
    JoinResult r = CurrentJoinResult(g, m);
    auto done = std::move(m.awaiting_join);
    m.awaiting_join = nullptr;
    m.session_deadline = now + std::chrono::milliseconds(m.session_timeout_ms);
    done(std::move(r));
  }
}

JoinResult GroupCoordinator::CurrentJoinResult(const Group& g, const Member& m) const {
  JoinResult r;
  r.generation = g.generation;
  r.protocol_type = g.protocol_type;
  r.protocol = g.protocol;
  r.leader = g.leader.value_or("");
  r.member_id = m.member_id;
  if (g.leader && *g.leader == m.member_id) {
    for (const auto& [id, other] : g.members) {
      r.members.push_back({id, other.instance_id, ChosenMetadata(g, other)});
    }
  }
  return r;
}

void GroupCoordinator::RemoveMember(Group& g, const std::string& member_id) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  Member m = std::move(it->second);
  g.members.erase(it);
  if (m.instance_id) g.static_members.erase(*m.instance_id);
  if (m.awaiting_join) m.awaiting_join(JoinResult{kUnknownMemberId, -1, {}, {}, "", member_id, {}});
  if (m.awaiting_sync) m.awaiting_sync(SyncResult{kUnknownMemberId, {}, {}, {}});
  if (g.leader && *g.leader == member_id) g.leader.reset();
}

// --- requests ------------------------------------------------------------------

void GroupCoordinator::Join(JoinRequest r, std::function<void(JoinResult)> done) {
  auto fail = [&](int16_t error) {
    JoinResult res;
    res.error = error;
    res.member_id = r.member_id;
    done(std::move(res));
  };
  if (resigned_) return fail(kNotCoordinator);
  // As Kafka, only the offset APIs (and describe, delete) take the empty group id.
  if (r.group_id.empty()) return fail(kInvalidGroupId);
  if (r.session_timeout_ms < settings_.min_session_timeout_ms ||
      r.session_timeout_ms > settings_.max_session_timeout_ms) {
    return fail(kInvalidSessionTimeout);
  }
  if (r.rebalance_timeout_ms <= 0) r.rebalance_timeout_ms = r.session_timeout_ms;  // v0
  const int32_t partition = PartitionFor(r.group_id, settings_.offsets_partitions);
  if (!EnsureLoaded(partition).ok()) return fail(kCoordinatorNotAvailable);
  Group* existing = Find(r.group_id);
  if (existing == nullptr && !r.member_id.empty()) return fail(kUnknownMemberId);
  Group& g = GetOrCreate(r.group_id);
  if (!SupportsProtocols(g, r)) return fail(kInconsistentGroupProtocol);
  const auto now = Clock::now();

  auto add_member = [&](const std::string& member_id) -> Member& {
    Member& m = g.members[member_id];
    m.member_id = member_id;
    m.join_order = next_join_order_++;
    return m;
  };
  auto fill = [&](Member& m) {
    m.instance_id = r.instance_id;
    m.client_id = r.client_id;
    m.client_host = r.client_host;
    m.session_timeout_ms = r.session_timeout_ms;
    m.rebalance_timeout_ms = r.rebalance_timeout_ms;
    m.protocol_type = r.protocol_type;
    m.protocols = r.protocols;
    m.session_deadline = now + std::chrono::milliseconds(r.session_timeout_ms);
  };
  auto same_protocols = [&](const Member& m) {
    if (m.protocols.size() != r.protocols.size()) return false;
    for (size_t i = 0; i < m.protocols.size(); ++i) {
      if (m.protocols[i].name != r.protocols[i].name || m.protocols[i].metadata != r.protocols[i].metadata)
        return false;
    }
    return true;
  };
  auto join_and_wait = [&](Member& m) {
    if (m.awaiting_join) m.awaiting_join(JoinResult{kUnknownMemberId, -1, {}, {}, "", m.member_id, {}});
    m.awaiting_join = std::move(done);
    if (g.protocol_type.empty() || g.members.size() == 1) g.protocol_type = r.protocol_type;
    if (g.state != State::kPreparingRebalance) PrepareRebalance(g, now);
    MaybeCompleteJoin(g, now, false);
  };

  if (r.member_id.empty()) {
    if (r.instance_id) {  // KIP-345: a static member, perhaps returning
      auto known = g.static_members.find(*r.instance_id);
      if (known != g.static_members.end()) {
        const std::string old_id = known->second;
        Member m = std::move(g.members[old_id]);
        g.members.erase(old_id);
        if (m.awaiting_join) m.awaiting_join(JoinResult{kFencedInstanceId, -1, {}, {}, "", old_id, {}});
        if (m.awaiting_sync) m.awaiting_sync(SyncResult{kFencedInstanceId, {}, {}, {}});
        m.awaiting_join = nullptr;
        m.awaiting_sync = nullptr;
        const std::string new_id = NewMemberId(r.client_id);
        const bool unchanged = same_protocols(m);
        m.member_id = new_id;
        Member& placed = g.members[new_id] = std::move(m);
        g.static_members[*r.instance_id] = new_id;
        if (g.leader && *g.leader == old_id) g.leader = new_id;
        fill(placed);
        if (g.state == State::kStable && unchanged) {
          // Back within its session with nothing changed: it gets its old place and
          // assignment, and nobody else rebalances.
          (void)Persist(g.partition, {GroupRecord{{g.id}, Snapshot(g)}});
          return done(CurrentJoinResult(g, g.members[new_id]));
        }
        return join_and_wait(placed);
      }
      if (g.members.size() >= static_cast<size_t>(settings_.max_size)) return fail(kGroupMaxSizeReached);
      const std::string id = NewMemberId(r.client_id);
      Member& m = add_member(id);
      fill(m);
      g.static_members[*r.instance_id] = id;
      return join_and_wait(m);
    }
    if (g.members.size() + g.pending.size() >= static_cast<size_t>(settings_.max_size)) {
      return fail(kGroupMaxSizeReached);
    }
    const std::string id = NewMemberId(r.client_id);
    if (r.version >= 4) {  // KIP-394: the client must come back with this id
      g.pending[id] = now + std::chrono::milliseconds(r.session_timeout_ms);
      JoinResult res;
      res.error = kMemberIdRequired;
      res.member_id = id;
      return done(std::move(res));
    }
    Member& m = add_member(id);
    fill(m);
    return join_and_wait(m);
  }

  if (auto p = g.pending.find(r.member_id); p != g.pending.end()) {
    g.pending.erase(p);
    Member& m = add_member(r.member_id);
    fill(m);
    return join_and_wait(m);
  }
  auto it = g.members.find(r.member_id);
  if (it == g.members.end()) return fail(kUnknownMemberId);
  if (Fenced(g, r.instance_id, r.member_id)) return fail(kFencedInstanceId);
  Member& m = it->second;
  const bool unchanged = same_protocols(m);
  fill(m);
  switch (g.state) {
    case State::kPreparingRebalance:
      return join_and_wait(m);
    case State::kCompletingRebalance:
      if (unchanged) return done(CurrentJoinResult(g, m));  // it missed the join answer
      return join_and_wait(m);
    case State::kStable:
      if (unchanged && !(g.leader && *g.leader == m.member_id)) return done(CurrentJoinResult(g, m));
      return join_and_wait(m);
    default:
      return join_and_wait(m);
  }
}

void GroupCoordinator::Sync(SyncRequest r, std::function<void(SyncResult)> done) {
  auto fail = [&](int16_t error) { done(SyncResult{error, {}, {}, {}}); };
  if (resigned_) return fail(kNotCoordinator);
  if (r.group_id.empty()) return fail(kInvalidGroupId);
  Group* g = Find(r.group_id);
  if (g == nullptr) return fail(kUnknownMemberId);
  auto it = g->members.find(r.member_id);
  if (it == g->members.end()) return fail(kUnknownMemberId);
  if (Fenced(*g, r.instance_id, r.member_id)) return fail(kFencedInstanceId);
  if (r.generation != g->generation) return fail(kIllegalGeneration);
  if ((r.protocol_type && *r.protocol_type != g->protocol_type) ||
      (r.protocol && *r.protocol != g->protocol)) {
    return fail(kInconsistentGroupProtocol);
  }
  Member& m = it->second;
  m.session_deadline = Clock::now() + std::chrono::milliseconds(m.session_timeout_ms);
  switch (g->state) {
    case State::kPreparingRebalance:
      return fail(kRebalanceInProgress);
    case State::kStable:
      return done(SyncResult{kNone, g->protocol_type, g->protocol, m.assignment});
    case State::kCompletingRebalance:
      break;
    default:
      return fail(kUnknownMemberId);
  }
  m.awaiting_sync = std::move(done);
  if (!g->leader || *g->leader != r.member_id) return;  // followers wait for the leader
  // The leader's assignments: written as one group record, then everyone is answered.
  for (auto& [id, member] : g->members) member.assignment.clear();
  for (const auto& [id, assignment] : r.assignments) {
    if (auto mit = g->members.find(id); mit != g->members.end()) mit->second.assignment = assignment;
  }
  GroupValue snapshot = Snapshot(*g);
  if (absl::Status s = Persist(g->partition, {GroupRecord{{g->id}, snapshot}}); !s.ok()) {
    AnswerWaitingSyncs(*g, [](const Member&) { return SyncResult{kCoordinatorNotAvailable, {}, {}, {}}; });
    PrepareRebalance(*g, Clock::now());
    return;
  }
  SetState(*g, State::kStable);
  AnswerWaitingSyncs(*g, [g](const Member& member) {
    return SyncResult{kNone, g->protocol_type, g->protocol, member.assignment};
  });
}

int16_t GroupCoordinator::Heartbeat(const std::string& group_id, int32_t generation,
                                    const std::string& member_id,
                                    const std::optional<std::string>& instance_id) {
  if (group_id.empty()) return kInvalidGroupId;
  Group* g = Find(group_id);
  if (g == nullptr) return kUnknownMemberId;
  auto it = g->members.find(member_id);
  if (it == g->members.end()) return kUnknownMemberId;
  if (Fenced(*g, instance_id, member_id)) return kFencedInstanceId;
  if (generation != g->generation) return kIllegalGeneration;
  it->second.session_deadline = Clock::now() + std::chrono::milliseconds(it->second.session_timeout_ms);
  if (g->state == State::kPreparingRebalance) return kRebalanceInProgress;
  return kNone;
}

std::vector<int16_t> GroupCoordinator::Leave(const std::string& group_id,
                                             const std::vector<LeavingMember>& members,
                                             int16_t* group_error) {
  *group_error = kNone;
  std::vector<int16_t> out(members.size(), kNone);
  Group* g = group_id.empty() ? nullptr : Find(group_id);
  if (g == nullptr) {
    *group_error = group_id.empty() ? kInvalidGroupId : kUnknownMemberId;
    std::fill(out.begin(), out.end(), *group_error);
    return out;
  }
  bool removed = false;
  for (size_t i = 0; i < members.size(); ++i) {
    std::string id = members[i].member_id;
    if (members[i].instance_id) {
      auto s = g->static_members.find(*members[i].instance_id);
      if (s == g->static_members.end()) {
        out[i] = kUnknownMemberId;
        continue;
      }
      if (!id.empty() && s->second != id) {
        out[i] = kFencedInstanceId;
        continue;
      }
      id = s->second;
    }
    if (g->pending.erase(id) > 0) continue;
    if (!g->members.contains(id)) {
      out[i] = kUnknownMemberId;
      continue;
    }
    RemoveMember(*g, id);
    removed = true;
  }
  if (removed) AfterMembersLeft(*g, Clock::now());
  return out;
}

std::vector<int16_t> GroupCoordinator::Commit(const CommitRequest& r, int16_t* group_error) {
  *group_error = kNone;
  std::vector<int16_t> out(r.partitions.size(), kNone);
  const int32_t partition = PartitionFor(r.group_id, settings_.offsets_partitions);
  if (!EnsureLoaded(partition).ok()) {
    *group_error = kCoordinatorNotAvailable;
    return out;
  }
  Group* g = Find(r.group_id);
  const bool simple = r.generation < 0 && r.member_id.empty();
  if (g != nullptr && !(simple && g->state == State::kEmpty)) {
    // A member's commit: it must be in the current generation.
    if (g->state == State::kDead)
      *group_error = kCoordinatorNotAvailable;
    else if (Fenced(*g, r.instance_id, r.member_id))
      *group_error = kFencedInstanceId;
    else if (g->state == State::kCompletingRebalance)
      *group_error = kRebalanceInProgress;
    else if (!g->members.contains(r.member_id))
      *group_error = kUnknownMemberId;
    else if (r.generation != g->generation)
      *group_error = kIllegalGeneration;
    if (*group_error != kNone) return out;
    auto& m = g->members[r.member_id];
    m.session_deadline = Clock::now() + std::chrono::milliseconds(m.session_timeout_ms);
  } else if (g == nullptr && !simple) {
    *group_error = kIllegalGeneration;  // a member of a group that does not exist here
    return out;
  }
  std::vector<CoordinatorRecord> records;
  const int64_t now = WallMs();
  for (size_t i = 0; i < r.partitions.size(); ++i) {
    const CommitPartition& p = r.partitions[i];
    if (p.metadata.size() > static_cast<size_t>(settings_.offset_metadata_max_bytes)) {
      out[i] = kOffsetMetadataTooLarge;
      continue;
    }
    records.push_back(OffsetRecord{{r.group_id, p.topic, p.partition},
                                   OffsetValue{p.offset, p.leader_epoch, p.metadata, now}});
  }
  if (absl::Status s = Persist(partition, records); !s.ok()) {
    for (int16_t& e : out) {
      if (e == kNone) e = kCoordinatorNotAvailable;
    }
  }
  return out;
}

std::vector<FetchedOffset> GroupCoordinator::Fetch(
    const std::string& group_id,
    const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions, int16_t* group_error) {
  *group_error = kNone;
  std::vector<FetchedOffset> out;
  if (!EnsureLoaded(PartitionFor(group_id, settings_.offsets_partitions)).ok()) {
    *group_error = kCoordinatorNotAvailable;
    return out;
  }
  const Group* g = Find(group_id);
  if (!partitions) {
    if (g == nullptr) return out;
    for (const auto& [tp, v] : g->offsets)
      out.push_back({tp.first, tp.second, v.offset, v.leader_epoch, v.metadata});
    return out;
  }
  for (const auto& [topic, p] : *partitions) {
    FetchedOffset f{topic, p, -1, -1, ""};
    if (g != nullptr) {
      if (auto it = g->offsets.find({topic, p}); it != g->offsets.end()) {
        f.offset = it->second.offset;
        f.leader_epoch = it->second.leader_epoch;
        f.metadata = it->second.metadata;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<GroupCoordinator::CommittedOffset> GroupCoordinator::CommittedOffsets() const {
  std::vector<CommittedOffset> out;
  for (const auto& [id, g] : groups_) {
    for (const auto& [tp, v] : g.offsets) out.push_back({id, tp.first, tp.second, v.offset});
  }
  return out;
}

std::vector<GroupListing> GroupCoordinator::List() {
  std::vector<GroupListing> out;
  for (const auto& [id, g] : groups_) out.push_back({id, g.protocol_type, StateName(g.state)});
  return out;
}

GroupDescription GroupCoordinator::Describe(const std::string& group_id) {
  GroupDescription d;
  if (!EnsureLoaded(PartitionFor(group_id, settings_.offsets_partitions)).ok()) {
    d.error = kCoordinatorNotAvailable;
    return d;
  }
  const Group* g = Find(group_id);
  if (g == nullptr) return d;  // Kafka describes an unknown group as Dead, without error
  d.state = StateName(g->state);
  d.protocol_type = g->protocol_type;
  d.protocol = g->protocol.value_or("");
  for (const auto& [id, m] : g->members) {
    MemberDescription md{id, m.instance_id, m.client_id, m.client_host, "", ""};
    if (g->state == State::kStable || g->state == State::kCompletingRebalance) {
      md.metadata = ChosenMetadata(*g, m);
      if (g->state == State::kStable) md.assignment = m.assignment;
    }
    d.members.push_back(std::move(md));
  }
  return d;
}

int16_t GroupCoordinator::Delete(const std::string& group_id) {
  if (!EnsureLoaded(PartitionFor(group_id, settings_.offsets_partitions)).ok())
    return kCoordinatorNotAvailable;
  Group* g = Find(group_id);
  if (g == nullptr) return kGroupIdNotFound;
  if (g->state != State::kEmpty) return kNonEmptyGroup;
  std::vector<CoordinatorRecord> records;
  for (const auto& [tp, v] : g->offsets)
    records.push_back(OffsetRecord{{group_id, tp.first, tp.second}, std::nullopt});
  records.push_back(GroupRecord{{group_id}, std::nullopt});
  if (!Persist(g->partition, records).ok()) return kCoordinatorNotAvailable;
  groups_.erase(group_id);
  return kNone;
}

std::vector<int16_t> GroupCoordinator::DeleteOffsets(
    const std::string& group_id, const std::vector<std::pair<std::string, int32_t>>& partitions,
    int16_t* group_error) {
  *group_error = kNone;
  std::vector<int16_t> out(partitions.size(), kNone);
  if (!EnsureLoaded(PartitionFor(group_id, settings_.offsets_partitions)).ok()) {
    *group_error = kCoordinatorNotAvailable;
    return out;
  }
  Group* g = Find(group_id);
  if (g == nullptr) {
    *group_error = kGroupIdNotFound;
    return out;
  }
  // As Kafka: a group with members keeps the offsets of the topics they subscribe to,
  // and only a consumer group's subscriptions can be read, so any other kind with
  // members keeps them all. Subscriptions that do not parse count as every topic.
  const bool consumer = g->protocol_type == kConsumerProtocolType;
  if (g->state != State::kEmpty && !consumer) {
    *group_error = kNonEmptyGroup;
    return out;
  }
  const std::optional<std::set<std::string>> subscribed =
      g->state == State::kEmpty ? std::set<std::string>{} : SubscribedTopics(*g);
  std::vector<CoordinatorRecord> records;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto& [topic, p] = partitions[i];
    if (!subscribed || subscribed->contains(topic)) {
      out[i] = kGroupSubscribedToTopic;
      continue;
    }
    if (g->offsets.contains({topic, p})) records.push_back(OffsetRecord{{group_id, topic, p}, std::nullopt});
  }
  if (!Persist(g->partition, records).ok()) *group_error = kCoordinatorNotAvailable;
  return out;
}

void GroupCoordinator::Resign() {
  resigned_ = true;
  for (auto& [id, g] : groups_) {
    for (auto& [member_id, m] : g.members) {
      if (m.awaiting_join) {
        auto done = std::move(m.awaiting_join);
        m.awaiting_join = nullptr;
        done(JoinResult{kNotCoordinator, -1, {}, {}, "", member_id, {}});
      }
    }
    AnswerWaitingSyncs(g, [](const Member&) { return SyncResult{kNotCoordinator, {}, {}, {}}; });
  }
}

void GroupCoordinator::Tick() {
  if (resigned_) return;
  const auto now = Clock::now();
  std::vector<std::string> ids;
  for (const auto& [id, g] : groups_) ids.push_back(id);
  for (const std::string& id : ids) {
    Group* g = Find(id);
    if (g == nullptr) continue;
    std::erase_if(g->pending, [&](const auto& kv) { return kv.second <= now; });
    // Sessions: a member waiting in a join is kept by that join.
    std::vector<std::string> expired;
    for (const auto& [mid, m] : g->members) {
      if (!m.awaiting_join && m.session_deadline <= now) expired.push_back(mid);
    }
    if (!expired.empty()) {
      for (const std::string& mid : expired) RemoveMember(*g, mid);
      AfterMembersLeft(*g, now);
    }
    if (g->state == State::kPreparingRebalance) MaybeCompleteJoin(*g, now, now >= g->rebalance_deadline);
  }
  // offsets.retention: offsets of a group without members expire retention after it
  // emptied (or after their commit, for groups that never had members).
  if (now - last_retention_check_ < std::chrono::milliseconds(settings_.offsets_retention_check_interval_ms))
    return;
  last_retention_check_ = now;
  const int64_t wall = WallMs();
  // Collected first: applying a tombstone may remove a group from groups_.
  std::vector<std::pair<int32_t, std::vector<CoordinatorRecord>>> expired;
  for (auto& [id, g] : groups_) {
    if (g.state != State::kEmpty || g.offsets.empty()) continue;
    std::vector<CoordinatorRecord> records;
    for (const auto& [tp, v] : g.offsets) {
      const int64_t base = std::max(v.commit_timestamp, g.generation > 0 ? g.state_timestamp_ms : 0);
      if (wall - base >= settings_.offsets_retention_ms) {
        records.push_back(OffsetRecord{{id, tp.first, tp.second}, std::nullopt});
      }
    }
    if (!records.empty()) expired.emplace_back(g.partition, std::move(records));
  }
  for (const auto& [partition, records] : expired) (void)Persist(partition, records);
}

}  // namespace fjord::group
