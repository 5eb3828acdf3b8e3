// A seeded simulation of 3 and 5 Raft voters: an in-process network that drops, delays,
// reorders and duplicates messages and splits into partitions; crashes that lose
// whatever a node had not yet made durable; restarts from what it had. After every
// event it checks Raft's safety properties; at the end it heals everything and checks
// that every acknowledged entry is committed everywhere.
//
//   FJORD_SIM_SEEDS=N   how many seeds (default 2000; `make sim SEEDS=N`)
//   FJORD_SIM_SEED=S    replay seed S only (a failure prints this)
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "raft/raft_node.h"

namespace fjord::raft {
namespace {

struct Disk {  // what survives a crash
  HardState hard;
  std::vector<Entry> log;
};

struct InFlight {
  uint64_t deliver_at;
  Message m;
};

class Simulation {
 public:
  Simulation(uint64_t seed, int voters) : seed_(seed), rng_(seed) {
    for (int i = 1; i <= voters; ++i) ids_.push_back(i);
    for (NodeId id : ids_) {
      disks_[id] = Disk{};
      side_[id] = 0;
      Start(id);
    }
  }

  size_t acked() const { return acked_.size(); }
  size_t terms_with_leaders() const { return leaders_.size(); }
  uint64_t crashes() const { return crashes_; }

  // Runs `events` random events; returns a failure description, or nothing.
  std::optional<std::string> Run(int events) {
    for (int e = 0; e < events && !failure_; ++e) RandomEvent();
    if (!failure_) Converge();
    return failure_;
  }

 private:
  void Start(NodeId id) {
    RaftConfig c{
        .id = id, .voters = ids_, .election_ticks = 10, .heartbeat_ticks = 2, .seed = seed_ + restarts_++};
    nodes_[id] = std::make_unique<RaftNode>(c, disks_[id].hard, disks_[id].log);
    last_commit_[id] = 0;
  }

  std::vector<NodeId> Alive() const {
    std::vector<NodeId> out;
    for (const auto& [id, node] : nodes_) out.push_back(id);
    return out;
  }

  uint64_t Rand(uint64_t n) { return rng_() % n; }
  bool Chance(int percent) { return Rand(100) < static_cast<uint64_t>(percent); }

  void RandomEvent() {
    const uint64_t r = Rand(100);
    if (r < 40) {
      for (NodeId id : Alive()) {
        nodes_[id]->Tick();
        Drain(id);
      }
      ++now_;
    } else if (r < 80) {
      DeliverOne();
    } else if (r < 90) {
      for (NodeId id : Alive()) {
        RaftNode* node = nodes_[id].get();
        if (node->role() == Role::kLeader && Chance(50)) {
          std::string data = "e" + std::to_string(next_payload_++);
          auto index = node->Propose(data);
          if (index.ok()) proposals_[data] = {id, node->term(), *index};
          Drain(id);
        }
      }
    } else if (r < 91) {
      Crash();
    } else if (r < 97) {
      Restart();
    } else {
      Repartition();
    }
  }

  void DeliverOne() {
    if (network_.empty()) return;
    // Reordering: any message whose time has come, not only the oldest.
    std::vector<size_t> due;
    for (size_t i = 0; i < network_.size(); ++i) {
      if (network_[i].deliver_at <= now_) due.push_back(i);
    }
    if (due.empty()) {
      ++now_;
      return;
    }
    const size_t pick = due[Rand(due.size())];
    Message m = network_[pick].m;
    if (!Chance(5)) network_.erase(network_.begin() + static_cast<ptrdiff_t>(pick));  // 5 %: duplicated
    auto it = nodes_.find(m.to);
    if (it == nodes_.end() || Cut(m.from, m.to)) return;
    it->second->Step(m);
    Drain(m.to);
  }

  bool Cut(NodeId a, NodeId b) const { return side_.at(a) != side_.at(b); }

