#include "group/coordinator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "fjord_protocol/messages/consumer_protocol_subscription.h"
#include "group/records.h"
#include "protocol/codec.h"
#include "support/test_dir.h"

namespace fjord::group {
namespace {

namespace fs = std::filesystem;

// A coordinator over real partition logs in a temporary directory.
class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fjord::testing::FreshTestDir("fjord-group-test");
    settings_.offsets_partitions = 4;
    settings_.initial_rebalance_delay_ms = 0;
  }
  void TearDown() override {
    logs_.clear();
    fs::remove_all(dir_);
  }

  std::unique_ptr<GroupCoordinator> Make() {
    logs_.clear();  // a restart: the logs are closed and opened again
    auto c = std::make_unique<GroupCoordinator>(
        settings_, [this](int32_t p) -> absl::StatusOr<log::PartitionLog*> {
          auto& slot = logs_[p];
          if (!slot) {
            auto opened = log::PartitionLog::Open(dir_ / ("__consumer_offsets-" + std::to_string(p)), {});
            if (!opened.ok()) return opened.status();
            slot = std::move(*opened);
          }
          return slot.get();
        });
    for (int32_t p = 0; p < settings_.offsets_partitions; ++p) EXPECT_TRUE(c->Load(p).ok());
    return c;
  }

  JoinRequest Join(const std::string& member, const std::optional<std::string>& instance = std::nullopt) {
    JoinRequest r;
    r.version = 5;
    r.group_id = "g";
    r.member_id = member;
    r.instance_id = instance;
    r.client_id = "client";
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 10000;
    r.protocol_type = "consumer";
    r.protocols = {{"range", "subscription"}};
    return r;
  }

  Settings settings_;
  fs::path dir_;
  std::map<int32_t, std::unique_ptr<log::PartitionLog>> logs_;
};

TEST_F(CoordinatorTest, RecordsRoundTrip) {
  GroupValue v;
  v.protocol_type = "consumer";
  v.generation = 7;
  v.protocol = "range";
  v.leader = "m1";
  v.members.push_back({"m1", "i1", "c", "/h", 1, 2, "sub", "asg"});
  for (const CoordinatorRecord& rec :
       {CoordinatorRecord{OffsetRecord{{"g", "t", 3}, OffsetValue{42, 5, "meta", 99}}},
        CoordinatorRecord{OffsetRecord{{"g", "t", 3}, std::nullopt}},
        CoordinatorRecord{GroupRecord{{"g"}, v}}, CoordinatorRecord{GroupRecord{{"g"}, std::nullopt}}}) {
    EncodedRecord e = *Encode(rec);
    std::optional<protocol::ByteView> value;
    if (e.value) value = protocol::ByteView(std::string_view(*e.value));
    auto back = Decode(protocol::ByteView(std::string_view(e.key)), value);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(Encode(*back)->key, e.key);
    EXPECT_EQ(Encode(*back)->value, e.value);
  }
  // A string the format cannot hold is refused, not written with a wrapped length.
  EXPECT_FALSE(Encode(OffsetRecord{{"g", "t", 0}, OffsetValue{1, -1, std::string(32768, 'm'), 0}}).ok());
  EXPECT_TRUE(Encode(OffsetRecord{{"g", "t", 0}, OffsetValue{1, -1, std::string(32767, 'm'), 0}}).ok());
}

TEST_F(CoordinatorTest, JoinSyncCommitThenReplayRestoresEverything) {
  auto c = Make();
  JoinResult first;
  c->Join(Join(""), [&](JoinResult r) { first = r; });
  ASSERT_EQ(first.error, kMemberIdRequired);  // KIP-394
  JoinResult joined;
  c->Join(Join(first.member_id), [&](JoinResult r) { joined = r; });
  ASSERT_EQ(joined.error, kNone);
  EXPECT_EQ(joined.generation, 1);
  EXPECT_EQ(joined.leader, first.member_id);
  ASSERT_EQ(joined.members.size(), 1u);
  SyncRequest sync{"g", 1, first.member_id, std::nullopt, "consumer", "range", {{first.member_id, "asg"}}};
  SyncResult synced;
  c->Sync(sync, [&](SyncResult r) { synced = r; });
  ASSERT_EQ(synced.error, kNone);
  EXPECT_EQ(synced.assignment, "asg");
  int16_t group_error = 0;
  CommitRequest commit{"g", 1, first.member_id, std::nullopt, {{"t", 0, 17, 0, "m"}, {"t", 1, 23, 0, ""}}};
  EXPECT_EQ(c->Commit(commit, &group_error), (std::vector<int16_t>{kNone, kNone}));
  commit.generation = 0;
  c->Commit(commit, &group_error);
  EXPECT_EQ(group_error, kIllegalGeneration);

  // A new coordinator over the same logs: the same Apply rebuilds the group.
  c = Make();
  auto offsets = c->Fetch("g", std::nullopt, &group_error);
  ASSERT_EQ(offsets.size(), 2u);
  EXPECT_EQ(offsets[0].offset, 17);
  EXPECT_EQ(offsets[0].metadata, "m");
  EXPECT_EQ(offsets[1].offset, 23);
  GroupDescription d = c->Describe("g");
  EXPECT_EQ(d.state, "Stable");
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members[0].assignment, "asg");
  EXPECT_EQ(c->Heartbeat("g", 1, first.member_id, std::nullopt), kNone);  // its session is back
  // Leave, delete: tombstones, and after another replay nothing is left.
  c->Leave("g", {{first.member_id, std::nullopt}}, &group_error);
  EXPECT_EQ(c->Describe("g").state, "Empty");
  EXPECT_EQ(c->Delete("g"), kNone);
  c = Make();
  EXPECT_EQ(c->Fetch("g", std::nullopt, &group_error).size(), 0u);
  EXPECT_EQ(c->Describe("g").state, "Dead");
}

