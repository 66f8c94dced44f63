// The statistics store on a real SQLite file: figures of a generated history
// against an independent computation (the median rounded down to its price
// bucket, as documented), over whole months, edge days and both, idempotency
// by event id, and the rebuild check on daily counters and monthly rollups.
#include "services/stats/stats_store.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>

#include "absl/strings/str_format.h"

#include "common/resource/resource.h"
#include "common/sqlite/sqlite_testing.h"
#include "services/stats/price_histogram.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::stats {
namespace {

struct Order {
  std::string name, market, region, seller, buyer;
  common::v1::Category category;
  int64_t price;
  bool swap;
  absl::Time placed;
  std::optional<absl::Time> completed, cancelled;
};

v1::TradeEvent Event(const Order& o, v1::TradeEvent::Kind kind, absl::Time t) {
  v1::TradeEvent e;
  e.set_kind(kind);
  e.set_order(o.name);
  e.set_region_code(o.region);
  e.set_market_operator("subjects/op-" + o.market.substr(8));
  e.set_category(o.category);
  e.set_seller(o.seller);
  e.set_buyer(o.buyer);
  e.set_price_fen(o.price);
  e.set_swap(o.swap);
  *e.mutable_time() = ToTimestamp(t);
  return e;
}

class StatsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = StatsStore::Open(dir_.path() + "/stats.db");
    ASSERT_OK(s.status());
    store_ = std::move(*s);
    std::mt19937 rng(7);
    const char* regions[] = {"350102", "350103", "350211"};
    const absl::Time start = absl::FromCivil(absl::CivilDay(2026, 1, 1), ChinaTime());
    for (int i = 0; i < 600; ++i) {
      Order o;
      int m = rng() % 4;
      o.market = absl::StrCat("markets/m", m);
      o.name = absl::StrCat(o.market, "/orders/o", i);
      o.region = regions[m % 3];
      o.seller = absl::StrCat("subjects/s", rng() % 12);
      o.buyer = absl::StrCat("subjects/b", rng() % 30);
      o.category = static_cast<common::v1::Category>(1 + rng() % 4);
      o.swap = rng() % 10 == 0;
      o.price = o.swap ? 0 : 1000 + rng() % 500'000;  // any fen: medians are bucketed
      o.placed = start + absl::Minutes(rng() % (120 * 24 * 60));
      int fate = rng() % 3;
      if (fate == 0) o.completed = o.placed + absl::Hours(rng() % 400);
      if (fate == 1) o.cancelled = o.placed + absl::Hours(rng() % 30);
      orders_.push_back(o);
    }
    // Delivered out of order and twice, as an outbox may.
    std::vector<std::pair<std::string, v1::TradeEvent>> events;
    for (const Order& o : orders_) {
      events.push_back({"p-" + o.name, Event(o, v1::TradeEvent::PLACED, o.placed)});
      if (o.completed) events.push_back({"c-" + o.name, Event(o, v1::TradeEvent::COMPLETED, *o.completed)});
      if (o.cancelled) events.push_back({"x-" + o.name, Event(o, v1::TradeEvent::CANCELLED, *o.cancelled)});
    }
    std::shuffle(events.begin(), events.end(), rng);
    // A few one by one (as the relay delivers), the rest in one transaction.
    for (size_t i = 0; i < 40; ++i) ASSERT_OK(store_->ApplyTradeEvent(events[i].first, events[i].second).status());
    ASSERT_OK(store_->ApplyTradeEvents({events.begin() + 40, events.end()}));
    for (int i = 0; i < 50; ++i) {
      auto again = store_->ApplyTradeEvent(events[i].first, events[i].second);
      ASSERT_OK(again.status());
      EXPECT_FALSE(*again);
    }
  }

  // The figures computed straight from orders_, keyed like the store.
  std::map<std::string, v1::TradeRow> Expected(DayRange r, std::function<std::string(const Order&)> key) {
    std::map<std::string, v1::TradeRow> out;
    std::map<std::string, std::vector<int64_t>> prices;
    auto in = [&](absl::Time t) { return DayOf(t) >= r.first && DayOf(t) <= r.last; };
    for (const Order& o : orders_) {
      v1::TradeRow& row = out[key(o)];
      if (in(o.placed)) row.set_orders_placed(row.orders_placed() + 1);
      if (o.cancelled && in(*o.cancelled)) row.set_orders_cancelled(row.orders_cancelled() + 1);
      if (o.completed && in(*o.completed)) {
        row.set_orders_completed(row.orders_completed() + 1);
        if (o.swap) {
          row.set_swaps_completed(row.swaps_completed() + 1);
        } else {
          row.set_gross_fen(row.gross_fen() + o.price);
          prices[key(o)].push_back(o.price);
        }
      }
    }
    for (auto it = out.begin(); it != out.end();) {
      v1::TradeRow& row = it->second;
      std::vector<int64_t>& p = prices[it->first];
      std::sort(p.begin(), p.end());
      if (!p.empty()) {
        row.set_mean_price_fen(row.gross_fen() / static_cast<int64_t>(p.size()));
        row.set_median_price_fen(PriceBucket(p[(p.size() - 1) / 2]));
      }
      row.set_key(it->first);
      if (row.orders_placed() + row.orders_completed() + row.orders_cancelled() == 0) {
        it = out.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  void ExpectFigures(const TradeQuery& q, std::function<std::string(const Order&)> key) {
    auto rows = store_->QueryTrade(q);
    ASSERT_OK(rows.status());
    auto want = Expected(q.range, key);
    ASSERT_EQ(rows->size(), want.size());
    for (const v1::TradeRow& got : *rows) {
      ASSERT_TRUE(want.contains(got.key())) << got.key();
      EXPECT_EQ(got.DebugString(), want[got.key()].DebugString()) << got.key();
    }
  }

  // Runs `sql` behind the store's back; the rebuild check's report after it.
  v1::RebuildTradeResponse CheckAfter(const std::string& sql) {
    EXPECT_OK(store_->db().Write([&](sqlite::Connection& c) { return c.Exec(sql); }));
    auto report = store_->RebuildTrade(false);
    EXPECT_OK(report.status());
    return report.ok() ? *report : v1::RebuildTradeResponse();
  }

  // Repairs, then expects the check to find nothing.
  void RepairAndExpectConsistent() {
    ASSERT_OK(store_->RebuildTrade(true).status());
    auto after = store_->RebuildTrade(false);
    ASSERT_OK(after.status());
    EXPECT_EQ(after->differences_size(), 0) << after->DebugString();
  }

  DayRange Month(int month) {
    return *ResolvePeriod(v1::MONTH, absl::StrFormat("2026-%02d-01", month), "");
  }

  sqlite::testing::ScopedTempDir dir_;
  std::unique_ptr<StatsStore> store_;
  std::vector<Order> orders_;
};

TEST_F(StatsStoreTest, MonthByCategoryMatchesTheOrders) {
  for (int month = 1; month <= 5; ++month) {
    ExpectFigures({.range = Month(month), .group_by = v1::CATEGORY},
                  [](const Order& o) { return common::v1::Category_Name(o.category); });
  }
}

TEST_F(StatsStoreTest, CustomRangeByMarketSellerAndRegionLevels) {
  DayRange r = *ResolvePeriod(v1::CUSTOM, "2026-01-20", "2026-03-10");
  ExpectFigures({.range = r, .group_by = v1::MARKET}, [](const Order& o) { return o.market; });
  ExpectFigures({.range = r, .group_by = v1::SELLER}, [](const Order& o) { return o.seller; });
  ExpectFigures({.range = r, .group_by = v1::COUNTY}, [](const Order& o) { return o.region; });
  ExpectFigures({.range = r, .group_by = v1::CITY},
                [](const Order& o) { return o.region.substr(0, 4) + "00"; });
  ExpectFigures({.range = r, .group_by = v1::PROVINCE}, [](const Order&) { return "350000"; });
  ExpectFigures({.range = r}, [](const Order&) { return ""; });
}

TEST_F(StatsStoreTest, RangesOfWholeMonthsAndEdgeDaysMatchTheOrders) {
  const std::pair<const char*, const char*> ranges[] = {
      {"2026-01-01", "2026-03-31"},  // whole months only (rollups)
      {"2025-12-15", "2026-02-10"},  // edge days, a whole month, edge days
      {"2026-02-03", "2026-02-27"},  // inside one month (daily counters only)
      {"2026-01-31", "2026-05-01"},  // one edge day each side
      {"2026-03-07", "2026-03-07"},  // one day
      {"2025-01-01", "2026-12-31"},  // two whole years
  };
  for (const auto& [from, to] : ranges) {
    SCOPED_TRACE(absl::StrCat(from, "..", to));
    DayRange r = *ResolvePeriod(v1::CUSTOM, from, to);
    ExpectFigures({.range = r, .group_by = v1::CATEGORY},
                  [](const Order& o) { return common::v1::Category_Name(o.category); });
    ExpectFigures({.range = r, .group_by = v1::MARKET}, [](const Order& o) { return o.market; });
    ExpectFigures({.range = r, .group_by = v1::SELLER}, [](const Order& o) { return o.seller; });
    ExpectFigures({.range = r}, [](const Order&) { return ""; });
  }
}

TEST_F(StatsStoreTest, FiltersByMarketRegionAndCategory) {
  DayRange r = *ResolvePeriod(v1::YEAR, "2026-06-01", "");
  auto rows = store_->QueryTrade({.range = r,
                                  .group_by = v1::MARKET,
                                  .markets = {"markets/m1", "markets/m2"},
                                  .region = "3501",
                                  .category = common::v1::PHONE});
  ASSERT_OK(rows.status());
  // m1 is in 350103, m2 in 350211 (another city): only m1 remains.
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].key(), "markets/m1");
  int64_t placed = 0;
  for (const Order& o : orders_) placed += o.market == "markets/m1" && o.category == common::v1::PHONE;
  EXPECT_EQ((*rows)[0].orders_placed(), placed);
}