  // Acts on a node's Ready as a driver must: persist, then send, then apply. Sometimes
  // the node crashes before persisting, and the whole Ready is lost with it.
  void Drain(NodeId id) {
    RaftNode& node = *nodes_[id];
    Ready ready = node.TakeReady();
    if (ready.empty()) return;
    if (Rand(1000) == 0) {
      nodes_.erase(id);
      ++crashes_;
      return;
    }
    Disk& disk = disks_[id];
    if (ready.hard_state_changed) disk.hard = ready.hard_state;
    if (ready.first_new_index != 0) {
      disk.log.resize(ready.first_new_index - 1);
      disk.log.insert(disk.log.end(), ready.new_entries.begin(), ready.new_entries.end());
    }
    for (Message& m : ready.messages) {
      if (Chance(10)) continue;  // dropped
      network_.push_back({now_ + Rand(4), std::move(m)});
    }
    for (size_t i = 0; i < ready.committed.size(); ++i)
      OnCommitted(id, ready.first_committed_index + i, ready.committed[i]);
    Check(id);
  }

  void OnCommitted(NodeId id, uint64_t index, const Entry& e) {
    auto [it, fresh] = committed_.emplace(index, e);
    if (!fresh && !(it->second == e))
      return Fail("entry " + std::to_string(index) + " committed twice with different contents");
    auto p = proposals_.find(e.data);
    if (p != proposals_.end() && p->second.leader == id && p->second.index == index &&
        p->second.term == e.term)
      acked_[index] = e;  // the proposing leader applied it: a client got its answer
  }

  void Check(NodeId id) {
    const RaftNode& node = *nodes_[id];
    // At most one leader per term.
    if (node.role() == Role::kLeader) {
      auto [it, fresh] = leaders_.emplace(node.term(), id);
      if (!fresh && it->second != id)
        return Fail("two leaders in term " + std::to_string(node.term()) + ": " + std::to_string(it->second) +
                    " and " + std::to_string(id));
    }
    // The commit index never goes back (within one life of a node).
    if (node.commit_index() < last_commit_[id])
      return Fail("commit index of node " + std::to_string(id) + " went back");
    last_commit_[id] = node.commit_index();
    // A committed entry never changes: the node's committed prefix is the cluster's.
    for (uint64_t i = 1; i <= node.commit_index(); ++i) {
      auto it = committed_.find(i);
      if (it != committed_.end() && !(it->second == node.log()[i - 1]))
        return Fail("node " + std::to_string(id) + " holds a different entry " + std::to_string(i) +
                    " than was committed");
    }
    // Log matching: same index and term → identical prefixes.
    for (const auto& [other_id, other] : nodes_) {
      if (other_id == id) continue;
      const auto& a = node.log();
      const auto& b = other->log();
      const size_t n = std::min(a.size(), b.size());
      size_t last_same_term = 0;
      for (size_t i = n; i > 0; --i) {
        if (a[i - 1].term == b[i - 1].term) {
          last_same_term = i;
          break;
        }
      }
      for (size_t i = 0; i < last_same_term; ++i) {
        if (!(a[i] == b[i]))
          return Fail("log matching broken between nodes " + std::to_string(id) + " and " +
                      std::to_string(other_id) + " at " + std::to_string(i + 1));
      }
    }
  }

  void Crash() {
    if (nodes_.empty()) return;
    auto it = nodes_.begin();
    std::advance(it, static_cast<ptrdiff_t>(Rand(nodes_.size())));
    nodes_.erase(it);
    ++crashes_;
  }

  void Restart() {
    for (NodeId id : ids_) {
      if (!nodes_.contains(id)) {
        Start(id);
        return;
      }
    }
  }

  void Repartition() {
    for (NodeId id : ids_) side_[id] = Chance(60) ? 0 : static_cast<int>(Rand(2));
  }

