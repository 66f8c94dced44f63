// The statistics store (stats.db): order facts as received from listing's
// outbox, and the counters derived from them, updated in the same
// transaction as the fact (idempotent by event id):
//   trade_daily(day, market, category, region)        placed/completed/…/gross
//   trade_seller_daily(day, seller, market, category) the same per seller
//   trade_prices / trade_seller_prices(…, price_fen)  n: a per-day exact price
//     histogram of completed non-swap orders (rows per day and group are
//     bounded by the distinct prices, not by the orders)
//   trade_monthly / trade_seller_monthly(month, …)    the daily counters rolled
//     up per month, plus `prices`: the month's bucketed price histogram (a
//     blob of at most 900 buckets per power of ten, price_histogram.h)
//   trade_parties(month, region, category, subject)   distinct buyers/sellers
//     per month, for the public suppression rule
// A query reads the whole months of its range from the monthly rollups and
// the days at its edges from the daily counters: O(groups × (months + edge
// days)) rows, never the facts. The median is the bucket of the exact lower
// median (3 significant digits, see price_histogram.h). RebuildTrade
// recomputes every counter, rollups and their histograms included, from
// trade_facts.
// Thread-safe (sqlite::Database).
#ifndef MARKET_SERVICES_STATS_STATS_STORE_H_
#define MARKET_SERVICES_STATS_STATS_STORE_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sqlite/database.h"
#include "market/stats/v1/stats.pb.h"
#include "services/stats/stats_period.h"

namespace market::stats {

struct TradeQuery {
  DayRange range;
  v1::GroupBy group_by = v1::GROUP_BY_UNSPECIFIED;
  std::vector<std::string> markets;  // empty: every market
  std::string region;                // prefix; empty: every region
  common::v1::Category category = common::v1::CATEGORY_UNSPECIFIED;
};

class StatsStore {
 public:
  static absl::StatusOr<std::unique_ptr<StatsStore>> Open(const std::string& path);

  // Applies one order event (facts and counters, one transaction); false when
  // `event_id` was applied before. INVALID_ARGUMENT for an event without
  // kind, order, time or category.
  absl::StatusOr<bool> ApplyTradeEvent(const std::string& event_id, const v1::TradeEvent& event);
  // Applies many events in one transaction (bulk loads: bench, imports).
  absl::Status ApplyTradeEvents(const std::vector<std::pair<std::string, v1::TradeEvent>>& events);

  // One row per group, sorted by key; the mean and median are filled in.
  absl::StatusOr<std::vector<v1::TradeRow>> QueryTrade(const TradeQuery& q);
  // Distinct buyers and sellers trading in `month` (MonthOfDay) per key of
  // `group_by` (CATEGORY or GROUP_BY_UNSPECIFIED), in regions under `region`.
  absl::StatusOr<std::map<std::string, int64_t>> DistinctParties(int64_t month, v1::GroupBy group_by,
                                                                 const std::string& region);
  // Markets whose latest event named `operator_subject` as operator.
  absl::StatusOr<std::set<std::string>> MarketsOfOperator(const std::string& operator_subject);

  absl::StatusOr<v1::RebuildTradeResponse> RebuildTrade(bool repair);

  sqlite::Database& db() { return *db_; }

 private:
  explicit StatsStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  absl::StatusOr<bool> Apply(sqlite::Connection& c, const std::string& event_id,
                             const v1::TradeEvent& e);
  std::unique_ptr<sqlite::Database> db_;
};

// The key a category has in rows: its enum name, e.g. "PHONE".
std::string CategoryKey(common::v1::Category category);

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_STATS_STORE_H_
