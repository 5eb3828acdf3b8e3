// The Raft core on hand-driven clusters: election, replication, pre-vote, check-quorum,
// log repair, and what a Ready promises.
#include "raft/raft_node.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace fjord::raft {
namespace {

// A perfect network with optional cut nodes; messages are delivered in order.
struct Cluster {
  explicit Cluster(int n) {
    std::vector<NodeId> ids;
    for (int i = 1; i <= n; ++i) ids.push_back(i);
    for (NodeId id : ids)
      nodes[id] = std::make_unique<RaftNode>(RaftConfig{.id = id, .voters = ids, .seed = 7}, HardState{},
                                             std::vector<Entry>{});
  }
  void Pump() {
    for (int guard = 0; guard < 10000; ++guard) {
      std::vector<Message> out;
      for (auto& [id, n] : nodes) {
        Ready r = n->TakeReady();
        for (auto& m : r.messages) out.push_back(m);
        if (r.snapshot) {  // the test's state machine: applied data joined by ","
          applied[id] = absl::StrSplit(r.snapshot->data, ',');
          ++snapshots_installed[id];
        }
        for (auto& e : r.committed) applied[id].push_back(e.data);
      }
      if (out.empty()) return;
      for (auto& m : out) {
        if (!cut.contains(m.from) && !cut.contains(m.to)) nodes[m.to]->Step(m);
      }
    }
  }
  void Ticks(int n) {
    for (int i = 0; i < n; ++i) {
      for (auto& [id, node] : nodes) node->Tick();
      Pump();
    }
  }
  NodeId Leader() {
    NodeId leader = kNoNode;
    for (auto& [id, n] : nodes) {
      if (n->role() == Role::kLeader && !cut.contains(id)) leader = id;
    }
    return leader;
  }
  std::map<NodeId, std::unique_ptr<RaftNode>> nodes;
  std::map<NodeId, std::vector<std::string>> applied;
  std::map<NodeId, int> snapshots_installed;
  std::set<NodeId> cut;
};

TEST(RaftNode, SingleVoterElectsItselfAndCommitsAlone) {
  RaftNode n(RaftConfig{.id = 1, .voters = {1}}, HardState{}, {});
  for (int i = 0; i < 30 && n.role() != Role::kLeader; ++i) n.Tick();
  ASSERT_EQ(n.role(), Role::kLeader);
  EXPECT_EQ(n.term(), 1u);
  ASSERT_TRUE(n.Propose("a").ok());
  Ready r = n.TakeReady();
  EXPECT_TRUE(r.hard_state_changed);
  EXPECT_EQ(r.hard_state, (HardState{1, 1}));
  ASSERT_EQ(r.new_entries.size(), 2u);  // the leader's no-op, then "a"
  ASSERT_EQ(r.committed.size(), 2u);
  EXPECT_EQ(r.committed[1].data, "a");
}

TEST(RaftNode, ThreeVotersElectOneLeaderAndReplicate) {
  Cluster c(3);
  c.Ticks(40);
  const NodeId leader = c.Leader();
  ASSERT_NE(leader, kNoNode);
  ASSERT_TRUE(c.nodes[leader]->Propose("x").ok());
  c.Pump();
  c.Ticks(4);
  for (auto& [id, n] : c.nodes) {
    EXPECT_EQ(n->leader(), leader) << id;
    EXPECT_EQ(n->commit_index(), 2u) << id;
    EXPECT_EQ(c.applied[id].back(), "x") << id;
  }
}

TEST(RaftNode, AnIsolatedFollowerDoesNotRaiseTermsThanksToPreVote) {
  Cluster c(3);
  c.Ticks(40);
  const NodeId leader = c.Leader();
  const uint64_t term = c.nodes[leader]->term();
  const NodeId follower = leader == 1 ? 2 : 1;
  c.cut.insert(follower);
  c.Ticks(200);
  EXPECT_EQ(c.nodes[follower]->term(), term);  // pre-votes went nowhere; no term bump
  c.cut.clear();
  c.Ticks(10);
  EXPECT_EQ(c.Leader(), leader);  // rejoining disturbs nobody
  EXPECT_EQ(c.nodes[leader]->term(), term);
}

TEST(RaftNode, ALeaderCutOffFromTheQuorumStepsDown) {
  Cluster c(3);
  c.Ticks(40);
  const NodeId leader = c.Leader();
  c.cut.insert(leader);
  c.Ticks(25);
  EXPECT_NE(c.nodes[leader]->role(), Role::kLeader);  // check-quorum
  const NodeId next = c.Leader();
  ASSERT_NE(next, kNoNode);
  EXPECT_NE(next, leader);
  // A proposal to the old leader is refused rather than silently lost.
  EXPECT_FALSE(c.nodes[leader]->Propose("late").ok());
}

TEST(RaftNode, AFollowerDropsEntriesThatConflictWithTheLeader) {
  // Node 3 holds an uncommitted entry of an old term that the others never saw.
  std::vector<NodeId> ids{1, 2, 3};
  std::vector<Entry> common{{1, "a"}};
  std::vector<Entry> stale{{1, "a"}, {1, "stale"}};
  Cluster c(0);
  c.nodes[1] = std::make_unique<RaftNode>(RaftConfig{.id = 1, .voters = ids, .election_ticks = 5},
                                          HardState{2, 1}, common);
  c.nodes[2] = std::make_unique<RaftNode>(RaftConfig{.id = 2, .voters = ids, .election_ticks = 50},
                                          HardState{2, 1}, common);
  c.nodes[3] = std::make_unique<RaftNode>(RaftConfig{.id = 3, .voters = ids, .election_ticks = 50},
                                          HardState{1, 3}, stale);
  c.Ticks(12);
  ASSERT_EQ(c.Leader(), 1);
  ASSERT_TRUE(c.nodes[1]->Propose("b").ok());
  c.Pump();
  c.Ticks(3);
  ASSERT_EQ(c.nodes[3]->last_index(), 3u);
  EXPECT_EQ(c.nodes[3]->EntryAt(2)->data, "");  // leader 1's no-op replaced "stale"
  EXPECT_EQ(c.nodes[3]->EntryAt(3)->data, "b");
  EXPECT_EQ(c.nodes[3]->commit_index(), 3u);
}

TEST(RaftNode, AVoteIsInTheReadyBeforeTheMessageThatGrantsIt) {
  RaftNode voter(RaftConfig{.id = 2, .voters = {1, 2, 3}}, HardState{}, {});
  voter.Step({.type = MessageType::kVote, .from = 1, .to = 2, .term = 1, .index = 0, .log_term = 0});
  Ready r = voter.TakeReady();
  ASSERT_TRUE(r.hard_state_changed);
  EXPECT_EQ(r.hard_state, (HardState{1, 1}));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_TRUE(r.messages[0].ok);
  // A second candidate in the same term is refused.
  voter.Step({.type = MessageType::kVote, .from = 3, .to = 2, .term = 1, .index = 5, .log_term = 1});
  r = voter.TakeReady();
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_FALSE(r.messages[0].ok);
}

TEST(RaftNode, ALeaderNeverCommitsAnEarlierTermsEntryByCountingReplicas) {
  // Raft's figure 8: node 1 leads term 3 holding an entry of term 2 the others lack.
  // Once node 2 has it, a majority holds it, yet it must not commit until an entry of
  // term 3 does; another leader could still overwrite it.
  std::vector<NodeId> ids{1, 2, 3};
  RaftNode leader(RaftConfig{.id = 1, .voters = ids, .max_entries_per_append = 1}, HardState{2, 1},
                  {{1, "a"}, {2, "b"}});
  RaftNode follower(RaftConfig{.id = 2, .voters = ids}, HardState{2, kNoNode}, {{1, "a"}});
  for (int i = 0; i < 40 && leader.role() != Role::kCandidate; ++i) {
    leader.Tick();
    for (const Message& m : leader.TakeReady().messages) {
      if (m.type == MessageType::kPreVote)
        leader.Step(
            {.type = MessageType::kPreVoteResponse, .from = m.to, .to = 1, .term = m.term, .ok = true});
    }
  }
  ASSERT_EQ(leader.role(), Role::kCandidate);
  leader.Step({.type = MessageType::kVoteResponse, .from = 2, .to = 1, .term = 3, .ok = true});
  ASSERT_EQ(leader.role(), Role::kLeader);
  // Repair node 2 one entry per append until it holds "b" (index 2, term 2) but not the
  // no-op of term 3.
  for (int round = 0; round < 10 && follower.last_index() < 2; ++round) {
    for (const Message& m : leader.TakeReady().messages) {
      if (m.to != 2 || m.type != MessageType::kAppend) continue;
      follower.Step(m);
      for (const Message& r : follower.TakeReady().messages) leader.Step(r);
    }
  }
  ASSERT_EQ(follower.last_index(), 2u);
  EXPECT_EQ(leader.commit_index(), 0u);  // "b" is on 2 of 3 nodes, and still not committed
  for (int round = 0; round < 10 && follower.last_index() < 3; ++round) {
    for (const Message& m : leader.TakeReady().messages) {
      if (m.to != 2 || m.type != MessageType::kAppend) continue;
      follower.Step(m);
      for (const Message& r : follower.TakeReady().messages) leader.Step(r);
    }
  }
  EXPECT_EQ(leader.commit_index(), 3u);  // the term-3 no-op commits, and "b" with it
}

TEST(RaftNode, AFollowerBehindTheCompactedLogCatchesUpFromTheSnapshot) {
  Cluster c(3);
  c.Ticks(40);
  const NodeId leader = c.Leader();
  const NodeId lagging = leader == 3 ? 2 : 3;
  c.cut.insert(lagging);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.nodes[leader]->Propose("v" + std::to_string(i)).ok());
  c.Pump();
  RaftNode& l = *c.nodes[leader];
  ASSERT_EQ(l.commit_index(), l.last_index());
  ASSERT_TRUE(l.Compact(l.commit_index(), absl::StrJoin(c.applied[leader], ",")).ok());
  EXPECT_EQ(l.first_index(), l.last_index() + 1);
  EXPECT_FALSE(l.Compact(l.commit_index() + 1, "").ok());  // never past what was applied
  ASSERT_TRUE(l.Propose("after").ok());
  c.cut.clear();
  c.Ticks(6);
  EXPECT_EQ(c.snapshots_installed[lagging], 1);
  EXPECT_EQ(c.nodes[lagging]->commit_index(), l.commit_index());
  EXPECT_EQ(c.applied[lagging], c.applied[leader]);
  EXPECT_EQ(c.applied[lagging].back(), "after");
}

