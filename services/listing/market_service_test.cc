// MarketService through a real gRPC server on 127.0.0.1:0, with identity
// subjects and tokens from the identity module.
#include "services/listing/market_service.h"

#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "services/identity/identity_testing.h"
#include "services/listing/sqlite_market_store.h"

namespace market::listing {
namespace {

using common::v1::Role;

class MarketServiceTest : public identity::testing::ServiceTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    ASSERT_OK_AND_ASSIGN(store_, SqliteMarketStore::Open(TempPath("listing.db")));
    ASSERT_OK_AND_ASSIGN(
        service_,
        MarketServiceImpl::Create(store_.get(), &clock_, TestSubjectLookup(), std::string(32, 's'),
                                  verifier_, identity_.suspension, nullptr));
    ASSERT_OK_AND_ASSIGN(auto channel,
                         StartServer({{service_.get(), "market.listing.v1.MarketService"}}));
    stub_ = v1::MarketService::NewStub(channel);
    supervisor_ = AddSubject("supervisor", Role::SUPERVISOR);
    operator_ = AddSubject("east-op", Role::OPERATOR);
    other_operator_ = AddSubject("west-op", Role::OPERATOR);
    seller_ = AddSubject("seller-a", Role::SELLER);
    buyer_ = AddSubject("buyer-b", Role::BUYER);
  }
  v1::CreateMarketRequest FleaMarket(const std::string& id) {
    v1::CreateMarketRequest req;
    req.set_market_id(id);
    req.mutable_market()->set_kind(v1::Market::FLEA_MARKET);
    req.mutable_market()->set_display_name("东城社区跳蚤市场");
    req.mutable_market()->set_region_code("350102");
    req.mutable_market()->set_address("鼓楼区东街 1 号");
    return req;
  }
  grpc::Status Create(const std::string& token, const v1::CreateMarketRequest& req,
                      v1::Market* out) {
    return stub_->CreateMarket(Ctx(token).get(), req, out);
  }

  std::unique_ptr<SqliteMarketStore> store_;
  std::unique_ptr<MarketServiceImpl> service_;
  std::unique_ptr<v1::MarketService::Stub> stub_;
  std::string supervisor_, operator_, other_operator_, seller_, buyer_;
};

std::vector<std::string> BadFields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(FromGrpcStatus(s))) out.push_back(v.field);
  return out;
}

TEST_F(MarketServiceTest, OperatorCreatesItsOwnMarket) {
  v1::Market m;
  ASSERT_TRUE(Create(Token(operator_, Role::OPERATOR), FleaMarket("east-flea"), &m).ok());
  EXPECT_EQ(m.name(), "markets/east-flea");
  EXPECT_EQ(m.operator_(), operator_);
  EXPECT_EQ(m.etag(), "\"v1\"");
}

TEST_F(MarketServiceTest, SupervisorMustNameAnOperatorWithTheRole) {
  v1::CreateMarketRequest req = FleaMarket("sup-market");
  v1::Market m;
  grpc::Status missing = Create(Token(supervisor_, Role::SUPERVISOR), req, &m);
  EXPECT_EQ(BadFields(missing), std::vector<std::string>{"market.operator"});
  req.mutable_market()->set_operator_(buyer_);
  grpc::Status not_operator = Create(Token(supervisor_, Role::SUPERVISOR), req, &m);
  EXPECT_EQ(not_operator.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(not_operator)), "SUBJECT_NOT_OPERATOR");
  req.mutable_market()->set_operator_(operator_);
  EXPECT_TRUE(Create(Token(supervisor_, Role::SUPERVISOR), req, &m).ok());
}

TEST_F(MarketServiceTest, BadRegionAndScheduleNameFields) {
  v1::CreateMarketRequest req = FleaMarket("bad-market");
  req.mutable_market()->set_region_code("3501");
  auto* s = req.mutable_market()->mutable_swap_schedule();
  s->set_frequency(v1::SwapSchedule::WEEKLY);
  s->add_days_of_week(8);
  s->set_start_time_of_day("09:00");
  s->set_end_time_of_day("08:00");
  v1::Market m;
  grpc::Status st = Create(Token(operator_, Role::OPERATOR), req, &m);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(st),
            (std::vector<std::string>{"market.region_code", "market.swap_schedule.days_of_week",
                                      "market.swap_schedule.end_time_of_day"}));
}

