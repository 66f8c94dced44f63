// ListingService, OrderService and ItemService through a real gRPC server on
// 127.0.0.1:0 over a real listing.db, with identity subjects and tokens from
// the identity module and a fake clock.
#include "services/listing/listing_service.h"

#include <filesystem>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/crypto.h"
#include "common/outbox/outbox.h"
#include "common/outbox/outbox_testing.h"
#include "common/resource/resource.h"
#include "common/server/runner.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "market/credit/v1/credit.grpc.pb.h"
#include "market/supervision/v1/supervision.pb.h"
#include "services/credit/credit_client.h"
#include "services/identity/identity_testing.h"
#include "services/listing/listing_client.h"
#include "services/listing/listing_tables.h"
#include "services/listing/listing_testing.h"
#include "services/listing/sqlite_market_store.h"

namespace market::listing {
namespace {

using common::v1::Role;
using grpc::StatusCode;

constexpr char kImei[] = "355383063760236";
constexpr char kVin[] = "1M8GDM9AXKP042788";

std::string Png(const std::string& salt) {
  return std::string("\x89PNG\r\n\x1A\n", 8) + "IHDR-test-" + salt;
}

std::vector<std::string> BadFields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(FromGrpcStatus(s))) out.push_back(v.field);
  return out;
}

std::string Reason(const grpc::Status& s) { return ReasonOf(FromGrpcStatus(s)); }

class ListingServicesTest : public testing::ListingServiceTest {
 protected:
  ListingServicesTest()
      : ListingServiceTest(absl::FromCivil(absl::CivilSecond(2026, 11, 2, 10, 0, 0),
                                           absl::FixedTimeZone(8 * 3600))) {}  // a Monday

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(OpenListingServices());
    ASSERT_OK_AND_ASSIGN(auto channel,
                         StartServer({{markets_.get(), "market.listing.v1.MarketService"},
                                      {listings_.get(), "market.listing.v1.ListingService"},
                                      {orders_.get(), "market.listing.v1.OrderService"},
                                      {items_.get(), "market.listing.v1.ItemService"}}));
    market_stub_ = v1::MarketService::NewStub(channel);
    stub_ = v1::ListingService::NewStub(channel);
    order_stub_ = v1::OrderService::NewStub(channel);
    item_stub_ = v1::ItemService::NewStub(channel);
    supervisor_ = AddSubject("supervisor", Role::SUPERVISOR);
    operator_ = AddSubject("east-op", Role::OPERATOR);
    other_operator_ = AddSubject("west-op", Role::OPERATOR);
    seller_ = AddSubject("seller-a", Role::SELLER);
    other_seller_ = AddSubject("seller-b", Role::SELLER);
    buyer_ = AddSubject("buyer-b", Role::BUYER);
    service_ = AddSubject("svc-appraisal", Role::SERVICE);
    market_ = MakeMarket("east-flea", v1::Market::FLEA_MARKET, {seller_, other_seller_});
  }
  void TearDown() override {
    orders_->StopScheduler();
    ServiceTest::TearDown();
  }

  std::string MakeMarket(const std::string& id, v1::Market::Kind kind,
                         const std::vector<std::string>& sellers,
                         const std::string& region = "350102") {
    v1::Market m;
    m.set_kind(kind);
    m.set_display_name("东城社区跳蚤市场");
    m.set_region_code(region);
    m.set_address("鼓楼区东街 1 号");
    return CreateMarketWithSellers(*market_stub_, operator_, id, m, sellers);
  }

  static v1::Listing Phone(const std::string& title = "华为 Mate 60 Pro 256G") {
    v1::Listing l;
    l.set_category(common::v1::PHONE);
    l.set_title(title);
    l.set_description("成色不错，电池健康 88%");
    l.mutable_price()->set_amount_fen(329900);
    l.mutable_declared_condition()->set_scheme("general-condition-v1");
    l.mutable_declared_condition()->set_version(1);
    l.mutable_declared_condition()->set_level("9成新");
    auto* p = l.mutable_phone();
    p->set_imei(kImei);
    p->set_brand("Huawei");
    p->set_model("Mate 60 Pro");
    p->set_data_wiped(true);
    return l;
  }
  static v1::Listing Vehicle() {
    v1::Listing l;
    l.set_category(common::v1::VEHICLE);
    l.set_title("比亚迪秦 PLUS 2019");
    l.mutable_price()->set_amount_fen(6'800'000);
    l.mutable_declared_condition()->set_scheme("general-condition-v1");
    l.mutable_declared_condition()->set_version(1);
    l.mutable_declared_condition()->set_level("8成新");
    auto* v = l.mutable_vehicle();
    v->set_vin(kVin);
    v->set_engine_number("E123456");
    v->set_make("BYD");
    v->set_model("Qin PLUS");
    v->set_first_registration_date("2019-03-15");
    v->set_mileage_km(56000);
    return l;
  }

  grpc::Status CreateAs(const std::string& who, const v1::Listing& l, v1::Listing* out,
                        const std::string& market = "") {
    v1::CreateListingRequest req;
    req.set_parent(market.empty() ? market_ : market);
    *req.mutable_listing() = l;
    return stub_->CreateListing(Ctx(who).get(), req, out);
  }
  // Creates and publishes `l` for seller_; returns the published listing.
  v1::Listing Published(const v1::Listing& l, const std::string& seller = "",
                        const std::string& market = "") {
    v1::Listing created, published;
    std::string who = seller.empty() ? seller_ : seller;
    grpc::Status s = CreateAs(who, l, &created, market);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::PublishListingRequest pub;
    pub.set_name(created.name());
    s = stub_->PublishListing(Ctx(who).get(), pub, &published);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return published;
  }
  grpc::Status Get(const std::string& who, const std::string& name, v1::Listing* out) {
    v1::GetListingRequest req;
    req.set_name(name);
    return stub_->GetListing(Ctx(who).get(), req, out);
  }
  grpc::Status Search(const std::string& filter, const std::string& query,
                      v1::SearchListingsResponse* out, const std::string& order_by = "",
                      const std::string& token = "", int page_size = 0) {
    v1::SearchListingsRequest req;
    req.set_parent("markets/-");
    req.set_filter(filter);
    req.set_query(query);
    req.set_order_by(order_by);
    req.set_page_token(token);
    req.set_page_size(page_size);
    return stub_->SearchListings(Ctx("").get(), req, out);
  }
  std::vector<std::string> Titles(const std::string& filter, const std::string& query = "",
                                  const std::string& order_by = "") {
    v1::SearchListingsResponse resp;
    grpc::Status s = Search(filter, query, &resp, order_by);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> out;
    for (const auto& l : resp.listings()) out.push_back(l.title());
    return out;
  }
  grpc::Status Place(const std::string& who, const std::string& listing, v1::Order* out,
                     bool ack = false, const std::string& swap = "") {
    v1::PlaceOrderRequest req;
    req.set_listing(listing);
    req.set_defects_acknowledged(ack);
    req.set_swap_listing(swap);
    return order_stub_->PlaceOrder(Ctx(who).get(), req, out);
  }
  v1::Order Delivered(const std::string& listing) {
    v1::Order o;
    EXPECT_TRUE(Place(buyer_, listing, &o).ok());
    v1::ConfirmDeliveryRequest req;
    req.set_name(o.name());
    grpc::Status s = order_stub_->ConfirmDelivery(Ctx(buyer_).get(), req, &o);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return o;
  }
  // market_'s operator removes `seller` from market_.
  void RemoveFromMarket(const std::string& seller) {
    v1::RemoveSellerRequest rm;
    rm.set_market(market_);
    rm.set_seller(seller);
    v1::Market m;
    grpc::Status s = market_stub_->RemoveSeller(Ctx(operator_).get(), rm, &m);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // A subject that sells and buys, admitted to market_ (for swap orders).
  std::string AdmitSwapper() {
    std::string swapper = AddSubject("swapper", {Role::SELLER, Role::BUYER});
    v1::AddSellerRequest add;
    add.set_market(market_);
    add.set_seller(swapper);
    v1::Market m;
    EXPECT_TRUE(market_stub_->AddSeller(Ctx(operator_).get(), add, &m).ok());
    return swapper;
  }
  // market_ gets weekly swap days on Mondays (the fake clock is a Monday).
  void MakeMondaysSwapDays() {
    v1::UpdateMarketRequest up;
    up.mutable_market()->set_name(market_);
    auto* sched = up.mutable_market()->mutable_swap_schedule();
    sched->set_frequency(v1::SwapSchedule::WEEKLY);
    sched->add_days_of_week(1);
    sched->set_start_time_of_day("08:00");
    sched->set_end_time_of_day("12:00");
    up.mutable_update_mask()->add_paths("swap_schedule");
    v1::Market m;
    EXPECT_TRUE(market_stub_->UpdateMarket(Ctx(operator_).get(), up, &m).ok());
  }
  // How many listings (any state) `seller` has in listing.db.
  int64_t ListingRowsOf(const std::string& seller) {
    int64_t n = -1;
    EXPECT_OK(listing_store_->db().Read([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(sqlite::Statement st,
                              c.Prepare("SELECT COUNT(*) FROM listings WHERE seller = ?"));
      MARKET_RETURN_IF_ERROR(st.BindText(1, seller));
      MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) n = st.ColumnInt64(0);
      return absl::OkStatus();
    }));
    return n;
  }
  // Pending outbox credit events' records.
  std::vector<credit::v1::Record> PendingCreditEvents() {
    std::vector<credit::v1::Record> out;
    for (const auto& req : outbox::testing::PendingRequests<credit::v1::RecordEventRequest>(
             listing_store_->db(), "credit.RecordEvent")) {
      out.push_back(req.record());
    }
    return out;
  }

  std::unique_ptr<v1::MarketService::Stub> market_stub_;
  std::unique_ptr<v1::ListingService::Stub> stub_;
  std::unique_ptr<v1::OrderService::Stub> order_stub_;
  std::unique_ptr<v1::ItemService::Stub> item_stub_;
  std::string supervisor_, operator_, other_operator_, seller_, other_seller_, buyer_, service_;
  std::string market_;
};