TEST(RaftNode, AnObserverFollowsTheLogButNeverVotesOrLeads) {
  Cluster c(0);
  std::vector<NodeId> voters{1, 2, 3};
  for (NodeId id : {1, 2, 3, 4})
    c.nodes[id] =
        std::make_unique<RaftNode>(RaftConfig{.id = id, .voters = voters, .observers = {4}, .seed = 3},
                                   HardState{}, std::vector<Entry>{});
  c.Ticks(40);
  const NodeId leader = c.Leader();
  ASSERT_NE(leader, kNoNode);
  ASSERT_NE(leader, 4);
  ASSERT_TRUE(c.nodes[leader]->Propose("x").ok());
  c.Pump();
  c.Ticks(3);
  EXPECT_EQ(c.applied[4].back(), "x");
  // The leader's view of every log (DescribeQuorum): all hold the no-op and "x".
  EXPECT_EQ(c.nodes[leader]->MatchIndexes(), (std::map<NodeId, uint64_t>{{1, 2}, {2, 2}, {3, 2}, {4, 2}}));
  EXPECT_TRUE(c.nodes[4]->MatchIndexes().empty());
  // With both other voters cut off, the observer's ack makes no majority.
  for (NodeId id : voters) {
    if (id != leader) c.cut.insert(id);
  }
  const uint64_t commit = c.nodes[leader]->commit_index();
  ASSERT_TRUE(c.nodes[leader]->Propose("y").ok());
  c.Ticks(3);
  EXPECT_EQ(c.nodes[leader]->commit_index(), commit);
  for (const auto& [id, match] : c.nodes[leader]->MatchIndexes())
    EXPECT_EQ(match, id == leader || id == 4 ? 3u : 2u) << id;  // the cut voters stay behind
  // Alone with no leader for many election timeouts, it never campaigns.
  const uint64_t term = c.nodes[4]->term();
  c.cut.insert(leader);
  c.Ticks(200);
  EXPECT_EQ(c.nodes[4]->role(), Role::kFollower);
  EXPECT_EQ(c.nodes[4]->term(), term);
}

}  // namespace
}  // namespace fjord::raft