TEST_F(CoordinatorTest, RebalanceWaitsForEveryMemberThenTheLeaderAssigns) {
  auto c = Make();
  std::string ids[2];
  for (auto& id : ids) {
    c->Join(Join(""), [&](JoinResult r) { id = r.member_id; });
  }
  JoinResult a, b;
  bool a_done = false, b_done = false;
  c->Join(Join(ids[0]), [&](JoinResult r) { a = r, a_done = true; });
  // One member joined, the other is still pending (KIP-394): no answer yet.
  EXPECT_FALSE(a_done);
  c->Join(Join(ids[1]), [&](JoinResult r) { b = r, b_done = true; });
  ASSERT_TRUE(a_done && b_done);
  EXPECT_EQ(a.generation, b.generation);
  const std::string leader = a.leader;
  EXPECT_EQ(a.members.size() + b.members.size(), 2u);  // only the leader gets the list
  SyncResult follower;
  bool follower_done = false;
  const std::string other = leader == ids[0] ? ids[1] : ids[0];
  c->Sync({"g", a.generation, other, std::nullopt, std::nullopt, std::nullopt, {}},
          [&](SyncResult r) { follower = r, follower_done = true; });
  EXPECT_FALSE(follower_done);  // waits for the leader
  c->Sync(
      {"g", a.generation, leader, std::nullopt, std::nullopt, std::nullopt, {{leader, "L"}, {other, "F"}}},
      [](SyncResult) {});
  ASSERT_TRUE(follower_done);
  EXPECT_EQ(follower.error, kNone);
  EXPECT_EQ(follower.assignment, "F");
  // A heartbeat from a member of an older generation is refused.
  EXPECT_EQ(c->Heartbeat("g", a.generation - 1, other, std::nullopt), kIllegalGeneration);
}

// At a stop the coordinator answers what waits, as Kafka when it unloads a group: a
// join waiting for another member and a sync waiting for the leader get NOT_COORDINATOR,
// and so does a join that comes after.
TEST_F(CoordinatorTest, ResignAnswersWaitingJoinsAndSyncsWithNotCoordinator) {
  auto c = Make();
  std::string ids[2];
  for (auto& id : ids) c->Join(Join(""), [&](JoinResult r) { id = r.member_id; });
  JoinResult a, b;
  c->Join(Join(ids[0]), [&](JoinResult r) { a = r; });
  c->Join(Join(ids[1]), [&](JoinResult r) { b = r; });
  ASSERT_EQ(a.error, kNone);
  const std::string other = a.leader == ids[0] ? ids[1] : ids[0];
  std::optional<SyncResult> follower;
  c->Sync({"g", a.generation, other, std::nullopt, std::nullopt, std::nullopt, {}},
          [&](SyncResult r) { follower = r; });
  ASSERT_FALSE(follower.has_value());  // waits for the leader
  // Another group: one member joined, the other one still pending (KIP-394).
  auto join_h = [&](const std::string& member) {
    JoinRequest r = Join(member);
    r.group_id = "h";
    return r;
  };
  std::string h_ids[2];
  for (auto& id : h_ids) c->Join(join_h(""), [&](JoinResult r) { id = r.member_id; });
  std::optional<JoinResult> waiting;
  c->Join(join_h(h_ids[0]), [&](JoinResult r) { waiting = r; });
  ASSERT_FALSE(waiting.has_value());

  c->Resign();
  ASSERT_TRUE(follower.has_value());
  EXPECT_EQ(follower->error, kNotCoordinator);
  ASSERT_TRUE(waiting.has_value());
  EXPECT_EQ(waiting->error, kNotCoordinator);
  EXPECT_EQ(waiting->member_id, h_ids[0]);
  std::optional<JoinResult> late;
  c->Join(Join(""), [&](JoinResult r) { late = r; });
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->error, kNotCoordinator);
}