// ---- CreateListing / GetListing -------------------------------------------

TEST_F(ListingServicesTest, SellerCreatesDraftWithDefaultsAndItem) {
  v1::Listing l;
  ASSERT_TRUE(CreateAs(seller_, Phone(), &l).ok());
  EXPECT_EQ(l.state(), v1::Listing::DRAFT);
  EXPECT_EQ(l.seller(), seller_);
  EXPECT_EQ(l.item(), absl::StrCat("items/PHONE:", kImei));
  EXPECT_EQ(l.warranty_policy().refund_days(), 7);
  EXPECT_EQ(l.etag(), "\"v1\"");
  EXPECT_TRUE(absl::StartsWith(l.name(), market_ + "/listings/l"));
}

TEST_F(ListingServicesTest, SellerOutsideTheMarketIsRefused) {
  std::string outsider = AddSubject("seller-c", Role::SELLER);
  v1::Listing l;
  grpc::Status s = CreateAs(outsider, Phone(), &l);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "SELLER_NOT_IN_MARKET");
}

TEST_F(ListingServicesTest, RemovedSellerCannotCreateListings) {
  ASSERT_NO_FATAL_FAILURE(RemoveFromMarket(seller_));
  v1::Listing l;
  grpc::Status s = CreateAs(seller_, Phone(), &l);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "SELLER_NOT_IN_MARKET");
}

TEST_F(ListingServicesTest, RemovedSellerCannotPublishItsDraft) {
  v1::Listing draft;
  ASSERT_TRUE(CreateAs(seller_, Phone(), &draft).ok());
  ASSERT_NO_FATAL_FAILURE(RemoveFromMarket(seller_));
  v1::PublishListingRequest pub;
  pub.set_name(draft.name());
  v1::Listing out;
  grpc::Status s = stub_->PublishListing(Ctx(seller_).get(), pub, &out);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "SELLER_NOT_IN_MARKET");
  ASSERT_TRUE(Get(seller_, draft.name(), &out).ok());
  EXPECT_EQ(out.state(), v1::Listing::DRAFT);
}

TEST_F(ListingServicesTest, CategoryOutsideADedicatedZoneIsRefused) {
  v1::CreateMarketRequest req;
  req.set_market_id("phone-zone");
  req.mutable_market()->set_kind(v1::Market::TRADING_ZONE);
  req.mutable_market()->set_display_name("手机专区");
  req.mutable_market()->set_region_code("350102");
  req.mutable_market()->set_address("鼓楼区 2 号");
  req.mutable_market()->add_categories(common::v1::PHONE);
  v1::Market m;
  ASSERT_TRUE(market_stub_->CreateMarket(Ctx(operator_).get(), req, &m).ok());
  v1::AddSellerRequest add;
  add.set_market(m.name());
  add.set_seller(seller_);
  ASSERT_TRUE(market_stub_->AddSeller(Ctx(operator_).get(), add, &m).ok());
  v1::Listing l;
  grpc::Status s = CreateAs(seller_, Vehicle(), &l, m.name());
  EXPECT_EQ(Reason(s), "CATEGORY_NOT_ALLOWED");
}

TEST_F(ListingServicesTest, BadImeiNamesTheField) {
  v1::Listing in = Phone();
  in.mutable_phone()->set_imei("352099081234563");
  v1::Listing l;
  grpc::Status s = CreateAs(seller_, in, &l);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"listing.phone.imei"});
}

TEST_F(ListingServicesTest, OperatorCreatesOnBehalfOfItsSeller) {
  v1::Listing in = Phone();
  in.set_seller(seller_);
  v1::Listing l;
  ASSERT_TRUE(CreateAs(operator_, in, &l).ok());
  EXPECT_EQ(l.seller(), seller_);
  EXPECT_EQ(l.created_by(), operator_);
}

TEST_F(ListingServicesTest, OtherOperatorCannotCreateInTheMarket) {
  v1::Listing in = Phone();
  in.set_seller(seller_);
  v1::Listing l;
  EXPECT_EQ(CreateAs(other_operator_, in, &l).error_code(), StatusCode::PERMISSION_DENIED);
}

TEST_F(ListingServicesTest, BuyerCannotCreate) {
  v1::Listing l;
  EXPECT_EQ(CreateAs(buyer_, Phone(), &l).error_code(), StatusCode::PERMISSION_DENIED);
}

TEST_F(ListingServicesTest, UnknownMarketIsNotFound) {
  v1::Listing l;
  EXPECT_EQ(CreateAs(seller_, Phone(), &l, "markets/nowhere").error_code(),
            StatusCode::NOT_FOUND);
}

TEST_F(ListingServicesTest, RetryWithRequestIdReturnsTheSameListing) {
  v1::CreateListingRequest req;
  req.set_parent(market_);
  *req.mutable_listing() = Phone();
  req.set_request_id("retry-1");
  v1::Listing a, b;
  ASSERT_TRUE(stub_->CreateListing(Ctx(seller_).get(), req, &a).ok());
  ASSERT_TRUE(stub_->CreateListing(Ctx(seller_).get(), req, &b).ok());
  EXPECT_EQ(a.name(), b.name());
  // Search never shows drafts and there is no ListListings: count the rows.
  EXPECT_EQ(ListingRowsOf(seller_), 1);
}

TEST_F(ListingServicesTest, DraftIsHiddenFromOthersButNotFromOwnerOperatorSupervisor) {
  v1::Listing l, got;
  ASSERT_TRUE(CreateAs(seller_, Phone(), &l).ok());
  EXPECT_EQ(Get("", l.name(), &got).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(buyer_, l.name(), &got).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Get(seller_, l.name(), &got).ok());
  EXPECT_TRUE(Get(operator_, l.name(), &got).ok());
  EXPECT_TRUE(Get(supervisor_, l.name(), &got).ok());
}

TEST_F(ListingServicesTest, PublishedListingIsPublic) {
  v1::Listing l = Published(Phone());
  EXPECT_EQ(l.state(), v1::Listing::PUBLISHED);
  EXPECT_TRUE(l.has_publish_time());
  v1::Listing got;
  EXPECT_TRUE(Get("", l.name(), &got).ok());
}

TEST_F(ListingServicesTest, MissingListingIsNotFound) {
  v1::Listing got;
  EXPECT_EQ(Get("", market_ + "/listings/nope", &got).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Get("", "listings/x", &got).error_code(), StatusCode::INVALID_ARGUMENT);
}

// ---- Update / publish / withdraw / remove ----------------------------------

TEST_F(ListingServicesTest, PhoneWithoutDataWipeCannotBePublished) {
  v1::Listing in = Phone();
  in.mutable_phone()->set_data_wiped(false);
  v1::Listing l, out;
  ASSERT_TRUE(CreateAs(seller_, in, &l).ok());
  v1::PublishListingRequest req;
  req.set_name(l.name());
  grpc::Status s = stub_->PublishListing(Ctx(seller_).get(), req, &out);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "DATA_WIPE_REQUIRED");
}

