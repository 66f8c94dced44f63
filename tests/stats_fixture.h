// The fixture of the statistics ledger's cross-service tests: the real
// listing services (MarketService/ListingService/OrderService), the warranty
// service (orders looked up from listing over gRPC) and StatisticsService on
// one server; a known history of orders over several months in two markets,
// its events relayed from listing's and warranty's outboxes to
// StatisticsService over gRPC; and the test's own computation of the trade
// figures from what it did. Used by stats_service_test and stats_figures_test.
#ifndef MARKET_TESTS_STATS_FIXTURE_H_
#define MARKET_TESTS_STATS_FIXTURE_H_

#include "services/stats/stats_service.h"

#include <algorithm>
#include <map>

#include "common/outbox/outbox.h"
#include "common/resource/resource.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "market/listing/v1/listing.grpc.pb.h"
#include "services/identity/identity_testing.h"
#include "services/listing/listing_service.h"
#include "services/listing/listing_testing.h"
#include "services/stats/price_histogram.h"
#include "services/stats/stats_client.h"
#include "services/warranty/warranty_module.h"
#include "services/listing/listing_client.h"

namespace market::stats {

using common::v1::Role;
namespace lv1 = ::market::listing::v1;

struct Done {
  std::string market, region, seller, buyer;
  int64_t price;
  int64_t place_day;
  std::optional<int64_t> complete_day, cancel_day;
  // The listing was created and published `listed_days` whole days before
  // the order was placed (publish_day) and sold (delivered) at placing when
  // the order completed.
  int64_t publish_day = 0;
  int64_t listed_days = 0;
  std::string order;
  absl::Time placed;
};

class StatsServiceTest : public listing::testing::ListingServiceTest {
 protected:
  StatsServiceTest()
      : ListingServiceTest(
            absl::FromCivil(absl::CivilSecond(2026, 1, 5, 10, 0, 0), ChinaTime())) {}

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(OpenListingServices());
    ASSERT_OK_AND_ASSIGN(stats_store_, StatsStore::Open(TempPath("stats.db")));
    ASSERT_OK_AND_ASSIGN(stats_, StatisticsServiceImpl::Create(stats_store_.get(), &clock_, verifier_,
                                                              identity_.suspension, nullptr));
    warranty::OrderLookup lookup = [this](const std::string& name) {
      return listing_client_->GetOrder(name);
    };
    ASSERT_OK_AND_ASSIGN(warranty_, warranty::OpenWarrantyModule(dir_, &clock_, lookup, verifier_,
                                                                 identity_.suspension, nullptr));
    ASSERT_OK_AND_ASSIGN(auto channel,
                         StartServer({{markets_.get(), "market.listing.v1.MarketService"},
                                      {listings_.get(), "market.listing.v1.ListingService"},
                                      {orders_.get(), "market.listing.v1.OrderService"},
                                      {warranty_.service.get(), "market.warranty.v1.WarrantyService"},
                                      {stats_.get(), "market.stats.v1.StatisticsService"}}));
    market_stub_ = lv1::MarketService::NewStub(channel);
    listing_stub_ = lv1::ListingService::NewStub(channel);
    order_stub_ = lv1::OrderService::NewStub(channel);
    stub_ = v1::StatisticsService::NewStub(channel);
    supervisor_ = AddSubject("supervisor", Role::SUPERVISOR);
    east_op_ = AddSubject("east-op", Role::OPERATOR);
    west_op_ = AddSubject("west-op", Role::OPERATOR);
    relay_account_ = AddSubject("relay", Role::SERVICE);
    client::TokenSource token = [this]() -> absl::StatusOr<std::string> {
      return Token(relay_account_, Role::SERVICE);
    };
    listing_client_ = std::make_unique<listing::ListingClient>(channel, token);
    outbox::RelayOptions options;
    options.jitter = 0;
    // Credit, case and webhook events are other tests' concern: this sink
    // accepts them.
    auto credit_sink = [](const std::string&, const std::string&) { return absl::OkStatus(); };
    relay_ = std::make_unique<outbox::Relay>(
        &listing_store_->db(), &clock_,
        std::map<std::string, outbox::Relay::Deliverer>{
            {kStatsDestination, StatsDeliverer(channel, token)},
            {kFiguresDestination, FiguresDeliverer(channel, token)},
            {"credit.RecordEvent", credit_sink},
            {"supervision.RecordCaseEvent", credit_sink}},
        options);
    warranty_relay_ = std::make_unique<outbox::Relay>(
        warranty_.db, &clock_,
        std::map<std::string, outbox::Relay::Deliverer>{
            {kFiguresDestination, FiguresDeliverer(channel, token)},
            {"credit.RecordEvent", credit_sink},
            {"supervision.RecordCaseEvent", credit_sink},
            {"webhook.PublishEvent", credit_sink}},
        options);
    for (int i = 0; i < 6; ++i) sellers_.push_back(AddSubject(absl::StrCat("seller-", i), Role::SELLER));
    for (int i = 0; i < 6; ++i) buyers_.push_back(AddSubject(absl::StrCat("buyer-", i), Role::BUYER));
    east_ = MakeMarket("east", east_op_, "350102", {sellers_[0], sellers_[1], sellers_[2], sellers_[3]});
    west_ = MakeMarket("west", west_op_, "350211", {sellers_[4], sellers_[5]});
  }

