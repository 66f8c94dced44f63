// The statistics ledger against a scan: N completed orders over two years in
// 50 markets (5 counties) and 4 categories go into the stats store (daily
// and monthly counters and price histograms, as the outbox delivers them) and into a
// plain orders table (indexed by completion day). A month-by-category and a
// year-by-market query are then answered both ways; the figures must agree
// (exit 1 otherwise; the scan's median is bucketed as documented in
// services/stats/price_histogram.h) and the times are printed side by side,
// with the ingest rate.
// Then the credit figures: a generated credit history (records and standing
// snapshots, services/stats/credit_history_testing.h) of M records about M/10
// subjects over two years is loaded as the credit outbox delivers it, and a
// month and a year by role are answered from the counters and from the
// records themselves (in memory); they must agree too.
// The other figure families the same way (figures_store.h): M claims,
// appraisal reports with their disputes, and listings over the same two
// years, each sent as one or two snapshots (filed, then as it ended), go into
// the figure counters and, as they ended, into plain tables; a claims month
// by market, an appraisals year by firm and an entities quarter by category
// (with distinct and first-time sellers) are answered both ways.
//   stats_bench [--orders N] [--credit-records M] [--entities E] [--smoke]
//     (default N = 1,000,000, M = 200,000, E = 100,000 of each family;
//      smoke 20,000, 5,000 and 3,000)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/resource/resource.h"
#include "common/sqlite/database.h"
#include "services/stats/credit_history_testing.h"
#include "services/stats/figures_service.h"
#include "services/stats/figures_store.h"
#include "services/stats/price_histogram.h"
#include "services/stats/stats_store.h"

namespace {

using market::stats::DayRange;
using market::stats::StatsStore;
namespace v1 = market::stats::v1;

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

template <typename Fn>
double BestOf(int runs, Fn fn) {
  double best = 1e18;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, Ms(std::chrono::steady_clock::now() - start));
  }
  return best;
}

// The same figures from the orders table: per key, count, gross, mean, lower
// median (rounded down to its price bucket, as the ledger documents).
std::map<std::string, v1::TradeRow> Scan(market::sqlite::Database& db, DayRange r, bool by_market) {
  std::map<std::string, std::vector<int64_t>> prices;
  absl::Status s = db.Read([&](market::sqlite::Connection& c) -> absl::Status {
    auto st = c.Prepare(by_market ? "SELECT market, price_fen FROM orders WHERE complete_day BETWEEN ?1 AND ?2"
                                  : "SELECT category, price_fen FROM orders WHERE complete_day BETWEEN ?1 AND ?2");
    if (!st.ok()) return st.status();
    (void)st->Bind(1, r.first);
    (void)st->Bind(2, r.last);
    while (true) {
      auto more = st->Step();
      if (!more.ok()) return more.status();
      if (!*more) return absl::OkStatus();
      std::string key = st->ColumnText(0);
      if (!by_market) key = market::stats::CategoryKey(static_cast<market::common::v1::Category>(std::stoi(key)));
      prices[key].push_back(st->ColumnInt64(1));
    }
  });
  if (!s.ok()) std::fprintf(stderr, "scan: %s\n", s.ToString().c_str());
  std::map<std::string, v1::TradeRow> out;
  for (auto& [k, p] : prices) {
    std::sort(p.begin(), p.end());
    v1::TradeRow& row = out[k];
    row.set_key(k);
    row.set_orders_completed(static_cast<int64_t>(p.size()));
    int64_t sum = 0;
    for (int64_t x : p) sum += x;
    row.set_gross_fen(sum);
    row.set_mean_price_fen(sum / static_cast<int64_t>(p.size()));
    row.set_median_price_fen(market::stats::PriceBucket(p[(p.size() - 1) / 2]));
  }
  return out;
}

