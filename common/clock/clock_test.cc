#include "common/clock/clock.h"

#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace market {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

TEST(RealClockTest, ReturnsSameInstance) { EXPECT_EQ(RealClock(), RealClock()); }

TEST(RealClockTest, NowIsCloseToSystemTime) {
  absl::Time before = absl::Now();
  absl::Time now = RealClock()->Now();
  absl::Time after = absl::Now();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

TEST(FakeClockTest, StartsAtGivenTime) {
  FakeClock clock(kStart);
  EXPECT_EQ(clock.Now(), kStart);
}

TEST(FakeClockTest, DoesNotMoveOnItsOwn) {
  FakeClock clock(kStart);
  absl::SleepFor(absl::Milliseconds(2));
  EXPECT_EQ(clock.Now(), kStart);
}

TEST(FakeClockTest, AdvanceAddsDuration) {
  FakeClock clock(kStart);
  clock.Advance(absl::Seconds(90));
  clock.Advance(absl::Milliseconds(5));
  EXPECT_EQ(clock.Now(), kStart + absl::Seconds(90) + absl::Milliseconds(5));
}

TEST(FakeClockTest, AdvanceByNegativeDurationMovesBack) {
  FakeClock clock(kStart);
  clock.Advance(-absl::Hours(1));
  EXPECT_EQ(clock.Now(), kStart - absl::Hours(1));
}

TEST(FakeClockTest, SetReplacesTime) {
  FakeClock clock(kStart);
  clock.Advance(absl::Hours(3));
  const absl::Time target = absl::FromUnixSeconds(42);
  clock.Set(target);
  EXPECT_EQ(clock.Now(), target);
}

TEST(FakeClockTest, UsableThroughClockInterface) {
  FakeClock fake(kStart);
  const Clock& clock = fake;
  fake.Advance(absl::Minutes(1));
  EXPECT_EQ(clock.Now(), kStart + absl::Minutes(1));
}

TEST(FakeClockTest, ConcurrentAdvancesAreAllApplied) {
  FakeClock clock(kStart);
  constexpr int kThreads = 4;
  constexpr int kAdvancesPerThread = 1000;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&clock] {
      for (int j = 0; j < kAdvancesPerThread; ++j) {
        clock.Advance(absl::Seconds(1));
        (void)clock.Now();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(clock.Now(), kStart + absl::Seconds(kThreads * kAdvancesPerThread));
}

TEST(OffsetFileClockTest, MissingFileMeansRealTime) {
  OffsetFileClock clock(::testing::TempDir() + "no-such-offset-file");
  EXPECT_EQ(clock.Offset(), absl::ZeroDuration());
  EXPECT_LT(absl::AbsDuration(clock.Now() - absl::Now()), absl::Seconds(5));
}

TEST(OffsetFileClockTest, FileShiftsTimeAndIsReReadOnEveryCall) {
  std::string path = ::testing::TempDir() + "clock-offset-" + std::to_string(::getpid());
  OffsetFileClock clock(path);
  std::ofstream(path) << "86400\n";
  EXPECT_EQ(clock.Offset(), absl::Hours(24));
  EXPECT_GT(clock.Now(), absl::Now() + absl::Hours(23));
  std::ofstream(path) << "-60";
  EXPECT_EQ(clock.Offset(), absl::Seconds(-60));
  std::ofstream(path) << "soon";
  EXPECT_EQ(clock.Offset(), absl::ZeroDuration());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace market
