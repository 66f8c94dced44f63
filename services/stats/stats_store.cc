#include "services/stats/stats_store.h"

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "services/stats/price_histogram.h"
#include "services/stats/credit_figures.h"
#include "services/stats/figures_store.h"

namespace market::stats {

using sqlite::Connection;
using sqlite::Statement;

namespace {

const std::vector<sqlite::Migration>& Migrations() {
  static const auto* migrations = new std::vector<sqlite::Migration>{{1, R"sql(
CREATE TABLE events(event_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE markets(market TEXT PRIMARY KEY, region TEXT NOT NULL, operator TEXT NOT NULL)
  WITHOUT ROWID;
CREATE INDEX markets_operator ON markets(operator);
CREATE TABLE trade_facts(
  order_name TEXT PRIMARY KEY, market TEXT NOT NULL, region TEXT NOT NULL,
  category INTEGER NOT NULL, seller TEXT NOT NULL, buyer TEXT NOT NULL,
  price_fen INTEGER NOT NULL, swap INTEGER NOT NULL,
  place_day INTEGER, complete_day INTEGER, cancel_day INTEGER) WITHOUT ROWID;
CREATE TABLE trade_daily(
  day INTEGER NOT NULL, market TEXT NOT NULL, category INTEGER NOT NULL, region TEXT NOT NULL,
  placed INTEGER NOT NULL, completed INTEGER NOT NULL, cancelled INTEGER NOT NULL,
  swaps INTEGER NOT NULL, gross_fen INTEGER NOT NULL,
  PRIMARY KEY(day, market, category, region)) WITHOUT ROWID;
CREATE TABLE trade_seller_daily(
  day INTEGER NOT NULL, seller TEXT NOT NULL, market TEXT NOT NULL, category INTEGER NOT NULL,
  region TEXT NOT NULL,
  placed INTEGER NOT NULL, completed INTEGER NOT NULL, cancelled INTEGER NOT NULL,
  swaps INTEGER NOT NULL, gross_fen INTEGER NOT NULL,
  PRIMARY KEY(day, seller, market, category, region)) WITHOUT ROWID;
CREATE TABLE trade_prices(
  day INTEGER NOT NULL, market TEXT NOT NULL, category INTEGER NOT NULL, region TEXT NOT NULL,
  price_fen INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY(day, market, category, region, price_fen)) WITHOUT ROWID;
CREATE TABLE trade_seller_prices(
  day INTEGER NOT NULL, seller TEXT NOT NULL, market TEXT NOT NULL, category INTEGER NOT NULL,
  region TEXT NOT NULL, price_fen INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY(day, seller, market, category, region, price_fen)) WITHOUT ROWID;
CREATE TABLE trade_parties(
  month INTEGER NOT NULL, region TEXT NOT NULL, category INTEGER NOT NULL, subject TEXT NOT NULL,
  PRIMARY KEY(month, region, category, subject)) WITHOUT ROWID;
)sql"},
                                                                    {2, R"sql(
CREATE TABLE trade_monthly(
  month INTEGER NOT NULL, market TEXT NOT NULL, category INTEGER NOT NULL, region TEXT NOT NULL,
  placed INTEGER NOT NULL, completed INTEGER NOT NULL, cancelled INTEGER NOT NULL,
  swaps INTEGER NOT NULL, gross_fen INTEGER NOT NULL, prices BLOB NOT NULL DEFAULT x'',
  PRIMARY KEY(month, market, category, region)) WITHOUT ROWID;
CREATE TABLE trade_seller_monthly(
  month INTEGER NOT NULL, seller TEXT NOT NULL, market TEXT NOT NULL, category INTEGER NOT NULL,
  region TEXT NOT NULL,
  placed INTEGER NOT NULL, completed INTEGER NOT NULL, cancelled INTEGER NOT NULL,
  swaps INTEGER NOT NULL, gross_fen INTEGER NOT NULL, prices BLOB NOT NULL DEFAULT x'',
  PRIMARY KEY(month, seller, market, category, region)) WITHOUT ROWID;
-- Filled from trade_facts by StatsStore::Open (the price blobs need C++).
CREATE TABLE rollups_pending(table_name TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO rollups_pending VALUES('trade_monthly'), ('trade_seller_monthly');
)sql"},
                                                                    {3, kFiguresSchema},
                                                                    {4, kCreditFiguresSchema},
                                                                    {5, kFiguresMetricIndexes}};
  return *migrations;
}

// The month number of a day number column, in SQL (see MonthOfDay).
constexpr char kMonthSql[] =
    "(CAST(strftime('%Y', {d} * 86400, 'unixepoch') AS INTEGER) * 12 + "
    "CAST(strftime('%m', {d} * 86400, 'unixepoch') AS INTEGER) - 1)";

std::string MonthSql(const char* column) {
  return absl::StrReplaceAll(kMonthSql, {{"{d}", column}});
}

// The group key of a counter row, as SQL over the counter tables' columns.
const char* KeyExpr(v1::GroupBy g) {
  switch (g) {
    case v1::CATEGORY: return "category";
    case v1::MARKET: return "market";
    case v1::COUNTY: return "region";
    case v1::CITY: return "substr(region, 1, 4) || '00'";
    case v1::PROVINCE: return "substr(region, 1, 2) || '0000'";
    case v1::SELLER: return "seller";
    default: return "''";
  }
}

// The filters of a query on daily (`period` "day") or monthly counters.
std::string Where(const char* period) {
  return absl::StrCat(
      " WHERE ", period, " BETWEEN ?1 AND ?2 AND (?3 = '' OR substr(region, 1, length(?3)) = ?3)"
      " AND (?4 = 0 OR category = ?4) AND (?5 = '' OR instr(?5, ',' || market || ',') > 0)");
}

// Binds the filters of `q` and the period numbers first..last.
absl::Status BindQuery(Statement& st, const TradeQuery& q, DayRange periods) {
  MARKET_RETURN_IF_ERROR(st.Bind(1, periods.first));
  MARKET_RETURN_IF_ERROR(st.Bind(2, periods.last));
  MARKET_RETURN_IF_ERROR(st.BindText(3, q.region));
  MARKET_RETURN_IF_ERROR(st.Bind(4, static_cast<int64_t>(q.category)));
  return st.BindText(5, q.markets.empty() ? "" : absl::StrCat(",", absl::StrJoin(q.markets, ","), ","));
}

int64_t MonthStart(int64_t month) {
  return DayOfCivil(absl::CivilDay(month / 12, month % 12 + 1, 1));
}

// A day range as the whole months inside it (read from the monthly rollups)
// and the days at its edges outside them (read from the daily counters).
struct SplitRange {
  std::vector<DayRange> days;
  std::optional<DayRange> months;
};

SplitRange Split(DayRange r) {
  const int64_t m0 = MonthOfDay(r.first), m1 = MonthOfDay(r.last);
  const int64_t first_whole = MonthStart(m0) == r.first ? m0 : m0 + 1;
  const int64_t last_whole = MonthStart(m1 + 1) - 1 == r.last ? m1 : m1 - 1;
  if (first_whole > last_whole) return {{r}, std::nullopt};
  SplitRange s{{}, DayRange{first_whole, last_whole}};
  if (r.first < MonthStart(first_whole)) s.days.push_back({r.first, MonthStart(first_whole) - 1});
  if (MonthStart(last_whole + 1) <= r.last) s.days.push_back({MonthStart(last_whole + 1), r.last});
  return s;
}

// The counter upsert of one event into a daily or monthly table: ?1 day or
// month, ?2 market, ?3 category, ?4 region, ?5..?8 placed, completed,
// cancelled, swaps, ?9 seller, ?10 gross. Monthly upserts return the row's
// price histogram.
std::string UpsertSql(bool per_seller, bool monthly) {
  return absl::StrCat(
      "INSERT INTO ", per_seller ? "trade_seller_" : "trade_", monthly ? "monthly" : "daily", "(",
      monthly ? "month" : "day", per_seller ? ", seller" : "",
      ", market, category, region, placed, completed, cancelled, swaps, gross_fen) VALUES(?1, ",
      per_seller ? "?9, " : "",
      "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10) ON CONFLICT DO UPDATE SET placed = placed + "
      "excluded.placed, completed = completed + excluded.completed, cancelled = cancelled + "
      "excluded.cancelled, swaps = swaps + excluded.swaps, gross_fen = gross_fen + "
      "excluded.gross_fen",
      monthly ? " RETURNING prices" : "");
}

std::string RowKey(v1::GroupBy g, std::string key) {
  if (g != v1::CATEGORY) return key;
  int64_t n = 0;
  if (!absl::SimpleAtoi(key, &n)) return key;
  return CategoryKey(static_cast<common::v1::Category>(n));
}

// One counter table: how its rows are read as stored and as recomputed from
// trade_facts (same columns: keys..., values...), and how a repair refills it.
struct CounterTable {
  std::string name;
  std::vector<std::string> keys;    // first one is the day (or month) number
  std::vector<std::string> values;
  std::string recompute;            // SELECT keys..., values... FROM trade_facts …
  // Rollups: the price histogram blob column `prices`, recomputed by this
  // SELECT keys..., price_fen, n FROM trade_facts … ORDER BY keys, price_fen.
  std::string prices;
};

// Events of every fact as (day, placed, completed, cancelled, swaps, gross).
constexpr char kFactEvents[] = R"sql(
  SELECT place_day AS day, market, category, region, seller, buyer, price_fen, swap,
         1 AS placed, 0 AS completed, 0 AS cancelled FROM trade_facts WHERE place_day IS NOT NULL
  UNION ALL SELECT complete_day, market, category, region, seller, buyer, price_fen, swap, 0, 1, 0
         FROM trade_facts WHERE complete_day IS NOT NULL
  UNION ALL SELECT cancel_day, market, category, region, seller, buyer, price_fen, swap, 0, 0, 1
         FROM trade_facts WHERE cancel_day IS NOT NULL)sql";

const std::vector<CounterTable>& CounterTables() {
  static const auto* tables = [] {
    const std::string sums =
        "SUM(placed), SUM(completed), SUM(cancelled), SUM(completed * swap), "
        "SUM(CASE WHEN completed = 1 AND swap = 0 THEN price_fen ELSE 0 END)";
    const std::vector<std::string> values = {"placed", "completed", "cancelled", "swaps",
                                             "gross_fen"};
    const std::string month = MonthSql("day");
    const std::string complete_month = MonthSql("complete_day");
    const std::string sold = " FROM trade_facts WHERE complete_day IS NOT NULL AND swap = 0 ";
    auto* t = new std::vector<CounterTable>{
        {"trade_daily", {"day", "market", "category", "region"}, values,
         absl::StrCat("SELECT day, market, category, region, ", sums, " FROM (", kFactEvents,
                      ") GROUP BY 1, 2, 3, 4")},
        {"trade_seller_daily", {"day", "seller", "market", "category", "region"}, values,
         absl::StrCat("SELECT day, seller, market, category, region, ", sums, " FROM (",
                      kFactEvents, ") GROUP BY 1, 2, 3, 4, 5")},
        {"trade_prices", {"day", "market", "category", "region", "price_fen"}, {"n"},
         "SELECT complete_day, market, category, region, price_fen, COUNT(*) FROM trade_facts "
         "WHERE complete_day IS NOT NULL AND swap = 0 GROUP BY 1, 2, 3, 4, 5"},
        {"trade_seller_prices", {"day", "seller", "market", "category", "region", "price_fen"},
         {"n"},
         "SELECT complete_day, seller, market, category, region, price_fen, COUNT(*) "
         "FROM trade_facts WHERE complete_day IS NOT NULL AND swap = 0 "
         "GROUP BY 1, 2, 3, 4, 5, 6"},
        {"trade_parties", {"month", "region", "category", "subject"}, {},
         absl::StrCat("SELECT DISTINCT ", MonthSql("day"), ", region, category, seller FROM (",
                      kFactEvents, ") UNION SELECT DISTINCT ", MonthSql("day"),
                      ", region, category, buyer FROM (", kFactEvents, ")")},
        {"trade_monthly", {"month", "market", "category", "region"}, values,
         absl::StrCat("SELECT ", month, ", market, category, region, ", sums, " FROM (",
                      kFactEvents, ") GROUP BY 1, 2, 3, 4"),
         absl::StrCat("SELECT ", complete_month, ", market, category, region, price_fen, COUNT(*)",
                      sold, "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5")},
        {"trade_seller_monthly", {"month", "seller", "market", "category", "region"}, values,
         absl::StrCat("SELECT ", month, ", seller, market, category, region, ", sums, " FROM (",
                      kFactEvents, ") GROUP BY 1, 2, 3, 4, 5"),
         absl::StrCat("SELECT ", complete_month,
                      ", seller, market, category, region, price_fen, COUNT(*)", sold,
                      "GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6")},
    };
    return t;
  }();
  return *tables;
}

// The name of the counter row `st` is on (its key columns come first).
std::string CounterKey(const CounterTable& t, const Statement& st) {
  int64_t first = st.ColumnInt64(0);
  std::string key = absl::StrCat(
      t.name, " ",
      t.keys[0] == "day" ? FormatDay(first)
                         : absl::StrFormat("%04d-%02d", first / 12, first % 12 + 1));
  for (size_t i = 1; i < t.keys.size(); ++i) {
    std::string v = st.ColumnText(static_cast<int>(i));
    if (t.keys[i] == "category") v = RowKey(v1::CATEGORY, v);
    absl::StrAppend(&key, " ", v);
  }
  return key;
}

std::string PriceCounter(const std::string& key, int index) {
  return absl::StrCat(key, " price ", BucketOfIndex(index));
}

// One rollup row's histogram recomputed from trade_facts: the counter
// name, the key columns' values as text, the histogram.
struct RecomputedHistogram {
  std::string name;
  std::vector<std::string> keys;
  SparseHistogram histogram;
};

// Runs t.prices (ordered by key, then price): one entry per key.
absl::StatusOr<std::vector<RecomputedHistogram>> RecomputeHistograms(Connection& c,
                                                                     const CounterTable& t) {
  std::vector<RecomputedHistogram> out;
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(t.prices));
  const int price = static_cast<int>(t.keys.size());
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) return out;
    std::string name = CounterKey(t, st);
    if (out.empty() || out.back().name != name) {
      RecomputedHistogram& r = out.emplace_back();
      r.name = std::move(name);
      for (int i = 0; i < price; ++i) r.keys.push_back(st.ColumnText(i));
    }
    AddToHistogram(out.back().histogram, BucketIndex(st.ColumnInt64(price)),
                   st.ColumnInt64(price + 1));
  }
}

