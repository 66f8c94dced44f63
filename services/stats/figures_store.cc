#include "services/stats/figures_store.h"

#include <limits>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status.h"
#include "services/stats/credit_figures.h"
#include "services/stats/figure_rules.h"

namespace market::stats {

using sqlite::Connection;
using sqlite::Statement;

const char kFiguresMetricIndexes[] = R"sql(
CREATE INDEX figure_daily_metric_day ON figure_daily(metric, day);
CREATE INDEX figure_values_metric_day ON figure_values(metric, day);
CREATE INDEX figure_subjects_metric_day ON figure_subjects(metric, day);
)sql";

const char kFiguresSchema[] = R"sql(
CREATE TABLE figure_entities(entity TEXT PRIMARY KEY, version INTEGER NOT NULL,
  snapshot BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE figure_daily(
  day INTEGER NOT NULL, metric TEXT NOT NULL, market TEXT NOT NULL, category INTEGER NOT NULL,
  region TEXT NOT NULL, firm TEXT NOT NULL, seller TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY(day, metric, market, category, region, firm, seller)) WITHOUT ROWID;
CREATE TABLE figure_values(
  day INTEGER NOT NULL, metric TEXT NOT NULL, market TEXT NOT NULL, category INTEGER NOT NULL,
  region TEXT NOT NULL, firm TEXT NOT NULL, seller TEXT NOT NULL, value INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY(day, metric, market, category, region, firm, seller, value)) WITHOUT ROWID;
CREATE TABLE figure_subjects(
  day INTEGER NOT NULL, metric TEXT NOT NULL, market TEXT NOT NULL, category INTEGER NOT NULL,
  region TEXT NOT NULL, firm TEXT NOT NULL, seller TEXT NOT NULL, subject TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY(day, metric, market, category, region, firm, seller, subject)) WITHOUT ROWID;
CREATE INDEX figure_subjects_metric ON figure_subjects(metric, subject, day);
)sql";

