// The listing module's table purger as the binaries wire it
// (OpenListingModule), with a fake clock: a CreateListing retried with the
// same request_id inside 24 h replays the original listing; once the purge
// ran after 25 h the same request_id is a new request. Delivered outbox
// events go after 7 days, pending ones never; the sizes are gauges.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/outbox/outbox.h"
#include "common/retention/retention.h"
#include "common/server/metrics.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/sqlite/statement.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/identity/identity_testing.h"
#include "services/listing/listing_module.h"

namespace market::listing {
namespace {

using common::v1::Role;
using ::testing::HasSubstr;

// Real time between scheduled purges, so a test waits milliseconds for one.
constexpr absl::Duration kTestPeriod = absl::Milliseconds(5);
// Bound on waiting for a scheduled purge: a job that never runs fails the test.
constexpr absl::Duration kRunTimeout = absl::Seconds(30);

class ListingRetentionTest : public identity::testing::ServiceTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    ASSERT_OK_AND_ASSIGN(module_, OpenListingModule(TempPath("data"), &clock_, TestSubjectLookup(),
                                                    verifier_, identity_.suspension, &metrics_));
    ASSERT_OK_AND_ASSIGN(auto channel,
                         StartServer({{module_.markets.get(), "market.listing.v1.MarketService"},
                                      {module_.listings.get(), "market.listing.v1.ListingService"},
                                      {module_.orders.get(), "market.listing.v1.OrderService"},
                                      {module_.items.get(), "market.listing.v1.ItemService"}}));
    markets_ = v1::MarketService::NewStub(channel);
    listings_ = v1::ListingService::NewStub(channel);
    operator_ = AddSubject("east-op", Role::OPERATOR);
    seller_ = AddSubject("seller-a", Role::SELLER);

    v1::CreateMarketRequest create;
    create.set_market_id("east-flea");
    create.mutable_market()->set_kind(v1::Market::FLEA_MARKET);
    create.mutable_market()->set_display_name("东城社区跳蚤市场");
    create.mutable_market()->set_region_code("350102");
    create.mutable_market()->set_address("鼓楼区东街 1 号");
    v1::Market market;
    grpc::Status s = markets_->CreateMarket(Ctx(operator_).get(), create, &market);
    ASSERT_TRUE(s.ok()) << s.error_message();
    market_ = market.name();
    v1::AddSellerRequest add;
    add.set_market(market_);
    add.set_seller(seller_);
    s = markets_->AddSeller(Ctx(operator_).get(), add, &market);
    ASSERT_TRUE(s.ok()) << s.error_message();

    retention::RetentionOptions options;  // the production retention
    options.period = kTestPeriod;
    module_.retention->Start(options);
  }
  void TearDown() override {
    if (module_.retention != nullptr) module_.retention->Stop();
    ServiceTest::TearDown();
  }

  // CreateListing of one refrigerator by seller_ with `request_id`.
  v1::Listing Create(const std::string& request_id) {
    v1::CreateListingRequest req;
    req.set_parent(market_);
    req.set_request_id(request_id);
    v1::Listing* l = req.mutable_listing();
    l->set_category(common::v1::APPLIANCE);
    l->set_title("海尔双门冰箱");
    l->mutable_price()->set_amount_fen(120000);
    l->mutable_declared_condition()->set_scheme("general-condition-v1");
    l->mutable_declared_condition()->set_version(1);
    l->mutable_declared_condition()->set_level("9成新");
    l->mutable_appliance()->set_brand("Haier");
    l->mutable_appliance()->set_model("BCD-216");
    l->mutable_appliance()->set_serial_number("SN-1");
    l->mutable_appliance()->set_kind("refrigerator");
    v1::Listing out;
    grpc::Status s = listings_->CreateListing(Ctx(seller_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    EXPECT_OK(module_.db->Read([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(sqlite::Statement st, c.Prepare(sql));
      MARKET_RETURN_IF_ERROR(st.Step().status());
      n = st.ColumnInt64(0);
      return absl::OkStatus();
    }));
    return n;
  }
  // Advances the clock by `d`, then waits for a scheduled purge that started
  // after the advance (two more runs: the one in progress may have read the
  // old time).
  void AdvanceAndAwaitPurge(absl::Duration d) {
    const int64_t runs = module_.retention->job().runs();
    clock_.Advance(d);
    ASSERT_TRUE(module_.retention->job().AwaitRuns(runs + 2, kRunTimeout))
        << "the listing purge job did not run within " << kRunTimeout;
  }

  server::Metrics metrics_;
  ListingModule module_;
  std::unique_ptr<v1::MarketService::Stub> markets_;
  std::unique_ptr<v1::ListingService::Stub> listings_;
  std::string operator_, seller_, market_;
};

TEST_F(ListingRetentionTest, SameRequestIdReplaysForADayAndIsANewRequestAfterThePurge) {
  v1::Listing first = Create("create-fridge-1");
  ASSERT_FALSE(first.name().empty());
  EXPECT_EQ(Count("SELECT count(*) FROM listings"), 1);

  // 23 h later, after a purge: the retry returns the original, adds nothing.
  ASSERT_NO_FATAL_FAILURE(AdvanceAndAwaitPurge(absl::Hours(23)));
  v1::Listing replayed = Create("create-fridge-1");
  EXPECT_EQ(replayed.name(), first.name());
  EXPECT_EQ(replayed.create_time().seconds(), first.create_time().seconds());
  EXPECT_EQ(Count("SELECT count(*) FROM listings"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM idempotency"), 1);

  // 25 h after the first call the purge has dropped the request id: the same
  // id now creates a second listing.
  ASSERT_NO_FATAL_FAILURE(AdvanceAndAwaitPurge(absl::Hours(2)));
  EXPECT_EQ(Count("SELECT count(*) FROM idempotency"), 0);
  v1::Listing fresh = Create("create-fridge-1");
  EXPECT_FALSE(fresh.name().empty());
  EXPECT_NE(fresh.name(), first.name());
  EXPECT_EQ(Count("SELECT count(*) FROM listings"), 2);
  EXPECT_THAT(metrics_.Render(), HasSubstr("market_idempotency_keys{service=\"listing\"} 1\n"));
}

TEST_F(ListingRetentionTest, DeliveredEventsGoAfterSevenDaysPendingOnesStay) {
  ASSERT_OK(module_.db->Write([&](sqlite::Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(
        outbox::Enqueue(c, {"delivered-1", "credit.RecordEvent", "payload"}, clock_.Now()));
    return outbox::Enqueue(c, {"pending-1", "nowhere.Method", "payload"}, clock_.Now());
  }));
  outbox::Relay relay(module_.db, &clock_,
                      {{"credit.RecordEvent",
                        [](const std::string&, const std::string&) { return absl::OkStatus(); }}});
  ASSERT_THAT(relay.RunOnce(), sqlite::testing::IsOkAndHolds(1));
  EXPECT_THAT(metrics_.Render(),
              HasSubstr("market_outbox_delivered_events{service=\"listing\"} 1\n"));

  ASSERT_NO_FATAL_FAILURE(AdvanceAndAwaitPurge(absl::Hours(6 * 24)));
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE event_id = 'delivered-1'"), 1);
  ASSERT_NO_FATAL_FAILURE(AdvanceAndAwaitPurge(absl::Hours(24 + 1)));
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE event_id = 'delivered-1'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE event_id = 'pending-1'"), 1);
  std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("market_outbox_pending_events{service=\"listing\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("market_outbox_delivered_events{service=\"listing\"} 0\n"));
}

}  // namespace
}  // namespace market::listing
