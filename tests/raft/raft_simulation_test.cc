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
  Snapshot snapshot;
  std::vector<Entry> log;  // entries after the snapshot
};

// The simulated state machine is the list of applied entries; a snapshot is that list
// as "term:data;" pairs, so an installed snapshot can be checked against what committed.
std::string EncodeState(const std::vector<Entry>& applied) {
  std::string out;
  for (const Entry& e : applied) out += std::to_string(e.term) + ":" + e.data + ";";
  return out;
}

std::vector<Entry> DecodeState(const std::string& s) {
  std::vector<Entry> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t colon = s.find(':', pos), semi = s.find(';', colon);
    out.push_back({std::stoull(s.substr(pos, colon - pos)), s.substr(colon + 1, semi - colon - 1)});
    pos = semi + 1;
  }
  return out;
}

struct InFlight {
  uint64_t deliver_at;
  Message m;
};

class Simulation {
 public:
  Simulation(uint64_t seed, int voters, int observers) : seed_(seed), rng_(seed) {
    for (int i = 1; i <= voters; ++i) voters_.push_back(i);
    for (int i = 1; i <= voters + observers; ++i) ids_.push_back(i);
    for (int i = voters + 1; i <= voters + observers; ++i) observers_.push_back(i);
    for (NodeId id : ids_) {
      disks_[id] = Disk{};
      side_[id] = 0;
      Start(id);
    }
  }

  size_t acked() const { return acked_.size(); }
  size_t terms_with_leaders() const { return leaders_.size(); }
  uint64_t crashes() const { return crashes_; }
  uint64_t snapshots_installed() const { return snapshots_installed_; }

  // Runs `events` random events; returns a failure description, or nothing.
  std::optional<std::string> Run(int events) {
    for (int e = 0; e < events && !failure_; ++e) RandomEvent();
    if (!failure_) Converge();
    return failure_;
  }

 private:
  void Start(NodeId id) {
    RaftConfig c{.id = id,
                 .voters = voters_,
                 .observers = observers_,
                 .election_ticks = 10,
                 .heartbeat_ticks = 2,
                 .seed = seed_ + restarts_++};
    const Disk& disk = disks_[id];
    nodes_[id] = std::make_unique<RaftNode>(c, disk.hard, disk.snapshot, disk.log);
    last_commit_[id] = 0;
    state_[id] = DecodeState(disk.snapshot.data);
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
    if (ready.snapshot) {
      disk.snapshot = *ready.snapshot;
      disk.log.clear();
    }
    if (ready.first_new_index != 0) {
      disk.log.resize(ready.first_new_index - 1 - disk.snapshot.index);
      disk.log.insert(disk.log.end(), ready.new_entries.begin(), ready.new_entries.end());
    }
    for (Message& m : ready.messages) {
      if (Chance(10)) continue;  // dropped
      network_.push_back({now_ + Rand(4), std::move(m)});
    }
    if (ready.snapshot) InstallSnapshot(id, *ready.snapshot);
    for (size_t i = 0; i < ready.committed.size(); ++i)
      OnCommitted(id, ready.first_committed_index + i, ready.committed[i]);
    if (!ready.committed.empty() && Chance(10)) CompactLog(id);
    Check(id);
  }

  // The node's state machine becomes the leader's snapshot, which must be exactly the
  // committed prefix.
  void InstallSnapshot(NodeId id, const Snapshot& snap) {
    ++snapshots_installed_;
    std::vector<Entry> state = DecodeState(snap.data);
    if (state.size() != snap.index)
      return Fail("snapshot at " + std::to_string(snap.index) + " holds a different count");
    for (uint64_t i = 1; i <= snap.index; ++i) {
      auto it = committed_.find(i);
      if (it == committed_.end() || !(it->second == state[i - 1]))
        return Fail("installed snapshot differs from the committed entry " + std::to_string(i));
    }
    state_[id] = std::move(state);
  }

  // Compacts the node's log up to what it applied and stores the snapshot, as the
  // controller does every snapshot interval.
  void CompactLog(NodeId id) {
    RaftNode& node = *nodes_[id];
    const std::vector<Entry>& state = state_[id];
    if (!node.Compact(state.size(), EncodeState(state)).ok()) return Fail("compaction refused");
    Disk& disk = disks_[id];
    const uint64_t dropped = node.snapshot().index - disk.snapshot.index;
    disk.log.erase(disk.log.begin(), disk.log.begin() + static_cast<ptrdiff_t>(dropped));
    disk.snapshot = node.snapshot();
  }

