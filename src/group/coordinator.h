// The classic group coordinator (JoinGroup/SyncGroup/Heartbeat/LeaveGroup, offsets)
// for the `__consumer_offsets` partitions one shard owns.
//
// Runs on that shard's thread only. Every change that must survive a restart is a
// record (records.h) appended to the group's `__consumer_offsets` partition first
// and applied to memory by Apply() after the append succeeded; loading a partition
// replays its records through the same Apply(). So an answer is only sent for what
// the log holds (single node: appended is committed; with replication the append
// will wait for the high watermark).
//
// Rebalances (Kafka's classic protocol): a join moves the group to
// PreparingRebalance; the join completes when every member has rejoined, or the
// rebalance timeout passes (members that did not rejoin are dropped), or, for a
// group that was empty, after group.initial.rebalance.delay.ms. The generation then
// advances, the leader gets the member list, and the group waits in
// CompletingRebalance for the leader's SyncGroup, whose assignments are written as a
// group record before any member gets its own. Heartbeats keep members alive;
// Tick() expires members and pending joins whose session passed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "group/records.h"
#include "log/partition_log.h"

namespace fjord::group {

using Clock = std::chrono::steady_clock;

// The group protocol's answers, with Kafka's error code values: handlers pass them on
// as they are.
enum GroupError : int16_t {
  kNone = 0,
  kUnknownServerError = -1,
  kOffsetMetadataTooLarge = 12,
  kCoordinatorNotAvailable = 15,
  kNotCoordinator = 16,
  kIllegalGeneration = 22,
  kInconsistentGroupProtocol = 23,
  kInvalidGroupId = 24,
  kUnknownMemberId = 25,
  kInvalidSessionTimeout = 26,
  kRebalanceInProgress = 27,
  kNonEmptyGroup = 68,
  kGroupIdNotFound = 69,
  kMemberIdRequired = 79,
  kGroupMaxSizeReached = 81,
  kFencedInstanceId = 82,
  kGroupSubscribedToTopic = 86,
};

struct Settings {
  int32_t offsets_partitions = 50;                       // offsets.topic.num.partitions
  int32_t min_session_timeout_ms = 6000;                 // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;              // group.max.session.timeout.ms
  int32_t initial_rebalance_delay_ms = 3000;             // group.initial.rebalance.delay.ms
  int32_t max_size = INT32_MAX;                          // group.max.size
  int32_t offset_metadata_max_bytes = 4096;              // offset.metadata.max.bytes
  int64_t offsets_retention_ms = 7 * 86400000LL;         // offsets.retention.minutes
  int64_t offsets_retention_check_interval_ms = 600000;  // offsets.retention.check.interval.ms
};

// Which `__consumer_offsets` partition holds a group: Kafka's rule, on Java's
// String.hashCode, so a group lands where Kafka would put it.
int32_t PartitionFor(const std::string& group_id, int32_t partitions);

struct Protocol {
  std::string name;
  std::string metadata;
};

struct JoinRequest {
  int16_t version = 0;
  std::string group_id;
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<Protocol> protocols;
};

struct JoinedMember {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string metadata;
};

struct JoinResult {
  int16_t error = kNone;
  int32_t generation = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol;
  std::string leader;
  std::string member_id;
  std::vector<JoinedMember> members;  // for the leader only
};

struct SyncRequest {
  std::string group_id;
  int32_t generation = 0;
  std::string member_id;
  std::optional<std::string> instance_id;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol;
  std::vector<std::pair<std::string, std::string>> assignments;  // member id -> assignment
};

struct SyncResult {
  int16_t error = kNone;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol;
  std::string assignment;
};

struct LeavingMember {
  std::string member_id;
  std::optional<std::string> instance_id;
};

struct CommitPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::string metadata;
};

struct CommitRequest {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> instance_id;
  std::vector<CommitPartition> partitions;
};

struct FetchedOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
};

struct GroupListing {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

struct MemberDescription {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  std::string metadata;
  std::string assignment;
};

struct GroupDescription {
  int16_t error = kNone;
  std::string state = "Dead";
  std::string protocol_type;
  std::string protocol;
  std::vector<MemberDescription> members;
};

class GroupCoordinator {
 public:
  // `offsets_log(p)` opens this shard's `__consumer_offsets` partition p.
  GroupCoordinator(Settings settings, std::function<absl::StatusOr<log::PartitionLog*>(int32_t)> offsets_log)
      : settings_(settings), offsets_log_(std::move(offsets_log)) {}

  // Replays a `__consumer_offsets` partition this shard owns (once; later calls are
  // no-ops). The broker loads every owned partition at start-up, so groups and their
  // members' sessions are back before clients return.
  absl::Status Load(int32_t partition) { return EnsureLoaded(partition); }

  void Join(JoinRequest request, std::function<void(JoinResult)> done);
  void Sync(SyncRequest request, std::function<void(SyncResult)> done);
  int16_t Heartbeat(const std::string& group_id, int32_t generation, const std::string& member_id,
                    const std::optional<std::string>& instance_id);
  // Per-member errors, in order (the group-level error in *group_error).
  std::vector<int16_t> Leave(const std::string& group_id, const std::vector<LeavingMember>& members,
                             int16_t* group_error);