// Reads `sql`'s rows into key text → value per value column (presence: 1);
// with `prices`, the row's histogram blob (after the values) as one counter
// per bucket ("… price 123000"), a malformed blob as "… prices" = -1.
absl::Status ReadCounters(Connection& c, const CounterTable& t, const std::string& sql,
                          std::map<std::string, int64_t>& out, bool prices = false) {
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  SparseHistogram h;
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) return absl::OkStatus();
    std::string key = CounterKey(t, st);
    if (prices) {
      if (!DecodeHistogram(st.ColumnBlob(static_cast<int>(t.keys.size() + t.values.size())), h)) {
        out[absl::StrCat(key, " prices")] = -1;
      }
      for (const auto& [index, n] : h) out[PriceCounter(key, index)] = n;
    }
    if (t.values.empty()) {
      out[key] = 1;
      continue;
    }
    for (size_t i = 0; i < t.values.size(); ++i) {
      out[absl::StrCat(key, " ", t.values[i])] =
          st.ColumnInt64(static_cast<int>(t.keys.size() + i));
    }
  }
}

// Replaces every row of `t` by the rows recomputed from trade_facts.
absl::Status Refill(Connection& c, const CounterTable& t) {
  std::vector<std::string> cols = t.keys;
  cols.insert(cols.end(), t.values.begin(), t.values.end());
  MARKET_RETURN_IF_ERROR(c.Exec(absl::StrCat("DELETE FROM ", t.name)));
  MARKET_ASSIGN_OR_RETURN(Statement fill,
                          c.Prepare(absl::StrCat("INSERT INTO ", t.name, "(",
                                                 absl::StrJoin(cols, ", "), ") ", t.recompute)));
  MARKET_RETURN_IF_ERROR(fill.Run());
  if (t.prices.empty()) return absl::OkStatus();
  MARKET_ASSIGN_OR_RETURN(std::vector<RecomputedHistogram> histograms, RecomputeHistograms(c, t));
  std::vector<std::string> where;
  for (size_t i = 0; i < t.keys.size(); ++i) where.push_back(absl::StrCat(t.keys[i], " = ?", i + 2));
  MARKET_ASSIGN_OR_RETURN(Statement up, c.Prepare(absl::StrCat("UPDATE ", t.name,
                                                                " SET prices = ?1 WHERE ",
                                                                absl::StrJoin(where, " AND "))));
  for (const RecomputedHistogram& r : histograms) {
    up.Reset();
    MARKET_RETURN_IF_ERROR(up.BindBlob(1, EncodeHistogram(r.histogram)));
    for (size_t i = 0; i < t.keys.size(); ++i) {
      int64_t n = 0;
      const bool number = i == 0 || t.keys[i] == "category";
      if (number && !absl::SimpleAtoi(r.keys[i], &n)) {
        return absl::InternalError(absl::StrCat("non-numeric ", t.keys[i], " in ", r.name));
      }
      MARKET_RETURN_IF_ERROR(number ? up.Bind(static_cast<int>(i) + 2, n)
                                    : up.BindText(static_cast<int>(i) + 2, r.keys[i]));
    }
    MARKET_RETURN_IF_ERROR(up.Run());
  }
  return absl::OkStatus();
}

}  // namespace