// A member's subscription as a Kafka consumer sends it: its version, then the fields.
std::string Subscription(int16_t version, const std::vector<std::string>& topics) {
  protocol::ConsumerProtocolSubscription s;
  s.topics = topics;
  if (version >= 1) s.owned_partitions.push_back({topics.front(), {0, 1}, {}});
  if (version >= 3) s.rack_id = "rack-a";
  std::vector<uint8_t> body;
  EXPECT_TRUE(protocol::Encode(s, version, &body).ok());
  std::string out{static_cast<char>(version >> 8), static_cast<char>(version & 0xff)};
  return out + std::string(body.begin(), body.end());
}

// OffsetDelete (KIP-496): a group with members keeps the offsets of the topics its
// members' subscriptions name, each name compared whole.
TEST_F(CoordinatorTest, OffsetDeleteKeepsOnlyTheTopicsTheMembersSubscribeTo) {
  auto c = Make();
  auto join = [&](const std::string& group_id, const std::string& protocol_type,
                  const std::string& metadata) {
    JoinRequest r = Join("");
    r.group_id = group_id;
    r.protocol_type = protocol_type;
    r.protocols = {{"range", metadata}};
    std::string id;
    c->Join(r, [&](JoinResult j) { id = j.member_id; });
    r.member_id = id;
    JoinResult joined;
    c->Join(r, [&](JoinResult j) { joined = j; });
    EXPECT_EQ(joined.error, kNone);
    c->Sync({r.group_id, joined.generation, id, std::nullopt, protocol_type, "range", {{id, ""}}},
            [](SyncResult) {});
    int16_t group_error = 0;
    CommitRequest commit{r.group_id,
                         joined.generation,
                         id,
                         std::nullopt,
                         {{"orders", 0, 5, 0, ""}, {"orders-eu", 0, 6, 0, ""}, {"audit", 0, 7, 0, ""}}};
    EXPECT_EQ(c->Commit(commit, &group_error), (std::vector<int16_t>{kNone, kNone, kNone}));
    return std::pair{r.group_id, id};
  };
  int16_t group_error = 0;
  const std::vector<std::pair<std::string, int32_t>> all = {{"orders", 0}, {"orders-eu", 0}, {"audit", 0}};

  // v3, as librdkafka 2.x and Java consumers send it: fields after v0's are skipped.
  const auto [group, member] = join("g1", "consumer", Subscription(3, {"orders-eu", "audit"}));
  EXPECT_EQ(c->DeleteOffsets(group, all, &group_error),
            (std::vector<int16_t>{kNone, kGroupSubscribedToTopic, kGroupSubscribedToTopic}));
  EXPECT_EQ(group_error, kNone);
  auto left = c->Fetch(group, std::nullopt, &group_error);
  ASSERT_EQ(left.size(), 2u);  // "orders" went, though "orders-eu" starts with its name

  // Bytes that are no subscription: every topic counts as subscribed.
  const auto [garbled, garbled_member] = join("g2", "consumer", "subscription");
  EXPECT_EQ(c->DeleteOffsets(garbled, all, &group_error), (std::vector<int16_t>(3, kGroupSubscribedToTopic)));

  // Another protocol type with members: nothing can be deleted.
  const auto [connect, connect_member] = join("g3", "connect", Subscription(0, {"orders"}));
  c->DeleteOffsets(connect, all, &group_error);
  EXPECT_EQ(group_error, kNonEmptyGroup);
  EXPECT_EQ(c->Fetch(connect, std::nullopt, &group_error).size(), 3u);

  // Once the members leave, every topic's offsets can go.
  c->Leave(group, {{member, std::nullopt}}, &group_error);
  EXPECT_EQ(c->DeleteOffsets(group, all, &group_error), (std::vector<int16_t>(3, kNone)));
  EXPECT_EQ(c->Fetch(group, std::nullopt, &group_error).size(), 0u);
}

// A member id is the client id, '-' and 16 hex digits. A client id at the 32767-byte
// limit of a string made one that no answer or record could hold: the group's record
// was written with a wrapped length and lost on replay.
TEST_F(CoordinatorTest, MemberIdsOfTheLongestClientIdsStillFitAString) {
  auto c = Make();
  JoinRequest r = Join("");
  r.version = 1;  // no KIP-394 round trip
  // 32749 + 9 bytes: room is left for 32750 of them, which would end inside the first euro.
  r.client_id = std::string(32749, 'c') + "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC";
  JoinResult joined;
  c->Join(r, [&](JoinResult j) { joined = j; });
  ASSERT_EQ(joined.error, kNone);
  EXPECT_EQ(joined.member_id.size(), 32749u + 17);
  EXPECT_EQ(joined.member_id.substr(0, 32750), std::string(32749, 'c') + "-");  // cut before the euro
  SyncResult synced;
  c->Sync({"g",
           joined.generation,
           joined.member_id,
           std::nullopt,
           "consumer",
           "range",
           {{joined.member_id, "a"}}},
          [&](SyncResult s) { synced = s; });
  EXPECT_EQ(synced.error, kNone);
  c = Make();  // the group's record replays
  GroupDescription d = c->Describe("g");
  EXPECT_EQ(d.state, "Stable");
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members[0].member_id, joined.member_id);
}

