#include "common/pagination/cursor.h"

#include "common/sqlite/connection.h"
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

TEST(CursorTest, BindKeysetPageBindsCursorOnlyWhenGiven) {
  ASSERT_OK_AND_ASSIGN(sqlite::Connection c, sqlite::Connection::Open(":memory:"));
  ASSERT_OK_AND_ASSIGN(sqlite::Statement first, c.Prepare("SELECT :limit"));
  ASSERT_OK(BindKeysetPage(first, std::nullopt, 3));
  ASSERT_OK_AND_ASSIGN(bool row, first.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(first.ColumnInt64(0), 3);
  ASSERT_OK_AND_ASSIGN(sqlite::Statement next, c.Prepare("SELECT :after_key, :after_name, :limit"));
  ASSERT_OK(BindKeysetPage(next, SearchCursor{7, "n"}, 4));
  ASSERT_OK_AND_ASSIGN(row, next.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(next.ColumnInt64(0), 7);
  EXPECT_EQ(next.ColumnText(1), "n");
  EXPECT_EQ(next.ColumnInt64(2), 4);
}

}  // namespace
}  // namespace market
