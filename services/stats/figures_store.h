// The figure families other than trade in stats.db: the latest snapshot of
// every source entity (claims, appraisals, disputes, listings) and the
// counters derived from them (figure_rules.h), updated in the same
// transaction as the snapshot (idempotent by event id):
//   figure_daily(day, metric, market, category, region, firm, seller)    n
//   figure_values(…, value)       n: a per-day histogram (medians, means)
//   figure_subjects(…, subject)   n: presence, for distinct counts
// A query reads counter rows only (O(groups × days), the distinct counts
// O(subjects × days)), never the snapshots. Rebuild recomputes every counter
// from the snapshots. Shares StatsStore's database. Thread-safe.
#ifndef MARKET_SERVICES_STATS_FIGURES_STORE_H_
#define MARKET_SERVICES_STATS_FIGURES_STORE_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sqlite/database.h"
#include "market/stats/v1/stats.pb.h"
#include "services/stats/credit_figures.h"
#include "services/stats/stats_store.h"

namespace market::stats {

// The stats.db migration that creates the figure tables (in StatsStore's list).
extern const char kFiguresSchema[];
// stats.db migration 5: metric-first indexes, so a query reads only its own
// metrics' rows of its day range (the primary keys start with the day).
extern const char kFiguresMetricIndexes[];

// One column of a figure query and how it is computed from the counters.
struct FigureColumn {
  enum Agg {
    kSum,       // SUM(n) of `metric` in figure_daily
    kMedian,    // lower median of `metric`'s histogram in figure_values
    kMean,      // mean of the histogram (integer division)
    kDistinct,  // distinct subjects of `metric` in figure_subjects
    kFirstIn,   // subjects of `metric` whose first day in the group is in range
    kPermille,  // SUM(metric) * 1000 / SUM(of), 0 when SUM(of) is 0
  };
  std::string name;
  Agg agg = kSum;
  std::string metric;
  std::string of;  // kPermille
};

class FiguresStore {
 public:
  // `db` (stats.db, opened by StatsStore with kFiguresSchema) must outlive it.
  explicit FiguresStore(sqlite::Database* db) : db_(db) {}

  // Applies `s` (valid per ValidateSnapshot); false when `event_id` was seen
  // before or a snapshot of the entity with the same or a newer version is stored.
  absl::StatusOr<bool> Apply(const std::string& event_id, const v1::FigureSnapshot& s);
  // Applies many (each valid) in one transaction (bulk loads: bench, imports).
  absl::Status ApplyMany(const std::vector<std::pair<std::string, v1::FigureSnapshot>>& events);

  // One row per group key (sorted), values in `columns` order.
  absl::StatusOr<std::vector<v1::FigureRow>> Query(const std::vector<FigureColumn>& columns,
                                                  const TradeQuery& q);

  // The credit figures (credit_figures.h) of `range`, per role with `by_role`.
  absl::StatusOr<CreditRows> QueryCredit(DayRange range, bool by_role);

  // Compares the counters with the sums over the stored snapshots, adding
  // every difference to `resp`; with `repair` replaces the counters.
  absl::Status Rebuild(bool repair, v1::RebuildTradeResponse& resp);

 private:
  sqlite::Database* db_;
};

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_FIGURES_STORE_H_