TEST_F(StatsStoreTest, RebuildFindsNoDifferenceOnAConsistentStore) {
  auto report = store_->RebuildTrade(false);
  ASSERT_OK(report.status());
  EXPECT_GT(report->counters_checked(), 1000);
  EXPECT_EQ(report->differences_size(), 0) << report->DebugString();
}

TEST_F(StatsStoreTest, RebuildReportsACounterChangedBehindTheServiceAndRepairsIt) {
  // WITHOUT ROWID tables have no rowid: change the first completed row by key.
  v1::RebuildTradeResponse report = CheckAfter(
      "UPDATE trade_daily SET completed = completed + 3 WHERE (day, market, category) = "
      "(SELECT day, market, category FROM trade_daily WHERE completed > 0 ORDER BY day LIMIT 1)");
  ASSERT_EQ(report.differences_size(), 1) << report.DebugString();
  EXPECT_THAT(report.differences(0).counter(),
              ::testing::AllOf(::testing::StartsWith("trade_daily 2026-01-"),
                               ::testing::EndsWith(" completed")));
  EXPECT_EQ(report.differences(0).stored(), report.differences(0).recomputed() + 3);
  RepairAndExpectConsistent();
}

TEST_F(StatsStoreTest, RebuildReportsAMonthlyRollupCounterChangedBehindTheService) {
  v1::RebuildTradeResponse report = CheckAfter(
      "UPDATE trade_monthly SET placed = placed - 2 WHERE (month, market, category) = "
      "(SELECT month, market, category FROM trade_monthly WHERE placed > 2 ORDER BY month LIMIT 1)");
  ASSERT_EQ(report.differences_size(), 1) << report.DebugString();
  EXPECT_THAT(report.differences(0).counter(),
              ::testing::AllOf(::testing::StartsWith("trade_monthly 2026-01 markets/m"),
                               ::testing::EndsWith(" placed")));
  EXPECT_EQ(report.differences(0).stored(), report.differences(0).recomputed() - 2);
}