TEST_F(ListingServicesTest, AnotherSellerCannotTouchTheListing) {
  v1::Listing l = Published(Phone());
  v1::UpdateListingRequest up;
  up.mutable_listing()->set_name(l.name());
  up.mutable_listing()->set_title("mine now");
  up.mutable_update_mask()->add_paths("title");
  v1::Listing out;
  EXPECT_EQ(stub_->UpdateListing(Ctx(other_seller_).get(), up, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
  v1::WithdrawListingRequest wd;
  wd.set_name(l.name());
  EXPECT_EQ(stub_->WithdrawListing(Ctx(other_seller_).get(), wd, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
}

TEST_F(ListingServicesTest, UpdateChangesTitleAndSearchSeesIt) {
  v1::Listing l = Published(Phone());
  v1::UpdateListingRequest up;
  up.mutable_listing()->set_name(l.name());
  up.mutable_listing()->set_etag(l.etag());
  up.mutable_listing()->set_title("荣耀 Magic6 特价");
  up.mutable_update_mask()->add_paths("title");
  v1::Listing out;
  ASSERT_TRUE(stub_->UpdateListing(Ctx(seller_).get(), up, &out).ok());
  EXPECT_EQ(out.title(), "荣耀 Magic6 特价");
  EXPECT_EQ(out.etag(), "\"v3\"");
  EXPECT_EQ(Titles("", "Magic6"), std::vector<std::string>{"荣耀 Magic6 特价"});
  EXPECT_TRUE(Titles("", "Mate 60").empty());
}

TEST_F(ListingServicesTest, StaleEtagIsAborted) {
  v1::Listing l = Published(Phone());
  v1::UpdateListingRequest up;
  up.mutable_listing()->set_name(l.name());
  up.mutable_listing()->set_etag("\"v1\"");
  up.mutable_listing()->set_title("x");
  up.mutable_update_mask()->add_paths("title");
  v1::Listing out;
  EXPECT_EQ(stub_->UpdateListing(Ctx(seller_).get(), up, &out).error_code(), StatusCode::ABORTED);
}

TEST_F(ListingServicesTest, WithdrawnListingCanBeRelisted) {
  v1::Listing l = Published(Phone());
  v1::WithdrawListingRequest wd;
  wd.set_name(l.name());
  v1::Listing out;
  ASSERT_TRUE(stub_->WithdrawListing(Ctx(seller_).get(), wd, &out).ok());
  EXPECT_EQ(out.state(), v1::Listing::WITHDRAWN);
  v1::PublishListingRequest pub;
  pub.set_name(l.name());
  ASSERT_TRUE(stub_->PublishListing(Ctx(seller_).get(), pub, &out).ok());
  EXPECT_EQ(out.state(), v1::Listing::PUBLISHED);
  EXPECT_FALSE(out.has_withdraw_time());
}

TEST_F(ListingServicesTest, SupervisorRemovalForCounterfeitRecordsASeriousCreditEvent) {
  v1::Listing l = Published(Phone());
  v1::RemoveListingRequest rm;
  rm.set_name(l.name());
  rm.set_cause(v1::Listing::COUNTERFEIT);
  rm.set_reason("假冒品牌");
  v1::Listing out;
  ASSERT_TRUE(stub_->RemoveListing(Ctx(supervisor_).get(), rm, &out).ok());
  EXPECT_EQ(out.state(), v1::Listing::REMOVED);
  EXPECT_EQ(out.removed_by(), supervisor_);
  auto events = PendingCreditEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), credit::v1::Record::COUNTERFEIT_CONFIRMED);
  EXPECT_EQ(events[0].subject(), seller_);
  EXPECT_EQ(events[0].reference(), l.name());
}

TEST_F(ListingServicesTest, OperatorRemovalRecordsListingRemoved) {
  v1::Listing l = Published(Phone());
  v1::RemoveListingRequest rm;
  rm.set_name(l.name());
  rm.set_cause(v1::Listing::COUNTERFEIT);
  rm.set_reason("疑似假货");
  v1::Listing out;
  ASSERT_TRUE(stub_->RemoveListing(Ctx(operator_).get(), rm, &out).ok());
  auto events = PendingCreditEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), credit::v1::Record::LISTING_REMOVED);
}

