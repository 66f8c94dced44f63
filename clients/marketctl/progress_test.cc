#include "clients/marketctl/progress.h"

#include <algorithm>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace market::ctl {
namespace {

TEST(RenderProgressTest, BarCountsAndLabel) {
  EXPECT_EQ(RenderProgress(1500, 10000, "rows, 3 failed", 10),
            "[#.........] 1500/10000 rows, 3 failed");
  EXPECT_EQ(RenderProgress(5000, 10000, "rows, 0 failed", 10),
            "[#####.....] 5000/10000 rows, 0 failed");
  EXPECT_EQ(RenderProgress(10, 10, "records downloaded", 4), "[####] 10/10 records downloaded");
  EXPECT_EQ(RenderProgress(0, 0, "rows", 4), "[####] 0/0 rows");
  EXPECT_EQ(RenderProgress(12, 10, "rows", 4), "[####] 12/10 rows");  // clamped bar
}

TEST(ProgressBarTest, NotATerminalWritesNothing) {
  std::ostringstream err;
  {
    ProgressBar bar(err, /*err_is_tty=*/false);
    bar.Update(1, 3, "rows");
    bar.Update(3, 3, "rows");
    bar.Break();
  }
  EXPECT_EQ(err.str(), "");
}

TEST(ProgressBarTest, TerminalRedrawsInPlaceAndEndsTheLineWhenDone) {
  std::ostringstream err;
  ProgressBar bar(err, /*err_is_tty=*/true);
  bar.Update(1, 2, "rows, 0 failed");
  const std::string half =
      "[" + std::string(15, '#') + std::string(15, '.') + "] 1/2 rows, 0 failed";
  EXPECT_EQ(err.str(), "\r" + half);
  bar.Update(2, 2, "rows, 0 failed");
  EXPECT_EQ(err.str(), "\r" + half + "\r[" + std::string(30, '#') + "] 2/2 rows, 0 failed\n");
}

TEST(ProgressBarTest, AShorterLineBlanksTheRestOfTheLongerOne) {
  std::ostringstream err;
  ProgressBar bar(err, true);
  bar.Update(1, 10, "rows, 12 failed");
  err.str("");
  bar.Update(2, 10, "proofs");
  const std::string line = "[" + std::string(6, '#') + std::string(24, '.') + "] 2/10 proofs";
  EXPECT_EQ(err.str(), "\r" + line + std::string(9, ' '));
}

TEST(ProgressBarTest, BreakEndsAnOpenLineOnceAndTheDestructorToo) {
  std::ostringstream err;
  {
    ProgressBar bar(err, true);
    bar.Update(1, 4, "rows");
    bar.Break();
    bar.Break();
    EXPECT_EQ(err.str().back(), '\n');
    const size_t after_break = err.str().size();
    bar.Update(2, 4, "rows");
    EXPECT_NE(err.str().back(), '\n');
    EXPECT_GT(err.str().size(), after_break);
  }
  const std::string all = err.str();
  EXPECT_EQ(all.back(), '\n');
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 2);
}

}  // namespace
}  // namespace market::ctl