TEST_F(CoordinatorTest, OffsetsOfAGroupWithoutMembersExpireAfterRetention) {
  settings_.offsets_retention_ms = 100;
  auto c = Make();
  int16_t group_error = 0;
  c->Commit({"simple", -1, "", std::nullopt, {{"t", 0, 5, -1, ""}}}, &group_error);
  ASSERT_EQ(group_error, kNone);
  EXPECT_EQ(c->Fetch("simple", std::nullopt, &group_error).size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  c->Tick();
  EXPECT_EQ(c->Fetch("simple", std::nullopt, &group_error).size(), 0u);
  c = Make();  // the tombstones are in the log
  EXPECT_EQ(c->Fetch("simple", std::nullopt, &group_error).size(), 0u);
}

TEST_F(CoordinatorTest, OffsetsRetentionIsCheckedOncePerCheckInterval) {
  settings_.offsets_retention_ms = 100;
  settings_.offsets_retention_check_interval_ms = 3000;
  auto c = Make();
  int16_t group_error = 0;
  c->Commit({"simple", -1, "", std::nullopt, {{"t", 0, 5, -1, ""}}}, &group_error);
  ASSERT_EQ(group_error, kNone);
  c->Tick();  // the first check: the offset is too new
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(650));
    c->Tick();  // past retention, but the next check is not due
    EXPECT_EQ(c->Fetch("simple", std::nullopt, &group_error).size(), 1u);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1800));
  c->Tick();
  EXPECT_EQ(c->Fetch("simple", std::nullopt, &group_error).size(), 0u);
}

TEST_F(CoordinatorTest, GroupMaxSizeAndSessionTimeoutBounds) {
  settings_.max_size = 1;
  auto c = Make();
  JoinRequest r = Join("");
  r.version = 3;  // before KIP-394: joins at once
  JoinResult first, second;
  c->Join(r, [&](JoinResult res) { first = res; });
  EXPECT_EQ(first.error, kNone);
  c->Join(r, [&](JoinResult res) { second = res; });
  EXPECT_EQ(second.error, kGroupMaxSizeReached);
  r.session_timeout_ms = 10;
  c->Join(r, [&](JoinResult res) { second = res; });
  EXPECT_EQ(second.error, kInvalidSessionTimeout);
}

TEST_F(CoordinatorTest, EmptyGroupIdIsOnlyForOffsets) {
  auto c = Make();
  JoinRequest r = Join("");
  r.group_id = "";
  JoinResult joined;
  c->Join(r, [&](JoinResult res) { joined = res; });
  EXPECT_EQ(joined.error, kInvalidGroupId);
  SyncResult synced;
  c->Sync(SyncRequest{.group_id = "", .generation = 1, .member_id = "m"},
          [&](SyncResult res) { synced = res; });
  EXPECT_EQ(synced.error, kInvalidGroupId);
  EXPECT_EQ(c->Heartbeat("", 1, "m", std::nullopt), kInvalidGroupId);
  int16_t group_error = kNone;
  EXPECT_EQ(c->Leave("", {LeavingMember{"m", std::nullopt}}, &group_error),
            std::vector<int16_t>{kInvalidGroupId});
  EXPECT_EQ(group_error, kInvalidGroupId);
  // a commit under the empty group id is kept, as Kafka does for old simple consumers
  CommitRequest commit{"", -1, "", std::nullopt, {{"t", 0, 42, -1, ""}}};
  EXPECT_EQ(c->Commit(commit, &group_error), std::vector<int16_t>{kNone});
  EXPECT_EQ(group_error, kNone);
  auto fetched = c->Fetch("", std::nullopt, &group_error);
  ASSERT_EQ(fetched.size(), 1u);
  EXPECT_EQ(fetched[0].offset, 42);
}

TEST_F(CoordinatorTest, PartitionForMatchesJavaHashCode) {
  // "hello".hashCode() == 99162322 in Java.
  EXPECT_EQ(PartitionFor("hello", 50), 99162322 % 50);
  EXPECT_EQ(PartitionFor("", 50), 0);
}

}  // namespace
}  // namespace fjord::group