TEST_F(ListingServicesTest, OperatorOfAnotherMarketCannotRemove) {
  v1::Listing l = Published(Phone());
  v1::RemoveListingRequest rm;
  rm.set_name(l.name());
  rm.set_cause(v1::Listing::MISLEADING);
  rm.set_reason("x");
  v1::Listing out;
  EXPECT_EQ(stub_->RemoveListing(Ctx(other_operator_).get(), rm, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->RemoveListing(Ctx(seller_).get(), rm, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
}

TEST_F(ListingServicesTest, RemovalNeedsCauseAndReason) {
  v1::Listing l = Published(Phone());
  v1::RemoveListingRequest rm;
  rm.set_name(l.name());
  v1::Listing out;
  grpc::Status s = stub_->RemoveListing(Ctx(supervisor_).get(), rm, &out);
  EXPECT_EQ(BadFields(s), (std::vector<std::string>{"cause", "reason"}));
}

TEST_F(ListingServicesTest, RemovingAReservedListingCancelsItsOrder) {
  v1::Listing l = Published(Phone());
  v1::Order o;
  ASSERT_TRUE(Place(buyer_, l.name(), &o).ok());
  v1::RemoveListingRequest rm;
  rm.set_name(l.name());
  rm.set_cause(v1::Listing::FRAUD);
  rm.set_reason("虚假信息");
  v1::Listing out;
  ASSERT_TRUE(stub_->RemoveListing(Ctx(supervisor_).get(), rm, &out).ok());
  v1::GetOrderRequest get;
  get.set_name(o.name());
  ASSERT_TRUE(order_stub_->GetOrder(Ctx(buyer_).get(), get, &o).ok());
  EXPECT_EQ(o.state(), v1::Order::CANCELLED);
}

TEST_F(ListingServicesTest, FormerOperatorLosesItsListingsWhenTheMarketChangesHands) {
  v1::Listing in = Phone();
  in.set_seller(seller_);
  v1::Listing l, out;
  ASSERT_TRUE(CreateAs(operator_, in, &l).ok());
  v1::UpdateMarketRequest up;
  up.mutable_market()->set_name(market_);
  up.mutable_market()->set_operator_(other_operator_);
  up.mutable_update_mask()->add_paths("operator");
  v1::Market m;
  ASSERT_TRUE(market_stub_->UpdateMarket(Ctx(supervisor_).get(), up, &m).ok());
  v1::PublishListingRequest pub;
  pub.set_name(l.name());
  EXPECT_EQ(stub_->PublishListing(Ctx(operator_).get(), pub, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(stub_->PublishListing(Ctx(seller_).get(), pub, &out).ok());
}

TEST_F(ListingServicesTest, RemovingASwappedListingCancelsTheOrderAndFreesTheOther) {
  std::string swapper = AdmitSwapper();
  MakeMondaysSwapDays();
  v1::Listing theirs = Published(Phone());
  v1::Listing mine = Published(Appliance("旧冰箱换手机", 50000, "SN-SWAP"), swapper);
  v1::Order o;
  ASSERT_TRUE(Place(swapper, theirs.name(), &o, false, mine.name()).ok());
  v1::RemoveListingRequest rm;
  rm.set_name(mine.name());
  rm.set_cause(v1::Listing::COUNTERFEIT);
  rm.set_reason("假冒品牌");
  v1::Listing out;
  ASSERT_TRUE(stub_->RemoveListing(Ctx(supervisor_).get(), rm, &out).ok());
  v1::GetOrderRequest get;
  get.set_name(o.name());
  ASSERT_TRUE(order_stub_->GetOrder(Ctx(swapper).get(), get, &o).ok());
  EXPECT_EQ(o.state(), v1::Order::CANCELLED);
  ASSERT_TRUE(Get("", theirs.name(), &out).ok());
  EXPECT_EQ(out.state(), v1::Listing::PUBLISHED);
}

// ---- Photos -----------------------------------------------------------------

grpc::Status Upload(v1::ListingService::Stub* stub, std::unique_ptr<grpc::ClientContext> ctx,
                    const std::string& bytes, const std::string& type, const std::string& listing,
                    v1::Photo* out, const std::string& sha = "") {
  auto writer = stub->UploadPhoto(ctx.get(), out);
  v1::UploadPhotoRequest header;
  header.set_content_type(type);
  header.set_listing(listing);
  header.set_sha256(sha);
  writer->Write(header);
  for (size_t i = 0; i < bytes.size(); i += 7) {
    v1::UploadPhotoRequest chunk;
    chunk.set_data(bytes.substr(i, 7));
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

TEST_F(ListingServicesTest, PhotoIsContentAddressedOnDisk) {
  std::string png = Png("a");
  v1::Photo a, b;
  ASSERT_TRUE(Upload(stub_.get(), Ctx(seller_), png, "image/png", "", &a).ok());
  ASSERT_TRUE(Upload(stub_.get(), Ctx(buyer_), png, "image/png", "", &b).ok());
  EXPECT_EQ(a.sha256(), HexEncode(Sha256(png)));
  EXPECT_EQ(a.sha256(), b.sha256());
  EXPECT_EQ(a.size_bytes(), static_cast<int64_t>(png.size()));
  EXPECT_TRUE(std::filesystem::exists(
      absl::StrCat(dir_, "/photos/", a.sha256().substr(0, 2), "/", a.sha256())));
}

// Regular files under the photo directory, at any depth.
std::vector<std::string> PhotoFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(ListingServicesTest, SameBytesUploadedTwiceAreStoredOnce) {
  v1::Photo a, b, c;
  ASSERT_TRUE(Upload(stub_.get(), Ctx(seller_), Png("a"), "image/png", "", &a).ok());
  ASSERT_TRUE(Upload(stub_.get(), Ctx(buyer_), Png("a"), "image/png", "", &b).ok());
  ASSERT_TRUE(Upload(stub_.get(), Ctx(seller_), Png("b"), "image/png", "", &c).ok());
  std::vector<std::string> want = {a.sha256(), c.sha256()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(PhotoFiles(TempPath("photos")), want);
}

TEST_F(ListingServicesTest, NonImageUploadIsRejected) {
  v1::Photo p;
  grpc::Status s = Upload(stub_.get(), Ctx(seller_), "GIF89a not allowed", "image/png", "", &p);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"data"});
}

TEST_F(ListingServicesTest, DeclaredTypeMustMatchTheBytes) {
  v1::Photo p;
  grpc::Status s = Upload(stub_.get(), Ctx(seller_), Png("x"), "image/jpeg", "", &p);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"content_type"});
}

TEST_F(ListingServicesTest, Sha256MismatchIsRejected) {
  v1::Photo p;
  grpc::Status s =
      Upload(stub_.get(), Ctx(seller_), Png("x"), "image/png", "", &p, std::string(64, 'a'));
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"sha256"});
}

TEST_F(ListingServicesTest, OversizedUploadIsRejected) {
  v1::Photo p;
  std::string big = Png("big") + std::string(kMaxPhotoBytes, 'x');
  auto ctx = Ctx(seller_);
  auto writer = stub_->UploadPhoto(ctx.get(), &p);
  v1::UploadPhotoRequest header;
  header.set_content_type("image/png");
  writer->Write(header);
  for (size_t i = 0; i < big.size(); i += 1 << 20) {
    v1::UploadPhotoRequest chunk;
    chunk.set_data(big.substr(i, 1 << 20));
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
}

TEST_F(ListingServicesTest, UploadToOwnListingAppendsOnce) {
  v1::Listing l;
  ASSERT_TRUE(CreateAs(seller_, Phone(), &l).ok());
  v1::Photo p;
  ASSERT_TRUE(Upload(stub_.get(), Ctx(seller_), Png("1"), "image/png", l.name(), &p).ok());
  ASSERT_TRUE(Upload(stub_.get(), Ctx(seller_), Png("1"), "image/png", l.name(), &p).ok());
  v1::Listing got;
  ASSERT_TRUE(Get(seller_, l.name(), &got).ok());
  ASSERT_EQ(got.photos_size(), 1);
  EXPECT_EQ(got.photos(0).content_type(), "image/png");
}

TEST_F(ListingServicesTest, UploadToAnotherSellersListingIsDenied) {
  v1::Listing l;
  ASSERT_TRUE(CreateAs(seller_, Phone(), &l).ok());
  v1::Photo p;
  EXPECT_EQ(Upload(stub_.get(), Ctx(other_seller_), Png("1"), "image/png", l.name(), &p)
                .error_code(),
            StatusCode::PERMISSION_DENIED);
}

TEST_F(ListingServicesTest, ListingMayOnlyReferenceUploadedPhotos) {
  v1::Listing in = Phone();
  in.add_photos()->set_sha256(std::string(64, 'b'));
  v1::Listing l;
  grpc::Status s = CreateAs(seller_, in, &l);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"listing.photos"});
}

// ---- Search -------------------------------------------------------------------

class SearchTest : public ListingServicesTest {
 protected:
  void SetUp() override {
    ListingServicesTest::SetUp();
    west_ = MakeMarket("west-zone", v1::Market::TRADING_ZONE, {seller_, other_seller_}, "440305");
    Published(Appliance("海尔双门冰箱 BCD-216", 120000, "SN1", "9成新"));
    clock_.Advance(absl::Minutes(1));
    Published(Appliance("美的滚筒洗衣机", 80000, "SN2", "7成新"), other_seller_);
    clock_.Advance(absl::Minutes(1));
    Published(Appliance("Haier Fridge mini", 30000, "SN3", "95新"), seller_, west_);
    clock_.Advance(absl::Minutes(1));
    Published(Phone("iPhone 13 冰箱贴赠品"));
    clock_.Advance(absl::Minutes(1));
  }
  std::string west_;
};

TEST_F(SearchTest, TwoCharacterChineseQueryFindsSubstring) {
  EXPECT_EQ(Titles("", "冰箱", "publish_time"),
            (std::vector<std::string>{"海尔双门冰箱 BCD-216", "iPhone 13 冰箱贴赠品"}));
}

TEST_F(SearchTest, LongerChineseQueryUsesTheTrigramIndex) {
  EXPECT_EQ(Titles("", "双门冰箱"), std::vector<std::string>{"海尔双门冰箱 BCD-216"});
}

TEST_F(SearchTest, LatinQueryIsCaseInsensitive) {
  EXPECT_EQ(Titles("", "FRIDGE"), std::vector<std::string>{"Haier Fridge mini"});
  EXPECT_EQ(Titles("", "ha"), (std::vector<std::string>{"Haier Fridge mini"}));
}

TEST_F(SearchTest, FilterByCategory) {
  EXPECT_EQ(Titles("category=PHONE"), std::vector<std::string>{"iPhone 13 冰箱贴赠品"});
}

TEST_F(SearchTest, FilterByPriceRange) {
  EXPECT_EQ(Titles("price>=80000 AND price<120000"),
            std::vector<std::string>{"美的滚筒洗衣机"});
  EXPECT_EQ(Titles("price>300000"), std::vector<std::string>{"iPhone 13 冰箱贴赠品"});
}

TEST_F(SearchTest, FilterByMinimumGrade) {
  EXPECT_EQ(Titles("grade>=\"95新\""), std::vector<std::string>{"Haier Fridge mini"});
}

TEST_F(SearchTest, FilterBySellerMarketAndRegion) {
  EXPECT_EQ(Titles("seller=\"" + other_seller_ + "\""),
            std::vector<std::string>{"美的滚筒洗衣机"});
  EXPECT_EQ(Titles("market=\"" + west_ + "\""), std::vector<std::string>{"Haier Fridge mini"});
  EXPECT_EQ(Titles("region=\"44\""), std::vector<std::string>{"Haier Fridge mini"});
  EXPECT_EQ(Titles("region=\"3501\"").size(), 3u);
}

TEST_F(SearchTest, FilterByAppraisalAndState) {
  EXPECT_TRUE(Titles("has_valid_appraisal=true").empty());
  EXPECT_TRUE(Titles("state=SOLD").empty());
}

TEST_F(SearchTest, StateFilterReturnsExactlyTheListingsInThatState) {
  v1::Listing sold = Published(Appliance("二手空调", 150000, "SN4"));
  Delivered(sold.name());
  v1::Listing reserved = Published(Appliance("二手电视", 90000, "SN5"));
  v1::Order o;
  ASSERT_TRUE(Place(buyer_, reserved.name(), &o).ok());
  EXPECT_EQ(Titles("state=SOLD"), std::vector<std::string>{"二手空调"});
  EXPECT_EQ(Titles("state=RESERVED"), std::vector<std::string>{"二手电视"});
  EXPECT_EQ(Titles("state=PUBLISHED", "", "publish_time"),
            (std::vector<std::string>{"海尔双门冰箱 BCD-216", "美的滚筒洗衣机", "Haier Fridge mini",
                                      "iPhone 13 冰箱贴赠品"}));
}

TEST_F(SearchTest, CombinedFiltersAndQuery) {
  EXPECT_EQ(Titles("category=APPLIANCE AND region=\"35\" AND price<=150000", "冰箱"),
            std::vector<std::string>{"海尔双门冰箱 BCD-216"});
}

TEST_F(SearchTest, OrderByPrice) {
  EXPECT_EQ(Titles("category=APPLIANCE", "", "price"),
            (std::vector<std::string>{"Haier Fridge mini", "美的滚筒洗衣机", "海尔双门冰箱 BCD-216"}));
  EXPECT_EQ(Titles("category=APPLIANCE", "", "price desc").front(), "海尔双门冰箱 BCD-216");
}

TEST_F(SearchTest, DefaultOrderIsNewestFirst) {
  EXPECT_EQ(Titles("").front(), "iPhone 13 冰箱贴赠品");
}

TEST_F(SearchTest, UnknownFilterFieldIsInvalid) {
  v1::SearchListingsResponse r;
  grpc::Status s = Search("colour=red", "", &r);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"filter"});
  EXPECT_EQ(BadFields(Search("price=5", "", &r)), std::vector<std::string>{"filter"});
  EXPECT_EQ(BadFields(Search("", "", &r, "title")), std::vector<std::string>{"order_by"});
}