// The credit part (see the top); false when the figures disagree.
bool CreditBench(const std::string& dir, int64_t records) {
  auto store = StatsStore::Open(dir + "/credit-stats.db");
  if (!store.ok()) return false;
  market::stats::FiguresStore figures(&(*store)->db());
  const int max_step_minutes = static_cast<int>(std::max<int64_t>(1, 2 * 2 * 365 * 24 * 60 / records - 1));
  const market::stats::testing::CreditHistory history(
      static_cast<int>(std::max<int64_t>(10, records / 10)), static_cast<int>(records),
      absl::FromCivil(absl::CivilSecond(2025, 1, 1, 0, 0, 0), market::stats::ChinaTime()),
      max_step_minutes, 42);
  const auto events = history.Events();
  const auto load_start = std::chrono::steady_clock::now();
  for (size_t done = 0; done < events.size(); done += 20'000) {
    const std::vector<std::pair<std::string, v1::FigureSnapshot>> batch(
        events.begin() + done, events.begin() + std::min(events.size(), done + 20'000));
    if (absl::Status s = figures.ApplyMany(batch); !s.ok()) {
      std::fprintf(stderr, "credit load: %s\n", s.ToString().c_str());
      return false;
    }
  }
  const double load_s = Ms(std::chrono::steady_clock::now() - load_start) / 1000;
  std::printf("loaded %lld credit records and their standings (%lld subjects, %s..%s) in %.1f s, "
              "%.0f snapshots/s\n",
              static_cast<long long>(records), static_cast<long long>(std::max<int64_t>(10, records / 10)),
              market::stats::FormatDay(market::stats::DayOf(history.records().front().recorded)).c_str(),
              market::stats::FormatDay(market::stats::DayOf(history.records().back().recorded)).c_str(),
              load_s, static_cast<double>(events.size()) / load_s);
  bool agree = true;
  for (const auto& [name, period, from, by_role] :
       {std::tuple{"credit month", v1::MONTH, "2026-03-01", false},
        std::tuple{"credit year by role", v1::YEAR, "2026-01-01", true}}) {
    const DayRange r = *market::stats::ResolvePeriod(period, from, "");
    const bool grouped = by_role;
    std::map<std::string, std::vector<int64_t>> ledger, scanned;
    const double ledger_ms = BestOf(5, [&] {
      ledger.clear();
      absl::StatusOr<market::stats::CreditRows> got = figures.QueryCredit(r, grouped);
      if (!got.ok()) {
        std::fprintf(stderr, "credit query: %s\n", got.status().ToString().c_str());
        return;
      }
      for (const auto& row : got->rows) ledger[row.key()] = {row.values().begin(), row.values().end()};
    });
    const double scan_ms =
        BestOf(3, [&] { scanned = history.Expected(r, grouped, market::stats::CreditColumns()); });
    if (ledger != scanned) {
      std::fprintf(stderr, "MISMATCH %s\n", name);
      agree = false;
    }
    int64_t appended = 0;
    for (const auto& [key, values] : ledger) appended += values[0];
    std::printf("%-20s %2zu groups %7lld records: ledger %8.2f ms   records %9.2f ms   ratio %7.1fx\n",
                name, ledger.size(), static_cast<long long>(appended), ledger_ms, scan_ms,
                scan_ms / ledger_ms);
  }
  return agree;
}

// ---- The other figure families -------------------------------------------

using Figures = std::map<std::string, std::vector<int64_t>>;

absl::Time At(int64_t day) {
  return absl::FromCivil(market::stats::CivilOfDay(day), market::stats::ChinaTime()) +
         absl::Hours(10);
}

// One source entity as it ended, in the scan's terms (days are China-time
// day numbers, -1 for none) and the snapshots the ledger gets for it.
struct Entity {
  int family;  // 0 claim, 1 appraisal report with its dispute, 2 listing
  std::string name, market, firm, seller, buyer;
  int category;
  int64_t d[6];  // claim: file, reply, deadline, rule, resolve, ruling(1/2); report: file,
                 // raise, rule, overturned; listing: create, publish, remove, sold
};

int64_t LowerMedian(std::vector<int64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 2];
}

// The figures of `family` in `r` by `group` computed from the plain table.
Figures ScanFigures(market::sqlite::Database& db, int family, DayRange r, v1::GroupBy group) {
  std::vector<Entity> rows;
  absl::Status s = db.Read([&](market::sqlite::Connection& c) -> absl::Status {
    auto st = c.Prepare(
        "SELECT market, firm, seller, category, d0, d1, d2, d3, d4, d5 "
        "FROM entities WHERE family = ?1");
    if (!st.ok()) return st.status();
    (void)st->Bind(1, static_cast<int64_t>(family));
    while (true) {
      auto more = st->Step();
      if (!more.ok()) return more.status();
      if (!*more) return absl::OkStatus();
      Entity e{family,
               "",
               st->ColumnText(0),
               st->ColumnText(1),
               st->ColumnText(2),
               "",
               static_cast<int>(st->ColumnInt64(3)),
               {}};
      for (int i = 0; i < 6; ++i) e.d[i] = st->ColumnInt64(4 + i);
      rows.push_back(std::move(e));
    }
  });
  if (!s.ok()) std::fprintf(stderr, "scan: %s\n", s.ToString().c_str());
  auto in = [&](int64_t d) { return d >= r.first && d <= r.last; };
  auto key = [&](const Entity& e) {
    switch (group) {
      case v1::MARKET:
        return e.market;
      case v1::FIRM:
        return e.firm;
      case v1::CATEGORY:
        return market::stats::CategoryKey(static_cast<market::common::v1::Category>(e.category));
      default:
        return std::string();
    }
  };
  Figures out;
  std::map<std::string, std::vector<int64_t>> values;
  std::map<std::string, std::set<std::string>> sellers, markets;
  std::map<std::string, std::map<std::string, int64_t>> first_publish;
  for (const Entity& e : rows) {
    const std::string k = key(e);
    std::vector<int64_t> v(family == 0 ? 10 : family == 1 ? 5 : 9, 0);
    bool any = false;
    auto bump = [&](size_t col, int64_t day) {
      if (day >= 0 && in(day)) {
        ++v[col];
        any = true;
      }
    };
    if (family == 0) {  // claims: filed, by kind, upheld, dismissed, replies, resolved
      bump(0, e.d[0]);
      bump(1 + (e.category + static_cast<int>(e.d[0])) % 3, e.d[0]);  // kind rule as generated
      bump(e.d[5] == 1 ? 4 : 5, e.d[5] > 0 ? e.d[3] : -1);
      if (e.d[1] >= 0)
        bump(e.d[1] <= e.d[2] ? 6 : 7, e.d[1]);
      else
        bump(7, e.d[2]);
      bump(8, e.d[4]);
      if (e.d[4] >= 0 && in(e.d[4])) values[k].push_back(e.d[4] - e.d[0]);
    } else if (family == 1) {  // reports, disputes raised, ruled, overturned
      bump(0, e.d[0]);
      bump(1, e.d[1]);
      bump(2, e.d[2]);
      if (e.d[3]) bump(3, e.d[2]);
    } else {  // listings created, published, removed, sold; days to sale; distinct
      bump(0, e.d[0]);
      bump(1, e.d[1]);
      bump(2, e.d[2]);
      bump(3, e.d[3]);
      if (e.d[3] >= 0 && in(e.d[3]) && e.d[1] >= 0) values[k].push_back(e.d[3] - e.d[1]);
      for (int64_t day : {e.d[1], e.d[3]}) {
        if (day >= 0 && in(day)) {
          sellers[k].insert(e.seller);
          markets[k].insert(e.market);
        }
      }
      if (e.d[1] >= 0 && e.d[1] <= r.last) {
        auto [it, fresh] = first_publish[k].emplace(e.seller, e.d[1]);
        if (!fresh) it->second = std::min(it->second, e.d[1]);
      }
    }
    if (!any) continue;
    std::vector<int64_t>& row = out[k];
    if (row.empty()) row.assign(v.size(), 0);
    for (size_t i = 0; i < v.size(); ++i) row[i] += v[i];
  }
  for (auto& [k, row] : out) {
    if (family == 0) row[9] = LowerMedian(values[k]);
    if (family == 1) row[4] = row[2] > 0 ? row[3] * 1000 / row[2] : 0;
    if (family == 2) {
      const auto& days = values[k];
      int64_t total = 0;
      for (int64_t x : days) total += x;
      row[4] = LowerMedian(days);
      row[5] = days.empty() ? 0 : total / static_cast<int64_t>(days.size());
      row[6] = static_cast<int64_t>(markets[k].size());
      row[7] = static_cast<int64_t>(sellers[k].size());
      int64_t fresh = 0;
      for (const auto& [seller, day] : first_publish[k]) fresh += in(day) ? 1 : 0;
      row[8] = fresh;
    }
  }
  return out;
}

// The snapshots of `e`: as first recorded (filed, published) and, when it
// changed later, as it ended.
std::vector<v1::FigureSnapshot> Snapshots(const Entity& e) {
  // The dimensions the services send: a claim or listing has its market,
  // region and seller; an appraisal report or dispute its firm only.
  v1::FigureSnapshot s;
  s.set_entity(e.name);
  s.set_version(1);
  s.set_category(static_cast<market::common::v1::Category>(e.category));
  if (e.family == 1) {
    s.set_firm(e.firm);
  } else {
    s.set_market(e.market);
    s.set_region_code(absl::StrCat("3501", 10 + e.market.back() % 5));
    s.set_seller(e.seller);
  }
  auto ts = [](int64_t day) { return market::ToTimestamp(At(day)); };
  std::vector<v1::FigureSnapshot> out;
  if (e.family == 0) {
    auto* c = s.mutable_claim();
    c->set_kind(static_cast<v1::ClaimSnapshot::Kind>(1 + (e.category + e.d[0]) % 3));
    c->set_buyer(e.buyer);
    *c->mutable_file_time() = ts(e.d[0]);
    *c->mutable_reply_deadline() = ts(e.d[2]);
    *s.mutable_time() = ts(e.d[0]);
    out.push_back(s);
    if (e.d[1] >= 0) *c->mutable_reply_time() = ts(e.d[1]);
    if (e.d[5] > 0) {
      c->set_ruling(static_cast<v1::ClaimSnapshot::Ruling>(e.d[5]));
      *c->mutable_rule_time() = ts(e.d[3]);
    }
    if (e.d[4] >= 0) *c->mutable_resolve_time() = ts(e.d[4]);
    *s.mutable_time() = ts(std::max({e.d[2] + 1, e.d[3], e.d[4]}));
  } else if (e.family == 1) {
    s.mutable_appraisal()->set_filer(e.seller);
    *s.mutable_appraisal()->mutable_file_time() = ts(e.d[0]);
    *s.mutable_time() = ts(e.d[0]);
    out.push_back(s);
    if (e.d[1] < 0) return out;
    // The dispute is an entity of its own.
    s.set_entity(e.name + "/disputes/d1");
    auto* d = s.mutable_dispute();
    d->set_raiser(e.buyer);
    *d->mutable_raise_time() = ts(e.d[1]);
    *s.mutable_time() = ts(e.d[1]);
    if (e.d[2] < 0) {
      out.push_back(s);
      return out;
    }
    out.push_back(s);
    *d->mutable_rule_time() = ts(e.d[2]);
    d->set_overturned(e.d[3] != 0);
    *s.mutable_time() = ts(e.d[2]);
  } else {
    auto* l = s.mutable_listing();
    *l->mutable_create_time() = ts(e.d[0]);
    if (e.d[1] >= 0) *l->mutable_publish_time() = ts(e.d[1]);
    *s.mutable_time() = ts(e.d[1] >= 0 ? e.d[1] : e.d[0]);
    out.push_back(s);
    if (e.d[2] < 0 && e.d[3] < 0) return out;
    if (e.d[2] >= 0) *l->mutable_remove_time() = ts(e.d[2]);
    if (e.d[3] >= 0) *l->mutable_sold_time() = ts(e.d[3]);
    *s.mutable_time() = ts(std::max(e.d[2], e.d[3]));
  }
  s.set_version(2);
  out.push_back(s);
  return out;
}

// A random entity of `family` whose first day is in `span`.
Entity RandomEntity(std::mt19937_64& rng, int family, int64_t i, DayRange span) {
  auto pick = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  const int64_t day = span.first + pick(span.last - span.first - 40);
  Entity e{family,
           "",
           absl::StrCat("markets/m", pick(50)),
           absl::StrCat("firms/f", pick(12)),
           absl::StrCat("subjects/s", pick(2000)),
           absl::StrCat("subjects/b", pick(20000)),
           static_cast<int>(1 + pick(4)),
           {-1, -1, -1, -1, -1, -1}};
  e.d[0] = day;
  if (family == 0) {
    e.name = absl::StrCat("claims/c", i);
    e.d[2] = day + 3;                              // reply deadline
    if (pick(10) < 7) e.d[1] = day + 1 + pick(5);  // a reply, on time or late
    if (pick(4) == 0) {                            // ruled
      e.d[5] = 1 + pick(2);
      e.d[3] = day + 5 + pick(20);
    }
    if (pick(3) != 0) e.d[4] = day + 2 + pick(30);  // resolved
  } else if (family == 1) {
    e.name = absl::StrCat("appraisals/a", i);
    if (pick(5) == 0) {  // disputed
      e.d[1] = day + pick(15);
      if (pick(4) != 0) {  // ruled
        e.d[2] = e.d[1] + 1 + pick(20);
        e.d[3] = pick(3) == 0;
      }
    }
  } else {
    e.name = absl::StrCat("markets/x/listings/l", i);
    if (pick(10) < 9) {
      e.d[1] = day + pick(3);
      int fate = static_cast<int>(pick(10));
      if (fate < 5)
        e.d[3] = e.d[1] + pick(30);
      else if (fate < 6)
        e.d[2] = e.d[1] + pick(30);
    }
  }
  return e;
}

// Concurrent RecordStatsEvent calls during the load.
constexpr size_t kApplyThreads = 16;

// Loads `n` entities of each family both ways and compares three queries.
bool RunFigureFamilies(const std::string& dir, market::sqlite::Database& stats_db, int64_t n,
                       DayRange span) {
  market::stats::FiguresStore figures(&stats_db);
  auto raw = market::sqlite::Database::Open(
      dir + "/entities.db", {},
      {{1,
        "CREATE TABLE entities(name TEXT PRIMARY KEY, family INTEGER, market TEXT, firm TEXT, "
        "seller TEXT, category INTEGER, d0 INTEGER, d1 INTEGER, d2 INTEGER, d3 INTEGER, "
        "d4 INTEGER, d5 INTEGER)"}});
  if (!raw.ok()) return false;
  std::mt19937_64 rng(7);
  int64_t snapshots = 0;
  std::chrono::steady_clock::duration ingest{};
  for (int family = 0; family < 3; ++family) {
    for (int64_t done = 0; done < n; done += 10'000) {
      std::vector<Entity> batch;
      for (int64_t i = done; i < std::min(n, done + 10'000); ++i) {
        batch.push_back(RandomEntity(rng, family, i, span));
      }
      // RecordStatsEvent calls from several relays at once: each Apply is its
      // own transaction, group-committed by the database with concurrent
      // ones; an entity's snapshots stay in order (one thread per entity).
      auto start = std::chrono::steady_clock::now();
      std::atomic<int64_t> applied_count{0};
      std::atomic<bool> failed{false};
      std::vector<std::thread> threads;
      for (size_t t = 0; t < kApplyThreads; ++t) {
        threads.emplace_back([&, t] {
          for (size_t i = t; i < batch.size() && !failed; i += kApplyThreads) {
            for (const v1::FigureSnapshot& s : Snapshots(batch[i])) {
              auto applied = figures.Apply(absl::StrCat("stats-", s.entity(), "@", s.version()), s);
              if (!applied.ok() || !*applied) {
                std::fprintf(stderr, "apply %s: %s\n", s.entity().c_str(),
                             applied.ok() ? "not applied" : applied.status().ToString().c_str());
                failed = true;
                return;
              }
              ++applied_count;
            }
          }
        });
      }
      for (std::thread& t : threads) t.join();
      if (failed) return false;
      snapshots += applied_count;
      ingest += std::chrono::steady_clock::now() - start;
      absl::Status s = (*raw)->Write([&](market::sqlite::Connection& c) -> absl::Status {
        auto st = c.Prepare(
            "INSERT INTO entities VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
        if (!st.ok()) return st.status();
        for (const Entity& e : batch) {
          st->Reset();
          (void)st->BindText(1, e.name);
          (void)st->Bind(2, static_cast<int64_t>(family));
          (void)st->BindText(3, e.market);
          (void)st->BindText(4, e.firm);
          (void)st->BindText(5, e.seller);
          (void)st->Bind(6, static_cast<int64_t>(e.category));
          for (int k = 0; k < 6; ++k) (void)st->Bind(7 + k, e.d[k]);
          if (absl::Status r = st->Run(); !r.ok()) return r;
        }
        return absl::OkStatus();
      });
      if (!s.ok()) {
        std::fprintf(stderr, "load: %s\n", s.ToString().c_str());
        return false;
      }
    }
  }
  const double ingest_s = Ms(ingest) / 1000;
  std::printf(
      "loaded %lld claims, %lld appraisal reports (with disputes), %lld listings: "
      "%lld snapshots into the figure counters in %.1f s, %.0f snapshots/s "
      "(one Apply each, as RecordStatsEvent, from %zu threads, group-committed)\n",
      static_cast<long long>(n), static_cast<long long>(n), static_cast<long long>(n),
      static_cast<long long>(snapshots), ingest_s, static_cast<double>(snapshots) / ingest_s,
      kApplyThreads);
  struct Case {
    const char* name;
    int family;
    v1::Period period;
    const char* from;
    v1::GroupBy group;
    const char* rpc;  // whose columns figures_service.cc queries
  };
  const std::vector<Case> cases = {
      {"claims month/market", 0, v1::MONTH, "2026-03-01", v1::MARKET, "QueryAfterSales"},
      {"appraisals year/firm", 1, v1::YEAR, "2026-01-01", v1::FIRM, "QueryAppraisals"},
      {"entities qtr/category", 2, v1::QUARTER, "2026-04-01", v1::CATEGORY, "QueryEntities"},
  };
  bool agree = true;
  for (const Case& c : cases) {
    DayRange r = *market::stats::ResolvePeriod(c.period, c.from, "");
    std::vector<v1::FigureRow> rows;
    market::stats::TradeQuery q{.range = r, .group_by = c.group};
    const auto& columns = market::stats::FamilyColumnsByRpc().at(c.rpc).columns;
    double ledger_ms = BestOf(5, [&] { rows = *figures.Query(columns, q); });
    Figures scanned;
    double scan_ms = BestOf(3, [&] { scanned = ScanFigures(**raw, c.family, r, c.group); });
    Figures got;
    for (const v1::FigureRow& row : rows)
      got[row.key()] = {row.values().begin(), row.values().end()};
    if (got != scanned) {
      for (const auto& [k, v] : got) {
        if (scanned[k] != v) std::fprintf(stderr, "MISMATCH %s %s\n", c.name, k.c_str());
      }
      agree = false;
    }
    std::printf("%-22s %3zu groups: ledger %8.2f ms   scan %9.2f ms   ratio %7.1fx\n", c.name,
                rows.size(), ledger_ms, scan_ms, scan_ms / ledger_ms);
  }
  return agree;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1'000'000, credit_records = 200'000;
  int64_t entities = 100'000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) {
      n = 20'000;
      credit_records = 5'000;
      entities = 3'000;
    }
    if (std::strcmp(argv[i], "--credit-records") == 0 && i + 1 < argc) {
      credit_records = std::stoll(argv[++i]);
    }
    if (std::strcmp(argv[i], "--entities") == 0 && i + 1 < argc) entities = std::stoll(argv[++i]);
    if (std::strcmp(argv[i], "--orders") == 0 && i + 1 < argc) n = std::stoll(argv[++i]);
  }
  std::string dir = std::filesystem::temp_directory_path() / absl::StrCat("stats_bench_", getpid());
  std::filesystem::create_directories(dir);
  auto store = StatsStore::Open(dir + "/stats.db");
  auto raw = market::sqlite::Database::Open(
      dir + "/orders.db", {},
      {{1, "CREATE TABLE orders(name TEXT PRIMARY KEY, market TEXT, category INTEGER, "
           "complete_day INTEGER, price_fen INTEGER); CREATE INDEX orders_day ON orders(complete_day);"}});
  if (!store.ok() || !raw.ok()) {
    std::fprintf(stderr, "open failed\n");
    return 1;
  }
  const DayRange two_years = *market::stats::ResolvePeriod(v1::CUSTOM, "2025-01-01", "2026-12-31");
  std::mt19937_64 rng(42);
  auto load_start = std::chrono::steady_clock::now();
  const int64_t batch = 20'000;
  std::chrono::steady_clock::duration ledger_load{};
  for (int64_t done = 0; done < n; done += batch) {
    std::vector<std::pair<std::string, v1::TradeEvent>> events;
    std::vector<std::tuple<std::string, std::string, int, int64_t, int64_t>> rows;
    for (int64_t i = done; i < std::min(n, done + batch); ++i) {
      int m = static_cast<int>(rng() % 50);
      v1::TradeEvent e;
      e.set_kind(v1::TradeEvent::COMPLETED);
      e.set_order(absl::StrCat("markets/m", m, "/orders/o", i));
      e.set_region_code(absl::StrCat("3501", 10 + m % 5, ""));
      e.set_market_operator(absl::StrCat("subjects/op", m));
      e.set_category(static_cast<market::common::v1::Category>(1 + rng() % 4));
      e.set_seller(absl::StrCat("subjects/s", rng() % 2000));
      e.set_buyer(absl::StrCat("subjects/b", rng() % 20000));
      e.set_price_fen(10'000 + static_cast<int64_t>(rng() % 490'000));  // 100.00..4999.99 yuan
      int64_t day = two_years.first + static_cast<int64_t>(rng() % (two_years.last - two_years.first + 1));
      *e.mutable_time() = market::ToTimestamp(
          absl::FromCivil(market::stats::CivilOfDay(day), market::stats::ChinaTime()) + absl::Hours(10));
      rows.emplace_back(e.order(), e.order().substr(0, e.order().find("/orders/")), e.category(), day,
                        e.price_fen());
      events.emplace_back(absl::StrCat("stats-COMPLETED-", e.order()), std::move(e));
    }
    auto apply_start = std::chrono::steady_clock::now();
    absl::Status s = (*store)->ApplyTradeEvents(events);
    ledger_load += std::chrono::steady_clock::now() - apply_start;
    if (s.ok()) {
      s = (*raw)->Write([&](market::sqlite::Connection& c) -> absl::Status {
        auto st = c.Prepare("INSERT INTO orders VALUES(?1, ?2, ?3, ?4, ?5)");
        if (!st.ok()) return st.status();
        for (const auto& [name, market, category, day, price] : rows) {
          st->Reset();
          (void)st->BindText(1, name);
          (void)st->BindText(2, market);
          (void)st->Bind(3, static_cast<int64_t>(category));
          (void)st->Bind(4, day);
          (void)st->Bind(5, price);
          if (absl::Status r = st->Run(); !r.ok()) return r;
        }
        return absl::OkStatus();
      });
    }
    if (!s.ok()) {
      std::fprintf(stderr, "load: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const double load_s = Ms(std::chrono::steady_clock::now() - load_start) / 1000;
  const double ledger_s = Ms(ledger_load) / 1000;
  std::printf("loaded %lld completed orders in %.1f s (50 markets, 4 categories, 2 years); "
              "ledger ingest %.1f s, %.0f orders/s in %lld-event transactions\n",
              static_cast<long long>(n), load_s, ledger_s, static_cast<double>(n) / ledger_s,
              static_cast<long long>(batch));

  bool agree = true;
  struct Case {
    const char* name;
    v1::Period period;
    const char* from;
    v1::GroupBy group;
  };
  for (const Case& c : {Case{"month by category", v1::MONTH, "2026-03-01", v1::CATEGORY},
                        Case{"year by market", v1::YEAR, "2026-01-01", v1::MARKET}}) {
    DayRange r = *market::stats::ResolvePeriod(c.period, c.from, "");
    std::vector<v1::TradeRow> rows;
    market::stats::TradeQuery q{.range = r, .group_by = c.group};
    double ledger_ms = BestOf(5, [&] { rows = *(*store)->QueryTrade(q); });
    std::map<std::string, v1::TradeRow> scanned;
    double scan_ms = BestOf(3, [&] { scanned = Scan(**raw, r, c.group == v1::MARKET); });
    int64_t orders = 0;
    for (const auto& row : rows) {
      orders += row.orders_completed();
      auto it = scanned.find(row.key());
      if (it == scanned.end() || it->second.DebugString() != row.DebugString()) {
        std::fprintf(stderr, "MISMATCH %s %s\n", c.name, row.key().c_str());
        agree = false;
      }
    }
    if (scanned.size() != rows.size()) agree = false;
    std::printf("%-18s %3zu groups %8lld orders: ledger %8.2f ms   scan %9.2f ms   ratio %7.1fx\n",
                c.name, rows.size(), static_cast<long long>(orders), ledger_ms, scan_ms,
                scan_ms / ledger_ms);
  }
  agree = CreditBench(dir, credit_records) && agree;
  if (!RunFigureFamilies(dir, (*store)->db(), entities, two_years)) agree = false;
  std::filesystem::remove_all(dir);
  std::printf(agree ? "figures agree\n" : "FIGURES DISAGREE\n");
  return agree ? 0 : 1;
}
