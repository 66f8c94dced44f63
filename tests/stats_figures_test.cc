// The statistics ledger's after-sales and market-entity figures fed by the
// real services (stats_fixture.h): four months of listings and orders through
// the listing services and warranty claims through WarrantyService (orders
// looked up from listing over gRPC), their snapshots relayed from both
// outboxes to StatisticsService over gRPC, and every figure compared with the
// test's own computation from what it did. Also the access rules, the public
// suppression and the rebuild check of the new counters.
#include <set>

#include "market/warranty/v1/warranty.grpc.pb.h"
#include "tests/stats_fixture.h"

namespace market::stats {
namespace {

namespace wv1 = ::market::warranty::v1;

// What the test did with one claim: the days (China time) of its figures.
struct ClaimDone {
  std::string market, region, seller, buyer;
  wv1::Claim::Kind kind;
  int64_t file_day;
  std::optional<int64_t> on_time_day, missed_day, upheld_day, dismissed_day, resolve_day;
  int64_t days_to_resolution = 0;
};

using Rows = std::map<std::string, std::vector<int64_t>>;

class StatsFiguresTest : public StatsServiceTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StatsServiceTest::SetUp());
    warranty_stub_ = wv1::WarrantyService::NewStub(NewChannel());
  }

  void Ok(const grpc::Status& s) { ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message(); }

  // One claim on the completed order `d`, filed an hour after its delivery;
  // its fate by `j % 4`: accepted and resolved (exchange) `j % 5` days later;
  // rejected, escalated and upheld the next day; rejected, escalated and
  // dismissed two days later; never answered (the reply deadline passes).
  void Claim(const Done& d, int j) {
    const absl::Time t0 = d.placed + absl::Hours(1);
    clock_.Set(t0);
    const int fate = j % 4;
    const wv1::Claim::Kind kinds[] = {wv1::Claim::EXCHANGE, wv1::Claim::REPAIR,
                                      wv1::Claim::REFUND, wv1::Claim::REPAIR};
    wv1::FileClaimRequest file;
    file.mutable_claim()->set_order(d.order);
    file.mutable_claim()->set_kind(kinds[fate]);
    file.mutable_claim()->set_fault_code("COMPRESSOR");
    file.mutable_claim()->set_fault_description("压缩机不启动，冷藏室不制冷");
    file.mutable_claim()->add_evidence_photos(HexEncode(Sha256("photo")));
    wv1::Claim c;
    ASSERT_NO_FATAL_FAILURE(Ok(warranty_stub_->FileClaim(Ctx(d.buyer).get(), file, &c)));
    ClaimDone done{d.market, d.region, d.seller, d.buyer, kinds[fate], DayOf(t0)};
    auto respond = [&](wv1::RespondToClaimRequest::Decision decision) {
      clock_.Set(t0 + absl::Hours(2));
      wv1::RespondToClaimRequest r;
      r.set_name(c.name());
      r.set_decision(decision);
      if (decision == wv1::RespondToClaimRequest::REJECT) r.set_reason("人为损坏，不在保修范围");
      ASSERT_NO_FATAL_FAILURE(Ok(warranty_stub_->RespondToClaim(Ctx(d.seller).get(), r, &c)));
      done.on_time_day = DayOf(clock_.Now());
    };
    auto escalate_and_rule = [&](wv1::Claim::State outcome, int days) {
      clock_.Set(t0 + absl::Hours(3));
      wv1::EscalateClaimRequest e;
      e.set_name(c.name());
      e.set_reason("卖家拒绝理由不成立");
      ASSERT_NO_FATAL_FAILURE(Ok(warranty_stub_->EscalateClaim(Ctx(d.buyer).get(), e, &c)));
      clock_.Set(t0 + absl::Hours(24 * days));
      wv1::RuleOnClaimRequest rule;
      rule.set_name(c.name());
      rule.set_outcome(outcome);
      rule.set_reason("经核实");
      ASSERT_NO_FATAL_FAILURE(Ok(warranty_stub_->RuleOnClaim(Ctx(supervisor_).get(), rule, &c)));
      (outcome == wv1::Claim::UPHELD ? done.upheld_day : done.dismissed_day) = DayOf(clock_.Now());
    };
    if (fate == 0) {
      ASSERT_NO_FATAL_FAILURE(respond(wv1::RespondToClaimRequest::ACCEPT));
      clock_.Set(t0 + absl::Hours(24 * (j % 5) + 3));
      wv1::ResolveClaimRequest r;
      r.set_name(c.name());
      r.mutable_resolution()->set_outcome(wv1::Resolution::EXCHANGED);
      r.mutable_resolution()->set_note("已换新");
      ASSERT_NO_FATAL_FAILURE(Ok(warranty_stub_->ResolveClaim(Ctx(d.seller).get(), r, &c)));
      wv1::ResolveClaimRequest confirm;
      confirm.set_name(c.name());
      confirm.set_confirm(true);
      ASSERT_NO_FATAL_FAILURE(Ok(warranty_stub_->ResolveClaim(Ctx(d.buyer).get(), confirm, &c)));
      ASSERT_EQ(c.state(), wv1::Claim::RESOLVED);
      done.resolve_day = DayOf(clock_.Now());
      done.days_to_resolution = j % 5;
    } else if (fate == 1 || fate == 2) {
      ASSERT_NO_FATAL_FAILURE(respond(wv1::RespondToClaimRequest::REJECT));
      ASSERT_NO_FATAL_FAILURE(
          escalate_and_rule(fate == 1 ? wv1::Claim::UPHELD : wv1::Claim::DISMISSED, fate));
    } else {
      clock_.Set(t0 + absl::Hours(24 * 6));
      ASSERT_OK(warranty_.service->RunDeadlines().status());
      ASSERT_NO_FATAL_FAILURE(Ok(Get(c.name(), &c)));
      ASSERT_EQ(c.state(), wv1::Claim::ESCALATED);
      done.missed_day = DayOf(FromTimestamp(c.reply_deadline()));
    }
    claims_.push_back(done);
  }

  grpc::Status Get(const std::string& name, wv1::Claim* out) {
    wv1::GetClaimRequest req;
    req.set_name(name);
    return warranty_stub_->GetClaim(Ctx(supervisor_).get(), req, out);
  }

  // The trade history, a claim on every other completed order, all relayed.
  void MakeClaimHistory() {
    ASSERT_NO_FATAL_FAILURE(MakeHistory());
    int j = 0;
    for (size_t i = 0; i < done_.size(); ++i) {
      if (!done_[i].complete_day.has_value() || i % 2 == 1) continue;
      ASSERT_NO_FATAL_FAILURE(Claim(done_[i], j++));
    }
    ASSERT_GE(j, 8);
    ASSERT_NO_FATAL_FAILURE(RelayAll(relay_.get(), &listing_store_->db()));
    ASSERT_NO_FATAL_FAILURE(RelayAll(warranty_relay_.get(), warranty_.db));
  }

  // The after-sales columns of QueryAfterSales, computed from claims_.
  Rows ExpectedClaims(DayRange r, const std::function<std::string(const ClaimDone&)>& key,
                      const std::function<bool(const ClaimDone&)>& keep = nullptr) {
    Rows out;
    std::map<std::string, std::vector<int64_t>> days;
    auto in = [&](std::optional<int64_t> d) { return d && *d >= r.first && *d <= r.last; };
    auto bump = [&](const ClaimDone& c, int column) {
      auto& row = out[key(c)];
      row.resize(10);
      ++row[column];
    };
    for (const ClaimDone& c : claims_) {
      if (keep && !keep(c)) continue;
      if (in(c.file_day)) {
        bump(c, 0);
        bump(c, c.kind == wv1::Claim::REFUND ? 1 : c.kind == wv1::Claim::EXCHANGE ? 2 : 3);
      }
      if (in(c.upheld_day)) bump(c, 4);
      if (in(c.dismissed_day)) bump(c, 5);
      if (in(c.on_time_day)) bump(c, 6);
      if (in(c.missed_day)) bump(c, 7);
      if (in(c.resolve_day)) {
        bump(c, 8);
        days[key(c)].push_back(c.days_to_resolution);
      }
    }
    for (auto& [k, d] : days) {
      std::sort(d.begin(), d.end());
      out[k][9] = d[(d.size() - 1) / 2];
    }
    return out;
  }

  // The QueryEntities columns computed from done_.
  Rows ExpectedEntities(DayRange r, const std::function<std::string(const Done&)>& key) {
    Rows out;
    std::map<std::string, std::vector<int64_t>> days;
    std::map<std::string, std::set<std::string>> markets, sellers;
    std::map<std::pair<std::string, std::string>, int64_t> first_publish;
    auto in = [&](int64_t d) { return d >= r.first && d <= r.last; };
    for (const Done& d : done_) {
      const bool sold = d.complete_day.has_value();
      if (!in(d.publish_day) && !(sold && in(d.place_day))) continue;
      auto& row = out[key(d)];
      row.resize(9);
      if (in(d.publish_day)) {
        ++row[0];
        ++row[1];
        markets[key(d)].insert(d.market);
        sellers[key(d)].insert(d.seller);
      }
      if (sold && in(d.place_day)) {
        ++row[3];
        days[key(d)].push_back(d.listed_days);
        markets[key(d)].insert(d.market);
        sellers[key(d)].insert(d.seller);
      }
    }
    for (const Done& d : done_) {
      auto [it, fresh] = first_publish.try_emplace({key(d), d.seller}, d.publish_day);
      if (!fresh) it->second = std::min(it->second, d.publish_day);
    }
    for (auto& [k, row] : out) {
      if (auto& d = days[k]; !d.empty()) {
        std::sort(d.begin(), d.end());
        row[4] = d[(d.size() - 1) / 2];
        int64_t total = 0;
        for (int64_t x : d) total += x;
        row[5] = total / static_cast<int64_t>(d.size());
      }
      row[6] = static_cast<int64_t>(markets[k].size());
      row[7] = static_cast<int64_t>(sellers[k].size());
    }
    for (const auto& [ks, day] : first_publish) {
      if (in(day) && out.contains(ks.first)) ++out[ks.first][8];
    }
    return out;
  }

  static v1::QueryFiguresRequest FReq(v1::Period p, const std::string& from, v1::GroupBy g,
                                      const std::string& to = "") {
    v1::QueryFiguresRequest req;
    req.set_period(p);
    req.set_from_date(from);
    req.set_to_date(to);
    req.set_group_by(g);
    return req;
  }

  static Rows Got(const v1::QueryFiguresResponse& resp) {
    Rows out;
    for (const v1::FigureRow& r : resp.rows()) out[r.key()] = {r.values().begin(), r.values().end()};
    return out;
  }

  std::unique_ptr<wv1::WarrantyService::Stub> warranty_stub_;
  std::vector<ClaimDone> claims_;
};