TEST_F(SearchTest, ControlCharactersInTheQueryAreInvalid) {
  v1::SearchListingsResponse r;
  EXPECT_EQ(BadFields(Search("", std::string("ab\0", 3), &r)), std::vector<std::string>{"query"});
  EXPECT_EQ(BadFields(Search("price>9223372036854775807", "", &r)),
            std::vector<std::string>{"filter"});
}

TEST_F(SearchTest, TamperedPageTokenIsRejected) {
  v1::SearchListingsResponse r;
  ASSERT_TRUE(Search("", "", &r, "", "", 1).ok());
  ASSERT_FALSE(r.next_page_token().empty());
  std::string token = r.next_page_token();
  token[token.size() / 2] = token[token.size() / 2] == 'A' ? 'B' : 'A';
  v1::SearchListingsResponse r2;
  EXPECT_EQ(Search("", "", &r2, "", token, 1).error_code(), StatusCode::INVALID_ARGUMENT);
  // A token from another query is refused too.
  EXPECT_EQ(Search("category=PHONE", "", &r2, "", r.next_page_token(), 1).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

// ---- ImportListings -------------------------------------------------------------

std::string ApplianceCsv(const std::string& seller, int rows, int bad_row = -1) {
  std::string csv =
      "seller,category,title,price.amount_fen,declared_condition.level,appliance.brand,"
      "appliance.model,appliance.serial_number\n";
  for (int i = 1; i <= rows; ++i) {
    absl::StrAppend(&csv, seller, ",APPLIANCE,二手冰箱 ", i, ",", i == bad_row ? "-5" : "1000",
                    ",9成新,Haier,BCD-", i % 7, ",SN", i, "\n");
  }
  return csv;
}

grpc::Status Import(v1::ListingService::Stub* stub, std::unique_ptr<grpc::ClientContext> ctx,
                    const std::string& market, const std::string& csv, bool all_or_nothing,
                    bool publish, v1::ImportListingsResponse* out) {
  v1::ImportListingsRequest req;
  req.set_parent(market);
  req.set_csv_data(csv);
  req.set_all_or_nothing(all_or_nothing);
  req.set_publish(publish);
  return stub->ImportListings(ctx.get(), req, out);
}

TEST_F(ListingServicesTest, ImportReportsBadRowsAndCreatesTheRest) {
  v1::ImportListingsResponse r;
  ASSERT_TRUE(
      Import(stub_.get(), Ctx(operator_), market_, ApplianceCsv(seller_, 5, 3), false, true, &r)
          .ok());
  EXPECT_TRUE(r.committed());
  EXPECT_EQ(r.created_count(), 4);
  EXPECT_EQ(r.failed_count(), 1);
  ASSERT_EQ(r.results_size(), 5);
  EXPECT_EQ(r.results(2).row(), 3);
  ASSERT_EQ(r.results(2).violations_size(), 1);
  EXPECT_EQ(r.results(2).violations(0).field(), "price.amount_fen");
  EXPECT_TRUE(r.results(2).listing().empty());
  EXPECT_FALSE(r.results(0).listing().empty());
  EXPECT_EQ(Titles("category=APPLIANCE").size(), 4u);
}

TEST_F(ListingServicesTest, AllOrNothingImportCreatesNothingOnABadRow) {
  v1::ImportListingsResponse r;
  ASSERT_TRUE(
      Import(stub_.get(), Ctx(operator_), market_, ApplianceCsv(seller_, 5, 2), true, true, &r)
          .ok());
  EXPECT_FALSE(r.committed());
  EXPECT_EQ(r.created_count(), 0);
  EXPECT_TRUE(Titles("category=APPLIANCE").empty());
}

TEST_F(ListingServicesTest, ImportRowForSellerOutsideMarketFails) {
  std::string outsider = AddSubject("seller-z", Role::SELLER);
  v1::ImportListingsResponse r;
  ASSERT_TRUE(
      Import(stub_.get(), Ctx(operator_), market_, ApplianceCsv(outsider, 1), false, false, &r)
          .ok());
  ASSERT_EQ(r.results(0).violations_size(), 1);
  EXPECT_EQ(r.results(0).violations(0).field(), "seller");
}

TEST_F(ListingServicesTest, OnlyTheMarketsOperatorImports) {
  v1::ImportListingsResponse r;
  EXPECT_EQ(Import(stub_.get(), Ctx(other_operator_), market_, ApplianceCsv(seller_, 1), false,
                   false, &r)
                .error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Import(stub_.get(), Ctx(seller_), market_, ApplianceCsv(seller_, 1), false, false, &r)
          .error_code(),
      StatusCode::PERMISSION_DENIED);
}

TEST_F(ListingServicesTest, UnknownCsvColumnIsInvalid) {
  v1::ImportListingsResponse r;
  grpc::Status s = Import(stub_.get(), Ctx(operator_), market_, "seller,colour\nx,red\n", false,
                          false, &r);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"csv_data"});
}

TEST_F(ListingServicesTest, TenThousandRowsImportInOneCall) {
  v1::ImportListingsResponse r;
  grpc::Status s =
      Import(stub_.get(), Ctx(operator_), market_, ApplianceCsv(seller_, 10000), false, true, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.created_count(), 10000);
  EXPECT_EQ(r.failed_count(), 0);
}

TEST_F(ListingServicesTest, PaginationOverAThousandListingsReturnsEachOnce) {
  v1::ImportListingsResponse r;
  ASSERT_TRUE(
      Import(stub_.get(), Ctx(operator_), market_, ApplianceCsv(seller_, 1000), false, true, &r)
          .ok());
  for (const std::string order : {"publish_time desc", "price"}) {
    std::set<std::string> seen;
    int pages = 0;
    std::string token;
    do {
      v1::SearchListingsResponse page;
      ASSERT_TRUE(Search("", "", &page, order, token, 37).ok());
      for (const auto& l : page.listings()) EXPECT_TRUE(seen.insert(l.name()).second) << l.name();
      token = page.next_page_token();
      ++pages;
    } while (!token.empty());
    EXPECT_EQ(seen.size(), 1000u) << order;
    EXPECT_EQ(pages, 28) << order;
  }
}

// ---- Orders -----------------------------------------------------------------------

TEST_F(ListingServicesTest, PlaceOrderReservesTheListingAndSnapshotsTerms) {
  v1::Listing l = Published(Phone());
  v1::Order o;
  ASSERT_TRUE(Place(buyer_, l.name(), &o).ok());
  EXPECT_EQ(o.state(), v1::Order::PLACED);
  EXPECT_EQ(o.buyer(), buyer_);
  EXPECT_EQ(o.seller(), seller_);
  EXPECT_EQ(o.price().amount_fen(), 329900);
  EXPECT_EQ(o.warranty_policy().refund_days(), l.warranty_policy().refund_days());
  EXPECT_EQ(o.item(), l.item());
  EXPECT_EQ(o.no_reason_return_days(), 0);
  v1::Listing got;
  ASSERT_TRUE(Get("", l.name(), &got).ok());
  EXPECT_EQ(got.state(), v1::Listing::RESERVED);
}

TEST_F(ListingServicesTest, SellerCannotBuyOwnListing) {
  std::string both = AddSubject("seller-buyer", {Role::SELLER, Role::BUYER});
  v1::AddSellerRequest add;
  add.set_market(market_);
  add.set_seller(both);
  v1::Market m;
  ASSERT_TRUE(market_stub_->AddSeller(Ctx(operator_).get(), add, &m).ok());
  v1::Listing l = Published(Phone(), both);
  v1::Order o;
  EXPECT_EQ(Reason(Place(both, l.name(), &o)), "OWN_LISTING");
  // A pure seller lacks the BUYER role altogether.
  EXPECT_EQ(Place(seller_, l.name(), &o).error_code(), StatusCode::PERMISSION_DENIED);
}

TEST_F(ListingServicesTest, DisclosedDefectsMustBeAcknowledged) {
  v1::Listing in = Phone();
  in.add_disclosed_defects("屏幕右上角划痕");
  v1::Listing l = Published(in);
  v1::Order o;
  grpc::Status s = Place(buyer_, l.name(), &o);
  EXPECT_EQ(Reason(s), "DEFECTS_NOT_ACKNOWLEDGED");
  ASSERT_TRUE(Place(buyer_, l.name(), &o, /*ack=*/true).ok());
  EXPECT_TRUE(o.defects_acknowledged());
  EXPECT_EQ(o.disclosed_defects_size(), 1);
}

