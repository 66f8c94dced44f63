#include "common/sqlite/coalescer.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace market::sqlite {
namespace {

struct Item {
  int value = 0;
  int runs = 0;        // times a batch settled this item
  size_t batch = 0;    // size of the batch that settled it
};

TEST(CoalescerTest, LoneCallerRunsItsOwnItemAtOnce) {
  Coalescer<Item> coalescer(8);
  Item item{.value = 7};
  coalescer.Submit(&item, [](std::span<Item* const> batch) {
    for (Item* i : batch) {
      ++i->runs;
      i->batch = batch.size();
    }
  });
  EXPECT_EQ(item.runs, 1);
  EXPECT_EQ(item.batch, 1u);
  EXPECT_EQ(coalescer.Queued(), 0u);
}

TEST(CoalescerTest, CallersQueuedBehindARunningBatchShareBatchesOfAtMostMaxBatch) {
  Coalescer<Item> coalescer(4);
  absl::Notification release;
  std::atomic<int> batches{0};
  auto run = [&](std::span<Item* const> batch) {
    // The first batch holds the leader until the others have queued.
    if (batches++ == 0) release.WaitForNotification();
    for (Item* i : batch) {
      ++i->runs;
      i->batch = batch.size();
    }
  };
  std::vector<Item> items(11);
  std::thread first([&] { coalescer.Submit(&items[0], run); });
  while (batches == 0) absl::SleepFor(absl::Milliseconds(1));
  std::vector<std::thread> rest;
  for (size_t i = 1; i < items.size(); ++i) {
    rest.emplace_back([&, i] { coalescer.Submit(&items[i], run); });
  }
  while (coalescer.Queued() < 10) absl::SleepFor(absl::Milliseconds(1));
  release.Notify();
  first.join();
  for (std::thread& t : rest) t.join();
  for (const Item& i : items) EXPECT_EQ(i.runs, 1);
  // 1 + 10 queued in batches of at most 4: 4, 4, 2.
  EXPECT_EQ(batches.load(), 4);
  for (size_t i = 1; i < items.size(); ++i) EXPECT_LE(items[i].batch, 4u);
}

}  // namespace
}  // namespace market::sqlite