TEST_F(MarketServiceTest, DuplicateMarketIdIsAlreadyExists) {
  v1::Market m;
  ASSERT_TRUE(Create(Token(operator_, Role::OPERATOR), FleaMarket("dup-market"), &m).ok());
  EXPECT_EQ(Create(Token(operator_, Role::OPERATOR), FleaMarket("dup-market"), &m).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(MarketServiceTest, RetryWithRequestIdReplays) {
  v1::CreateMarketRequest req = FleaMarket("replay-market");
  req.set_request_id("r-1");
  v1::Market a, b;
  ASSERT_TRUE(Create(Token(operator_, Role::OPERATOR), req, &a).ok());
  ASSERT_TRUE(Create(Token(operator_, Role::OPERATOR), req, &b).ok());
  EXPECT_EQ(a.name(), b.name());
}

TEST_F(MarketServiceTest, SellersVisibleOnlyToOperatorAndSupervisor) {
  v1::Market m;
  std::string op = Token(operator_, Role::OPERATOR);
  ASSERT_TRUE(Create(op, FleaMarket("seller-market"), &m).ok());
  v1::AddSellerRequest add;
  add.set_market(m.name());
  add.set_seller(seller_);
  ASSERT_TRUE(stub_->AddSeller(Ctx(op).get(), add, &m).ok());
  EXPECT_EQ(m.sellers_size(), 1);
  v1::GetMarketRequest get;
  get.set_name(m.name());
  v1::Market public_view;
  ASSERT_TRUE(stub_->GetMarket(Ctx("").get(), get, &public_view).ok());
  EXPECT_EQ(public_view.sellers_size(), 0);
  v1::Market sup_view;
  ASSERT_TRUE(
      stub_->GetMarket(Ctx(Token(supervisor_, Role::SUPERVISOR)).get(), get, &sup_view).ok());
  EXPECT_EQ(sup_view.sellers_size(), 1);
}

TEST_F(MarketServiceTest, AddSellerRules) {
  v1::Market m;
  std::string op = Token(operator_, Role::OPERATOR);
  ASSERT_TRUE(Create(op, FleaMarket("rules-market"), &m).ok());
  v1::AddSellerRequest add;
  add.set_market(m.name());
  add.set_seller(buyer_);
  grpc::Status not_seller = stub_->AddSeller(Ctx(op).get(), add, &m);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(not_seller)), "SUBJECT_NOT_SELLER");
  add.set_seller(seller_);
  ASSERT_TRUE(stub_->AddSeller(Ctx(op).get(), add, &m).ok());
  EXPECT_EQ(stub_->AddSeller(Ctx(op).get(), add, &m).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(
      stub_->AddSeller(Ctx(Token(other_operator_, Role::OPERATOR)).get(), add, &m).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  v1::RemoveSellerRequest remove;
  remove.set_market(m.name());
  remove.set_seller(seller_);
  ASSERT_TRUE(stub_->RemoveSeller(Ctx(op).get(), remove, &m).ok());
  EXPECT_EQ(m.sellers_size(), 0);
  EXPECT_EQ(stub_->RemoveSeller(Ctx(op).get(), remove, &m).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(MarketServiceTest, OperatorCannotChangeRegionButSupervisorCan) {
  v1::Market m;
  std::string op = Token(operator_, Role::OPERATOR);
  ASSERT_TRUE(Create(op, FleaMarket("region-market"), &m).ok());
  v1::UpdateMarketRequest req;
  req.mutable_market()->set_name(m.name());
  req.mutable_market()->set_region_code("350103");
  req.mutable_update_mask()->add_paths("region_code");
  EXPECT_EQ(stub_->UpdateMarket(Ctx(op).get(), req, &m).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->UpdateMarket(Ctx(Token(supervisor_, Role::SUPERVISOR)).get(), req, &m).ok());
  EXPECT_EQ(m.region_code(), "350103");
  req.mutable_market()->set_etag("\"v1\"");
  EXPECT_EQ(
      stub_->UpdateMarket(Ctx(Token(supervisor_, Role::SUPERVISOR)).get(), req, &m).error_code(),
      grpc::StatusCode::ABORTED);
}

TEST_F(MarketServiceTest, ListFiltersByRegionPrefixAndPages) {
  std::string op = Token(operator_, Role::OPERATOR);
  v1::Market m;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Create(op, FleaMarket(absl::StrCat("fz-market-", i)), &m).ok());
  }
  v1::CreateMarketRequest other = FleaMarket("xm-market");
  other.mutable_market()->set_region_code("350203");
  ASSERT_TRUE(Create(op, other, &m).ok());
  v1::ListMarketsRequest req;
  req.set_filter("region=\"3501\"");
  req.set_page_size(2);
  std::vector<std::string> names;
  do {
    v1::ListMarketsResponse resp;
    ASSERT_TRUE(stub_->ListMarkets(Ctx("").get(), req, &resp).ok());
    for (const auto& market : resp.markets()) names.push_back(market.name());
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  EXPECT_EQ(names, (std::vector<std::string>{"markets/fz-market-0", "markets/fz-market-1",
                                             "markets/fz-market-2"}));
}

TEST_F(MarketServiceTest, RoleMatrixForEveryRpc) {
  // PUB, SUP, OPR (owner), other OPR, SEL, BUY: allowed (A), denied (D), unauthenticated (U).
  v1::Market m;
  ASSERT_TRUE(Create(Token(operator_, Role::OPERATOR), FleaMarket("matrix-market"), &m).ok());
  std::vector<std::string> tokens = {"",
                                     Token(supervisor_, Role::SUPERVISOR),
                                     Token(operator_, Role::OPERATOR),
                                     Token(other_operator_, Role::OPERATOR),
                                     Token(seller_, Role::SELLER),
                                     Token(buyer_, Role::BUYER)};
  enum E { A, D, U };
  int n = 0;
  auto call = [&](const std::string& rpc, const std::string& token) -> grpc::Status {
    auto ctx = Ctx(token);
    v1::Market out;
    if (rpc == "CreateMarket") {
      v1::CreateMarketRequest req = FleaMarket(absl::StrCat("matrix-", n++));
      req.mutable_market()->set_operator_(operator_);
      return stub_->CreateMarket(ctx.get(), req, &out);
    }
    if (rpc == "GetMarket") {
      v1::GetMarketRequest req;
      req.set_name(m.name());
      return stub_->GetMarket(ctx.get(), req, &out);
    }
    if (rpc == "ListMarkets") {
      v1::ListMarketsResponse resp;
      return stub_->ListMarkets(ctx.get(), v1::ListMarketsRequest(), &resp);
    }
    if (rpc == "UpdateMarket") {
      v1::UpdateMarketRequest req;
      req.mutable_market()->set_name(m.name());
      req.mutable_market()->set_display_name("renamed");
      req.mutable_update_mask()->add_paths("display_name");
      return stub_->UpdateMarket(ctx.get(), req, &out);
    }
    if (rpc == "AddSeller") {
      v1::AddSellerRequest req;
      req.set_market(m.name());
      req.set_seller(seller_);
      grpc::Status s = stub_->AddSeller(ctx.get(), req, &out);
      if (s.ok()) {  // undo, so the next allowed caller is not ALREADY_EXISTS
        v1::RemoveSellerRequest undo;
        undo.set_market(m.name());
        undo.set_seller(seller_);
        (void)stub_->RemoveSeller(Ctx(Token(supervisor_, Role::SUPERVISOR)).get(), undo, &out);
      }
      return s;
    }
    if (rpc == "RemoveSeller") {
      v1::RemoveSellerRequest req;
      req.set_market(m.name());
      req.set_seller(seller_);  // NOT_FOUND when allowed: not a seller there
      return stub_->RemoveSeller(ctx.get(), req, &out);
    }
    ADD_FAILURE() << rpc;
    return grpc::Status::OK;
  };
  // Creating for another operator: the owner operator only (others get DENIED).
  const std::vector<std::pair<std::string, std::vector<E>>> matrix = {
      {"CreateMarket", {U, A, A, D, D, D}}, {"GetMarket", {A, A, A, A, A, A}},
      {"ListMarkets", {A, A, A, A, A, A}},  {"UpdateMarket", {U, A, A, D, D, D}},
      {"AddSeller", {U, A, A, D, D, D}},    {"RemoveSeller", {U, A, A, D, D, D}},
  };
  for (const auto& [rpc, expect] : matrix) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      grpc::Status s = call(rpc, tokens[i]);
      std::string where = absl::StrCat(rpc, " as caller #", i, ": ", s.error_message());
      if (expect[i] == A) {
        EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
        EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL) << where;
      } else if (expect[i] == D) {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
      } else {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
      }
    }
  }
  const auto* d = v1::Market::descriptor()->file()->FindServiceByName("MarketService");
  EXPECT_EQ(static_cast<size_t>(d->method_count()), matrix.size());
}

}  // namespace
}  // namespace market::listing