TEST_F(StatsFiguresTest, AfterSalesFiguresMatchTheClaimsMadeThroughTheServices) {
  ASSERT_NO_FATAL_FAILURE(MakeClaimHistory());
  v1::QueryFiguresResponse resp;
  auto market = [](const ClaimDone& c) { return c.market; };
  for (const char* month : {"2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"}) {
    ASSERT_NO_FATAL_FAILURE(Ok(stub_->QueryAfterSales(
        Ctx(supervisor_).get(), FReq(v1::MONTH, month, v1::MARKET), &resp)));
    EXPECT_EQ(Got(resp), ExpectedClaims(*ResolvePeriod(v1::MONTH, month, ""), market)) << month;
  }
  EXPECT_EQ(resp.columns(0), "claims_filed");
  EXPECT_EQ(resp.columns(9), "median_days_to_resolution");
  ASSERT_NO_FATAL_FAILURE(Ok(stub_->QueryAfterSales(
      Ctx(supervisor_).get(), FReq(v1::YEAR, "2026-05-05", v1::COUNTY), &resp)));
  Rows year = ExpectedClaims(*ResolvePeriod(v1::YEAR, "2026-05-05", ""),
                             [](const ClaimDone& c) { return c.region; });
  EXPECT_EQ(Got(resp), year);
  // Every kind of figure occurs in the history.
  for (int col = 0; col < 10; ++col) {
    int64_t total = 0;
    for (const auto& [k, row] : year) total += row[col];
    EXPECT_GT(total, 0) << resp.columns(col);
  }
  ASSERT_NO_FATAL_FAILURE(Ok(stub_->QueryAfterSales(
      Ctx(supervisor_).get(), FReq(v1::CUSTOM, "2026-01-20", v1::SELLER, "2026-03-15"), &resp)));
  EXPECT_EQ(Got(resp), ExpectedClaims(*ResolvePeriod(v1::CUSTOM, "2026-01-20", "2026-03-15"),
                                      [](const ClaimDone& c) { return c.seller; }));
}