  // Per-partition errors (in request order), or one error for all in *group_error.
  std::vector<int16_t> Commit(const CommitRequest& request, int16_t* group_error);
  // The group's committed offsets: those asked for (offset -1 when none), or all.
  std::vector<FetchedOffset> Fetch(
      const std::string& group_id,
      const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions, int16_t* group_error);
  std::vector<GroupListing> List();
  GroupDescription Describe(const std::string& group_id);
  int16_t Delete(const std::string& group_id);
  // OffsetDelete: per-partition errors, or a group-level error.
  std::vector<int16_t> DeleteOffsets(const std::string& group_id,
                                     const std::vector<std::pair<std::string, int32_t>>& partitions,
                                     int16_t* group_error);

  // Expires sessions and pending members, completes rebalances whose time is up,
  // and, at most once per offsets.retention.check.interval.ms (the first call always),
  // removes offsets past offsets.retention. Called every 100 ms or so.
  void Tick();
  // At a stop, as Kafka when it unloads a group: every join and sync still waiting is
  // answered NOT_COORDINATOR (the client looks for the coordinator again), later ones
  // too, and Tick does nothing more (it would write to logs that are closing).
  void Resign();

  // For tests and metrics.
  size_t group_count() const { return groups_.size(); }
  struct CommittedOffset {
    std::string group, topic;
    int32_t partition = 0;
    int64_t offset = 0;
  };
  // Every committed offset of every group this coordinator holds (for the lag metrics).
  std::vector<CommittedOffset> CommittedOffsets() const;

 private:
  enum class State { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };
  struct Member {
    std::string member_id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::string protocol_type;
    std::vector<Protocol> protocols;
    std::string assignment;
    Clock::time_point session_deadline;
    std::function<void(JoinResult)> awaiting_join;
    std::function<void(SyncResult)> awaiting_sync;
    uint64_t join_order = 0;
  };
  struct Group {
    std::string id;
    int32_t partition = 0;
    State state = State::kEmpty;
    int32_t generation = 0;
    std::string protocol_type;
    std::optional<std::string> protocol;
    std::optional<std::string> leader;
    std::map<std::string, Member> members;              // by member id
    std::map<std::string, std::string> static_members;  // instance id -> member id
    std::map<std::string, Clock::time_point> pending;   // KIP-394: ids handed out, not joined yet
    Clock::time_point rebalance_deadline;
    Clock::time_point initial_delay_deadline;
    bool in_initial_delay = false;
    int64_t state_timestamp_ms = 0;  // when it last changed state (wall clock)
    std::map<std::pair<std::string, int32_t>, OffsetValue> offsets;
  };

  absl::Status EnsureLoaded(int32_t partition);
  // Appends records to the group's partition, then applies them.
  absl::Status Persist(int32_t partition, const std::vector<CoordinatorRecord>& records);
  void Apply(const CoordinatorRecord& record, int32_t partition);
  Group* Find(const std::string& group_id);
  Group& GetOrCreate(const std::string& group_id);

  void PrepareRebalance(Group& g, Clock::time_point now);
  void MaybeCompleteJoin(Group& g, Clock::time_point now, bool deadline_passed);
  void CompleteJoin(Group& g);
  void RemoveMember(Group& g, const std::string& member_id);
  // Members left or expired: the group empties (written) or rebalances.
  void AfterMembersLeft(Group& g, Clock::time_point now);
  void BecomeEmpty(Group& g);  // written as a group record with no members
  void AnswerWaitingSyncs(Group& g, const std::function<SyncResult(const Member&)>& answer);
  // The member's metadata for the group's chosen protocol.
  static std::string ChosenMetadata(const Group& g, const Member& m);
  // The topics a consumer group's members subscribe to, or nullopt when that cannot be
  // known: another protocol type, no protocol chosen yet, or a subscription that does
  // not parse.
  static std::optional<std::set<std::string>> SubscribedTopics(const Group& g);
  // A static member id that another member id now holds.
  static bool Fenced(const Group& g, const std::optional<std::string>& instance_id,
                     const std::string& member_id);
  void SetState(Group& g, State s);
  JoinResult CurrentJoinResult(const Group& g, const Member& m) const;
  std::optional<std::string> ChooseProtocol(const Group& g) const;
  bool SupportsProtocols(const Group& g, const JoinRequest& r) const;
  GroupValue Snapshot(const Group& g) const;
  static const char* StateName(State s);

  Settings settings_;
  std::function<absl::StatusOr<log::PartitionLog*>(int32_t)> offsets_log_;
  std::set<int32_t> loaded_;
  std::map<std::string, Group> groups_;
  uint64_t next_join_order_ = 0;
  bool resigned_ = false;
  Clock::time_point last_retention_check_{};
};

}  // namespace fjord::group