TEST_F(ListingServicesTest, OnlineMarketGivesSevenDayNoReasonReturn) {
  std::string online = MakeMarket("online-shop", v1::Market::ONLINE_PLATFORM, {seller_});
  v1::Listing l = Published(Phone(), seller_, online);
  v1::Order o;
  ASSERT_TRUE(Place(buyer_, l.name(), &o).ok());
  EXPECT_EQ(o.no_reason_return_days(), 7);
}

TEST_F(ListingServicesTest, SixteenConcurrentOrdersExactlyOneWins) {
  v1::Listing l = Published(Phone());
  std::vector<std::string> tokens;
  for (int i = 0; i < 16; ++i) {
    tokens.push_back(Token(AddSubject(absl::StrCat("racer-", i), Role::BUYER)));
  }
  std::vector<grpc::StatusCode> codes(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + tokens[i]);
      v1::PlaceOrderRequest req;
      req.set_listing(l.name());
      v1::Order o;
      codes[i] = order_stub_->PlaceOrder(&ctx, req, &o).error_code();
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0, refused = 0;
  for (auto c : codes) {
    ok += c == StatusCode::OK;
    refused += c == StatusCode::FAILED_PRECONDITION;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(refused, 15);
}

TEST_F(ListingServicesTest, CancelReturnsTheListingToSale) {
  v1::Listing l = Published(Phone());
  v1::Order o;
  ASSERT_TRUE(Place(buyer_, l.name(), &o).ok());
  v1::CancelOrderRequest c;
  c.set_name(o.name());
  c.set_reason("不要了");
  ASSERT_TRUE(order_stub_->CancelOrder(Ctx(seller_).get(), c, &o).ok());
  EXPECT_EQ(o.state(), v1::Order::CANCELLED);
  EXPECT_EQ(o.cancelled_by(), seller_);
  v1::Listing got;
  ASSERT_TRUE(Get("", l.name(), &got).ok());
  EXPECT_EQ(got.state(), v1::Listing::PUBLISHED);
}

TEST_F(ListingServicesTest, StrangersCannotCancelOrSee) {
  v1::Listing l = Published(Phone());
  v1::Order o;
  ASSERT_TRUE(Place(buyer_, l.name(), &o).ok());
  std::string stranger = AddSubject("buyer-x", Role::BUYER);
  v1::CancelOrderRequest c;
  c.set_name(o.name());
  v1::Order out;
  EXPECT_EQ(order_stub_->CancelOrder(Ctx(stranger).get(), c, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
  v1::GetOrderRequest g;
  g.set_name(o.name());
  EXPECT_EQ(order_stub_->GetOrder(Ctx(stranger).get(), g, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(order_stub_->GetOrder(Ctx(other_operator_).get(), g, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(order_stub_->GetOrder(Ctx(operator_).get(), g, &out).ok());
}

TEST_F(ListingServicesTest, DeliveryMarksTheListingSold) {
  v1::Listing l = Published(Phone());
  v1::Order o = Delivered(l.name());
  EXPECT_EQ(o.state(), v1::Order::DELIVERED);
  EXPECT_TRUE(o.has_delivery_time());
  v1::Listing got;
  ASSERT_TRUE(Get("", l.name(), &got).ok());
  EXPECT_EQ(got.state(), v1::Listing::SOLD);
  v1::CancelOrderRequest c;
  c.set_name(o.name());
  grpc::Status s = order_stub_->CancelOrder(Ctx(buyer_).get(), c, &o);
  EXPECT_EQ(Reason(s), "ORDER_NOT_CANCELLABLE");
}

TEST_F(ListingServicesTest, OnlyTheBuyerConfirmsDelivery) {
  v1::Listing l = Published(Phone());
  v1::Order o;
  ASSERT_TRUE(Place(buyer_, l.name(), &o).ok());
  v1::ConfirmDeliveryRequest req;
  req.set_name(o.name());
  EXPECT_EQ(order_stub_->ConfirmDelivery(Ctx(seller_).get(), req, &o).error_code(),
            StatusCode::PERMISSION_DENIED);
}

TEST_F(ListingServicesTest, VehicleDeliveryMileageBelowListingIsInvalid) {
  v1::Listing l = Published(Vehicle());
  v1::Order o;
  ASSERT_TRUE(Place(buyer_, l.name(), &o).ok());
  v1::ConfirmDeliveryRequest req;
  req.set_name(o.name());
  req.set_mileage_km(1000);
  EXPECT_EQ(BadFields(order_stub_->ConfirmDelivery(Ctx(buyer_).get(), req, &o)),
            std::vector<std::string>{"mileage_km"});
  req.set_mileage_km(56010);
  ASSERT_TRUE(order_stub_->ConfirmDelivery(Ctx(buyer_).get(), req, &o).ok());
  EXPECT_EQ(o.delivery_mileage_km(), 56010);
}

TEST_F(ListingServicesTest, BuyerCompletionEmitsTradeCompletedForBothParties) {
  v1::Listing l = Published(Phone());
  v1::Order o = Delivered(l.name());
  v1::CompleteOrderRequest req;
  req.set_name(o.name());
  ASSERT_TRUE(order_stub_->CompleteOrder(Ctx(buyer_).get(), req, &o).ok());
  EXPECT_EQ(o.state(), v1::Order::COMPLETED);
  auto events = PendingCreditEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type(), credit::v1::Record::TRADE_COMPLETED);
  EXPECT_EQ(events[0].subject(), buyer_);
  EXPECT_EQ(events[0].counterparty(), seller_);
  EXPECT_EQ(events[1].subject(), seller_);
  EXPECT_EQ(events[1].counterparty(), buyer_);
  EXPECT_EQ(events[1].reference(), o.name());
}

TEST_F(ListingServicesTest, ServiceCannotCompleteInsideTheRefundWindow) {
  v1::Listing l = Published(Phone());
  v1::Order o = Delivered(l.name());
  v1::CompleteOrderRequest req;
  req.set_name(o.name());
  grpc::Status s = order_stub_->CompleteOrder(Ctx(service_).get(), req, &o);
  EXPECT_EQ(Reason(s), "REFUND_WINDOW_OPEN");
}

TEST_F(ListingServicesTest, SchedulerCompletesAfterTheRefundWindow) {
  v1::Listing l = Published(Phone());
  v1::Order o = Delivered(l.name());
  clock_.Advance(absl::Hours(24 * 7) - absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(int early, orders_->RunAutoComplete());
  EXPECT_EQ(early, 0);
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(int done, orders_->RunAutoComplete());
  EXPECT_EQ(done, 1);
  v1::GetOrderRequest g;
  g.set_name(o.name());
  ASSERT_TRUE(order_stub_->GetOrder(Ctx(buyer_).get(), g, &o).ok());
  EXPECT_EQ(o.state(), v1::Order::COMPLETED);
  EXPECT_EQ(PendingCreditEvents().size(), 2u);
}

TEST_F(ListingServicesTest, SwapNeedsASwapDay) {
  v1::Listing theirs = Published(Phone());
  std::string swapper = AdmitSwapper();
  v1::Listing mine = Published(Appliance("旧冰箱换手机", 50000, "SN-SWAP"), swapper);
  v1::Order o;
  EXPECT_EQ(Reason(Place(swapper, theirs.name(), &o, false, mine.name())), "SWAP_NOT_ALLOWED");
  // Mondays are swap days from now on (the fake clock is a Monday).
  MakeMondaysSwapDays();
  grpc::Status s = Place(swapper, theirs.name(), &o, false, mine.name());
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(o.price().amount_fen(), 0);
  v1::Listing got;
  ASSERT_TRUE(Get("", mine.name(), &got).ok());
  EXPECT_EQ(got.state(), v1::Listing::RESERVED);
}

TEST_F(ListingServicesTest, ListOrdersShowsBuyersOnlyTheirOwn) {
  v1::Listing a = Published(Phone());
  v1::Listing b = Published(Appliance("冰箱", 1000, "SN9"), other_seller_);
  std::string buyer2 = AddSubject("buyer-2", Role::BUYER);
  v1::Order o;
  ASSERT_TRUE(Place(buyer_, a.name(), &o).ok());
  ASSERT_TRUE(Place(buyer2, b.name(), &o).ok());
  v1::ListOrdersRequest req;
  req.set_parent("markets/-");
  v1::ListOrdersResponse r;
  ASSERT_TRUE(order_stub_->ListOrders(Ctx(buyer_).get(), req, &r).ok());
  ASSERT_EQ(r.orders_size(), 1);
  EXPECT_EQ(r.orders(0).buyer(), buyer_);
  r.Clear();
  ASSERT_TRUE(order_stub_->ListOrders(Ctx(supervisor_).get(), req, &r).ok());
  EXPECT_EQ(r.orders_size(), 2);
  r.Clear();
  req.set_filter("state=PLACED AND seller=\"" + other_seller_ + "\"");
  ASSERT_TRUE(order_stub_->ListOrders(Ctx(operator_).get(), req, &r).ok());
  EXPECT_EQ(r.orders_size(), 1);
  req.set_filter("colour=red");
  EXPECT_EQ(BadFields(order_stub_->ListOrders(Ctx(operator_).get(), req, &r)),
            std::vector<std::string>{"filter"});
}

// ---- Items ------------------------------------------------------------------------

grpc::Status Observe(v1::ItemService::Stub* stub, std::unique_ptr<grpc::ClientContext> ctx,
                     const std::string& item, int64_t km, absl::Time when,
                     const std::string& request_id, v1::Observation* out) {
  v1::RecordObservationRequest req;
  req.set_parent(item);
  req.set_request_id(request_id);
  req.mutable_observation()->set_kind(v1::Observation::MILEAGE);
  req.mutable_observation()->set_source("appraisals/a1");
  req.mutable_observation()->set_mileage_km(km);
  *req.mutable_observation()->mutable_observed_time() = ToTimestamp(when);
  return stub->RecordObservation(ctx.get(), req, out);
}

TEST_F(ListingServicesTest, MileageRollbackAcrossTwoObservationsOfOneVin) {
  std::string item = absl::StrCat("items/VEHICLE:", kVin);
  v1::Observation first, second;
  ASSERT_TRUE(Observe(item_stub_.get(), Ctx(service_), item, 80000,
                      clock_.Now() - absl::Hours(24 * 30), "evt-1", &first)
                  .ok());
  EXPECT_TRUE(first.flags().empty());
  ASSERT_TRUE(
      Observe(item_stub_.get(), Ctx(service_), item, 52000, clock_.Now(), "evt-2", &second).ok());
  ASSERT_EQ(second.flags_size(), 1);
  EXPECT_EQ(second.flags(0), v1::Observation::MILEAGE_ROLLBACK);
  v1::GetItemHistoryRequest req;
  req.set_name(item);
  v1::ItemHistory h;
  ASSERT_TRUE(item_stub_->GetItemHistory(Ctx("").get(), req, &h).ok());
  ASSERT_EQ(h.flags_size(), 1);
  EXPECT_EQ(h.flags(0), v1::Observation::MILEAGE_ROLLBACK);
  EXPECT_EQ(h.max_mileage_km(), 80000);
  EXPECT_EQ(h.events_size(), 2);
}

TEST_F(ListingServicesTest, RollbackOfAListedVehicleWritesOneCaseEventAboutItsSeller) {
  // Pending case events (supervision.RecordCaseEvent), as the relay would send them.
  auto case_events = [&] {
    return outbox::testing::PendingRequests<supervision::v1::RecordCaseEventRequest>(
        listing_store_->db(), "supervision.RecordCaseEvent");
  };
  std::string item = absl::StrCat("items/VEHICLE:", kVin);
  v1::Observation first, second, replay;
  ASSERT_TRUE(Observe(item_stub_.get(), Ctx(service_), item, 80000,
                      clock_.Now() - absl::Hours(24 * 30), "evt-1", &first)
                  .ok());
  ASSERT_TRUE(
      Observe(item_stub_.get(), Ctx(service_), item, 52000, clock_.Now(), "evt-2", &second).ok());
  EXPECT_TRUE(case_events().empty());  // never listed here: no seller to name
  Published(Vehicle());
  ASSERT_TRUE(
      Observe(item_stub_.get(), Ctx(service_), item, 51000, clock_.Now(), "evt-3", &second).ok());
  ASSERT_TRUE(
      Observe(item_stub_.get(), Ctx(service_), item, 51000, clock_.Now(), "evt-3", &replay).ok());
  auto events = case_events();
  ASSERT_EQ(events.size(), 1u);
  const supervision::v1::Case& k = events[0].case_();
  EXPECT_EQ(k.kind(), supervision::v1::Case::MILEAGE_ROLLBACK);
  EXPECT_EQ(k.resource(), item);
  ASSERT_EQ(k.subjects_size(), 1);
  EXPECT_EQ(k.subjects(0).subject(), seller_);
  EXPECT_EQ(k.subjects(0).role(), Role::SELLER);
  EXPECT_EQ(k.market(), market_);
  EXPECT_EQ(k.region_code(), "350102");
}

TEST_F(ListingServicesTest, ObservationRetryIsIdempotent) {
  std::string item = absl::StrCat("items/VEHICLE:", kVin);
  v1::Observation a, b;
  ASSERT_TRUE(Observe(item_stub_.get(), Ctx(service_), item, 1, clock_.Now(), "evt-x", &a).ok());
  ASSERT_TRUE(Observe(item_stub_.get(), Ctx(service_), item, 1, clock_.Now(), "evt-x", &b).ok());
  EXPECT_EQ(a.name(), b.name());
}

TEST_F(ListingServicesTest, OnlyServicesRecordObservations) {
  v1::Observation o;
  EXPECT_EQ(Observe(item_stub_.get(), Ctx(supervisor_), absl::StrCat("items/VEHICLE:", kVin), 1,
                    clock_.Now(), "e", &o)
                .error_code(),
            StatusCode::PERMISSION_DENIED);
}

TEST_F(ListingServicesTest, MileageOnAPhoneIsInvalid) {
  v1::Observation o;
  grpc::Status s = Observe(item_stub_.get(), Ctx(service_), absl::StrCat("items/PHONE:", kImei),
                           1, clock_.Now(), "e", &o);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"observation.mileage_km"});
}

TEST_F(ListingServicesTest, ItemHistoryIsReducedForThePublicAndFullForParties) {
  v1::Listing l = Published(Phone());
  Delivered(l.name());
  v1::GetItemHistoryRequest req;
  req.set_name(l.item());
  v1::ItemHistory pub, full;
  ASSERT_TRUE(item_stub_->GetItemHistory(Ctx("").get(), req, &pub).ok());
  EXPECT_TRUE(pub.reduced_view());
  ASSERT_EQ(pub.events_size(), 2);
  EXPECT_EQ(pub.events(0).kind(), v1::ItemEvent::LISTING);
  EXPECT_EQ(pub.events(1).kind(), v1::ItemEvent::ORDER);
  EXPECT_TRUE(pub.events(1).parties().empty());
  EXPECT_FALSE(pub.events(1).has_price());
  ASSERT_TRUE(item_stub_->GetItemHistory(Ctx(buyer_).get(), req, &full).ok());
  EXPECT_FALSE(full.reduced_view());
  EXPECT_EQ(full.events(1).parties_size(), 2);
  EXPECT_EQ(full.events(1).price().amount_fen(), 329900);
}

TEST_F(ListingServicesTest, UnknownAndMalformedItems) {
  v1::GetItemHistoryRequest req;
  v1::ItemHistory h;
  req.set_name("items/PHONE:490154203237518");
  EXPECT_EQ(item_stub_->GetItemHistory(Ctx("").get(), req, &h).error_code(),
            StatusCode::NOT_FOUND);
  req.set_name("items/BOAT:1");
  EXPECT_EQ(BadFields(item_stub_->GetItemHistory(Ctx("").get(), req, &h)),
            std::vector<std::string>{"name"});
}

TEST_F(ListingServicesTest, AppraisalObservationSetsAndClearsTheListingsLatestAppraisal) {
  v1::Listing l = Published(Phone());
  v1::RecordObservationRequest req;
  req.set_parent(l.item());
  req.set_request_id("appraisal-filed-1");
  req.set_listing(l.name());
  req.mutable_observation()->set_kind(v1::Observation::IDENTITY);
  req.mutable_observation()->set_source("appraisals/a1");
  (*req.mutable_observation()->mutable_identifiers())["imei"] = kImei;
  *req.mutable_observation()->mutable_observed_time() = ToTimestamp(clock_.Now());
  req.mutable_latest_appraisal()->set_name("appraisals/a1");
  auto* g = req.mutable_latest_appraisal()->add_grades();
  g->set_scheme("phone-cosmetic-v1");
  g->set_version(1);
  g->set_level("95新");
  *req.mutable_latest_appraisal()->mutable_valid_until() =
      ToTimestamp(clock_.Now() + absl::Hours(24 * 90));
  v1::Observation o;
  ASSERT_TRUE(item_stub_->RecordObservation(Ctx(service_).get(), req, &o).ok());
  v1::Listing got;
  ASSERT_TRUE(Get("", l.name(), &got).ok());
  EXPECT_EQ(got.latest_appraisal().name(), "appraisals/a1");
  EXPECT_EQ(Titles("has_valid_appraisal=true").size(), 1u);
  // The report is overturned: an observation without latest_appraisal clears it.
  req.set_request_id("appraisal-overturned-1");
  req.clear_latest_appraisal();
  ASSERT_TRUE(item_stub_->RecordObservation(Ctx(service_).get(), req, &o).ok());
  ASSERT_TRUE(Get("", l.name(), &got).ok());
  EXPECT_FALSE(got.has_latest_appraisal());
}

// ---- Outbox delivery ------------------------------------------------------------------

// A CreditService that counts RecordEvent calls per event id.
class CountingCredit final : public credit::v1::CreditService::Service {
 public:
  grpc::Status RecordEvent(grpc::ServerContext*, const credit::v1::RecordEventRequest* req,
                           credit::v1::RecordEventResponse* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_[req->record().event_id()];
    *resp->mutable_record() = req->record();
    return grpc::Status::OK;
  }
  std::map<std::string, int> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, int> calls_;
};

TEST_F(ListingServicesTest, OutboxDeliversEachEventOnceAfterTheReceiverComesUp) {
  int port = 0;
  {
    // Reserve a free port, then release it: nothing listens there yet.
    server::ServerRunner probe(server::ServerOptions{.listen = "127.0.0.1:0", .http_listen = ""},
                               nullptr);
    ASSERT_OK(probe.Start());
    port = probe.grpc_port();
    probe.Shutdown(absl::ZeroDuration());
  }
  // gRPC backs off for a second and more after the refused connection; a
  // short back-off lets the channel reconnect soon after the receiver is up.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 50);
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                           grpc::InsecureChannelCredentials(), args);
  outbox::RelayOptions options;
  options.jitter = 0;
  outbox::Relay relay(&listing_store_->db(), &clock_,
                      {{credit::kCreditDestination,
                        credit::CreditDeliverer(channel, [] { return absl::StatusOr<std::string>("t"); })}},
                      options);
  for (const char* title : {"手机一", "手机二"}) {
    v1::Listing l = Published(Phone(title));
    v1::Order o = Delivered(l.name());
    v1::CompleteOrderRequest req;
    req.set_name(o.name());
    ASSERT_TRUE(order_stub_->CompleteOrder(Ctx(buyer_).get(), req, &o).ok());
  }
  ASSERT_OK_AND_ASSIGN(int delivered, relay.RunOnce());
  EXPECT_EQ(delivered, 0);
  // 4 credit events, 4 statistics events (placed, completed) and 8 listing
  // snapshots (created, published, reserved, sold), which this relay has no
  // deliverer for and keeps pending.
  EXPECT_EQ(relay.Depth(), 16);
  CountingCredit receiver;
  server::ServerRunner up(
      server::ServerOptions{.listen = absl::StrCat("127.0.0.1:", port), .http_listen = ""},
      nullptr);
  up.AddService(&receiver, "market.credit.v1.CreditService");
  ASSERT_OK(up.Start());
  // The event to wait for: the relay's channel reaches the receiver (30 s cap).
  ASSERT_TRUE(
      channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30)))
      << "the channel never reconnected to the receiver";
  clock_.Advance(absl::Minutes(10));  // past every event's retry delay
  ASSERT_OK_AND_ASSIGN(int delivered_now, relay.RunOnce());
  EXPECT_EQ(delivered_now, 4);
  ASSERT_OK_AND_ASSIGN(int again, relay.RunOnce());
  EXPECT_EQ(again, 0);
  EXPECT_EQ(relay.Depth(), 12);
  auto calls = receiver.calls();
  EXPECT_EQ(calls.size(), 4u);
  for (const auto& [id, n] : calls) EXPECT_EQ(n, 1) << id;
  up.Shutdown(absl::ZeroDuration());
}

// ListingClient (what other services ask) against this real server, as the
// SERVICE subject service_.
class ListingClientTest : public ListingServicesTest {
 protected:
  ListingClient Client() {
    return ListingClient(NewChannel(),
                         [this] { return absl::StatusOr<std::string>(Token(service_)); });
  }
};

TEST_F(ListingClientTest, GetOrderReturnsTheOrderAndItsMarketOperator) {
  v1::Order placed;
  ASSERT_TRUE(Place(buyer_, Published(Phone()).name(), &placed).ok());
  ASSERT_OK_AND_ASSIGN(std::optional<OrderInfo> info, Client().GetOrder(placed.name()));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->order.name(), placed.name());
  EXPECT_EQ(info->order.buyer(), buyer_);
  EXPECT_EQ(info->market_operator, operator_);
}

TEST_F(ListingClientTest, UnknownOrderIsNullopt) {
  ASSERT_OK_AND_ASSIGN(std::optional<OrderInfo> info,
                       Client().GetOrder(market_ + "/orders/o-missing"));
  EXPECT_FALSE(info.has_value());
}

TEST_F(ListingClientTest, PartiesOfListingAreSellerThenBuyers) {
  v1::Listing l = Published(Phone());
  v1::Order placed;
  ASSERT_TRUE(Place(buyer_, l.name(), &placed).ok());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> parties, Client().PartiesOfListing(l.name()));
  EXPECT_EQ(parties, (std::vector<std::string>{seller_, buyer_}));
}

