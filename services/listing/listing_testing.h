// Test fixture base for tests that run the real listing services: a fresh
// listing.db in the fixture's dir, MarketService, ListingService,
// OrderService and ItemService over it (not yet served: the derived fixture
// serves the ones it needs with StartServer()), and helpers that open a
// market with its sellers and describe a listing. Used by
// listing_service_test and the statistics ledger's cross-service tests
// (tests/stats_fixture.h). For tests only; header-only.
#ifndef MARKET_SERVICES_LISTING_LISTING_TESTING_H_
#define MARKET_SERVICES_LISTING_LISTING_TESTING_H_

#include <memory>
#include <string>
#include <vector>

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "market/listing/v1/listing.grpc.pb.h"
#include "services/identity/identity_testing.h"
#include "services/listing/listing_service.h"
#include "services/listing/market_service.h"
#include "services/listing/sqlite_market_store.h"

namespace market::listing::testing {

class ListingServiceTest : public identity::testing::ServiceTest {
 protected:
  using ServiceTest::ServiceTest;

  // Opens listing_store_ (dir_/listing.db) and creates markets_, listings_,
  // orders_ and items_ over it (photos in dir_/photos). Call from SetUp()
  // after ServiceTest::SetUp(); a fatal failure when any does not open.
  void OpenListingServices() {
    ASSERT_OK_AND_ASSIGN(listing_store_, SqliteMarketStore::Open(TempPath("listing.db")));
    ASSERT_OK_AND_ASSIGN(
        markets_,
        MarketServiceImpl::Create(listing_store_.get(), &clock_, TestSubjectLookup(),
                                  std::string(32, 's'), verifier_, identity_.suspension, nullptr));
    ListingDeps deps{.db = &listing_store_->db(),
                     .clock = &clock_,
                     .photo_dir = TempPath("photos"),
                     .page_token_secret = std::string(32, 's'),
                     .verifier = verifier_,
                     .suspension = identity_.suspension,
                     .metrics = nullptr};
    ASSERT_OK_AND_ASSIGN(listings_, ListingServiceImpl::Create(deps));
    ASSERT_OK_AND_ASSIGN(orders_, OrderServiceImpl::Create(deps));
    ASSERT_OK_AND_ASSIGN(items_, ItemServiceImpl::Create(deps));
  }

  // `op` creates market `id` like `market` (kind, display name, region,
  // address) through `stub` and admits `sellers`; returns the market's name.
  // A failed call fails the current test.
  std::string CreateMarketWithSellers(v1::MarketService::Stub& stub, const std::string& op,
                                      const std::string& id, const v1::Market& market,
                                      const std::vector<std::string>& sellers) {
    v1::CreateMarketRequest req;
    req.set_market_id(id);
    *req.mutable_market() = market;
    v1::Market m;
    grpc::Status s = stub.CreateMarket(Ctx(op).get(), req, &m);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const std::string& seller : sellers) {
      v1::AddSellerRequest add;
      add.set_market(m.name());
      add.set_seller(seller);
      EXPECT_TRUE(stub.AddSeller(Ctx(op).get(), add, &m).ok());
    }
    return m.name();
  }

  // A Haier refrigerator (general-condition-v1 `level`) titled `title` at
  // `price_fen` with serial number `serial`.
  static v1::Listing Appliance(const std::string& title, int64_t price_fen,
                               const std::string& serial, const std::string& level = "9成新") {
    v1::Listing l;
    l.set_category(common::v1::APPLIANCE);
    l.set_title(title);
    l.mutable_price()->set_amount_fen(price_fen);
    l.mutable_declared_condition()->set_scheme("general-condition-v1");
    l.mutable_declared_condition()->set_version(1);
    l.mutable_declared_condition()->set_level(level);
    auto* a = l.mutable_appliance();
    a->set_brand("Haier");
    a->set_model("BCD-216");
    a->set_serial_number(serial);
    a->set_kind("refrigerator");
    return l;
  }

  std::unique_ptr<SqliteMarketStore> listing_store_;
  std::unique_ptr<MarketServiceImpl> markets_;
  std::unique_ptr<ListingServiceImpl> listings_;
  std::unique_ptr<OrderServiceImpl> orders_;
  std::unique_ptr<ItemServiceImpl> items_;
};

}  // namespace market::listing::testing

#endif  // MARKET_SERVICES_LISTING_LISTING_TESTING_H_