std::string CategoryKey(common::v1::Category category) {
  return common::v1::Category_Name(category);
}

absl::StatusOr<std::unique_ptr<StatsStore>> StatsStore::Open(const std::string& path) {
  sqlite::Options options;
  options.synchronous = sqlite::Options::Synchronous::kFull;
  MARKET_ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, options, Migrations()));
  // Rollups added by a migration are filled from the facts once.
  MARKET_RETURN_IF_ERROR(db->Write([](Connection& c) -> absl::Status {
    std::set<std::string> pending;
    {
      MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT table_name FROM rollups_pending"));
      while (true) {
        MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
        if (!more) break;
        pending.insert(st.ColumnText(0));
      }
    }
    if (pending.empty()) return absl::OkStatus();
    for (const CounterTable& t : CounterTables()) {
      if (pending.contains(t.name)) MARKET_RETURN_IF_ERROR(Refill(c, t));
    }
    return c.Exec("DELETE FROM rollups_pending");
  }));
  return std::unique_ptr<StatsStore>(new StatsStore(std::move(db)));
}

absl::StatusOr<bool> StatsStore::ApplyTradeEvent(const std::string& event_id,
                                                 const v1::TradeEvent& event) {
  bool applied = false;
  MARKET_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(applied, Apply(c, event_id, event));
    return absl::OkStatus();
  }));
  return applied;
}

