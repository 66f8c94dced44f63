#include "common/pagination/page.h"

#include <string>
#include <vector>

#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace market {
namespace {

const PageTokenCodec kCodec(std::string(32, 'k'));

std::string Field(const absl::Status& s) {
  std::vector<FieldViolation> v = FieldViolationsOf(s);
  return v.size() == 1 ? v[0].field : "";
}

TEST(PageTest, FirstPageHasDefaultSizeAndNoPosition) {
  ASSERT_OK_AND_ASSIGN(Page page, Page::Start(kCodec, "q", 0, ""));
  EXPECT_EQ(page.size(), 50);
  EXPECT_EQ(page.limit(), 51);
  EXPECT_EQ(page.position(), "");
  ASSERT_OK_AND_ASSIGN(std::optional<SearchCursor> cursor, page.Cursor());
  EXPECT_FALSE(cursor.has_value());
  ASSERT_OK_AND_ASSIGN(int64_t first, page.Int(-1));
  EXPECT_EQ(first, -1);
}

TEST(PageTest, BadPageSizeNamesPageSize) {
  EXPECT_EQ(Field(Page::Start(kCodec, "q", -1, "").status()), "page_size");
  EXPECT_EQ(Field(Page::Start(kCodec, "q", 11, "", 5, 10).status()), "page_size");
}

TEST(PageTest, TrimIssuesATokenOnlyWhenRowsAreLeft) {
  ASSERT_OK_AND_ASSIGN(Page page, Page::Start(kCodec, "q", 2, ""));
  std::vector<std::string> rows = {"a", "b"};
  EXPECT_EQ(page.Trim(rows, [](const std::string& r) { return r; }), "");
  EXPECT_EQ(rows.size(), 2u);
  rows = {"a", "b", "c"};
  std::string token = page.Trim(rows, [](const std::string& r) { return r; });
  EXPECT_EQ(rows, (std::vector<std::string>{"a", "b"}));
  ASSERT_FALSE(token.empty());
  ASSERT_OK_AND_ASSIGN(Page next, Page::Start(kCodec, "q", 2, token));
  EXPECT_EQ(next.position(), "b");
}

TEST(PageTest, TokenOfAnotherQueryOrTamperedNamesPageToken) {
  std::string token = kCodec.Encode("q", "b");
  EXPECT_EQ(Field(Page::Start(kCodec, "other", 0, token).status()), "page_token");
  EXPECT_EQ(Field(Page::Start(kCodec, "q", 0, token + "x").status()), "page_token");
}

TEST(PageTest, PositionDecodesAsCursorOrInteger) {
  ASSERT_OK_AND_ASSIGN(Page page, Page::Start(kCodec, "q", 0, kCodec.Encode("q", "42|n")));
  ASSERT_OK_AND_ASSIGN(std::optional<SearchCursor> cursor, page.Cursor());
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->key, 42);
  EXPECT_EQ(cursor->name, "n");
  EXPECT_EQ(Field(page.Int(0).status()), "page_token");
  ASSERT_OK_AND_ASSIGN(Page numeric, Page::Start(kCodec, "q", 0, kCodec.Encode("q", "17")));
  ASSERT_OK_AND_ASSIGN(int64_t n, numeric.Int(0));
  EXPECT_EQ(n, 17);
  EXPECT_EQ(Field(numeric.Cursor().status()), "page_token");
  ASSERT_OK_AND_ASSIGN(Page negative, Page::Start(kCodec, "q", 0, kCodec.Encode("q", "-3")));
  EXPECT_EQ(Field(negative.Int(0).status()), "page_token");
}

}  // namespace
}  // namespace market
