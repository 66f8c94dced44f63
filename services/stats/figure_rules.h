// The figure families other than trade (after-sales, appraisal, listings and
// market entities) as counter cells: what one entity snapshot
// (stats.v1.FigureSnapshot) contributes to the daily counters. A change of an
// entity takes back its previous snapshot's cells and adds the new ones, so
// the counters always equal the sum over the latest snapshots (what a rebuild
// recomputes). Pure functions.
#ifndef MARKET_SERVICES_STATS_FIGURE_RULES_H_
#define MARKET_SERVICES_STATS_FIGURE_RULES_H_

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "market/stats/v1/stats.pb.h"

namespace market::stats {

// Which counter table a cell lives in.
enum class CellTable {
  kDaily,     // figure_daily: a count
  kValues,    // figure_values: a histogram of `value` (e.g. days to resolution)
  kSubjects,  // figure_subjects: `subject` was present (distinct counts)
};

struct FigureCell {
  CellTable table = CellTable::kDaily;
  int64_t day = 0;  // China-time day number
  std::string metric;
  std::string market, region, firm, seller;
  int64_t category = 0;
  int64_t value = 0;    // kValues
  std::string subject;  // kSubjects

  auto Key() const {
    return std::tie(table, day, metric, market, category, region, firm, seller, value, subject);
  }
  bool operator<(const FigureCell& o) const { return Key() < o.Key(); }
};

const char* CellTableName(CellTable t);

// INVALID_ARGUMENT naming the field (snapshot.*) of a snapshot that cannot be
// counted: no entity, version or time, no state, a state without its times.
absl::Status ValidateSnapshot(const v1::FigureSnapshot& s);

// The cells `s` contributes (each with count 1). `s` must be valid.
std::vector<FigureCell> Contributions(const v1::FigureSnapshot& s);

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_FIGURE_RULES_H_