TEST_F(ListingClientTest, PartiesOfUnknownListingIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(
      Client().PartiesOfListing(market_ + "/listings/l-missing").status()));
}

TEST_F(ListingClientTest, OperatorsOfSellerNameEveryMarketItIsAdmittedTo) {
  std::string west = MakeMarket("west-flea", v1::Market::FLEA_MARKET, {});
  v1::AddSellerRequest add;
  add.set_market(west);
  add.set_seller(seller_);
  v1::Market m;
  ASSERT_TRUE(market_stub_->AddSeller(Ctx(operator_).get(), add, &m).ok());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> ops, Client().OperatorsOfSeller(seller_));
  EXPECT_EQ(ops, std::vector<std::string>{operator_});  // both markets are east-op's
  ASSERT_OK_AND_ASSIGN(ops, Client().OperatorsOfSeller(buyer_));
  EXPECT_TRUE(ops.empty());
}

TEST_F(ListingClientTest, ServerDownIsUnavailableNamingTheCall) {
  ListingClient client = Client();
  runner_->Shutdown(absl::ZeroDuration());
  absl::Status s = client.GetOrder(market_ + "/orders/o-1").status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("listing service GetOrder"));
  EXPECT_TRUE(absl::IsUnavailable(client.OperatorsOfSeller(seller_).status()));
  EXPECT_TRUE(absl::IsUnavailable(client.PartiesOfListing(market_ + "/listings/x").status()));
}