TEST_F(StatsFiguresTest, EntityFiguresMatchTheListingsMadeThroughTheServices) {
  ASSERT_NO_FATAL_FAILURE(MakeHistory());
  v1::QueryFiguresResponse resp;
  for (const char* month : {"2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"}) {
    ASSERT_NO_FATAL_FAILURE(Ok(stub_->QueryEntities(
        Ctx(supervisor_).get(), FReq(v1::MONTH, month, v1::GROUP_BY_UNSPECIFIED), &resp)));
    EXPECT_EQ(Got(resp), ExpectedEntities(*ResolvePeriod(v1::MONTH, month, ""),
                                          [](const Done&) { return std::string(); }))
        << month;
  }
  ASSERT_NO_FATAL_FAILURE(Ok(stub_->QueryEntities(
      Ctx(supervisor_).get(), FReq(v1::QUARTER, "2026-01-01", v1::MARKET), &resp)));
  Rows quarter = ExpectedEntities(*ResolvePeriod(v1::QUARTER, "2026-01-01", ""),
                                  [](const Done& d) { return d.market; });
  EXPECT_EQ(Got(resp), quarter);
  EXPECT_EQ(quarter[east_][8], 3);  // sellers 0-2 sell in east, all new in Q1
  ASSERT_NO_FATAL_FAILURE(Ok(stub_->QueryEntities(
      Ctx(supervisor_).get(), FReq(v1::WEEK, "2026-02-04", v1::CITY), &resp)));
  EXPECT_EQ(Got(resp), ExpectedEntities(*ResolvePeriod(v1::WEEK, "2026-02-04", ""),
                                        [](const Done& d) { return d.region.substr(0, 4) + "00"; }));
}

