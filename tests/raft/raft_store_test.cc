// The Raft store on real RocksDB files: round trips, suffix replacement, a node
// restarted from it, and a child killed -9 mid-stream losing nothing Save returned.
#include "raft/raft_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "raft/raft_node.h"

namespace fjord::raft {
namespace {

std::string TempDir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             (std::string("fjord-raft-") + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

Ready Appending(uint64_t first, std::vector<Entry> entries) {
  Ready r;
  r.first_new_index = first;
  r.new_entries = std::move(entries);
  return r;
}

TEST(RaftStore, StoresHardStateAndReplacesASuffix) {
  const std::string dir = TempDir("suffix");
  {
    auto store = RaftStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    Ready r = Appending(1, {{1, "a"}, {1, "b"}, {1, "c"}});
    r.hard_state_changed = true;
    r.hard_state = {1, 2};
    ASSERT_TRUE((*store)->Save(r).ok());
    Ready replace = Appending(2, {{2, "B"}});  // a new leader's entry replaces b and c
    replace.hard_state_changed = true;
    replace.hard_state = {2, kNoNode};
    ASSERT_TRUE((*store)->Save(replace).ok());
  }
  auto store = RaftStore::Open(dir);
  ASSERT_TRUE(store.ok());
  auto state = (*store)->Load();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->hard_state, (HardState{2, kNoNode}));
  EXPECT_EQ(state->log, (std::vector<Entry>{{1, "a"}, {2, "B"}}));
  std::filesystem::remove_all(dir);
}

TEST(RaftStore, ANodeRestartsFromWhatItStored) {
  const std::string dir = TempDir("restart");
  std::vector<Entry> before;
  {
    auto store = RaftStore::Open(dir);
    ASSERT_TRUE(store.ok());
    RaftNode node(RaftConfig{.id = 1, .voters = {1}}, HardState{}, {});
    for (int i = 0; i < 30 && node.role() != Role::kLeader; ++i) node.Tick();
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(node.Propose("r" + std::to_string(i)).ok());
    ASSERT_TRUE((*store)->Save(node.TakeReady()).ok());
    for (uint64_t i = 1; i <= node.last_index(); ++i) before.push_back(*node.EntryAt(i));
  }
  auto store = RaftStore::Open(dir);
  ASSERT_TRUE(store.ok());
  auto state = (*store)->Load();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->hard_state, (HardState{1, 1}));
  EXPECT_EQ(state->log, before);
  RaftNode again(RaftConfig{.id = 1, .voters = {1}}, state->hard_state, state->log);
  for (int i = 0; i < 30 && again.role() != Role::kLeader; ++i) again.Tick();
  EXPECT_EQ(again.term(), 2u);
  EXPECT_EQ(again.last_index(), before.size() + 1);
  std::filesystem::remove_all(dir);
}

TEST(RaftStore, SnapshotsReplaceTheEntriesTheyCover) {
  const std::string dir = TempDir("snapshot");
  {
    auto store = RaftStore::Open(dir);
    ASSERT_TRUE(store.ok());
    std::vector<Entry> entries;
    for (int i = 1; i <= 10; ++i) entries.push_back({1, "e" + std::to_string(i)});
    ASSERT_TRUE((*store)->Save(Appending(1, entries)).ok());
    // Compacted locally up to 6: entries 7..10 remain.
    ASSERT_TRUE((*store)->SaveSnapshot({6, 1, "state@6"}).ok());
  }
  {
    auto store = RaftStore::Open(dir);
    ASSERT_TRUE(store.ok());
    auto state = (*store)->Load();
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->snapshot, (Snapshot{6, 1, "state@6"}));
    ASSERT_EQ(state->log.size(), 4u);
    EXPECT_EQ(state->log[0].data, "e7");
    // Appending after the compacted prefix keeps indexing right.
    ASSERT_TRUE((*store)->Save(Appending(11, {{2, "e11"}})).ok());
    // A snapshot from the leader replaces the whole log, even entries past it.
    Ready install;
    install.snapshot = Snapshot{8, 3, "leader@8"};
    install.first_new_index = 9;
    ASSERT_TRUE((*store)->Save(install).ok());
    ASSERT_TRUE((*store)->Save(Appending(9, {{3, "e9'"}})).ok());
  }
  auto store = RaftStore::Open(dir);
  ASSERT_TRUE(store.ok());
  auto state = (*store)->Load();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->snapshot, (Snapshot{8, 3, "leader@8"}));
  ASSERT_EQ(state->log.size(), 1u);
  EXPECT_EQ(state->log[0], (Entry{3, "e9'"}));
  std::filesystem::remove_all(dir);
}

TEST(RaftStore, NothingSaveReturnedIsLostToKillNine) {
  const std::string dir = TempDir("kill");
  std::mt19937 rng(42);
  uint64_t acknowledged = 0;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(fds[0]);
      auto store = RaftStore::Open(dir);
      if (!store.ok()) ::_exit(3);
      auto state = (*store)->Load();
      uint64_t next = state->log.size() + 1;
      while (true) {
        std::vector<Entry> entries;
        for (int i = 0; i < 8; ++i)
          entries.push_back({1, std::string(100, static_cast<char>('a' + (next + i) % 26))});
        if (!(*store)->Save(Appending(next, entries)).ok()) ::_exit(4);
        next += entries.size();
        const uint64_t last = next - 1;
        if (::write(fds[1], &last, sizeof last) != sizeof last) ::_exit(5);
      }
    }
    ::close(fds[1]);
    ::usleep(20000 + rng() % 80000);
    ::kill(child, SIGKILL);
    uint64_t last = 0;
    while (::read(fds[0], &last, sizeof last) == sizeof last) acknowledged = std::max(acknowledged, last);
    ::close(fds[0]);
    ::waitpid(child, nullptr, 0);
    auto store = RaftStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    auto state = (*store)->Load();
    ASSERT_TRUE(state.ok()) << state.status();
    ASSERT_GE(state->log.size(), acknowledged) << "round " << round;
    for (size_t i = 0; i < state->log.size(); ++i)
      ASSERT_EQ(state->log[i].data, std::string(100, static_cast<char>('a' + (i + 1) % 26)));
  }
  EXPECT_GT(acknowledged, 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fjord::raft