TEST_F(ListingClientTest, RefusedTokenIsUnavailableNotTheCallersFault) {
  ListingClient client(NewChannel(), [] { return absl::StatusOr<std::string>("not-a-token"); });
  EXPECT_TRUE(absl::IsUnavailable(client.OperatorsOfSeller(seller_).status()));
}

TEST_F(ListingServicesTest, SellerFilterIsForTheSellerSupervisorsAndServices) {
  v1::ListMarketsRequest req;
  req.set_filter(absl::StrCat("seller=\"", seller_, "\""));
  v1::ListMarketsResponse resp;
  EXPECT_EQ(market_stub_->ListMarkets(Ctx("").get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(market_stub_->ListMarkets(Ctx(other_seller_).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  for (const std::string& who : {seller_, supervisor_, service_}) {
    resp.Clear();
    ASSERT_TRUE(market_stub_->ListMarkets(Ctx(who).get(), req, &resp).ok()) << who;
    ASSERT_EQ(resp.markets_size(), 1) << who;
    EXPECT_EQ(resp.markets(0).name(), market_);
  }
}

TEST_F(ListingServicesTest, SellerFilterPagesOverMatchingMarketsOnly) {
  for (const char* id : {"m-aa", "m-bb", "m-cc", "m-dd"}) {
    MakeMarket(id, v1::Market::FLEA_MARKET, std::string(id) == "m-bb" ? std::vector<std::string>{}
                                                                    : std::vector<std::string>{seller_});
  }
  v1::ListMarketsRequest req;
  req.set_filter(absl::StrCat("seller=\"", seller_, "\""));
  req.set_page_size(2);
  std::vector<std::string> names;
  do {
    v1::ListMarketsResponse resp;
    ASSERT_TRUE(market_stub_->ListMarkets(Ctx(supervisor_).get(), req, &resp).ok());
    for (const auto& m : resp.markets()) names.push_back(m.name());
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  EXPECT_EQ(names, (std::vector<std::string>{market_, "markets/m-aa", "markets/m-cc",
                                             "markets/m-dd"}));
}

}  // namespace
}  // namespace market::listing