namespace {

constexpr char kDims[] = "day, metric, market, category, region, firm, seller";

// The table's own extra key column ("" for figure_daily).
const char* ExtraColumn(CellTable t) {
  switch (t) {
    case CellTable::kValues: return "value";
    case CellTable::kSubjects: return "subject";
    default: return "";
  }
}

absl::Status BindCell(Statement& st, const FigureCell& c) {
  MARKET_RETURN_IF_ERROR(st.Bind(1, c.day));
  MARKET_RETURN_IF_ERROR(st.BindText(2, c.metric));
  MARKET_RETURN_IF_ERROR(st.BindText(3, c.market));
  MARKET_RETURN_IF_ERROR(st.Bind(4, c.category));
  MARKET_RETURN_IF_ERROR(st.BindText(5, c.region));
  MARKET_RETURN_IF_ERROR(st.BindText(6, c.firm));
  MARKET_RETURN_IF_ERROR(st.BindText(7, c.seller));
  if (c.table == CellTable::kValues) return st.Bind(8, c.value);
  if (c.table == CellTable::kSubjects) return st.BindText(8, c.subject);
  return absl::OkStatus();
}

// Adds `delta` to the cell's counter, deleting it when it reaches 0.
absl::Status AddToCell(Connection& c, const FigureCell& cell, int64_t delta) {
  const std::string extra = ExtraColumn(cell.table);
  const std::string cols = extra.empty() ? kDims : absl::StrCat(kDims, ", ", extra);
  const int n_index = extra.empty() ? 8 : 9;
  MARKET_ASSIGN_OR_RETURN(
      Statement up,
      c.Prepare(absl::StrCat("INSERT INTO ", CellTableName(cell.table), "(", cols,
                             ", n) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7", extra.empty() ? "" : ", ?8",
                             ", ?", n_index, ") ON CONFLICT DO UPDATE SET n = n + excluded.n")));
  MARKET_RETURN_IF_ERROR(BindCell(up, cell));
  MARKET_RETURN_IF_ERROR(up.Bind(n_index, delta));
  MARKET_RETURN_IF_ERROR(up.Run());
  MARKET_ASSIGN_OR_RETURN(
      Statement zero,
      c.Prepare(absl::StrCat("DELETE FROM ", CellTableName(cell.table),
                             " WHERE n = 0 AND day = ?1 AND metric = ?2 AND market = ?3 AND "
                             "category = ?4 AND region = ?5 AND firm = ?6 AND seller = ?7",
                             extra.empty() ? "" : absl::StrCat(" AND ", extra, " = ?8"))));
  MARKET_RETURN_IF_ERROR(BindCell(zero, cell));
  return zero.Run();
}

// Group key of a figure counter row, as SQL.
const char* FigureKeyExpr(v1::GroupBy g) {
  switch (g) {
    case v1::FIRM: return "firm";
    case v1::SELLER: return "seller";
    case v1::CATEGORY: return "category";
    case v1::MARKET: return "market";
    case v1::COUNTY: return "region";
    case v1::CITY: return "substr(region, 1, 4) || '00'";
    case v1::PROVINCE: return "substr(region, 1, 2) || '0000'";
    default: return "''";
  }
}

// ?1..?2 day range, ?3 region prefix, ?4 category, ?5 ",m1,m2," markets,
// ?6 metric list ",a,b,".
// The metrics are a JSON array bound to ?6: `metric IN (json_each)` lets
// SQLite seek the (metric, day) indexes once per metric.
constexpr char kFigureWhere[] =
    " WHERE metric IN (SELECT value FROM json_each(?6)) AND day BETWEEN ?1 AND ?2"
    " AND (?3 = '' OR substr(region, 1, length(?3)) = ?3)"
    " AND (?4 = 0 OR category = ?4) AND (?5 = '' OR instr(?5, ',' || market || ',') > 0)";

absl::Status BindFigureQuery(Statement& st, const TradeQuery& q, int64_t first,
                             const std::vector<std::string>& metrics) {
  MARKET_RETURN_IF_ERROR(st.Bind(1, first));
  MARKET_RETURN_IF_ERROR(st.Bind(2, q.range.last));
  MARKET_RETURN_IF_ERROR(st.BindText(3, q.region));
  MARKET_RETURN_IF_ERROR(st.Bind(4, static_cast<int64_t>(q.category)));
  MARKET_RETURN_IF_ERROR(st.BindText(
      5, q.markets.empty() ? "" : absl::StrCat(",", absl::StrJoin(q.markets, ","), ",")));
  // Metric names are the store's own identifiers ([a-z_/]), never input.
  return st.BindText(6, absl::StrCat("[\"", absl::StrJoin(metrics, "\",\""), "\"]"));
}

// Runs `sql` (columns: key, metric, then per `reader`) over the filters.
template <typename Reader>
absl::Status ForEachRow(Connection& c, const std::string& sql, const TradeQuery& q, int64_t first,
                        const std::vector<std::string>& metrics, Reader reader) {
  if (metrics.empty()) return absl::OkStatus();
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  MARKET_RETURN_IF_ERROR(BindFigureQuery(st, q, first, metrics));
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) return absl::OkStatus();
    reader(st);
  }
}

std::string GroupKey(v1::GroupBy g, const std::string& key) {
  int64_t n = 0;
  if (g == v1::CATEGORY && absl::SimpleAtoi(key, &n)) {
    return CategoryKey(static_cast<common::v1::Category>(n));
  }
  return key;
}

// A counter's name in rebuild reports.
std::string CellName(const FigureCell& c) {
  std::string s = absl::StrCat(CellTableName(c.table), " ", FormatDay(c.day), " ", c.metric, " ",
                               c.market, " ", CategoryKey(static_cast<common::v1::Category>(c.category)),
                               " ", c.region, " ", c.firm, " ", c.seller);
  if (c.table == CellTable::kValues) absl::StrAppend(&s, " value=", c.value);
  if (c.table == CellTable::kSubjects) absl::StrAppend(&s, " ", c.subject);
  return s;
}

