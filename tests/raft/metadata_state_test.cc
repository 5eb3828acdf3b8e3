// The metadata state machine: batches apply whole or not at all, fencing moves
// leadership within the ISR, snapshots rebuild the same state, placement spreads replicas.
#include "raft/metadata_state.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "raft/placement.h"

namespace fjord::metadata {
namespace {

MetadataRecord Register(int32_t id, const std::string& rack = "") {
  MetadataRecord r;
  r.mutable_register_broker()->set_broker_id(id);
  r.mutable_register_broker()->set_rack(rack);
  Endpoint* e = r.mutable_register_broker()->add_endpoints();
  e->set_listener("PLAINTEXT");
  e->set_host("127.0.0.1");
  e->set_port(9000 + id);
  return r;
}

MetadataRecord Unfence(int32_t id, int64_t epoch) {
  MetadataRecord r;
  r.mutable_unfence_broker()->set_broker_id(id);
  r.mutable_unfence_broker()->set_broker_epoch(epoch);
  return r;
}

MetadataRecord Fence(int32_t id, int64_t epoch) {
  MetadataRecord r;
  r.mutable_fence_broker()->set_broker_id(id);
  r.mutable_fence_broker()->set_broker_epoch(epoch);
  return r;
}

MetadataBatch Batch(std::vector<MetadataRecord> records) {
  MetadataBatch b;
  for (auto& r : records) *b.add_records() = r;
  return b;
}

std::string Id(char c) {
  return std::string(16, c);
}

MetadataBatch CreateTopic(const std::string& name, const std::string& id,
                          const std::vector<std::vector<int32_t>>& replicas) {
  MetadataBatch b;
  b.add_records()->mutable_topic()->set_name(name);
  b.mutable_records(0)->mutable_topic()->set_topic_id(id);
  for (size_t i = 0; i < replicas.size(); ++i) {
    PartitionRecord* p = b.add_records()->mutable_partition();
    p->set_topic_id(id);
    p->set_partition(static_cast<int32_t>(i));
    p->mutable_replicas()->Add(replicas[i].begin(), replicas[i].end());
    p->mutable_isr()->Add(replicas[i].begin(), replicas[i].end());
    p->set_leader(replicas[i][0]);
  }
  return b;
}

// Three registered, unfenced brokers; broker i has epoch i (its registration's offset).
MetadataState ThreeBrokers() {
  MetadataState s;
  for (int32_t id = 1; id <= 3; ++id) EXPECT_TRUE(s.Apply(Batch({Register(id)}), id).ok());
  for (int32_t id = 1; id <= 3; ++id) EXPECT_TRUE(s.Apply(Batch({Unfence(id, id)}), 3 + id).ok());
  return s;
}

TEST(MetadataState, ABatchAppliesWholeOrNotAtAll) {
  MetadataState s = ThreeBrokers();
  ASSERT_TRUE(s.Apply(CreateTopic("orders", Id('a'), {{1, 2}, {2, 3}}), 10).ok());
  ASSERT_NE(s.FindTopic("orders"), nullptr);
  EXPECT_EQ(s.FindTopic("orders")->partitions.size(), 2u);
  // The same name again (a racing request): refused, nothing changes.
  auto again = s.Apply(CreateTopic("orders", Id('b'), {{1}}), 11);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.FindTopicById(Id('b')), nullptr);
  // A batch whose last record is bad leaves no topic behind.
  auto bad = s.Apply(CreateTopic("payments", Id('c'), {{1}, {9}}), 12);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.FindTopic("payments"), nullptr);
  EXPECT_EQ(s.offset(), 12u);
}

TEST(MetadataState, FencingMovesLeadershipWithinTheIsrAndUnfencingRestoresOrphans) {
  MetadataState s = ThreeBrokers();
  ASSERT_TRUE(s.Apply(CreateTopic("t", Id('t'), {{1, 2}, {2, 3}, {1}}), 10).ok());
  ASSERT_TRUE(s.Apply(Batch({Fence(1, 1)}), 11).ok());
  const TopicState& t = *s.FindTopic("t");
  EXPECT_EQ(t.partitions[0].leader, 2);  // moved to the other ISR member
  EXPECT_EQ(t.partitions[0].isr, (std::vector<int32_t>{2}));
  EXPECT_EQ(t.partitions[0].leader_epoch, 1);
  EXPECT_EQ(t.partitions[1].leader, 2);  // untouched
  EXPECT_EQ(t.partitions[1].leader_epoch, 0);
  EXPECT_EQ(t.partitions[2].leader, -1);  // its only replica is fenced: no leader
  EXPECT_EQ(t.partitions[2].isr, (std::vector<int32_t>{1}));
  // A stale epoch cannot fence or unfence anyone.
  EXPECT_FALSE(s.Apply(Batch({Unfence(1, 99)}), 12).ok());
  ASSERT_TRUE(s.Apply(Batch({Unfence(1, 1)}), 13).ok());
  EXPECT_EQ(s.FindTopic("t")->partitions[2].leader, 1);
  EXPECT_EQ(s.FindTopic("t")->partitions[0].leader, 2);  // no preferred-leader move
  // Registering again (a restarted broker) fences the old incarnation at once.
  ASSERT_TRUE(s.Apply(Batch({Register(2)}), 14).ok());
  EXPECT_TRUE(s.brokers().at(2).fenced);
  EXPECT_EQ(s.brokers().at(2).epoch, 14);
  EXPECT_EQ(s.FindTopic("t")->partitions[1].leader, 3);
}