  std::string MakeMarket(const std::string& id, const std::string& op, const std::string& region,
                         const std::vector<std::string>& sellers) {
    lv1::Market m;
    m.set_kind(lv1::Market::FLEA_MARKET);
    m.set_display_name("社区跳蚤市场 " + id);
    m.set_region_code(region);
    m.set_address("一街 1 号");
    return CreateMarketWithSellers(*market_stub_, op, id, m, sellers);
  }

  // One order of an appliance at `price_fen` by `buyer` from `seller` in
  // `market` placed now; fate 0: left placed, 1: completed `days_later`,
  // 2: cancelled the same day. Records what happened in done_.
  void Trade(const std::string& market, const std::string& region, const std::string& seller,
             const std::string& buyer, int64_t price_fen, int fate, int days_later = 0,
             int listed_days = 0) {
    lv1::Listing l = Appliance("海尔冰箱 BCD-216", price_fen, absl::StrCat("SN", ++serial_));
    lv1::CreateListingRequest create;
    create.set_parent(market);
    *create.mutable_listing() = l;
    lv1::Listing created;
    grpc::Status s = listing_stub_->CreateListing(Ctx(seller).get(), create, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    lv1::PublishListingRequest pub;
    pub.set_name(created.name());
    s = listing_stub_->PublishListing(Ctx(seller).get(), pub, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    const int64_t publish_day = DayOf(clock_.Now());
    clock_.Advance(absl::Hours(24 * listed_days));
    lv1::PlaceOrderRequest place;
    place.set_listing(created.name());
    lv1::Order o;
    s = order_stub_->PlaceOrder(Ctx(buyer).get(), place, &o);
    ASSERT_TRUE(s.ok()) << s.error_message();
    Done d{market, region, seller, buyer, price_fen, DayOf(clock_.Now()), {}, {},
           publish_day, listed_days, o.name(), clock_.Now()};
    if (fate == 1) {
      lv1::ConfirmDeliveryRequest confirm;
      confirm.set_name(o.name());
      ASSERT_TRUE(order_stub_->ConfirmDelivery(Ctx(buyer).get(), confirm, &o).ok());
      absl::Time back = clock_.Now();
      clock_.Advance(absl::Hours(24 * days_later));
      lv1::CompleteOrderRequest complete;
      complete.set_name(o.name());
      s = order_stub_->CompleteOrder(Ctx(buyer).get(), complete, &o);
      ASSERT_TRUE(s.ok()) << s.error_message();
      d.complete_day = DayOf(clock_.Now());
      clock_.Set(back);
    } else if (fate == 2) {
      lv1::CancelOrderRequest cancel;
      cancel.set_name(o.name());
      ASSERT_TRUE(order_stub_->CancelOrder(Ctx(buyer).get(), cancel, &o).ok());
      d.cancel_day = d.place_day;
    }
    done_.push_back(d);
  }

  // A history from January to April 2026; completions may fall in the next
  // month. Then every pending event is relayed.
  void MakeHistory() {
    const absl::Time jan5 = clock_.Now();
    int n = 0;
    for (int week = 0; week < 14; ++week) {
      clock_.Set(jan5 + absl::Hours(24 * 7 * week) + absl::Minutes(17 * week));
      for (int k = 0; k < 3; ++k, ++n) {
        bool east = n % 4 != 3;
        const std::string& seller = east ? sellers_[n % 4] : sellers_[4 + n % 2];
        ASSERT_NO_FATAL_FAILURE(Trade(east ? east_ : west_, east ? "350102" : "350211", seller,
                                      buyers_[n % 6], 10000 * (1 + (n * 37) % 23), n % 5 == 4 ? 2 : (n % 5 == 0 ? 0 : 1),
                                      n % 9, n % 4));
      }
    }
    ASSERT_NO_FATAL_FAILURE(RelayAll(relay_.get(), &listing_store_->db()));
  }

  // Delivers every pending event of `relay` (over `db`), with the clock past
  // every event (completions and claims were made ahead of the clock).
  void RelayAll(outbox::Relay* relay, sqlite::Database* db) {
    clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 1, 5, 10, 0, 0), ChinaTime()) +
               absl::Hours(24 * 200));
    for (int pass = 0; pass < 100 && relay->Depth() > 0; ++pass) {
      ASSERT_OK(relay->RunOnce().status());
    }
    std::string errors;
    ASSERT_OK(db->Read([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(sqlite::Statement st,
                              c.Prepare("SELECT event_id, last_error FROM outbox "
                                        "WHERE delivered_time IS NULL LIMIT 3"));
      while (true) {
        MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
        if (!more) return absl::OkStatus();
        absl::StrAppend(&errors, st.ColumnText(0), ": ", st.ColumnText(1), "\n");
      }
    }));
    ASSERT_EQ(relay->Depth(), 0) << errors;
  }

  std::map<std::string, v1::TradeRow> Expected(DayRange r, const std::function<std::string(const Done&)>& key,
                                               const std::function<bool(const Done&)>& keep = nullptr) {
    std::map<std::string, v1::TradeRow> out;
    std::map<std::string, std::vector<int64_t>> prices;
    auto in = [&](std::optional<int64_t> d) { return d && *d >= r.first && *d <= r.last; };
    std::map<std::string, std::vector<int64_t>> days_to_sale;
    for (const Done& d : done_) {
      if (keep && !keep(d)) continue;
      const bool sold = d.complete_day.has_value() && in(d.place_day);
      bool any = in(d.place_day) || in(d.complete_day) || in(d.cancel_day) || in(d.publish_day);
      if (!any) continue;
      v1::TradeRow& row = out[key(d)];
      row.set_key(key(d));
      if (in(d.publish_day)) {
        row.set_listings_created(row.listings_created() + 1);
        row.set_listings_published(row.listings_published() + 1);
      }
      if (sold) days_to_sale[key(d)].push_back(d.listed_days);
      if (in(d.place_day)) row.set_orders_placed(row.orders_placed() + 1);
      if (in(d.cancel_day)) row.set_orders_cancelled(row.orders_cancelled() + 1);
      if (in(d.complete_day)) {
        row.set_orders_completed(row.orders_completed() + 1);
        row.set_gross_fen(row.gross_fen() + d.price);
        prices[key(d)].push_back(d.price);
      }
    }
    for (auto& [k, row] : out) {
      if (auto& days = days_to_sale[k]; !days.empty()) {
        std::sort(days.begin(), days.end());
        row.set_median_days_to_sale(days[(days.size() - 1) / 2]);
        int64_t total = 0;
        for (int64_t x : days) total += x;
        row.set_mean_days_to_sale(total / static_cast<int64_t>(days.size()));
      }
      auto& p = prices[k];
      std::sort(p.begin(), p.end());
      if (p.empty()) continue;
      row.set_mean_price_fen(row.gross_fen() / static_cast<int64_t>(p.size()));
      row.set_median_price_fen(PriceBucket(p[(p.size() - 1) / 2]));  // documented precision
    }
    return out;
  }

  grpc::Status Query(const std::string& who, v1::QueryTradeRequest req, v1::QueryTradeResponse* out) {
    return stub_->QueryTrade(Ctx(who).get(), req, out);
  }
  static v1::QueryTradeRequest Req(v1::Period p, const std::string& from, v1::GroupBy g,
                                   const std::string& to = "") {
    v1::QueryTradeRequest req;
    req.set_period(p);
    req.set_from_date(from);
    req.set_to_date(to);
    req.set_group_by(g);
    return req;
  }
  void ExpectRows(const v1::QueryTradeResponse& resp, std::map<std::string, v1::TradeRow> want) {
    ASSERT_EQ(resp.rows_size(), static_cast<int>(want.size())) << resp.DebugString();
    for (const v1::TradeRow& got : resp.rows()) {
      EXPECT_EQ(got.DebugString(), want[got.key()].DebugString()) << got.key();
    }
  }

  std::unique_ptr<StatsStore> stats_store_;
  std::unique_ptr<StatisticsServiceImpl> stats_;
  warranty::WarrantyModule warranty_;
  std::unique_ptr<listing::ListingClient> listing_client_;
  std::unique_ptr<outbox::Relay> relay_, warranty_relay_;
  std::unique_ptr<lv1::MarketService::Stub> market_stub_;
  std::unique_ptr<lv1::ListingService::Stub> listing_stub_;
  std::unique_ptr<lv1::OrderService::Stub> order_stub_;
  std::unique_ptr<v1::StatisticsService::Stub> stub_;
  std::string supervisor_, east_op_, west_op_, relay_account_, east_, west_;
  std::vector<std::string> sellers_, buyers_;
  std::vector<Done> done_;
  int serial_ = 0;
};

}  // namespace market::stats

#endif  // MARKET_TESTS_STATS_FIXTURE_H_