TEST_F(StatsFiguresTest, OperatorSeesOnlyItsOwnMarketsClaims) {
  ASSERT_NO_FATAL_FAILURE(MakeClaimHistory());
  v1::QueryFiguresResponse resp;
  ASSERT_NO_FATAL_FAILURE(Ok(stub_->QueryAfterSales(
      Ctx(east_op_).get(), FReq(v1::YEAR, "2026-01-01", v1::MARKET), &resp)));
  EXPECT_EQ(Got(resp), ExpectedClaims(*ResolvePeriod(v1::YEAR, "2026-01-01", ""),
                                      [](const ClaimDone& c) { return c.market; },
                                      [this](const ClaimDone& c) { return c.market == east_; }));
  v1::QueryFiguresRequest west = FReq(v1::YEAR, "2026-01-01", v1::MARKET);
  west.add_markets(west_);
  EXPECT_EQ(stub_->QueryAfterSales(Ctx(east_op_).get(), west, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->QueryEntities(Ctx(east_op_).get(), west, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(stub_->QueryAfterSales(Ctx(west_op_).get(), west, &resp).ok());
}

TEST_F(StatsFiguresTest, PublicClaimCellsWithFewerThanFiveSubjectsAreSuppressed) {
  ASSERT_NO_FATAL_FAILURE(MakeClaimHistory());
  int suppressed = 0, shown = 0;
  for (const char* month : {"2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"}) {
    for (const char* region : {"350102", "350211"}) {
      v1::QueryFiguresRequest req = FReq(v1::MONTH, month, v1::CATEGORY);
      req.set_region(region);
      v1::QueryFiguresResponse resp;
      ASSERT_NO_FATAL_FAILURE(Ok(stub_->QueryAfterSales(Ctx("").get(), req, &resp)));
      const DayRange r = *ResolvePeriod(v1::MONTH, month, "");
      std::set<std::string> parties;
      for (const ClaimDone& c : claims_) {
        if (c.region == region && c.file_day >= r.first && c.file_day <= r.last) {
          parties.insert(c.buyer);
          parties.insert(c.seller);
        }
      }
      Rows want = ExpectedClaims(r, [](const ClaimDone&) { return std::string("APPLIANCE"); },
                                 [&](const ClaimDone& c) { return c.region == region; });
      for (const v1::FigureRow& row : resp.rows()) {
        if (parties.size() < 5) {
          EXPECT_TRUE(row.suppressed()) << month << " " << region;
          EXPECT_EQ(row.values(0), 0);
          ++suppressed;
        } else {
          EXPECT_FALSE(row.suppressed());
          EXPECT_EQ(std::vector<int64_t>(row.values().begin(), row.values().end()), want[row.key()]);
          ++shown;
        }
      }
    }
  }
  EXPECT_GT(suppressed, 0);
  EXPECT_GT(shown, 0);
  v1::QueryFiguresResponse resp;
  EXPECT_EQ(stub_->QueryAfterSales(Ctx("").get(), FReq(v1::MONTH, "2026-01-01", v1::SELLER), &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(StatsFiguresTest, RebuildFindsAndRepairsATamperedFigureCounter) {
  ASSERT_NO_FATAL_FAILURE(MakeClaimHistory());
  v1::RebuildTradeResponse report;
  ASSERT_NO_FATAL_FAILURE(
      Ok(stub_->RebuildTrade(Ctx(supervisor_).get(), v1::RebuildTradeRequest(), &report)));
  EXPECT_EQ(report.differences_size(), 0) << report.DebugString();
  ASSERT_OK(stats_store_->db().Write([](sqlite::Connection& c) {
    return c.Exec(
        "UPDATE figure_daily SET n = n + 2 WHERE (day, metric, market, category, region, firm, "
        "seller) IN (SELECT day, metric, market, category, region, firm, seller FROM "
        "figure_daily WHERE metric = 'upheld' ORDER BY day LIMIT 1)");
  }));
  ASSERT_NO_FATAL_FAILURE(
      Ok(stub_->RebuildTrade(Ctx(supervisor_).get(), v1::RebuildTradeRequest(), &report)));
  ASSERT_EQ(report.differences_size(), 1) << report.DebugString();
  EXPECT_THAT(report.differences(0).counter(), ::testing::HasSubstr("figure_daily"));
  EXPECT_THAT(report.differences(0).counter(), ::testing::HasSubstr(" upheld "));
  EXPECT_EQ(report.differences(0).stored(), report.differences(0).recomputed() + 2);
  v1::RebuildTradeRequest repair;
  repair.set_repair(true);
  ASSERT_NO_FATAL_FAILURE(Ok(stub_->RebuildTrade(Ctx(supervisor_).get(), repair, &report)));
  EXPECT_TRUE(report.repaired());
  ASSERT_NO_FATAL_FAILURE(
      Ok(stub_->RebuildTrade(Ctx(supervisor_).get(), v1::RebuildTradeRequest(), &report)));
  EXPECT_EQ(report.differences_size(), 0) << report.DebugString();
}

TEST_F(StatsFiguresTest, RecordStatsEventIsIdempotentVersionedAndOnlyForServices) {
  v1::RecordStatsEventRequest req;
  req.set_event_id("stats-markets/east/listings/x@1");
  v1::FigureSnapshot* s = req.mutable_snapshot();
  s->set_entity("markets/east/listings/x");
  s->set_version(2);
  s->set_market(east_);
  s->set_category(common::v1::PHONE);
  s->set_seller(sellers_[0]);
  *s->mutable_time() = ToTimestamp(clock_.Now());
  *s->mutable_listing()->mutable_create_time() = ToTimestamp(clock_.Now());
  v1::RecordStatsEventResponse resp;
  ASSERT_NO_FATAL_FAILURE(Ok(stub_->RecordStatsEvent(Ctx(relay_account_).get(), req, &resp)));
  EXPECT_TRUE(resp.applied());
  ASSERT_NO_FATAL_FAILURE(Ok(stub_->RecordStatsEvent(Ctx(relay_account_).get(), req, &resp)));
  EXPECT_FALSE(resp.applied());
  // An older version of the same listing, delivered late, changes nothing.
  req.set_event_id("stats-markets/east/listings/x@0");
  s->set_version(1);
  s->mutable_listing()->clear_create_time();
  *s->mutable_listing()->mutable_create_time() = ToTimestamp(clock_.Now() - absl::Hours(24 * 40));
  ASSERT_NO_FATAL_FAILURE(Ok(stub_->RecordStatsEvent(Ctx(relay_account_).get(), req, &resp)));
  EXPECT_FALSE(resp.applied());
  EXPECT_EQ(stub_->RecordStatsEvent(Ctx(supervisor_).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::QueryFiguresResponse q;
  ASSERT_NO_FATAL_FAILURE(Ok(stub_->QueryEntities(
      Ctx(supervisor_).get(), FReq(v1::YEAR, "2026-01-05", v1::GROUP_BY_UNSPECIFIED), &q)));
  ASSERT_EQ(q.rows_size(), 1);
  EXPECT_EQ(q.rows(0).values(0), 1);  // listings_created
  s->clear_listing();
  req.set_event_id("stats-bad");
  grpc::Status bad = stub_->RecordStatsEvent(Ctx(relay_account_).get(), req, &resp);
  ASSERT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(bad))[0].field, "snapshot.state");
}

}  // namespace
}  // namespace market::stats