TEST(MetadataState, LeadersComeFromTheIsrUnlessTheTopicAllowsUncleanElection) {
  for (const bool unclean : {false, true}) {
    MetadataState s = ThreeBrokers();
    const MetadataBatch create = CreateTopic("t", Id('t'), {{1, 2}});
    std::vector<MetadataRecord> records(create.records().begin(), create.records().end());
    if (unclean) {
      MetadataRecord c;
      c.mutable_config()->set_resource_type(kTopicResource);
      c.mutable_config()->set_resource_name("t");
      c.mutable_config()->set_name("unclean.leader.election.enable");
      c.mutable_config()->set_value("true");
      records.push_back(c);
    }
    ASSERT_TRUE(s.Apply(Batch(records), 10).ok());
    MetadataRecord shrink;  // broker 2 fell behind: the leader took it out of the ISR
    shrink.mutable_partition_change()->set_topic_id(Id('t'));
    shrink.mutable_partition_change()->set_leader(1);
    shrink.mutable_partition_change()->add_isr(1);
    shrink.mutable_partition_change()->set_expected_partition_epoch(0);
    ASSERT_TRUE(s.Apply(Batch({shrink}), 11).ok());
    ASSERT_TRUE(s.Apply(Batch({Fence(1, 1)}), 12).ok());
    const PartitionState& p = s.FindTopic("t")->partitions[0];
    if (unclean) {
      EXPECT_EQ(p.leader, 2);  // out of sync, but the topic prefers availability
      EXPECT_EQ(p.isr, (std::vector<int32_t>{2}));
    } else {
      EXPECT_EQ(p.leader, -1);  // only the fenced ISR member may lead
      EXPECT_EQ(p.isr, (std::vector<int32_t>{1}));
    }
  }
}

TEST(MetadataState, ASnapshotRebuildsTheSameState) {
  MetadataState s = ThreeBrokers();
  MetadataRecord cluster;
  cluster.mutable_cluster()->set_cluster_id("abc");
  ASSERT_TRUE(s.Apply(Batch({cluster}), 7).ok());
  ASSERT_TRUE(s.Apply(CreateTopic("a", Id('a'), {{1, 2}, {3, 1}}), 10).ok());
  ASSERT_TRUE(s.Apply(CreateTopic("b", Id('b'), {{2}}), 11).ok());
  MetadataRecord config;
  config.mutable_config()->set_resource_type(kTopicResource);
  config.mutable_config()->set_resource_name("a");
  config.mutable_config()->set_name("retention.ms");
  config.mutable_config()->set_value("1000");
  ASSERT_TRUE(s.Apply(Batch({config}), 12).ok());
  MetadataRecord ids;
  ids.mutable_producer_ids()->set_broker_id(1);
  ids.mutable_producer_ids()->set_count(1000);
  EXPECT_EQ(s.Apply(Batch({ids}), 13)->first_producer_id, 0);
  EXPECT_EQ(s.Apply(Batch({ids}), 14)->first_producer_id, 1000);
  ASSERT_TRUE(s.Apply(Batch({Fence(3, 3)}), 15).ok());
  MetadataRecord remove;
  remove.mutable_remove_topic()->set_topic_id(Id('b'));
  ASSERT_TRUE(s.Apply(Batch({remove}), 16).ok());

  auto restored = MetadataState::Restore(s.ToSnapshot(), s.offset());
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->ToSnapshot().SerializeAsString(), s.ToSnapshot().SerializeAsString());
  EXPECT_EQ(restored->cluster_id(), "abc");
  EXPECT_EQ(restored->next_producer_id(), 2000);
  EXPECT_TRUE(restored->brokers().at(3).fenced);
  EXPECT_EQ(restored->FindTopic("b"), nullptr);
  EXPECT_EQ(restored->Configs(kTopicResource, "a")->at("retention.ms"), "1000");
  EXPECT_EQ(restored->FindTopic("a")->partitions[1].leader, 1);
  EXPECT_EQ(restored->offset(), 16u);
  // The next block continues where the snapshot left off.
  EXPECT_EQ(restored->Apply(Batch({ids}), 17)->first_producer_id, 2000);
  // A snapshot holding a record snapshots never write is corrupt, not guessed at.
  EXPECT_EQ(MetadataState::Restore(Batch({remove}), 1).status().code(), absl::StatusCode::kDataLoss);
}