// Apply() inside the caller's transaction.
absl::StatusOr<bool> ApplyIn(Connection& c, const std::string& event_id,
                             const v1::FigureSnapshot& given) {
  v1::FigureSnapshot s = given;
  if (s.region_code().empty() && !s.market().empty()) {
    // Services that do not know a market's region (warranty): as the
    // market's trade events gave it.
    MARKET_ASSIGN_OR_RETURN(Statement m, c.Prepare("SELECT region FROM markets WHERE market = ?1"));
    MARKET_RETURN_IF_ERROR(m.BindText(1, s.market()));
    MARKET_ASSIGN_OR_RETURN(bool known, m.Step());
    if (known) s.set_region_code(m.ColumnText(0));
  }
  MARKET_ASSIGN_OR_RETURN(
      Statement seen, c.Prepare("INSERT INTO events(event_id) VALUES(?1) ON CONFLICT DO NOTHING"));
  MARKET_RETURN_IF_ERROR(seen.BindText(1, event_id));
  MARKET_RETURN_IF_ERROR(seen.Run());
  if (c.Changes() == 0) return false;
  if (s.has_credit_standing()) return ApplyStanding(c, s);
  MARKET_ASSIGN_OR_RETURN(
      Statement old, c.Prepare("SELECT version, snapshot FROM figure_entities WHERE entity = ?1"));
  MARKET_RETURN_IF_ERROR(old.BindText(1, s.entity()));
  MARKET_ASSIGN_OR_RETURN(bool found, old.Step());
  std::map<FigureCell, int64_t> delta;
  CreditDelta credit;
  if (found) {
    if (old.ColumnInt64(0) >= s.version()) return false;
    v1::FigureSnapshot previous;
    if (!previous.ParseFromString(old.ColumnBlob(1))) {
      return absl::DataLossError(absl::StrCat("stored snapshot of ", s.entity(), " does not parse"));
    }
    for (FigureCell& cell : Contributions(previous)) --delta[std::move(cell)];
    if (previous.has_credit_record()) AddRecordCells(previous, -1, credit);
  }
  for (FigureCell& cell : Contributions(s)) ++delta[std::move(cell)];
  if (s.has_credit_record()) AddRecordCells(s, +1, credit);
  for (const auto& [cell, n] : delta) {
    if (n != 0) MARKET_RETURN_IF_ERROR(AddToCell(c, cell, n));
  }
  MARKET_RETURN_IF_ERROR(ApplyCreditDelta(c, credit));
  MARKET_ASSIGN_OR_RETURN(
      Statement save,
      c.Prepare("INSERT INTO figure_entities(entity, version, snapshot) VALUES(?1, ?2, ?3) "
                "ON CONFLICT DO UPDATE SET version = excluded.version, "
                "snapshot = excluded.snapshot"));
  MARKET_RETURN_IF_ERROR(save.BindText(1, s.entity()));
  MARKET_RETURN_IF_ERROR(save.Bind(2, s.version()));
  MARKET_RETURN_IF_ERROR(save.BindBlob(3, s.SerializeAsString()));
  MARKET_RETURN_IF_ERROR(save.Run());
  return true;
}

}  // namespace

absl::StatusOr<bool> FiguresStore::Apply(const std::string& event_id,
                                         const v1::FigureSnapshot& given) {
  bool applied = false;
  MARKET_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(applied, ApplyIn(c, event_id, given));
    return absl::OkStatus();
  }));
  return applied;
}

