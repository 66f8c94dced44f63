#include "services/stats/stats_store.h"

#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
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
)sql"}, {2, kFiguresSchema}};
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

constexpr char kWhere[] =
    " WHERE day BETWEEN ?1 AND ?2 AND (?3 = '' OR substr(region, 1, length(?3)) = ?3)"
    " AND (?4 = 0 OR category = ?4) AND (?5 = '' OR instr(?5, ',' || market || ',') > 0)";

absl::Status BindQuery(Statement& st, const TradeQuery& q) {
  MARKET_RETURN_IF_ERROR(st.Bind(1, q.range.first));
  MARKET_RETURN_IF_ERROR(st.Bind(2, q.range.last));
  MARKET_RETURN_IF_ERROR(st.BindText(3, q.region));
  MARKET_RETURN_IF_ERROR(st.Bind(4, static_cast<int64_t>(q.category)));
  return st.BindText(5, q.markets.empty() ? "" : absl::StrCat(",", absl::StrJoin(q.markets, ","), ","));
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
    };
    return t;
  }();
  return *tables;
}

// Reads `sql`'s rows into key text → value per value column (presence: 1).
absl::Status ReadCounters(Connection& c, const CounterTable& t, const std::string& sql,
                          std::map<std::string, int64_t>& out) {
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) return absl::OkStatus();
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

}  // namespace

std::string CategoryKey(common::v1::Category category) {
  return common::v1::Category_Name(category);
}

absl::StatusOr<std::unique_ptr<StatsStore>> StatsStore::Open(const std::string& path) {
  sqlite::Options options;
  options.synchronous = sqlite::Options::Synchronous::kFull;
  MARKET_ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, options, Migrations()));
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
    MARKET_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare(per_seller
                      ? "INSERT INTO trade_seller_daily VALUES(?1, ?9, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                        "?10) ON CONFLICT DO UPDATE SET placed = placed + excluded.placed, "
                        "completed = completed + excluded.completed, cancelled = cancelled + "
                        "excluded.cancelled, swaps = swaps + excluded.swaps, gross_fen = "
                        "gross_fen + excluded.gross_fen"
                      : "INSERT INTO trade_daily VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10) "
                        "ON CONFLICT DO UPDATE SET placed = placed + excluded.placed, "
                        "completed = completed + excluded.completed, cancelled = cancelled + "
                        "excluded.cancelled, swaps = swaps + excluded.swaps, gross_fen = "
                        "gross_fen + excluded.gross_fen"));
    MARKET_RETURN_IF_ERROR(st.Bind(1, day));
    MARKET_RETURN_IF_ERROR(st.BindText(2, f_market));
    MARKET_RETURN_IF_ERROR(st.Bind(3, category));
    MARKET_RETURN_IF_ERROR(st.BindText(4, region));
    for (int i = 0; i < 4; ++i) MARKET_RETURN_IF_ERROR(st.Bind(5 + i, deltas[i]));
    if (per_seller) MARKET_RETURN_IF_ERROR(st.BindText(9, seller));
    MARKET_RETURN_IF_ERROR(st.Bind(10, deltas[4]));
    MARKET_RETURN_IF_ERROR(st.Run());
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
  const std::string counters = absl::StrCat(
      "SELECT ", key, ", SUM(placed), SUM(completed), SUM(cancelled), SUM(swaps), "
      "SUM(gross_fen) FROM ", seller ? "trade_seller_daily" : "trade_daily", kWhere,
      " GROUP BY 1 ORDER BY 1");
  const std::string prices =
      absl::StrCat("SELECT ", key, ", price_fen, SUM(n) FROM ",
                   seller ? "trade_seller_prices" : "trade_prices", kWhere,
                   " GROUP BY 1, 2 ORDER BY 1, 2");
  std::vector<v1::TradeRow> rows;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    std::map<std::string, v1::TradeRow> by_key;
    MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(counters));
    MARKET_RETURN_IF_ERROR(BindQuery(st, q));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) break;
      v1::TradeRow& r = by_key[st.ColumnText(0)];
      r.set_orders_placed(st.ColumnInt64(1));
      r.set_orders_completed(st.ColumnInt64(2));
      r.set_orders_cancelled(st.ColumnInt64(3));
      r.set_swaps_completed(st.ColumnInt64(4));
      r.set_gross_fen(st.ColumnInt64(5));
      int64_t sold = r.orders_completed() - r.swaps_completed();
      if (sold > 0) r.set_mean_price_fen(r.gross_fen() / sold);
    }
    // Lower median per key from the merged histogram, read in price order.
    MARKET_ASSIGN_OR_RETURN(Statement p, c.Prepare(prices));
    MARKET_RETURN_IF_ERROR(BindQuery(p, q));
    std::string current;
    int64_t seen = 0;
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool more, p.Step());
      if (!more) break;
      std::string k = p.ColumnText(0);
      if (k != current) {
        current = k;
        seen = 0;
      }
      v1::TradeRow& r = by_key[k];
      int64_t sold = r.orders_completed() - r.swaps_completed();
      int64_t n = p.ColumnInt64(2);
      int64_t middle = (sold + 1) / 2;  // 1-based rank of the lower median
      if (seen < middle && seen + n >= middle) r.set_median_price_fen(p.ColumnInt64(1));
      seen += n;
    }
    for (auto& [k, r] : by_key) {
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
      MARKET_RETURN_IF_ERROR(ReadCounters(
          c, t, absl::StrCat("SELECT ", absl::StrJoin(cols, ", "), " FROM ", t.name), stored));
      MARKET_RETURN_IF_ERROR(ReadCounters(c, t, t.recompute, recomputed));
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
      if (repair) {
        MARKET_RETURN_IF_ERROR(c.Exec(absl::StrCat("DELETE FROM ", t.name)));
        MARKET_ASSIGN_OR_RETURN(Statement fill,
                                c.Prepare(absl::StrCat("INSERT INTO ", t.name, "(",
                                                       absl::StrJoin(cols, ", "), ") ",
                                                       t.recompute)));
        MARKET_RETURN_IF_ERROR(fill.Run());
      }
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