  // Heals the network, restarts every node, and runs until all agree on one commit
  // index that covers every acknowledged entry.
  void Converge() {
    for (NodeId id : ids_) side_[id] = 0;
    for (NodeId id : ids_) {
      if (!nodes_.contains(id)) Start(id);
    }
    for (int round = 0; round < 20000 && !failure_; ++round) {
      for (NodeId id : Alive()) {
        nodes_[id]->Tick();
        Drain(id);
        if (!nodes_.contains(id)) Start(id);
      }
      ++now_;
      for (auto& m : network_) m.deliver_at = now_;
      std::vector<InFlight> batch;
      batch.swap(network_);
      for (auto& f : batch) {
        auto it = nodes_.find(f.m.to);
        if (it == nodes_.end()) continue;
        it->second->Step(f.m);
        Drain(f.m.to);
        if (!nodes_.contains(f.m.to)) Start(f.m.to);
      }
      if (Settled()) break;
    }
    if (failure_) return;
    if (!Settled()) return Fail("no agreement within 20,000 rounds after healing");
    for (const auto& [index, e] : acked_) {
      for (const auto& [id, node] : nodes_) {
        if (node->commit_index() < index || !(node->log()[index - 1] == e))
          return Fail("acknowledged entry " + std::to_string(index) + " lost on node " + std::to_string(id));
      }
    }
  }

  bool Settled() const {
    if (nodes_.size() != ids_.size()) return false;
    uint64_t commit = nodes_.begin()->second->commit_index();
    bool leader = false;
    for (const auto& [id, node] : nodes_) {
      if (node->commit_index() != commit || node->last_index() != commit) return false;
      leader = leader || node->role() == Role::kLeader;
    }
    return leader && (acked_.empty() || commit >= acked_.rbegin()->first);
  }

  void Fail(const std::string& what) {
    if (!failure_) failure_ = what + " (at time " + std::to_string(now_) + ")";
  }

  struct Proposal {
    NodeId leader;
    uint64_t term, index;
  };
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<NodeId> ids_;
  std::map<NodeId, std::unique_ptr<RaftNode>> nodes_;
  std::map<NodeId, Disk> disks_;
  std::map<NodeId, int> side_;
  std::map<NodeId, uint64_t> last_commit_;
  std::vector<InFlight> network_;
  std::map<uint64_t, Entry> committed_;
  std::map<uint64_t, Entry> acked_;
  std::map<std::string, Proposal> proposals_;
  std::map<uint64_t, NodeId> leaders_;
  uint64_t now_ = 0;
  uint64_t next_payload_ = 0;
  uint64_t restarts_ = 0;
  uint64_t crashes_ = 0;
  std::optional<std::string> failure_;
};

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

TEST(RaftSimulation, SafetyHoldsAndAcknowledgedEntriesSurviveOnEverySeed) {
  std::vector<uint64_t> seeds;
  if (std::getenv("FJORD_SIM_SEED") != nullptr) {
    seeds.push_back(EnvOr("FJORD_SIM_SEED", 0));
  } else {
    for (uint64_t s = 1; s <= EnvOr("FJORD_SIM_SEEDS", 2000); ++s) seeds.push_back(s);
  }
  int failures = 0;
  size_t acked = 0, leaders = 0, crashes = 0;
  for (uint64_t seed : seeds) {
    const int voters = seed % 2 == 0 ? 5 : 3;
    Simulation sim(seed, voters);
    if (auto failure = sim.Run(3000)) {
      ADD_FAILURE() << "seed " << seed << " (" << voters << " voters): " << *failure
                    << "\n  replay: FJORD_SIM_SEED=" << seed << " build/bin/raft_simulation_test";
      if (++failures >= 5) break;
    }
    acked += sim.acked();
    leaders += sim.terms_with_leaders();
    crashes += sim.crashes();
  }
  // The runs must have exercised something: elections, crashes, acknowledged entries.
  std::printf("%zu seeds: %zu acknowledged entries, %zu terms with a leader, %zu crashes\n", seeds.size(),
              acked, leaders, crashes);
  EXPECT_GT(acked, seeds.size() * 10);
  EXPECT_GT(leaders, seeds.size() * 2);
}

}  // namespace
}  // namespace fjord::raft
