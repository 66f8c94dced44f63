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
//   stats_bench [--orders N] [--credit-records M] [--smoke]
//     (default N = 1,000,000, M = 200,000; smoke 20,000 and 5,000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/resource/resource.h"
#include "common/sqlite/database.h"
#include "services/stats/credit_history_testing.h"
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

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1'000'000, credit_records = 200'000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) n = 20'000, credit_records = 5'000;
    if (std::strcmp(argv[i], "--credit-records") == 0 && i + 1 < argc) {
      credit_records = std::stoll(argv[++i]);
    }
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
  std::filesystem::remove_all(dir);
  std::printf(agree ? "figures agree\n" : "FIGURES DISAGREE\n");
  return agree ? 0 : 1;
}
