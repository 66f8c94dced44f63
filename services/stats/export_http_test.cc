// The export route's request parsing: families and formats from the path,
// every parameter checked and named when bad (the RPC checks the dates).
#include "services/stats/export_http.h"

#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::stats {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The fields named by an INVALID_ARGUMENT.
std::vector<std::string> BadFields(const absl::Status& s) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(s)) fields.push_back(v.field);
  return fields;
}

TEST(ExportRequestTest, ParsesFamilyFormatAndEveryFilter) {
  ASSERT_OK_AND_ASSIGN(ExportRequest r, ParseExportRequest("/stats/export/claims.xlsx",
                                                           {{"period", "quarter"},
                                                            {"from", "2026-10-01"},
                                                            {"group_by", "market"},
                                                            {"market", "east, markets/west"},
                                                            {"region", "35"},
                                                            {"category", "phone"}}));
  EXPECT_EQ(r.family, "claims");
  EXPECT_EQ(r.format, "xlsx");
  EXPECT_EQ(r.query.period(), v1::QUARTER);
  EXPECT_EQ(r.query.from_date(), "2026-10-01");
  EXPECT_EQ(r.query.group_by(), v1::MARKET);
  EXPECT_THAT(r.query.markets(), ElementsAre("markets/east", "markets/west"));
  EXPECT_EQ(r.query.region(), "35");
  EXPECT_EQ(r.query.category(), common::v1::PHONE);
}

TEST(ExportRequestTest, CreditIsAFamilyLikeTheOthers) {
  ASSERT_OK_AND_ASSIGN(
      ExportRequest r,
      ParseExportRequest("/stats/export/credit.csv", {{"period", "YEAR"}, {"from", "2026-01-01"}}));
  EXPECT_EQ(r.family, "credit");
}

TEST(ExportRequestTest, UnknownFamilyOrFormatIsNotFound) {
  for (const char* path : {"/stats/export/orders.csv", "/stats/export/trade.pdf",
                           "/stats/export/trade", "/stats/export/trade.csv.xlsx"}) {
    absl::StatusOr<ExportRequest> r =
        ParseExportRequest(path, {{"period", "MONTH"}, {"from", "2026-11-01"}});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << path;
    EXPECT_THAT(r.status().message(), HasSubstr("trade, claims, appraisals, entities, credit"))
        << path;
  }
}

TEST(ExportRequestTest, BadPeriodNamesTheField) {
  absl::StatusOr<ExportRequest> r = ParseExportRequest(
      "/stats/export/trade.csv", {{"period", "FORTNIGHT"}, {"from", "2026-11-01"}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(BadFields(r.status()), ElementsAre("period"));
}

TEST(ExportRequestTest, EveryBadOrUnknownParameterIsNamed) {
  absl::StatusOr<ExportRequest> r =
      ParseExportRequest("/stats/export/entities.csv",
                         {{"group_by", "planet"}, {"category", "boats"}, {"access_token", "x"}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(BadFields(r.status()), ::testing::UnorderedElementsAre(
                                         "access_token", "period", "from", "group_by", "category"));
}

}  // namespace
}  // namespace market::stats
