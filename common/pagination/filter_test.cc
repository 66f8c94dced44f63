#include "common/pagination/filter.h"

#include <string>
#include <vector>

#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace market {
namespace {

TEST(FilterTest, BlankFilterHasNoTerms) {
  ASSERT_OK_AND_ASSIGN(std::vector<FilterTerm> terms, ParseFilterTerms("  ", "want x"));
  EXPECT_TRUE(terms.empty());
}

TEST(FilterTest, SplitsTermsAndUnquotesValues) {
  ASSERT_OK_AND_ASSIGN(std::vector<FilterTerm> terms,
                       ParseFilterTerms(" seller = \"subjects/a\" AND price>=100 AND price<5",
                                        "want x", {"=", ">=", "<"}));
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_EQ(terms[0].key, "seller");
  EXPECT_EQ(terms[0].op, "=");
  EXPECT_EQ(terms[0].value, "subjects/a");
  EXPECT_EQ(terms[0].text, "seller = \"subjects/a\"");
  EXPECT_EQ(terms[1].key, "price");
  EXPECT_EQ(terms[1].op, ">=");
  EXPECT_EQ(terms[1].value, "100");
  EXPECT_EQ(terms[2].op, "<");
  EXPECT_EQ(terms[2].value, "5");
}

TEST(FilterTest, EmptyValueIsKept) {
  ASSERT_OK_AND_ASSIGN(std::vector<FilterTerm> terms, ParseFilterTerms("state=", "want x"));
  ASSERT_EQ(terms.size(), 1u);
  EXPECT_EQ(terms[0].value, "");
}

TEST(FilterTest, TermWithoutOperatorOrKeyNamesFilter) {
  for (const char* bad : {"state", "=ACTIVE", "a=1 AND b"}) {
    absl::Status s = ParseFilterTerms(bad, "want k=v").status();
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad;
    ASSERT_EQ(FieldViolationsOf(s).size(), 1u) << bad;
    EXPECT_EQ(FieldViolationsOf(s)[0].field, "filter");
  }
  EXPECT_EQ(FieldViolationsOf(ParseFilterTerms("state", "want k=v").status())[0].description,
            "cannot parse term \"state\"; want k=v");
}

TEST(FilterTest, OperatorOutsideTheAcceptedOnesIsRejected) {
  absl::Status s = ParseFilterTerms("price>=5", "want x").status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(FieldViolationsOf(s)[0].description, "unknown operator \">=\" in \"price>=5\"");
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFilterTerms("a==1", "x", {"=", "!="}).status()));
  EXPECT_OK(ParseFilterTerms("a!=1", "x", {"=", "!="}).status());
}

TEST(FilterTest, BadFilterTermNamesTheTerm) {
  FilterTerm t{"state", "=", "NOPE", "state=\"NOPE\""};
  absl::Status s = BadFilterTerm(t, "want state=ACTIVE");
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(FieldViolationsOf(s)[0].field, "filter");
  EXPECT_EQ(FieldViolationsOf(s)[0].description, "cannot use \"state=NOPE\"; want state=ACTIVE");
}

TEST(FilterTest, FilterTimeParsesRfc3339OrNamesFilter) {
  FilterTerm t{"create_time", ">=", "2026-11-01T00:00:00+08:00", ""};
  ASSERT_OK_AND_ASSIGN(absl::Time when, FilterTime(t));
  EXPECT_EQ(when, absl::FromUnixSeconds(1793462400));
  t.value = "yesterday";
  absl::Status s = FilterTime(t).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(FieldViolationsOf(s)[0].field, "filter");
}

TEST(FilterTest, OrderByAscendingKnowsOnlyTheField) {
  ASSERT_OK_AND_ASSIGN(bool asc, OrderByAscending("create_time", "create_time"));
  EXPECT_TRUE(asc);
  ASSERT_OK_AND_ASSIGN(asc, OrderByAscending("", "create_time"));
  EXPECT_FALSE(asc);
  ASSERT_OK_AND_ASSIGN(asc, OrderByAscending("create_time desc", "create_time"));
  EXPECT_FALSE(asc);
  absl::Status s = OrderByAscending("price", "create_time").status();
  ASSERT_EQ(FieldViolationsOf(s).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(s)[0].field, "order_by");
  EXPECT_EQ(FieldViolationsOf(s)[0].description, "want create_time or create_time desc");
}

}  // namespace
}  // namespace market
