// The statistics ledger fed by the real listing services (stats_fixture.h):
// every trade figure compared with an independent computation from what the
// test did, the access rules and the rebuild check through the RPCs.
#include "tests/stats_fixture.h"

namespace market::stats {
namespace {

TEST_F(StatsServiceTest, SupervisorFiguresMatchTheTradesMadeThroughTheServices) {
  ASSERT_NO_FATAL_FAILURE(MakeHistory());
  for (const char* month : {"2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"}) {
    v1::QueryTradeResponse resp;
    grpc::Status s = Query(supervisor_, Req(v1::MONTH, month, v1::MARKET), &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ExpectRows(resp, Expected(*ResolvePeriod(v1::MONTH, month, ""), [](const Done& d) { return d.market; }));
  }
  v1::QueryTradeResponse resp;
  ASSERT_TRUE(Query(supervisor_, Req(v1::CUSTOM, "2026-01-20", v1::SELLER, "2026-03-15"), &resp).ok());
  ExpectRows(resp, Expected(*ResolvePeriod(v1::CUSTOM, "2026-01-20", "2026-03-15"),
                            [](const Done& d) { return d.seller; }));
  ASSERT_TRUE(Query(supervisor_, Req(v1::QUARTER, "2026-02-11", v1::CITY), &resp).ok());
  EXPECT_EQ(resp.from_date(), "2026-01-01");
  EXPECT_EQ(resp.to_date(), "2026-03-31");
  ExpectRows(resp, Expected(*ResolvePeriod(v1::QUARTER, "2026-02-11", ""),
                            [](const Done& d) { return d.region.substr(0, 4) + "00"; }));
  ASSERT_TRUE(Query(supervisor_, Req(v1::WEEK, "2026-02-04", v1::CATEGORY), &resp).ok());
  ExpectRows(resp, Expected(*ResolvePeriod(v1::WEEK, "2026-02-04", ""),
                            [](const Done&) { return std::string("APPLIANCE"); }));
}

TEST_F(StatsServiceTest, OperatorSeesOnlyItsOwnMarkets) {
  ASSERT_NO_FATAL_FAILURE(MakeHistory());
  v1::QueryTradeResponse resp;
  ASSERT_TRUE(Query(east_op_, Req(v1::YEAR, "2026-01-01", v1::MARKET), &resp).ok());
  ExpectRows(resp, Expected(*ResolvePeriod(v1::YEAR, "2026-01-01", ""), [](const Done& d) { return d.market; },
                            [this](const Done& d) { return d.market == east_; }));
  v1::QueryTradeRequest other = Req(v1::YEAR, "2026-01-01", v1::MARKET);
  other.add_markets(west_);
  EXPECT_EQ(Query(east_op_, other, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Query(west_op_, other, &resp).ok());
}

TEST_F(StatsServiceTest, PublicSeesCountyMonthsByCategoryWithSmallCellsSuppressed) {
  ASSERT_NO_FATAL_FAILURE(MakeHistory());
  v1::QueryTradeResponse resp;
  // East in January: 4 sellers and several buyers trade, so the cell shows.
  v1::QueryTradeRequest east = Req(v1::MONTH, "2026-01-01", v1::CATEGORY);
  east.set_region("350102");
  ASSERT_TRUE(Query("", east, &resp).ok());
  ExpectRows(resp, Expected(*ResolvePeriod(v1::MONTH, "2026-01-01", ""),
                            [](const Done&) { return std::string("APPLIANCE"); },
                            [](const Done& d) { return d.region == "350102"; }));
  // West in January: two sellers and two buyers at most, suppressed.
  v1::QueryTradeRequest west = east;
  west.set_region("350211");
  ASSERT_TRUE(Query("", west, &resp).ok());
  ASSERT_EQ(resp.rows_size(), 1);
  EXPECT_TRUE(resp.rows(0).suppressed());
  EXPECT_EQ(resp.rows(0).orders_placed(), 0);
  // Nothing finer than a county month by category.
  EXPECT_EQ(Query("", Req(v1::DAY, "2026-01-05", v1::CATEGORY), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Query("", Req(v1::MONTH, "2026-01-05", v1::SELLER), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::QueryTradeRequest market = east;
  market.add_markets(east_);
  EXPECT_EQ(Query(sellers_[0], market, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(StatsServiceTest, RebuildReportsACounterChangedBehindTheService) {
  ASSERT_NO_FATAL_FAILURE(MakeHistory());
  v1::RebuildTradeResponse report;
  ASSERT_TRUE(stub_->RebuildTrade(Ctx(supervisor_).get(), v1::RebuildTradeRequest(), &report).ok());
  EXPECT_EQ(report.differences_size(), 0) << report.DebugString();
  ASSERT_OK(stats_store_->db().Write([](sqlite::Connection& c) {
    return c.Exec("UPDATE trade_daily SET gross_fen = gross_fen - 100 WHERE (day, market) IN "
                  "(SELECT day, market FROM trade_daily WHERE gross_fen > 0 ORDER BY day LIMIT 1)");
  }));
  ASSERT_TRUE(stub_->RebuildTrade(Ctx(supervisor_).get(), v1::RebuildTradeRequest(), &report).ok());
  ASSERT_EQ(report.differences_size(), 1) << report.DebugString();
  EXPECT_THAT(report.differences(0).counter(), ::testing::EndsWith(" gross_fen"));
  EXPECT_EQ(report.differences(0).stored() + 100, report.differences(0).recomputed());
  EXPECT_EQ(stub_->RebuildTrade(Ctx(east_op_).get(), v1::RebuildTradeRequest(), &report).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(StatsServiceTest, RecordTradeEventIsIdempotentAndOnlyForServices) {
  v1::RecordTradeEventRequest req;
  req.set_event_id("stats-COMPLETED-markets/east/orders/x");
  auto* e = req.mutable_event();
  e->set_kind(v1::TradeEvent::COMPLETED);
  e->set_order("markets/east/orders/x");
  e->set_region_code("350102");
  e->set_category(common::v1::PHONE);
  e->set_price_fen(5000);
  *e->mutable_time() = ToTimestamp(clock_.Now());
  v1::RecordTradeEventResponse resp;
  ASSERT_TRUE(stub_->RecordTradeEvent(Ctx(relay_account_).get(), req, &resp).ok());
  EXPECT_TRUE(resp.applied());
  ASSERT_TRUE(stub_->RecordTradeEvent(Ctx(relay_account_).get(), req, &resp).ok());
  EXPECT_FALSE(resp.applied());
  EXPECT_EQ(stub_->RecordTradeEvent(Ctx(supervisor_).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::QueryTradeResponse q;
  ASSERT_TRUE(Query(supervisor_, Req(v1::DAY, "2026-01-05", v1::GROUP_BY_UNSPECIFIED), &q).ok());
  ASSERT_EQ(q.rows_size(), 1);
  EXPECT_EQ(q.rows(0).orders_completed(), 1);
  EXPECT_EQ(q.rows(0).gross_fen(), 5000);
}

TEST_F(StatsServiceTest, BadQueriesNameTheField) {
  v1::QueryTradeResponse resp;
  v1::QueryTradeRequest req = Req(v1::MONTH, "2026-02-30", v1::MARKET);
  grpc::Status s = Query(supervisor_, req, &resp);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(s))[0].field, "from_date");
  req = Req(v1::MONTH, "2026-02-01", v1::MARKET);
  req.set_region("35x");
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(Query(supervisor_, req, &resp)))[0].field, "region");
  req.set_region("");
  req.add_markets("east");
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(Query(supervisor_, req, &resp)))[0].field, "markets[0]");
}

}  // namespace
}  // namespace market::stats
