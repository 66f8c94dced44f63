#include "common/pagination/cursor.h"

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace market {
namespace {

TEST(CursorTest, RoundTripsKeyAndNameWithBars) {
  SearchCursor in{-42, "markets/m/listings/a|b"};
  ASSERT_OK_AND_ASSIGN(SearchCursor out, DecodeCursor(EncodeCursor(in)));
  EXPECT_EQ(out.key, -42);
  EXPECT_EQ(out.name, "markets/m/listings/a|b");
}

TEST(CursorTest, MalformedPositionsAreInvalidArgument) {
  for (const char* bad : {"", "12", "12|", "x|name", "|name"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(DecodeCursor(bad).status())) << bad;
  }
}

}  // namespace
}  // namespace market
