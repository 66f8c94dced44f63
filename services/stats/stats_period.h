// Statistics periods in China time (UTC+8): the day of an instant, and the
// inclusive day range of a day/ISO week/month/quarter/year/custom period.
// Days are counted from 1970-01-01 (China time). Pure functions.
#ifndef MARKET_SERVICES_STATS_STATS_PERIOD_H_
#define MARKET_SERVICES_STATS_STATS_PERIOD_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "market/stats/v1/stats.pb.h"

namespace market::stats {

// Longest CUSTOM range, in days.
inline constexpr int64_t kMaxCustomDays = 3660;

struct DayRange {
  int64_t first = 0;  // inclusive
  int64_t last = 0;   // inclusive
};

absl::TimeZone ChinaTime();
// The China-time day number of `t`.
int64_t DayOf(absl::Time t);
// The month number (year * 12 + month - 1) of a day number.
int64_t MonthOfDay(int64_t day);
absl::CivilDay CivilOfDay(int64_t day);
int64_t DayOfCivil(absl::CivilDay d);
// "YYYY-MM-DD" of a day number.
std::string FormatDay(int64_t day);
// Parses "YYYY-MM-DD"; INVALID_ARGUMENT naming `field`.
absl::StatusOr<int64_t> ParseDay(absl::string_view text, absl::string_view field);

// The range of `period` containing `from` (CUSTOM: from..to, to >= from,
// at most kMaxCustomDays days). INVALID_ARGUMENT naming the field at fault.
absl::StatusOr<DayRange> ResolvePeriod(v1::Period period, absl::string_view from,
                                       absl::string_view to);

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_STATS_PERIOD_H_