TEST_F(StatsStoreTest, RebuildReportsAChangedRollupPriceHistogramAndRepairsIt) {
  // Empty the price histogram of one seller's busiest month row.
  v1::RebuildTradeResponse report = CheckAfter(
      "UPDATE trade_seller_monthly SET prices = x'' WHERE (month, seller, market, category) = "
      "(SELECT month, seller, market, category FROM trade_seller_monthly "
      "ORDER BY completed - swaps DESC LIMIT 1)");
  ASSERT_GT(report.differences_size(), 0);
  for (const v1::CounterDifference& d : report.differences()) {
    EXPECT_THAT(d.counter(), ::testing::AllOf(::testing::StartsWith("trade_seller_monthly 2026-"),
                                              ::testing::HasSubstr(" price ")));
    EXPECT_EQ(d.stored(), 0);
    EXPECT_GT(d.recomputed(), 0);
  }

  RepairAndExpectConsistent();
  ExpectFigures({.range = *ResolvePeriod(v1::CUSTOM, "2026-01-01", "2026-06-30"),
                 .group_by = v1::SELLER},
                [](const Order& o) { return o.seller; });
}

TEST_F(StatsStoreTest, OpenFillsRollupsAMigrationLeftPending) {
  // As a stats.db from before the rollups: empty rollup tables marked pending.
  ASSERT_OK(store_->db().Write([](sqlite::Connection& c) {
    return c.Exec("DELETE FROM trade_monthly; DELETE FROM trade_seller_monthly; "
                  "INSERT INTO rollups_pending VALUES('trade_monthly'), ('trade_seller_monthly')");
  }));
  store_.reset();
  auto reopened = StatsStore::Open(dir_.path() + "/stats.db");
  ASSERT_OK(reopened.status());
  store_ = std::move(*reopened);
  auto report = store_->RebuildTrade(false);
  ASSERT_OK(report.status());
  EXPECT_EQ(report->differences_size(), 0) << report->DebugString();
  ExpectFigures({.range = *ResolvePeriod(v1::QUARTER, "2026-01-01", ""), .group_by = v1::MARKET},
                [](const Order& o) { return o.market; });
}

}  // namespace
}  // namespace market::stats