absl::Status StatsStore::ApplyTradeEvents(
    const std::vector<std::pair<std::string, v1::TradeEvent>>& events) {
  return db_->Write([&](Connection& c) -> absl::Status {
    for (const auto& [id, e] : events) MARKET_RETURN_IF_ERROR(Apply(c, id, e).status());
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> StatsStore::Apply(Connection& c, const std::string& event_id,
                                       const v1::TradeEvent& e) {
  Violations v;
  if (e.kind() == v1::TradeEvent::KIND_UNSPECIFIED) v.Add("event.kind", "required");
  if (e.order().empty()) v.Add("event.order", "required");
  if (!e.has_time()) v.Add("event.time", "required");
  if (e.category() == common::v1::CATEGORY_UNSPECIFIED) v.Add("event.category", "required");
  if (e.price_fen() < 0) v.Add("event.price_fen", "must be >= 0");
  MARKET_RETURN_IF_ERROR(v.ToStatus());
  MARKET_ASSIGN_OR_RETURN(Statement seen,
                          c.Prepare("INSERT INTO events(event_id) VALUES(?1) ON CONFLICT DO NOTHING"));
  MARKET_RETURN_IF_ERROR(seen.BindText(1, event_id));
  MARKET_RETURN_IF_ERROR(seen.Run());
  if (c.Changes() == 0) return false;

  const int64_t day = DayOf(FromTimestamp(e.time()));
  const std::string market = e.order().substr(0, e.order().find("/orders/"));
  MARKET_ASSIGN_OR_RETURN(
      Statement fact,
      c.Prepare("INSERT INTO trade_facts(order_name, market, region, category, seller, buyer, "
                "price_fen, swap, place_day, complete_day, cancel_day) "
                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT(order_name) DO "
                "UPDATE SET place_day = coalesce(excluded.place_day, place_day), "
                "complete_day = coalesce(excluded.complete_day, complete_day), "
                "cancel_day = coalesce(excluded.cancel_day, cancel_day) "
                "RETURNING market, region, category, seller, buyer, price_fen, swap"));
  MARKET_RETURN_IF_ERROR(fact.BindText(1, e.order()));
  MARKET_RETURN_IF_ERROR(fact.BindText(2, market));
  MARKET_RETURN_IF_ERROR(fact.BindText(3, e.region_code()));
  MARKET_RETURN_IF_ERROR(fact.Bind(4, static_cast<int64_t>(e.category())));
  MARKET_RETURN_IF_ERROR(fact.BindText(5, e.seller()));
  MARKET_RETURN_IF_ERROR(fact.BindText(6, e.buyer()));
  MARKET_RETURN_IF_ERROR(fact.Bind(7, e.price_fen()));
  MARKET_RETURN_IF_ERROR(fact.Bind(8, static_cast<int64_t>(e.swap() ? 1 : 0)));
  for (int k = 0; k < 3; ++k) {
    if (e.kind() == k + 1) {
      MARKET_RETURN_IF_ERROR(fact.Bind(9 + k, day));
    } else {
      MARKET_RETURN_IF_ERROR(fact.BindNull(9 + k));
    }
  }
  MARKET_ASSIGN_OR_RETURN(bool row, fact.Step());
  if (!row) return absl::InternalError("trade_facts upsert returned no row");
  // Counters follow the fact's first-seen attributes, as a rebuild does.
  const std::string f_market = fact.ColumnText(0), region = fact.ColumnText(1);
  const int64_t category = fact.ColumnInt64(2);
  const std::string seller = fact.ColumnText(3), buyer = fact.ColumnText(4);
  const int64_t price = fact.ColumnInt64(5);
  const bool swap = fact.ColumnInt64(6) != 0;
  MARKET_ASSIGN_OR_RETURN(bool more, fact.Step());
  (void)more;

  MARKET_ASSIGN_OR_RETURN(
      Statement m, c.Prepare("INSERT INTO markets(market, region, operator) VALUES(?1, ?2, ?3) "
                             "ON CONFLICT DO UPDATE SET region = excluded.region, "
                             "operator = excluded.operator"));
  MARKET_RETURN_IF_ERROR(m.BindText(1, market));
  MARKET_RETURN_IF_ERROR(m.BindText(2, e.region_code()));
  MARKET_RETURN_IF_ERROR(m.BindText(3, e.market_operator()));
  MARKET_RETURN_IF_ERROR(m.Run());

  const bool completed = e.kind() == v1::TradeEvent::COMPLETED;
  const int64_t deltas[5] = {e.kind() == v1::TradeEvent::PLACED, completed,
                             e.kind() == v1::TradeEvent::CANCELLED, completed && swap,
                             completed && !swap ? price : 0};
  for (bool per_seller : {false, true}) {
    for (bool monthly : {false, true}) {
      MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(UpsertSql(per_seller, monthly)));
      MARKET_RETURN_IF_ERROR(st.Bind(1, monthly ? MonthOfDay(day) : day));
      MARKET_RETURN_IF_ERROR(st.BindText(2, f_market));
      MARKET_RETURN_IF_ERROR(st.Bind(3, category));
      MARKET_RETURN_IF_ERROR(st.BindText(4, region));
      for (int i = 0; i < 4; ++i) MARKET_RETURN_IF_ERROR(st.Bind(5 + i, deltas[i]));
      if (per_seller) MARKET_RETURN_IF_ERROR(st.BindText(9, seller));
      MARKET_RETURN_IF_ERROR(st.Bind(10, deltas[4]));
      if (!monthly) {
        MARKET_RETURN_IF_ERROR(st.Run());
        continue;
      }
      MARKET_ASSIGN_OR_RETURN(bool returned, st.Step());
      if (!returned) return absl::InternalError("monthly upsert returned no row");
      SparseHistogram h;
      const bool well_formed = DecodeHistogram(st.ColumnBlob(0), h);
      MARKET_ASSIGN_OR_RETURN(bool more_rows, st.Step());
      (void)more_rows;
      if (!completed || swap) continue;
      // A malformed blob (changed behind the service's back) starts over;
      // the rebuild check reports it.
      if (!well_formed) h.clear();
      AddToHistogram(h, BucketIndex(price), 1);
      MARKET_ASSIGN_OR_RETURN(
          Statement up,
          c.Prepare(per_seller ? "UPDATE trade_seller_monthly SET prices = ?1 WHERE month = ?2 "
                                 "AND market = ?3 AND category = ?4 AND region = ?5 AND seller = ?6"
                               : "UPDATE trade_monthly SET prices = ?1 WHERE month = ?2 AND "
                                 "market = ?3 AND category = ?4 AND region = ?5"));
      MARKET_RETURN_IF_ERROR(up.BindBlob(1, EncodeHistogram(h)));
      MARKET_RETURN_IF_ERROR(up.Bind(2, MonthOfDay(day)));
      MARKET_RETURN_IF_ERROR(up.BindText(3, f_market));
      MARKET_RETURN_IF_ERROR(up.Bind(4, category));
      MARKET_RETURN_IF_ERROR(up.BindText(5, region));
      if (per_seller) MARKET_RETURN_IF_ERROR(up.BindText(6, seller));
      MARKET_RETURN_IF_ERROR(up.Run());
    }
    if (!completed || swap) continue;
    MARKET_ASSIGN_OR_RETURN(
        Statement p,
        c.Prepare(per_seller ? "INSERT INTO trade_seller_prices VALUES(?1, ?6, ?2, ?3, ?4, ?5, 1) "
                               "ON CONFLICT DO UPDATE SET n = n + 1"
                             : "INSERT INTO trade_prices VALUES(?1, ?2, ?3, ?4, ?5, 1) "
                               "ON CONFLICT DO UPDATE SET n = n + 1"));
    MARKET_RETURN_IF_ERROR(p.Bind(1, day));
    MARKET_RETURN_IF_ERROR(p.BindText(2, f_market));
    MARKET_RETURN_IF_ERROR(p.Bind(3, category));
    MARKET_RETURN_IF_ERROR(p.BindText(4, region));
    MARKET_RETURN_IF_ERROR(p.Bind(5, price));
    if (per_seller) MARKET_RETURN_IF_ERROR(p.BindText(6, seller));
    MARKET_RETURN_IF_ERROR(p.Run());
  }
  MARKET_ASSIGN_OR_RETURN(
      Statement parties,
      c.Prepare("INSERT INTO trade_parties VALUES(?1, ?2, ?3, ?4), (?1, ?2, ?3, ?5) "
                "ON CONFLICT DO NOTHING"));
  MARKET_RETURN_IF_ERROR(parties.Bind(1, MonthOfDay(day)));
  MARKET_RETURN_IF_ERROR(parties.BindText(2, region));
  MARKET_RETURN_IF_ERROR(parties.Bind(3, category));
  MARKET_RETURN_IF_ERROR(parties.BindText(4, seller));
  MARKET_RETURN_IF_ERROR(parties.BindText(5, buyer));
  MARKET_RETURN_IF_ERROR(parties.Run());
  return true;
}

absl::StatusOr<std::vector<v1::TradeRow>> StatsStore::QueryTrade(const TradeQuery& q) {
  const bool seller = q.group_by == v1::SELLER;
  const std::string key = KeyExpr(q.group_by);
  const std::string values = "placed, completed, cancelled, swaps, gross_fen";
  // Edge days: counters summed per key and the exact day prices, bucketed here.
  const std::string daily = absl::StrCat(
      "SELECT ", key, ", SUM(placed), SUM(completed), SUM(cancelled), SUM(swaps), "
      "SUM(gross_fen) FROM ", seller ? "trade_seller_daily" : "trade_daily", Where("day"),
      " GROUP BY 1");
  const std::string daily_prices =
      absl::StrCat("SELECT ", key, ", price_fen, SUM(n) FROM ",
                   seller ? "trade_seller_prices" : "trade_prices", Where("day"), " GROUP BY 1, 2");
  // Whole months: one rollup row per month and group, with its histogram.
  const std::string monthly =
      absl::StrCat("SELECT ", key, ", ", values, ", prices FROM ",
                   seller ? "trade_seller_monthly" : "trade_monthly", Where("month"));
  const SplitRange split = Split(q.range);
  struct Group {
    v1::TradeRow row;
    MergedHistogram prices;
  };
  std::vector<v1::TradeRow> rows;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    std::map<std::string, Group> by_key;
    auto add = [](v1::TradeRow& r, const Statement& st) {
      r.set_orders_placed(r.orders_placed() + st.ColumnInt64(1));
      r.set_orders_completed(r.orders_completed() + st.ColumnInt64(2));
      r.set_orders_cancelled(r.orders_cancelled() + st.ColumnInt64(3));
      r.set_swaps_completed(r.swaps_completed() + st.ColumnInt64(4));
      r.set_gross_fen(r.gross_fen() + st.ColumnInt64(5));
    };
    for (const DayRange& days : split.days) {
      MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(daily));
      MARKET_RETURN_IF_ERROR(BindQuery(st, q, days));
      while (true) {
        MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
        if (!more) break;
        add(by_key[st.ColumnText(0)].row, st);
      }
      MARKET_ASSIGN_OR_RETURN(Statement p, c.Prepare(daily_prices));
      MARKET_RETURN_IF_ERROR(BindQuery(p, q, days));
      while (true) {
        MARKET_ASSIGN_OR_RETURN(bool more, p.Step());
        if (!more) break;
        by_key[p.ColumnText(0)].prices.Add(BucketIndex(p.ColumnInt64(1)), p.ColumnInt64(2));
      }
    }
    if (split.months) {
      MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(monthly));
      MARKET_RETURN_IF_ERROR(BindQuery(st, q, *split.months));
      while (true) {
        MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
        if (!more) break;
        Group& g = by_key[st.ColumnText(0)];
        add(g.row, st);
        // A malformed blob adds what it could decode; the rebuild reports it.
        (void)g.prices.AddEncoded(st.ColumnBlob(6));
      }
    }
    for (auto& [k, g] : by_key) {
      v1::TradeRow& r = g.row;
      const int64_t sold = r.orders_completed() - r.swaps_completed();
      if (sold > 0) {
        r.set_mean_price_fen(r.gross_fen() / sold);
        // Rank of the lower median: its bucket (see price_histogram.h).
        r.set_median_price_fen(g.prices.BucketOfRank((sold + 1) / 2));
      }
      r.set_key(RowKey(q.group_by, k));
      rows.push_back(std::move(r));
    }
    return absl::OkStatus();
  }));
  return rows;
}