// Found by metadata_fuzzer: a snapshot whose second topic record reused the first's id
// under another name restored to a state whose own snapshot could not be restored
// (the first name still indexed, with its configs, and no topic of that name).
TEST(MetadataState, SnapshotNamingATopicTwiceIsCorrupt) {
  MetadataRecord first;
  first.mutable_topic()->set_name("a");
  first.mutable_topic()->set_topic_id(Id('a'));
  MetadataRecord same_id = first;
  same_id.mutable_topic()->set_name("b");
  MetadataRecord same_name = first;
  same_name.mutable_topic()->set_topic_id(Id('b'));
  MetadataRecord config;
  config.mutable_config()->set_resource_type(kTopicResource);
  config.mutable_config()->set_resource_name("a");
  config.mutable_config()->set_name("retention.ms");
  config.mutable_config()->set_value("1000");
  for (const MetadataRecord& twice : {same_id, same_name}) {
    auto restored = MetadataState::Restore(Batch({Register(1), first, twice, config}), 1);
    EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << twice.DebugString();
  }
  auto once = MetadataState::Restore(Batch({Register(1), first, config}), 1);
  ASSERT_TRUE(once.ok()) << once.status();
  EXPECT_TRUE(MetadataState::Restore(once->ToSnapshot(), 1).ok());
}

TEST(TopicNames, DotAndUnderscoreCollideAsKafkaSays) {
  const std::vector<std::string_view> existing{"a_b", "x.y.z", "x_y_z", "plain"};
  EXPECT_TRUE(ValidateNoCollision("plain2", existing).ok());
  EXPECT_TRUE(ValidateNoCollision("a_b", existing).ok());  // itself: that is "already exists"
  EXPECT_TRUE(ValidateNoCollision("a-b", existing).ok());  // '-' is its own character
  EXPECT_TRUE(ValidateNoCollision("a_bc", existing).ok());
  absl::Status s = ValidateNoCollision("a.b", existing);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "Topic 'a.b' collides with existing topic: a_b");
  EXPECT_EQ(ValidateNoCollision("x_y.z", existing).message(),
            "Topic 'x_y.z' collides with existing topic: x.y.z");  // the least of the two
}

TEST(PartitionCounts, OneRequestAddsAtMostKafkasCap) {
  EXPECT_TRUE(ValidatePartitionIncrease("t", 3, 10003).ok());
  absl::Status s = ValidatePartitionIncrease("t", 3, 10004);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "Excessively large number of partitions per request.");
  EXPECT_EQ(ValidatePartitionIncrease("t", 1, 2147483647).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ValidatePartitionIncrease("t", 5, 5).code(), absl::StatusCode::kOutOfRange);  // checked first
  EXPECT_TRUE(ValidateNewPartitionCount(10000).ok());
  EXPECT_EQ(ValidateNewPartitionCount(10001).code(), absl::StatusCode::kResourceExhausted);
}

TEST(Placement, SpreadsReplicasOverRacksAndLeadersOverBrokers) {
  std::vector<PlacementBroker> brokers;
  for (int32_t id = 1; id <= 6; ++id) brokers.push_back({id, "rack" + std::to_string(id % 3)});
  auto placed = PlaceReplicas(brokers, 0, 60, 3, 12345);
  ASSERT_TRUE(placed.ok());
  std::map<int32_t, int> leaders;
  for (const auto& replicas : *placed) {
    ASSERT_EQ(replicas.size(), 3u);
    std::set<int32_t> distinct(replicas.begin(), replicas.end());
    EXPECT_EQ(distinct.size(), 3u);
    std::set<int32_t> racks;
    for (int32_t b : replicas) racks.insert(b % 3);
    EXPECT_EQ(racks.size(), 3u) << "replicas share a rack";
    ++leaders[replicas[0]];
  }
  for (const auto& [b, n] : leaders) EXPECT_EQ(n, 10) << "broker " << b;
  EXPECT_EQ(PlaceReplicas(brokers, 0, 1, 7, 1).status().code(), absl::StatusCode::kFailedPrecondition);
  // Without racks, still distinct brokers.
  auto plain = PlaceReplicas({{1, ""}, {2, ""}, {3, ""}}, 0, 9, 2, 0);
  ASSERT_TRUE(plain.ok());
  for (const auto& r : *plain) EXPECT_NE(r[0], r[1]);
}

}  // namespace
}  // namespace fjord::metadata