  void OnCommitted(NodeId id, uint64_t index, const Entry& e) {
    std::vector<Entry>& state = state_[id];
    if (state.size() + 1 != index)
      return Fail("node " + std::to_string(id) + " applied " + std::to_string(index) + " after " +
                  std::to_string(state.size()));
    state.push_back(e);
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
    // Leader completeness: a leader holds every entry committed so far.
    if (node.role() == Role::kLeader && !committed_.empty()) {
      const uint64_t highest = committed_.rbegin()->first;
      for (uint64_t i = std::max<uint64_t>(node.first_index(), 1); i <= highest; ++i) {
        const Entry* e = node.EntryAt(i);
        auto it = committed_.find(i);
        if (it != committed_.end() && (e == nullptr || !(*e == it->second))) {
          return Fail("leader " + std::to_string(id) + " of term " + std::to_string(node.term()) +
                      " lacks committed entry " + std::to_string(i));
        }
      }
    }
    // The commit index never goes back (within one life of a node).
    if (node.commit_index() < last_commit_[id])
      return Fail("commit index of node " + std::to_string(id) + " went back");
    last_commit_[id] = node.commit_index();
    // A committed entry never changes: the node's committed prefix is the cluster's.
    for (uint64_t i = node.first_index(); i <= node.commit_index(); ++i) {
      auto it = committed_.find(i);
      if (it != committed_.end() && !(it->second == *node.EntryAt(i)))
        return Fail("node " + std::to_string(id) + " holds a different entry " + std::to_string(i) +
                    " than was committed");
    }
    // Log matching: same index and term → identical prefixes.
    for (const auto& [other_id, other] : nodes_) {
      if (other_id == id) continue;
      // (Compacted prefixes are committed, so the check covers what both still hold.)
      const uint64_t lo = std::max(node.first_index(), other->first_index());
      const uint64_t hi = std::min(node.last_index(), other->last_index());
      uint64_t last_same_term = 0;
      for (uint64_t i = hi; i >= lo && i > 0; --i) {
        if (node.EntryAt(i)->term == other->EntryAt(i)->term) {
          last_same_term = i;
          break;
        }
      }
      for (uint64_t i = lo; i <= last_same_term; ++i) {
        if (!(*node.EntryAt(i) == *other->EntryAt(i)))
          return Fail("log matching broken between nodes " + std::to_string(id) + " and " +
                      std::to_string(other_id) + " at " + std::to_string(i));
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
        const std::vector<Entry>& state = state_.at(id);
        if (node->commit_index() < index || state.size() < index || !(state[index - 1] == e))
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
  std::vector<NodeId> ids_, voters_, observers_;
  std::map<NodeId, std::unique_ptr<RaftNode>> nodes_;
  std::map<NodeId, Disk> disks_;
  std::map<NodeId, int> side_;
  std::map<NodeId, uint64_t> last_commit_;
  std::map<NodeId, std::vector<Entry>> state_;  // each node's applied entries
  std::vector<InFlight> network_;
  std::map<uint64_t, Entry> committed_;
  std::map<uint64_t, Entry> acked_;
  std::map<std::string, Proposal> proposals_;
  std::map<uint64_t, NodeId> leaders_;
  uint64_t now_ = 0;
  uint64_t next_payload_ = 0;
  uint64_t restarts_ = 0;
  uint64_t crashes_ = 0;
  uint64_t snapshots_installed_ = 0;
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
  size_t acked = 0, leaders = 0, crashes = 0, installs = 0;
  for (uint64_t seed : seeds) {
    const int voters = seed % 2 == 0 ? 5 : 3;
    const int observers = seed % 4 < 2 ? 1 : 0;
    Simulation sim(seed, voters, observers);
    if (auto failure = sim.Run(3000)) {
      ADD_FAILURE() << "seed " << seed << " (" << voters << " voters, " << observers
                    << " observers): " << *failure << "\n  replay: FJORD_SIM_SEED=" << seed
                    << " build/bin/raft_simulation_test";
      if (++failures >= 5) break;
    }
    acked += sim.acked();
    leaders += sim.terms_with_leaders();
    crashes += sim.crashes();
    installs += sim.snapshots_installed();
  }
  // The runs must have exercised something: elections, crashes, acknowledged entries.
  std::printf(
      "%zu seeds: %zu acknowledged entries, %zu terms with a leader, %zu crashes, %zu snapshots installed\n",
      seeds.size(), acked, leaders, crashes, installs);
  EXPECT_GT(acked, seeds.size() * 10);
  EXPECT_GT(leaders, seeds.size() * 2);
  EXPECT_GT(installs, seeds.size() / 10);
}

}  // namespace
}  // namespace fjord::raft
