#include "services/stats/stats_period.h"

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::stats {
namespace {

using ::market::testing::StatusIs;

std::pair<std::string, std::string> Range(v1::Period p, const std::string& from,
                                           const std::string& to = "") {
  absl::StatusOr<DayRange> r = ResolvePeriod(p, from, to);
  if (!r.ok()) return {std::string(r.status().message()), ""};
  return {FormatDay(r->first), FormatDay(r->last)};
}

TEST(StatsPeriodTest, IsoWeekRunsMondayToSunday) {
  // 2026-01-01 is a Thursday: its ISO week starts on Monday 2025-12-29.
  EXPECT_EQ(Range(v1::WEEK, "2026-01-01"), std::make_pair(std::string("2025-12-29"), std::string("2026-01-04")));
  EXPECT_EQ(Range(v1::WEEK, "2026-01-05"), std::make_pair(std::string("2026-01-05"), std::string("2026-01-11")));
}

TEST(StatsPeriodTest, MonthQuarterYearCoverWholeCalendarUnits) {
  EXPECT_EQ(Range(v1::MONTH, "2024-02-10"), std::make_pair(std::string("2024-02-01"), std::string("2024-02-29")));
  EXPECT_EQ(Range(v1::QUARTER, "2026-05-31"), std::make_pair(std::string("2026-04-01"), std::string("2026-06-30")));
  EXPECT_EQ(Range(v1::YEAR, "2026-12-31"), std::make_pair(std::string("2026-01-01"), std::string("2026-12-31")));
  EXPECT_EQ(Range(v1::CUSTOM, "2026-03-03", "2026-03-09"), std::make_pair(std::string("2026-03-03"), std::string("2026-03-09")));
}

TEST(StatsPeriodTest, DayIsChinaTime) {
  // 2026-03-31 16:30 UTC is 2026-04-01 00:30 in China.
  absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 3, 31, 16, 30, 0), absl::UTCTimeZone());
  EXPECT_EQ(FormatDay(DayOf(t)), "2026-04-01");
  EXPECT_EQ(MonthOfDay(DayOf(t)), 2026 * 12 + 3);
}

TEST(StatsPeriodTest, BadInputNamesTheField) {
  EXPECT_THAT(ResolvePeriod(v1::MONTH, "2026-13-01", "").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolationsOf(ResolvePeriod(v1::CUSTOM, "2026-03-09", "2026-03-01").status())[0].field,
            "to_date");
  EXPECT_EQ(FieldViolationsOf(ResolvePeriod(v1::PERIOD_UNSPECIFIED, "2026-03-09", "").status())[0].field,
            "period");
  EXPECT_EQ(FieldViolationsOf(ResolvePeriod(v1::CUSTOM, "2020-01-01", "2030-12-31").status())[0].field,
            "to_date");
}

}  // namespace
}  // namespace market::stats