absl::Status FiguresStore::ApplyMany(
    const std::vector<std::pair<std::string, v1::FigureSnapshot>>& events) {
  return db_->Write([&](Connection& c) -> absl::Status {
    for (const auto& [event_id, snapshot] : events) {
      MARKET_RETURN_IF_ERROR(ApplyIn(c, event_id, snapshot).status());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::FigureRow>> FiguresStore::Query(
    const std::vector<FigureColumn>& columns, const TradeQuery& q) {
  std::vector<std::string> sums, hists, distinct, first_in;
  for (const FigureColumn& col : columns) {
    switch (col.agg) {
      case FigureColumn::kSum: sums.push_back(col.metric); break;
      case FigureColumn::kPermille:
        sums.push_back(col.metric);
        sums.push_back(col.of);
        break;
      case FigureColumn::kMedian:
      case FigureColumn::kMean: hists.push_back(col.metric); break;
      case FigureColumn::kDistinct: distinct.push_back(col.metric); break;
      case FigureColumn::kFirstIn: first_in.push_back(col.metric); break;
    }
  }
  const std::string key = FigureKeyExpr(q.group_by);
  // key → metric → figure; the histogram aggregates under "metric/median" etc.
  std::map<std::string, std::map<std::string, int64_t>> got;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(ForEachRow(
        c, absl::StrCat("SELECT ", key, ", metric, SUM(n) FROM figure_daily", kFigureWhere,
                        " GROUP BY 1, 2"),
        q, q.range.first, sums,
        [&](Statement& st) { got[st.ColumnText(0)][st.ColumnText(1)] = st.ColumnInt64(2); }));
    // Histograms in value order: count and total first, then the lower median.
    std::map<std::pair<std::string, std::string>, std::vector<std::pair<int64_t, int64_t>>> hist;
    MARKET_RETURN_IF_ERROR(ForEachRow(
        c, absl::StrCat("SELECT ", key, ", metric, value, SUM(n) FROM figure_values", kFigureWhere,
                        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"),
        q, q.range.first, hists, [&](Statement& st) {
          hist[{st.ColumnText(0), st.ColumnText(1)}].emplace_back(st.ColumnInt64(2),
                                                                  st.ColumnInt64(3));
        }));
    for (const auto& [km, values] : hist) {
      int64_t count = 0, total = 0;
      for (const auto& [v, n] : values) {
        count += n;
        total += v * n;
      }
      const int64_t middle = (count + 1) / 2;
      int64_t seen = 0, median = 0;
      for (const auto& [v, n] : values) {
        if (seen < middle && seen + n >= middle) median = v;
        seen += n;
      }
      auto& row = got[km.first];
      row[km.second + "/median"] = median;
      row[km.second + "/mean"] = count > 0 ? total / count : 0;
    }
    MARKET_RETURN_IF_ERROR(ForEachRow(
        c, absl::StrCat("SELECT ", key, ", metric, COUNT(DISTINCT subject) FROM figure_subjects",
                        kFigureWhere, " GROUP BY 1, 2"),
        q, q.range.first, distinct,
        [&](Statement& st) { got[st.ColumnText(0)][st.ColumnText(1)] = st.ColumnInt64(2); }));
    // First day of each subject in the group up to the range's end.
    return ForEachRow(
        c, absl::StrCat("SELECT k, metric, COUNT(*) FROM (SELECT ", key,
                        " AS k, metric, subject, MIN(day) AS first FROM figure_subjects",
                        kFigureWhere, " GROUP BY 1, 2, 3) WHERE first >= ", q.range.first, " GROUP BY 1, 2"),
        q, std::numeric_limits<int64_t>::min(), first_in, [&](Statement& st) {
          got[st.ColumnText(0)][st.ColumnText(1) + "/first"] = st.ColumnInt64(2);
        });
  }));
  std::vector<v1::FigureRow> rows;
  for (auto& [k, figures] : got) {
    v1::FigureRow& r = rows.emplace_back();
    r.set_key(GroupKey(q.group_by, k));
    for (const FigureColumn& col : columns) {
      auto get = [&](const std::string& name) {
        auto it = figures.find(name);
        return it == figures.end() ? int64_t{0} : it->second;
      };
      switch (col.agg) {
        case FigureColumn::kMedian: r.add_values(get(col.metric + "/median")); break;
        case FigureColumn::kMean: r.add_values(get(col.metric + "/mean")); break;
        case FigureColumn::kFirstIn: r.add_values(get(col.metric + "/first")); break;
        case FigureColumn::kPermille: {
          const int64_t of = get(col.of);
          r.add_values(of > 0 ? get(col.metric) * 1000 / of : 0);
          break;
        }
        default: r.add_values(get(col.metric));
      }
    }
  }
  return rows;
}

absl::StatusOr<CreditRows> FiguresStore::QueryCredit(DayRange range, bool by_role) {
  CreditRows rows;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(rows, QueryCreditRows(c, range, by_role));
    return absl::OkStatus();
  }));
  return rows;
}

