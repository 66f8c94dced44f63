#include "services/stats/stats_period.h"

#include "absl/strings/str_format.h"
#include "common/status/status.h"

namespace market::stats {

namespace {
const absl::CivilDay kEpoch(1970, 1, 1);
}  // namespace

absl::TimeZone ChinaTime() { return absl::FixedTimeZone(8 * 3600); }

int64_t DayOf(absl::Time t) { return DayOfCivil(absl::ToCivilDay(t, ChinaTime())); }

absl::CivilDay CivilOfDay(int64_t day) { return kEpoch + day; }

int64_t DayOfCivil(absl::CivilDay d) { return d - kEpoch; }

int64_t MonthOfDay(int64_t day) {
  absl::CivilDay d = CivilOfDay(day);
  return d.year() * 12 + d.month() - 1;
}

std::string FormatDay(int64_t day) {
  absl::CivilDay d = CivilOfDay(day);
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

absl::StatusOr<int64_t> ParseDay(absl::string_view text, absl::string_view field) {
  absl::CivilDay d;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &d) || d.year() < 2000 ||
      d.year() > 2200) {
    return InvalidField(field, "want a date YYYY-MM-DD between 2000 and 2200");
  }
  return DayOfCivil(d);
}

absl::StatusOr<DayRange> ResolvePeriod(v1::Period period, absl::string_view from,
                                       absl::string_view to) {
  MARKET_ASSIGN_OR_RETURN(int64_t day, ParseDay(from, "from_date"));
  if (period != v1::CUSTOM && !to.empty()) {
    return InvalidField("to_date", "only for period CUSTOM");
  }
  absl::CivilDay d = CivilOfDay(day);
  switch (period) {
    case v1::DAY:
      return DayRange{day, day};
    case v1::WEEK: {
      int64_t back = (static_cast<int>(absl::GetWeekday(d)) - static_cast<int>(absl::Weekday::monday) + 7) % 7;
      return DayRange{day - back, day - back + 6};
    }
    case v1::MONTH: {
      absl::CivilMonth m(d);
      return DayRange{DayOfCivil(absl::CivilDay(m)), DayOfCivil(absl::CivilDay(m + 1)) - 1};
    }
    case v1::QUARTER: {
      absl::CivilMonth m(d.year(), (d.month() - 1) / 3 * 3 + 1);
      return DayRange{DayOfCivil(absl::CivilDay(m)), DayOfCivil(absl::CivilDay(m + 3)) - 1};
    }
    case v1::YEAR: {
      absl::CivilYear y(d);
      return DayRange{DayOfCivil(absl::CivilDay(y)), DayOfCivil(absl::CivilDay(y + 1)) - 1};
    }
    case v1::CUSTOM: {
      MARKET_ASSIGN_OR_RETURN(int64_t last, ParseDay(to, "to_date"));
      if (last < day) return InvalidField("to_date", "before from_date");
      if (last - day + 1 > kMaxCustomDays) {
        return InvalidField("to_date", absl::StrFormat("more than %d days after from_date",
                                                       kMaxCustomDays - 1));
      }
      return DayRange{day, last};
    }
    default:
      return InvalidField("period", "required: DAY, WEEK, MONTH, QUARTER, YEAR or CUSTOM");
  }
}

}  // namespace market::stats
