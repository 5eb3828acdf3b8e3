// One controller in-process on a loopback port, driven through its gRPC services as a
// broker would: registration and heartbeats, AlterPartition's checks, producer-id blocks
// that survive a restart, and WatchMetadata answering a far-behind watcher with a snapshot.
#include "raft/controller.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "proto/controller.grpc.pb.h"
#include "raft/meta_properties.h"
#include "raft/quorum_config.h"
#include "support/test_dir.h"

namespace fjord::controller {
namespace {

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fjord::testing::FreshTestDir("fjord-controller-test");
    cluster_ = RandomClusterId();
    Start();
  }
  void TearDown() override {
    controller_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Start(uint64_t snapshot_bytes = 20 << 20) {
    controller_.reset();
    auto c = Controller::Start({.node_id = 1,
                                .voters = {{1, {"127.0.0.1", 0}}},
                                .listen_host = "127.0.0.1",
                                .listen_port = 0,
                                .metadata_dir = dir_.string(),
                                .cluster_id = cluster_,
                                .election_timeout_ms = 200,
                                .session_timeout_ms = 60000,
                                .snapshot_bytes = snapshot_bytes});
    ASSERT_TRUE(c.ok()) << c.status();
    controller_ = std::move(*c);
    stub_ = rpc::Controller::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(controller_->port()),
                                                         grpc::InsecureChannelCredentials()));
    // A sole voter leads at once; wait for it.
    for (int i = 0; i < 100 && controller_->driver().Status().role != raft::Role::kLeader; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  template <class Req, class Resp, class Fn>
  grpc::Status Call(Fn fn, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ((*stub_).*fn)(&ctx, req, resp);
  }

  int64_t Register(int32_t broker) {
    rpc::RegisterBrokerRequest req;
    req.set_broker_id(broker);
    req.set_cluster_id(cluster_);
    rpc::RegisterBrokerResponse resp;
    EXPECT_TRUE(Call(&rpc::Controller::Stub::RegisterBroker, req, &resp).ok());
    rpc::BrokerHeartbeatRequest hb;
    hb.set_broker_id(broker);
    hb.set_broker_epoch(resp.broker_epoch());
    rpc::BrokerHeartbeatResponse hb_resp;
    EXPECT_TRUE(Call(&rpc::Controller::Stub::BrokerHeartbeat, hb, &hb_resp).ok());
    EXPECT_FALSE(hb_resp.fenced());
    return resp.broker_epoch();
  }

  rpc::CreateTopicResponse CreateTopic(const std::string& name, int32_t partitions, int32_t rf) {
    rpc::CreateTopicRequest req;
    req.set_name(name);
    req.set_partitions(partitions);
    req.set_replication_factor(rf);
    rpc::CreateTopicResponse resp;
    grpc::Status s = Call(&rpc::Controller::Stub::CreateTopic, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  std::filesystem::path dir_;
  std::string cluster_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<rpc::Controller::Stub> stub_;
};

TEST_F(ControllerTest, BrokersRegisterAndAStaleEpochMustRegisterAgain) {
  const int64_t epoch = Register(11);
  EXPECT_GT(epoch, 0);
  rpc::BrokerHeartbeatRequest hb;
  hb.set_broker_id(11);
  hb.set_broker_epoch(epoch - 1);
  rpc::BrokerHeartbeatResponse resp;
  ASSERT_TRUE(Call(&rpc::Controller::Stub::BrokerHeartbeat, hb, &resp).ok());
  EXPECT_TRUE(resp.register_again());
  // A broker of another cluster is turned away.
  rpc::RegisterBrokerRequest other;
  other.set_broker_id(12);
  other.set_cluster_id(RandomClusterId());
  rpc::RegisterBrokerResponse ignored;
  EXPECT_EQ(Call(&rpc::Controller::Stub::RegisterBroker, other, &ignored).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ControllerTest, TopicRequestsAreValidated) {
  Register(11);
  rpc::CreateTopicRequest req;
  req.set_name("bad name");
  req.set_partitions(1);
  req.set_replication_factor(1);
  rpc::CreateTopicResponse resp;
  EXPECT_EQ(Call(&rpc::Controller::Stub::CreateTopic, req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  req.set_name("good");
  req.set_replication_factor(2);  // one broker only
  EXPECT_EQ(Call(&rpc::Controller::Stub::CreateTopic, req, &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  CreateTopic("good", 3, 1);
  req.set_replication_factor(1);
  EXPECT_EQ(Call(&rpc::Controller::Stub::CreateTopic, req, &resp).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  CreateTopic("metrics.in_out", 1, 1);
  req.set_name("metrics_in.out");  // the same name in metric names
  grpc::Status collided = Call(&rpc::Controller::Stub::CreateTopic, req, &resp);
  EXPECT_EQ(collided.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(collided.error_message(), "Topic 'metrics_in.out' collides with existing topic: metrics.in_out");
  rpc::CreatePartitionsRequest more;
  more.set_name("good");
  more.set_count(2);
  rpc::WriteResponse written;
  grpc::Status fewer = Call(&rpc::Controller::Stub::CreatePartitions, more, &written);
  EXPECT_EQ(fewer.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(fewer.error_message(),
            "The topic good currently has 3 partition(s); 2 would not be an increase.");
  rpc::DeleteTopicRequest del;
  del.set_name("missing");
  EXPECT_EQ(Call(&rpc::Controller::Stub::DeleteTopic, del, &written).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ControllerTest, AlterPartitionChecksLeaderAndEpochs) {
  const int64_t e11 = Register(11), e12 = Register(12);
  const rpc::CreateTopicResponse topic = CreateTopic("t", 1, 2);
  const auto partition = controller_->driver().WithState(
      [&](const metadata::MetadataState& st) { return st.FindTopic("t")->partitions[0]; });
  const int32_t leader = partition.leader, follower = leader == 11 ? 12 : 11;
  rpc::AlterPartitionRequest req;
  req.set_topic_id(topic.topic_id());
  req.set_partition(0);
  req.set_leader_epoch(partition.leader_epoch);
  req.set_partition_epoch(partition.partition_epoch);
  req.add_new_isr(leader);
  rpc::AlterPartitionResponse resp;
  // Only the leader may change the ISR, with its current broker epoch.
  req.set_broker_id(follower);
  req.set_broker_epoch(follower == 11 ? e11 : e12);
  EXPECT_EQ(Call(&rpc::Controller::Stub::AlterPartition, req, &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  req.set_broker_id(leader);
  req.set_broker_epoch(12345);
  EXPECT_EQ(Call(&rpc::Controller::Stub::AlterPartition, req, &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  req.set_broker_epoch(leader == 11 ? e11 : e12);
  ASSERT_TRUE(Call(&rpc::Controller::Stub::AlterPartition, req, &resp).ok());
  EXPECT_EQ(resp.partition_epoch(), partition.partition_epoch + 1);
  EXPECT_EQ(std::vector<int32_t>(resp.isr().begin(), resp.isr().end()), std::vector<int32_t>{leader});
  // The same request again carries a stale partition epoch: refused by the state machine.
  EXPECT_EQ(Call(&rpc::Controller::Stub::AlterPartition, req, &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ControllerTest, ProducerIdBlocksNeverRepeatAcrossARestart) {
  const int64_t epoch = Register(11);
  auto allocate = [&](int64_t broker_epoch) {
    rpc::AllocateProducerIdsRequest req;
    req.set_broker_id(11);
    req.set_broker_epoch(broker_epoch);
    req.set_count(1000);
    rpc::AllocateProducerIdsResponse resp;
    grpc::Status s = Call(&rpc::Controller::Stub::AllocateProducerIds, req, &resp);
    return s.ok() ? resp.first_producer_id() : -1;
  };
  EXPECT_EQ(allocate(epoch), 0);
  EXPECT_EQ(allocate(epoch), 1000);
  EXPECT_EQ(allocate(epoch + 100), -1);  // a stale broker epoch gets nothing
  Start();
  EXPECT_EQ(allocate(Register(11)), 2000);
}

TEST_F(ControllerTest, AFarBehindWatcherGetsASnapshotThenTheBatchesAfterIt) {
  Start(/*snapshot_bytes=*/1);  // compact after every change
  Register(11);
  CreateTopic("a", 2, 1);
  CreateTopic("b", 1, 1);
  Start(1);  // the restarted controller holds a snapshot and no older batches
  Register(11);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  rpc::WatchMetadataRequest req;
  req.set_from_offset(1);
  auto reader = stub_->WatchMetadata(&ctx, req);
  rpc::MetadataUpdate first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_TRUE(first.snapshot());
  auto state = metadata::MetadataState::Restore(first.batch(), first.offset());
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_NE(state->FindTopic("a"), nullptr);
  EXPECT_NE(state->FindTopic("b"), nullptr);
  CreateTopic("c", 1, 1);
  rpc::MetadataUpdate next;
  bool saw_c = false;
  while (!saw_c && reader->Read(&next)) {
    EXPECT_FALSE(next.snapshot());
    EXPECT_GT(next.offset(), first.offset());
    ASSERT_TRUE(state->Apply(next.batch(), next.offset()).ok());
    saw_c = state->FindTopic("c") != nullptr;
  }
  EXPECT_TRUE(saw_c);
  ctx.TryCancel();
}

TEST(QuorumConfig, ParsesKafkasVoterListAndNamesWhatIsWrong) {
  auto voters = ParseVoters("1@localhost:9093, 2@10.0.0.2:9094,3@[::1]:9095");
  ASSERT_TRUE(voters.ok()) << voters.status();
  EXPECT_EQ(voters->size(), 3u);
  EXPECT_EQ(voters->at(3).host, "::1");
  EXPECT_EQ(voters->at(2).target(), "10.0.0.2:9094");
  for (const char* bad :
       {"", "1@localhost", "x@localhost:1", "1@:9093", "1@h:0", "1@h:70000", "1@h:1,1@g:2"}) {
    auto r = ParseVoters(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("controller.quorum.voters"), std::string::npos);
    }
  }
}

TEST(MetaProperties, RoundTripsAndRejectsWhatDoesNotParse) {
  const auto dir = std::filesystem::temp_directory_path() / ("fjord-meta-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto none = ReadMetaProperties(dir.string());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  const std::string id = RandomClusterId();
  EXPECT_TRUE(ValidClusterId(id));
  EXPECT_FALSE(ValidClusterId("not-a-cluster-id"));
  ASSERT_TRUE(WriteMetaProperties(dir.string(), {7, id}).ok());
  auto read = ReadMetaProperties(dir.string());
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->node_id, 7);
  EXPECT_EQ((*read)->cluster_id, id);
  std::ofstream(dir / "meta.properties") << "version=1\nnode.id=seven\ncluster.id=" << id << "\n";
  EXPECT_EQ(ReadMetaProperties(dir.string()).status().code(), absl::StatusCode::kDataLoss);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fjord::controller