absl::Status FiguresStore::Rebuild(bool repair, v1::RebuildTradeResponse& resp) {
  auto check = [&](Connection& c) -> absl::Status {
    std::map<FigureCell, int64_t> recomputed, stored;
    MARKET_ASSIGN_OR_RETURN(Statement all, c.Prepare("SELECT snapshot FROM figure_entities"));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool more, all.Step());
      if (!more) break;
      v1::FigureSnapshot s;
      if (!s.ParseFromString(all.ColumnBlob(0))) {
        return absl::DataLossError("a stored figure snapshot does not parse");
      }
      for (FigureCell& cell : Contributions(s)) ++recomputed[std::move(cell)];
    }
    for (CellTable t : {CellTable::kDaily, CellTable::kValues, CellTable::kSubjects}) {
      const std::string extra = ExtraColumn(t);
      MARKET_ASSIGN_OR_RETURN(
          Statement st, c.Prepare(absl::StrCat("SELECT ", kDims, ", n",
                                               extra.empty() ? "" : ", ", extra, " FROM ",
                                               CellTableName(t))));
      while (true) {
        MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
        if (!more) break;
        FigureCell cell{.table = t,
                        .day = st.ColumnInt64(0),
                        .metric = st.ColumnText(1),
                        .market = st.ColumnText(2),
                        .region = st.ColumnText(4),
                        .firm = st.ColumnText(5),
                        .seller = st.ColumnText(6),
                        .category = st.ColumnInt64(3)};
        if (t == CellTable::kValues) cell.value = st.ColumnInt64(8);
        if (t == CellTable::kSubjects) cell.subject = st.ColumnText(8);
        stored[std::move(cell)] = st.ColumnInt64(7);
      }
    }
    std::map<FigureCell, std::pair<int64_t, int64_t>> both;
    for (const auto& [cell, n] : stored) both[cell].first = n;
    for (const auto& [cell, n] : recomputed) both[cell].second = n;
    for (const auto& [cell, pair] : both) {
      resp.set_counters_checked(resp.counters_checked() + 1);
      if (pair.first == pair.second) continue;
      v1::CounterDifference* d = resp.add_differences();
      d->set_counter(CellName(cell));
      d->set_stored(pair.first);
      d->set_recomputed(pair.second);
    }
    if (!repair) return absl::OkStatus();
    for (CellTable t : {CellTable::kDaily, CellTable::kValues, CellTable::kSubjects}) {
      MARKET_RETURN_IF_ERROR(c.Exec(absl::StrCat("DELETE FROM ", CellTableName(t))));
    }
    for (const auto& [cell, n] : recomputed) MARKET_RETURN_IF_ERROR(AddToCell(c, cell, n));
    return absl::OkStatus();
  };
  auto check_all = [&](Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(check(c));
    return RebuildCredit(c, repair, resp);
  };
  return repair ? db_->Write(check_all) : db_->Read(check_all);
}

}  // namespace market::stats
