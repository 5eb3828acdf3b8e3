#include "broker/fetch_sessions.h"

#include <gtest/gtest.h>

namespace fjord::broker {
namespace {

SessionPartition Part(const std::string& topic, int32_t p, int64_t offset = 0) {
  SessionPartition s;
  s.topic = topic;
  s.partition = p;
  s.fetch_offset = offset;
  return s;
}

TEST(FetchSessionCache, EpochsAdvanceAndAreChecked) {
  FetchSessionCache cache(10);
  const int32_t id = cache.Create({Part("t", 0), Part("t", 1)});
  ASSERT_NE(id, 0);
  EXPECT_EQ(cache.Update(id, 2, {}, {}).error, FetchSessionCache::Error::kInvalidEpoch);
  EXPECT_EQ(cache.Update(id, 1, {}, {}).error, FetchSessionCache::Error::kNone);
  EXPECT_EQ(cache.Update(id, 1, {}, {}).error, FetchSessionCache::Error::kInvalidEpoch);
  EXPECT_EQ(cache.Update(id, 2, {}, {}).error, FetchSessionCache::Error::kNone);
  EXPECT_EQ(cache.Update(id + 1, 1, {}, {}).error, FetchSessionCache::Error::kSessionIdNotFound);
  cache.Remove(id);
  EXPECT_EQ(cache.Update(id, 3, {}, {}).error, FetchSessionCache::Error::kSessionIdNotFound);
}

TEST(FetchSessionCache, UpsertsThenForgets) {
  FetchSessionCache cache(10);
  const int32_t id = cache.Create({Part("t", 0), Part("t", 1)});
  auto inc = cache.Update(id, 1, {Part("t", 1, 50), Part("u", 0, 7)}, {Part("t", 0)});
  ASSERT_EQ(inc.partitions.size(), 2u);
  EXPECT_EQ(inc.partitions[0].topic, "t");
  EXPECT_EQ(inc.partitions[0].fetch_offset, 50);
  EXPECT_EQ(inc.partitions[1].topic, "u");
  // A partition named again brings the leader epochs the client now knows (KIP-320, KIP-595).
  SessionPartition epochs = Part("t", 1, 60);
  epochs.current_leader_epoch = 3;
  epochs.last_fetched_epoch = 2;
  inc = cache.Update(id, 2, {epochs}, {});
  ASSERT_EQ(inc.partitions.size(), 2u);
  EXPECT_EQ(inc.partitions[0].current_leader_epoch, 3);
  EXPECT_EQ(inc.partitions[0].last_fetched_epoch, 2);
  EXPECT_EQ(inc.partitions[1].current_leader_epoch, -1);
  // Named in both lists: forgotten, as in Kafka.
  inc = cache.Update(id, 3, {Part("u", 0, 8)}, {Part("u", 0)});
  ASSERT_EQ(inc.partitions.size(), 1u);
}

TEST(FetchSessionCache, SettleCarriesOnlyNews) {
  FetchSessionCache cache(10);
  std::vector<SessionPartition> parts = {Part("t", 0), Part("t", 1)};
  const int32_t id = cache.Create(parts);
  // The full fetch carries everything and records what was said.
  EXPECT_EQ(cache.Settle(id, true, parts, {{false, false, 5, 0}, {false, false, 0, 0}}),
            (std::vector<bool>{true, true}));
  auto inc = cache.Update(id, 1, {}, {});
  EXPECT_EQ(cache.Settle(id, false, inc.partitions, {{false, false, 5, 0}, {false, false, 0, 0}}),
            (std::vector<bool>{false, false}));
  inc = cache.Update(id, 2, {}, {});
  EXPECT_EQ(cache.Settle(id, false, inc.partitions, {{false, false, 6, 0}, {false, true, 0, 0}}),
            (std::vector<bool>{true, true}));  // a moved high watermark, an error
  inc = cache.Update(id, 3, {}, {});
  EXPECT_EQ(cache.Settle(id, false, inc.partitions, {{true, false, 6, 0}, {false, false, 0, 3}}),
            (std::vector<bool>{true, true}));  // records, a moved log start offset
  inc = cache.Update(id, 4, {}, {});
  EXPECT_EQ(cache.Settle(id, false, inc.partitions, {{false, false, 6, 0}, {false, false, 0, 3, true}}),
            (std::vector<bool>{false, true}));  // a divergence, as Kafka, is always answered
}

TEST(FetchSessionCache, EvictsTheLeastRecentlyUsedWhenFull) {
  FetchSessionCache cache(2);
  const int32_t a = cache.Create({Part("t", 0)});
  const int32_t b = cache.Create({Part("t", 0)});
  EXPECT_EQ(cache.Update(a, 1, {}, {}).error, FetchSessionCache::Error::kNone);  // a is now newer than b
  const int32_t c = cache.Create({Part("t", 0)});
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Update(b, 1, {}, {}).error, FetchSessionCache::Error::kSessionIdNotFound);
  EXPECT_EQ(cache.Update(a, 2, {}, {}).error, FetchSessionCache::Error::kNone);
  EXPECT_EQ(cache.Update(c, 1, {}, {}).error, FetchSessionCache::Error::kNone);
  FetchSessionCache none(0);
  EXPECT_EQ(none.Create({Part("t", 0)}), 0);  // no slots: sessionless
}

}  // namespace
}  // namespace fjord::broker