absl::StatusOr<std::map<std::string, int64_t>> StatsStore::DistinctParties(
    int64_t month, v1::GroupBy group_by, const std::string& region) {
  std::map<std::string, int64_t> out;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare(group_by == v1::CATEGORY
                      ? "SELECT category, COUNT(DISTINCT subject) FROM trade_parties WHERE "
                        "month = ?1 AND substr(region, 1, length(?2)) = ?2 GROUP BY 1"
                      : "SELECT '', COUNT(DISTINCT subject) FROM trade_parties WHERE "
                        "month = ?1 AND substr(region, 1, length(?2)) = ?2"));
    MARKET_RETURN_IF_ERROR(st.Bind(1, month));
    MARKET_RETURN_IF_ERROR(st.BindText(2, region));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) return absl::OkStatus();
      out[RowKey(group_by, st.ColumnText(0))] = st.ColumnInt64(1);
    }
  }));
  return out;
}

absl::StatusOr<std::set<std::string>> StatsStore::MarketsOfOperator(
    const std::string& operator_subject) {
  std::set<std::string> out;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("SELECT market FROM markets WHERE operator = ?1"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, operator_subject));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) return absl::OkStatus();
      out.insert(st.ColumnText(0));
    }
  }));
  return out;
}

absl::StatusOr<v1::RebuildTradeResponse> StatsStore::RebuildTrade(bool repair) {
  v1::RebuildTradeResponse resp;
  auto check = [&](Connection& c) -> absl::Status {
    for (const CounterTable& t : CounterTables()) {
      std::map<std::string, int64_t> stored, recomputed;
      std::vector<std::string> cols = t.keys;
      cols.insert(cols.end(), t.values.begin(), t.values.end());
      const bool prices = !t.prices.empty();
      MARKET_RETURN_IF_ERROR(ReadCounters(c, t,
                                          absl::StrCat("SELECT ", absl::StrJoin(cols, ", "),
                                                       prices ? ", prices" : "", " FROM ", t.name),
                                          stored, prices));
      MARKET_RETURN_IF_ERROR(ReadCounters(c, t, t.recompute, recomputed));
      if (prices) {
        MARKET_ASSIGN_OR_RETURN(std::vector<RecomputedHistogram> histograms,
                                RecomputeHistograms(c, t));
        for (const RecomputedHistogram& r : histograms) {
          for (const auto& [index, n] : r.histogram) recomputed[PriceCounter(r.name, index)] = n;
        }
      }
      // A counter missing on one side counts 0.
      std::map<std::string, std::pair<int64_t, int64_t>> both;
      for (const auto& [k, n] : stored) both[k].first = n;
      for (const auto& [k, n] : recomputed) both[k].second = n;
      for (const auto& [name, pair] : both) {
        resp.set_counters_checked(resp.counters_checked() + 1);
        if (pair.first == pair.second) continue;
        v1::CounterDifference* d = resp.add_differences();
        d->set_counter(name);
        d->set_stored(pair.first);
        d->set_recomputed(pair.second);
      }
      if (repair) MARKET_RETURN_IF_ERROR(Refill(c, t));
    }
    return absl::OkStatus();
  };
  if (repair) {
    MARKET_RETURN_IF_ERROR(db_->Write(check));
    resp.set_repaired(true);
  } else {
    MARKET_RETURN_IF_ERROR(db_->Read(check));
  }
  return resp;
}

}  // namespace market::stats
