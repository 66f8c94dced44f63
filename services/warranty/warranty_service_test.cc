// WarrantyService through a real gRPC server on 127.0.0.1:0 over a real
// warranty.db (opened with OpenWarrantyModule), with identity subjects and
// tokens from the identity module, a fake clock and a map of fake orders in
// place of the listing service.
#include "services/warranty/warranty_service.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/crypto/crypto.h"
#include "common/outbox/outbox_testing.h"
#include "common/resource/resource.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "market/credit/v1/credit.pb.h"
#include "market/supervision/v1/supervision.pb.h"
#include "market/webhook/v1/webhook.pb.h"
#include "services/identity/identity_testing.h"
#include "services/warranty/warranty_module.h"

namespace market::warranty {
namespace {

using common::v1::Role;
using credit::v1::Record;
using grpc::StatusCode;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr absl::Duration kDay = absl::Hours(24);
const absl::TimeZone kChina = absl::FixedTimeZone(8 * 3600);

std::vector<std::string> BadFields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(FromGrpcStatus(s))) out.push_back(v.field);
  return out;
}

std::string Reason(const grpc::Status& s) { return ReasonOf(FromGrpcStatus(s)); }

#define EXPECT_RPC_OK(expr)                                                \
  do {                                                                     \
    grpc::Status s_ = (expr);                                              \
    EXPECT_TRUE(s_.ok()) << s_.error_code() << " " << s_.error_message(); \
  } while (0)

class WarrantyServiceTest : public identity::testing::ServiceTest {
 protected:
  WarrantyServiceTest()
      : ServiceTest(absl::FromCivil(absl::CivilSecond(2026, 11, 2, 10, 0, 0), kChina)) {}  // Monday

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    OrderLookup lookup = [this](const std::string& name)
        -> absl::StatusOr<std::optional<OrderInfo>> {
      absl::MutexLock lock(&orders_mu_);
      auto it = orders_.find(name);
      if (it == orders_.end()) return std::nullopt;
      return it->second;
    };
    ASSERT_OK_AND_ASSIGN(warranty_, OpenWarrantyModule(dir_, &clock_, lookup, verifier_,
                                                       identity_.suspension, nullptr));
    ASSERT_OK_AND_ASSIGN(
        auto channel,
        StartServer({{warranty_.service.get(), "market.warranty.v1.WarrantyService"}}));
    stub_ = v1::WarrantyService::NewStub(channel);
    supervisor_ = AddSubject("supervisor", Role::SUPERVISOR);
    operator_ = AddSubject("east-op", Role::OPERATOR);
    other_operator_ = AddSubject("west-op", Role::OPERATOR);
    seller_ = AddSubject("seller-a", Role::SELLER);
    other_seller_ = AddSubject("seller-b", Role::SELLER);
    buyer_ = AddSubject("buyer-b", Role::BUYER);
    other_buyer_ = AddSubject("buyer-c", Role::BUYER);
    delivered_ = clock_.Now();
    phone_ = AddOrder("phone", common::v1::PHONE, 329900);
    vehicle_ = AddOrder("car", common::v1::VEHICLE, 6'800'000);
  }
  void TearDown() override {
    warranty_.service->StopScheduler();
    ServiceTest::TearDown();
  }

  // A delivered order of buyer_ from seller_ in markets/east (operator_),
  // delivered at delivered_ with the category's default policy.
  std::string AddOrder(const std::string& id, common::v1::Category category, int64_t price,
                       bool delivered = true, int no_reason_days = 0) {
    OrderInfo info;
    listing::v1::Order& o = info.order;
    o.set_name("markets/east/orders/" + id);
    o.set_listing("markets/east/listings/" + id);
    o.set_buyer(buyer_);
    o.set_seller(seller_);
    o.mutable_price()->set_currency("CNY");
    o.mutable_price()->set_amount_fen(price);
    o.set_category(category);
    o.set_no_reason_return_days(no_reason_days);
    Category c = category == common::v1::VEHICLE ? Category::kVehicle : Category::kPhone;
    WarrantyTerms t = DefaultTerms(c);
    auto* p = o.mutable_warranty_policy();
    p->set_refund_days(t.refund_days);
    p->set_exchange_days(t.exchange_days);
    p->set_repair_days(t.repair_days);
    p->set_exchange_km(t.exchange_km);
    p->set_repair_km(t.repair_km);
    p->set_battery_days(t.battery_days);
    p->set_depreciation_bp_per_day(t.depreciation_bp_per_day);
    if (category == common::v1::VEHICLE) {
      o.set_item("items/VEHICLE:1M8GDM9AXKP042788");
      o.set_delivery_mileage_km(56000);
    }
    o.set_state(delivered ? listing::v1::Order::DELIVERED : listing::v1::Order::PLACED);
    if (delivered) *o.mutable_delivery_time() = ToTimestamp(delivered_);
    info.market_operator = operator_;
    absl::MutexLock lock(&orders_mu_);
    orders_[o.name()] = info;
    return o.name();
  }

  grpc::Status File(const std::string& who, const std::string& order, v1::Claim::Kind kind,
                    v1::Claim* out, const std::string& fault = "SCREEN",
                    std::optional<int64_t> mileage = std::nullopt, const std::string& id = "",
                    const std::string& request_id = "") {
    v1::FileClaimRequest req;
    req.mutable_claim()->set_order(order);
    req.mutable_claim()->set_kind(kind);
    req.mutable_claim()->set_fault_code(fault);
    req.mutable_claim()->set_fault_description("屏幕出现绿线，触摸失灵");
    req.mutable_claim()->add_evidence_photos(HexEncode(Sha256("photo")));
    if (mileage.has_value()) req.mutable_claim()->set_mileage_km(*mileage);
    req.set_claim_id(id);
    req.set_request_id(request_id);
    return stub_->FileClaim(Ctx(who).get(), req, out);
  }
  // A claim filed by buyer_ (FILED).
  v1::Claim Filed(v1::Claim::Kind kind = v1::Claim::REPAIR, const std::string& order = "",
                  const std::string& fault = "SCREEN") {
    v1::Claim c;
    bool vehicle = order == vehicle_;
    EXPECT_RPC_OK(File(buyer_, order.empty() ? phone_ : order, kind, &c, fault,
                       vehicle ? std::optional<int64_t>(56100) : std::nullopt));
    return c;
  }
  grpc::Status Respond(const std::string& who, const std::string& name,
                       v1::RespondToClaimRequest::Decision d, v1::Claim* out,
                       const std::string& reason = "", const std::string& etag = "") {
    v1::RespondToClaimRequest req;
    req.set_name(name);
    req.set_decision(d);
    req.set_reason(reason);
    req.set_etag(etag);
    return stub_->RespondToClaim(Ctx(who).get(), req, out);
  }
  v1::Claim Accepted(v1::Claim::Kind kind = v1::Claim::REPAIR, const std::string& order = "",
                     const std::string& fault = "SCREEN") {
    v1::Claim c = Filed(kind, order, fault);
    EXPECT_RPC_OK(Respond(seller_, c.name(), v1::RespondToClaimRequest::ACCEPT, &c));
    return c;
  }
  v1::Claim Rejected(v1::Claim::Kind kind = v1::Claim::REPAIR, const std::string& order = "") {
    v1::Claim c = Filed(kind, order);
    EXPECT_RPC_OK(
        Respond(seller_, c.name(), v1::RespondToClaimRequest::REJECT, &c, "人为损坏，不在保修范围"));
    return c;
  }
  grpc::Status Repair(const std::string& who, const std::string& name,
                      v1::RecordRepairRequest::Action action, v1::Claim* out,
                      v1::RepairEntry::DelayCause cause = v1::RepairEntry::DELAY_CAUSE_UNSPECIFIED) {
    v1::RecordRepairRequest req;
    req.set_name(name);
    req.set_action(action);
    req.set_delay_cause(cause);
    return stub_->RecordRepair(Ctx(who).get(), req, out);
  }
  grpc::Status Escalate(const std::string& who, const std::string& name, v1::Claim* out,
                        const std::string& reason = "卖家拒绝理由不成立") {
    v1::EscalateClaimRequest req;
    req.set_name(name);
    req.set_reason(reason);
    return stub_->EscalateClaim(Ctx(who).get(), req, out);
  }
  grpc::Status Rule(const std::string& who, const std::string& name, v1::Claim::State outcome,
                    v1::Claim* out, bool unfounded = false,
                    const std::string& reason = "经核实") {
    v1::RuleOnClaimRequest req;
    req.set_name(name);
    req.set_outcome(outcome);
    req.set_reason(reason);
    req.set_unfounded(unfounded);
    return stub_->RuleOnClaim(Ctx(who).get(), req, out);
  }
  grpc::Status Resolve(const std::string& who, const std::string& name,
                       const std::optional<v1::Resolution>& resolution, bool confirm,
                       v1::Claim* out) {
    v1::ResolveClaimRequest req;
    req.set_name(name);
    if (resolution.has_value()) *req.mutable_resolution() = *resolution;
    req.set_confirm(confirm);
    return stub_->ResolveClaim(Ctx(who).get(), req, out);
  }
  static v1::Resolution Outcome(v1::Resolution::Outcome outcome, int64_t refunded = -1,
                                int64_t deducted = -1) {
    v1::Resolution r;
    r.set_outcome(outcome);
    if (refunded >= 0) r.mutable_refunded_amount()->set_amount_fen(refunded);
    if (deducted >= 0) r.mutable_depreciation_deducted()->set_amount_fen(deducted);
    r.set_note("已处理");
    return r;
  }
  grpc::Status Get(const std::string& who, const std::string& name, v1::Claim* out) {
    v1::GetClaimRequest req;
    req.set_name(name);
    return stub_->GetClaim(Ctx(who).get(), req, out);
  }
  grpc::Status List(const std::string& who, v1::ListClaimsResponse* out,
                    const std::string& filter = "", const std::string& order_by = "",
                    int page_size = 0, const std::string& token = "") {
    v1::ListClaimsRequest req;
    req.set_filter(filter);
    req.set_order_by(order_by);
    req.set_page_size(page_size);
    req.set_page_token(token);
    return stub_->ListClaims(Ctx(who).get(), req, out);
  }
  std::vector<std::string> ListNames(const std::string& who, const std::string& filter = "",
                                     const std::string& order_by = "") {
    v1::ListClaimsResponse resp;
    EXPECT_RPC_OK(List(who, &resp, filter, order_by));
    std::vector<std::string> out;
    for (const auto& c : resp.claims()) out.push_back(c.name());
    return out;
  }
  grpc::Status Check(const std::string& who, const std::string& order,
                     v1::CheckEligibilityResponse* out, const std::string& fault = "",
                     std::optional<int64_t> mileage = std::nullopt) {
    v1::CheckEligibilityRequest req;
    req.set_order(order);
    req.set_fault_code(fault);
    if (mileage.has_value()) req.set_mileage_km(*mileage);
    return stub_->CheckEligibility(Ctx(who).get(), req, out);
  }
  // Pending outbox credit events with their ids (statistics snapshots aside).
  std::vector<std::pair<std::string, Record>> PendingCreditEvents() {
    std::vector<std::pair<std::string, Record>> out;
    for (const outbox::testing::OutboxRow& row :
         outbox::testing::PendingRows(*warranty_.db, "credit.RecordEvent")) {
      credit::v1::RecordEventRequest req;
      EXPECT_TRUE(req.ParseFromString(row.payload));
      out.emplace_back(row.event_id, req.record());
    }
    return out;
  }
  // Pending outbox case events (supervision.RecordCaseEvent).
  std::vector<supervision::v1::RecordCaseEventRequest> PendingCaseEvents() {
    return outbox::testing::PendingRequests<supervision::v1::RecordCaseEventRequest>(
        *warranty_.db, "supervision.RecordCaseEvent");
  }
  // Pending outbox webhook events.
  std::vector<webhook::v1::Event> PendingWebhookEvents() {
    std::vector<webhook::v1::Event> out;
    for (const auto& req : outbox::testing::PendingRequests<webhook::v1::PublishEventRequest>(
             *warranty_.db, "webhook.PublishEvent")) {
      out.push_back(req.event());
    }
    return out;
  }
  std::vector<Record::Type> PendingTypes() {
    std::vector<Record::Type> out;
    for (const auto& [id, r] : PendingCreditEvents()) out.push_back(r.type());
    return out;
  }
  int RunDeadlines() {
    absl::StatusOr<int> n = warranty_.service->RunDeadlines();
    EXPECT_OK(n);
    return n.ok() ? *n : -1;
  }

  WarrantyModule warranty_;
  std::unique_ptr<v1::WarrantyService::Stub> stub_;
  absl::Mutex orders_mu_;
  std::map<std::string, OrderInfo> orders_;
  absl::Time delivered_;
  std::string supervisor_, operator_, other_operator_, seller_, other_seller_, buyer_,
      other_buyer_;
  std::string phone_, vehicle_;
};

// ---------------------------------------------------------------------------
// Deadlines arithmetic.

TEST(AddWorkingDaysTest, CountsMondayToFridayInChinaTime) {
  auto at = [](int m, int d, int h) {
    return absl::FromCivil(absl::CivilSecond(2026, m, d, h, 0, 0), kChina);
  };
  // Monday 10:00 → end of the Monday two weeks later.
  EXPECT_EQ(AddWorkingDays(at(11, 2, 10), 10), at(11, 17, 0));
  // Friday and Saturday filings both end on the Friday two weeks later.
  EXPECT_EQ(AddWorkingDays(at(11, 6, 18), 10), at(11, 21, 0));
  EXPECT_EQ(AddWorkingDays(at(11, 7, 9), 10), at(11, 21, 0));
  // 23:30 UTC on Sunday is already Monday in China.
  EXPECT_EQ(AddWorkingDays(absl::FromCivil(absl::CivilSecond(2026, 11, 8, 23, 30, 0),
                                           absl::UTCTimeZone()),
                           1),
            at(11, 11, 0));
  EXPECT_EQ(AddWorkingDays(at(11, 2, 10), 20), at(12, 1, 0));
}

// ---------------------------------------------------------------------------
// CheckEligibility.

TEST_F(WarrantyServiceTest, CheckEligibilityReportsEachKind) {
  clock_.Advance(kDay * 10);
  v1::CheckEligibilityResponse resp;
  EXPECT_RPC_OK(Check(buyer_, phone_, &resp, "SCREEN"));
  ASSERT_EQ(resp.results_size(), 3);
  EXPECT_EQ(resp.order(), phone_);
  EXPECT_EQ(FromTimestamp(resp.evaluate_time()), clock_.Now());
  EXPECT_EQ(resp.results(0).kind(), v1::Claim::REFUND);
  EXPECT_FALSE(resp.results(0).allowed());
  EXPECT_EQ(resp.results(0).reason(), "REFUND_WINDOW_CLOSED");
  EXPECT_FALSE(resp.results(0).detail().empty());
  EXPECT_EQ(FromTimestamp(resp.results(0).window_end_time()), delivered_ + kDay * 7);
  EXPECT_EQ(resp.results(1).kind(), v1::Claim::EXCHANGE);
  EXPECT_TRUE(resp.results(1).allowed());
  EXPECT_EQ(resp.results(1).reason(), "WITHIN_EXCHANGE_WINDOW");
  EXPECT_EQ(resp.results(2).kind(), v1::Claim::REPAIR);
  EXPECT_EQ(resp.results(2).reason(), "WITHIN_REPAIR_WINDOW");
  EXPECT_EQ(resp.days_in_repair(), 0);
  // A supervisor may check too.
  EXPECT_RPC_OK(Check(supervisor_, phone_, &resp));
}

TEST_F(WarrantyServiceTest, CheckEligibilityErrors) {
  v1::CheckEligibilityResponse resp;
  grpc::Status s = Check(buyer_, "orders/x", &resp, "bad code");
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), UnorderedElementsAre("order", "fault_code"));
  EXPECT_EQ(Check(buyer_, "markets/east/orders/none", &resp).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Check(other_buyer_, phone_, &resp).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Check(seller_, phone_, &resp).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Check(operator_, phone_, &resp).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Check("", phone_, &resp).error_code(), StatusCode::UNAUTHENTICATED);
  s = Check(buyer_, vehicle_, &resp, "BRAKES");
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), ElementsAre("mileage_km"));
  s = Check(buyer_, vehicle_, &resp, "BRAKES", 1000);
  EXPECT_THAT(BadFields(s), ElementsAre("mileage_km"));
}

TEST_F(WarrantyServiceTest, VehicleSafetyFaultWithin3000Km) {
  clock_.Advance(kDay * 30);
  v1::CheckEligibilityResponse resp;
  EXPECT_RPC_OK(Check(buyer_, vehicle_, &resp, "BRAKES", 59000));
  ASSERT_EQ(resp.results_size(), 3);
  EXPECT_TRUE(resp.results(0).allowed());
  EXPECT_EQ(resp.results(0).reason(), "VEHICLE_MAJOR_FAULT");
  EXPECT_RPC_OK(Check(buyer_, vehicle_, &resp, "BRAKES", 59001));
  EXPECT_FALSE(resp.results(0).allowed());
  EXPECT_EQ(resp.results(0).reason(), "REFUND_WINDOW_CLOSED");
  EXPECT_FALSE(resp.results(1).allowed());
  EXPECT_EQ(resp.results(1).reason(), "MILEAGE_EXCEEDED");
  EXPECT_EQ(resp.results(1).mileage_limit_km(), 59000);
}

TEST_F(WarrantyServiceTest, NoReasonReturnOfOnlineOrders) {
  std::string order = AddOrder("online", common::v1::PHONE, 100000, true, /*no_reason_days=*/7);
  {
    absl::MutexLock lock(&orders_mu_);
    orders_[order].order.mutable_warranty_policy()->set_refund_days(3);
  }
  clock_.Advance(kDay * 5);
  v1::CheckEligibilityResponse resp;
  EXPECT_RPC_OK(Check(buyer_, order, &resp));
  EXPECT_TRUE(resp.results(0).allowed());
  EXPECT_EQ(resp.results(0).reason(), "NO_REASON_RETURN");
  EXPECT_EQ(FromTimestamp(resp.results(0).window_end_time()), delivered_ + kDay * 7);
  clock_.Advance(kDay * 3);
  EXPECT_RPC_OK(Check(buyer_, order, &resp));
  EXPECT_EQ(resp.results(0).reason(), "REFUND_WINDOW_CLOSED");
}

// ---------------------------------------------------------------------------
// FileClaim.

TEST_F(WarrantyServiceTest, FileClaimCreatesFiledClaim) {
  clock_.Advance(absl::Hours(30));
  v1::Claim c;
  EXPECT_RPC_OK(File(buyer_, phone_, v1::Claim::REFUND, &c, "SCREEN", std::nullopt, "my-claim"));
  EXPECT_EQ(c.name(), "claims/my-claim");
  EXPECT_EQ(c.order(), phone_);
  EXPECT_EQ(c.buyer(), buyer_);
  EXPECT_EQ(c.seller(), seller_);
  EXPECT_EQ(c.category(), common::v1::PHONE);
  EXPECT_EQ(c.state(), v1::Claim::FILED);
  EXPECT_EQ(c.eligibility_reason(), "WITHIN_REFUND_WINDOW");
  EXPECT_EQ(FromTimestamp(c.reply_deadline()), clock_.Now() + absl::Hours(72));
  EXPECT_EQ(FromTimestamp(c.create_time()), clock_.Now());
  EXPECT_FALSE(c.etag().empty());
  EXPECT_EQ(c.evidence_photos_size(), 1);
  // Server-generated ids.
  v1::Claim other;
  EXPECT_RPC_OK(File(buyer_, phone_, v1::Claim::REPAIR, &other));
  EXPECT_TRUE(absl::StartsWith(other.name(), "claims/c")) << other.name();
  v1::Claim got;
  EXPECT_RPC_OK(Get(buyer_, c.name(), &got));
  EXPECT_EQ(got.SerializeAsString(), c.SerializeAsString());
}

TEST_F(WarrantyServiceTest, VehicleClaimReplyDeadlineIsTenWorkingDays) {
  v1::Claim c = Filed(v1::Claim::REPAIR, vehicle_, "BRAKES");
  EXPECT_EQ(c.mileage_km(), 56100);
  EXPECT_EQ(FromTimestamp(c.reply_deadline()),
            absl::FromCivil(absl::CivilSecond(2026, 11, 17, 0, 0, 0), kChina));
  v1::Claim none;
  grpc::Status s = File(buyer_, vehicle_, v1::Claim::REPAIR, &none, "ENGINE");
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), ElementsAre("claim.mileage_km"));
}

TEST_F(WarrantyServiceTest, RefundDay7AllowedDay8Closed) {
  clock_.Advance(kDay * 7);
  v1::Claim c;
  EXPECT_RPC_OK(File(buyer_, phone_, v1::Claim::REFUND, &c));
  // Another order delivered at the same time, one nanosecond into day 8.
  std::string second = AddOrder("phone2", common::v1::PHONE, 100000);
  clock_.Advance(absl::Nanoseconds(1));
  grpc::Status s = File(buyer_, second, v1::Claim::REFUND, &c);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "REFUND_WINDOW_CLOSED");
  EXPECT_RPC_OK(File(buyer_, second, v1::Claim::EXCHANGE, &c));
}

TEST_F(WarrantyServiceTest, FileClaimErrors) {
  v1::FileClaimRequest req;
  req.mutable_claim()->set_order("orders/1");
  req.mutable_claim()->set_fault_code("screen");
  req.mutable_claim()->add_evidence_photos("ABC");
  req.set_claim_id("X");
  v1::Claim c;
  grpc::Status s = stub_->FileClaim(Ctx(buyer_).get(), req, &c);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), UnorderedElementsAre("claim.order", "claim.kind", "claim.fault_code",
                                                 "claim.fault_description",
                                                 "claim.evidence_photos[0]", "claim_id"));
  EXPECT_EQ(File(buyer_, "markets/east/orders/none", v1::Claim::REPAIR, &c).error_code(),
            StatusCode::NOT_FOUND);
  // Only the order's buyer; sellers, operators and supervisors not at all.
  EXPECT_EQ(File(other_buyer_, phone_, v1::Claim::REPAIR, &c).error_code(),
            StatusCode::PERMISSION_DENIED);
  for (const std::string& who : {seller_, operator_, supervisor_}) {
    EXPECT_EQ(File(who, phone_, v1::Claim::REPAIR, &c).error_code(), StatusCode::PERMISSION_DENIED)
        << who;
  }
  EXPECT_EQ(File("", phone_, v1::Claim::REPAIR, &c).error_code(), StatusCode::UNAUTHENTICATED);
  std::string placed = AddOrder("placed", common::v1::PHONE, 1000, /*delivered=*/false);
  s = File(buyer_, placed, v1::Claim::REPAIR, &c);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "ORDER_NOT_DELIVERED");
  // One open claim per kind and order; the id must be free.
  EXPECT_RPC_OK(File(buyer_, phone_, v1::Claim::REPAIR, &c, "SCREEN", std::nullopt, "first"));
  s = File(buyer_, phone_, v1::Claim::REPAIR, &c, "BATTERY");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "CLAIM_ALREADY_OPEN");
  EXPECT_EQ(File(buyer_, phone_, v1::Claim::EXCHANGE, &c, "SCREEN", std::nullopt, "first")
                .error_code(),
            StatusCode::ALREADY_EXISTS);
}

TEST_F(WarrantyServiceTest, FileClaimIsIdempotentByRequestId) {
  v1::Claim a, b;
  EXPECT_RPC_OK(File(buyer_, phone_, v1::Claim::REPAIR, &a, "SCREEN", std::nullopt, "", "req-1"));
  EXPECT_RPC_OK(File(buyer_, phone_, v1::Claim::REPAIR, &b, "SCREEN", std::nullopt, "", "req-1"));
  EXPECT_EQ(a.name(), b.name());
  EXPECT_EQ(ListNames(buyer_).size(), 1u);
}

// ---------------------------------------------------------------------------
// RespondToClaim.

TEST_F(WarrantyServiceTest, SellerAcceptsOrRejects) {
  v1::Claim c = Filed();
  clock_.Advance(absl::Hours(5));
  v1::Claim out;
  EXPECT_EQ(Respond(seller_, c.name(), v1::RespondToClaimRequest::ACCEPT, &out, "", "\"v9\"")
                .error_code(),
            StatusCode::ABORTED);
  EXPECT_RPC_OK(Respond(seller_, c.name(), v1::RespondToClaimRequest::ACCEPT, &out, "", c.etag()));
  EXPECT_EQ(out.state(), v1::Claim::ACCEPTED);
  EXPECT_EQ(FromTimestamp(out.reply_time()), clock_.Now());
  EXPECT_EQ(FromTimestamp(out.resolve_deadline()), clock_.Now() + kDay * 15);
  EXPECT_NE(out.etag(), c.etag());
  grpc::Status s = Respond(seller_, c.name(), v1::RespondToClaimRequest::REJECT, &out, "no");
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "CLAIM_NOT_FILED");

  v1::Claim d = Filed(v1::Claim::EXCHANGE);
  s = Respond(seller_, d.name(), v1::RespondToClaimRequest::REJECT, &out);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), ElementsAre("reason"));
  s = Respond(seller_, d.name(), v1::RespondToClaimRequest::DECISION_UNSPECIFIED, &out);
  EXPECT_THAT(BadFields(s), ElementsAre("decision"));
  EXPECT_RPC_OK(Respond(seller_, d.name(), v1::RespondToClaimRequest::REJECT, &out, "人为损坏"));
  EXPECT_EQ(out.state(), v1::Claim::REJECTED);
  EXPECT_EQ(out.reject_reason(), "人为损坏");
  EXPECT_EQ(Respond(seller_, "claims/none", v1::RespondToClaimRequest::ACCEPT, &out).error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_EQ(Respond(seller_, "claim/x", v1::RespondToClaimRequest::ACCEPT, &out).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

// ---------------------------------------------------------------------------
// Role matrix: every RPC refuses callers outside its row.

TEST_F(WarrantyServiceTest, RoleMatrix) {
  v1::Claim filed = Filed(v1::Claim::REPAIR);
  v1::Claim accepted = Accepted(v1::Claim::EXCHANGE);
  // Another order: a refund cannot be open next to the accepted exchange.
  v1::Claim rejected = Rejected(v1::Claim::REFUND, vehicle_);
  v1::Claim escalated;
  EXPECT_RPC_OK(Escalate(buyer_, rejected.name(), &escalated));
  v1::Claim out;
  auto denied = [](const grpc::Status& s) {
    return s.error_code() == StatusCode::PERMISSION_DENIED;
  };
  auto unauthenticated = [](const grpc::Status& s) {
    return s.error_code() == StatusCode::UNAUTHENTICATED;
  };
  const std::vector<std::string> strangers = {other_buyer_, other_seller_, other_operator_};
  for (const std::string& who : {other_seller_, buyer_, operator_, supervisor_, other_buyer_}) {
    EXPECT_TRUE(denied(Respond(who, filed.name(), v1::RespondToClaimRequest::ACCEPT, &out))) << who;
    EXPECT_TRUE(denied(Repair(who, accepted.name(), v1::RecordRepairRequest::STARTED, &out)))
        << who;
    EXPECT_TRUE(
        denied(Resolve(who, accepted.name(), Outcome(v1::Resolution::EXCHANGED), false, &out)))
        << who;
  }
  for (const std::string& who : {other_buyer_, seller_, operator_, supervisor_}) {
    EXPECT_TRUE(denied(Escalate(who, filed.name(), &out))) << who;
  }
  for (const std::string& who : {buyer_, seller_, operator_, other_buyer_}) {
    EXPECT_TRUE(denied(Rule(who, escalated.name(), v1::Claim::UPHELD, &out))) << who;
  }
  // Only the buyer confirms.
  for (const std::string& who : {seller_, other_buyer_, operator_, supervisor_}) {
    EXPECT_TRUE(denied(Resolve(who, accepted.name(), std::nullopt, true, &out))) << who;
  }
  for (const std::string& who : strangers) {
    EXPECT_TRUE(denied(Get(who, filed.name(), &out))) << who;
  }
  for (const std::string& who : {buyer_, seller_, operator_, supervisor_}) {
    EXPECT_RPC_OK(Get(who, filed.name(), &out));
  }
  // Anonymous callers: UNAUTHENTICATED everywhere.
  v1::CheckEligibilityResponse check;
  v1::ListClaimsResponse list;
  EXPECT_TRUE(unauthenticated(Check("", phone_, &check)));
  EXPECT_TRUE(unauthenticated(File("", phone_, v1::Claim::REPAIR, &out)));
  EXPECT_TRUE(unauthenticated(Respond("", filed.name(), v1::RespondToClaimRequest::ACCEPT, &out)));
  EXPECT_TRUE(unauthenticated(Repair("", accepted.name(), v1::RecordRepairRequest::STARTED, &out)));
  EXPECT_TRUE(unauthenticated(Escalate("", filed.name(), &out)));
  EXPECT_TRUE(unauthenticated(Rule("", escalated.name(), v1::Claim::UPHELD, &out)));
  EXPECT_TRUE(unauthenticated(Resolve("", accepted.name(), std::nullopt, true, &out)));
  EXPECT_TRUE(unauthenticated(Get("", filed.name(), &out)));
  EXPECT_TRUE(unauthenticated(List("", &list)));
  // Nothing changed.
  EXPECT_RPC_OK(Get(buyer_, filed.name(), &out));
  EXPECT_EQ(out.state(), v1::Claim::FILED);
  EXPECT_RPC_OK(Get(buyer_, accepted.name(), &out));
  EXPECT_EQ(out.repairs_size(), 0);
  EXPECT_FALSE(out.has_resolution());
}

// ---------------------------------------------------------------------------
// RecordRepair and repair days.

TEST_F(WarrantyServiceTest, RepairStartAndFinish) {
  v1::Claim c = Filed();
  v1::Claim out;
  grpc::Status s = Repair(seller_, c.name(), v1::RecordRepairRequest::STARTED, &out);
  EXPECT_EQ(Reason(s), "CLAIM_NOT_IN_REPAIRABLE_STATE");
  EXPECT_RPC_OK(Respond(seller_, c.name(), v1::RespondToClaimRequest::ACCEPT, &out));
  s = Repair(seller_, c.name(), v1::RecordRepairRequest::FINISHED, &out);
  EXPECT_EQ(Reason(s), "NO_OPEN_REPAIR");
  s = Repair(seller_, c.name(), v1::RecordRepairRequest::ACTION_UNSPECIFIED, &out);
  EXPECT_THAT(BadFields(s), ElementsAre("action"));
  EXPECT_RPC_OK(Repair(seller_, c.name(), v1::RecordRepairRequest::STARTED, &out,
                       v1::RepairEntry::PARTS_SHORTAGE));
  ASSERT_EQ(out.repairs_size(), 1);
  EXPECT_EQ(out.repairs(0).outcome(), v1::RepairEntry::IN_PROGRESS);
  EXPECT_EQ(out.repairs(0).delay_cause(), v1::RepairEntry::PARTS_SHORTAGE);
  s = Repair(seller_, c.name(), v1::RecordRepairRequest::STARTED, &out);
  EXPECT_EQ(Reason(s), "REPAIR_ALREADY_OPEN");
  clock_.Advance(kDay * 2 + absl::Hours(1));
  EXPECT_RPC_OK(Get(buyer_, c.name(), &out));
  EXPECT_EQ(out.repairs(0).repair_days(), 3);  // running total, each started 24 h
  // A repair is open: the seller cannot record a resolution yet.
  s = Resolve(seller_, c.name(), Outcome(v1::Resolution::REPAIRED), false, &out);
  EXPECT_EQ(Reason(s), "REPAIR_STILL_OPEN");
  EXPECT_RPC_OK(Repair(seller_, c.name(), v1::RecordRepairRequest::FINISHED, &out));
  EXPECT_EQ(out.repairs(0).outcome(), v1::RepairEntry::FINISHED);
  EXPECT_EQ(FromTimestamp(out.repairs(0).end_time()), clock_.Now());
  clock_.Advance(kDay * 5);
  EXPECT_RPC_OK(Get(buyer_, c.name(), &out));
  EXPECT_EQ(out.repairs(0).repair_days(), 3);
  EXPECT_EQ(out.total_repair_days(), 3);
}

TEST_F(WarrantyServiceTest, RepairDaysDoNotCountTowardWindows) {
  clock_.Advance(kDay * 2);
  v1::Claim repair = Accepted(v1::Claim::REPAIR);
  v1::Claim out;
  EXPECT_RPC_OK(Repair(seller_, repair.name(), v1::RecordRepairRequest::STARTED, &out));
  clock_.Advance(kDay * 10);
  EXPECT_RPC_OK(Repair(seller_, repair.name(), v1::RecordRepairRequest::FINISHED, &out));
  // Calendar day 12, but only 2 days count: the refund window is still open.
  v1::CheckEligibilityResponse resp;
  EXPECT_RPC_OK(Check(buyer_, phone_, &resp, "SCREEN"));
  EXPECT_EQ(resp.days_in_repair(), 10);
  EXPECT_TRUE(resp.results(0).allowed());
  EXPECT_EQ(FromTimestamp(resp.results(0).window_end_time()), delivered_ + kDay * 17);
  EXPECT_EQ(resp.results(2).reason(), "CLAIM_ALREADY_OPEN");
  v1::Claim refund;
  EXPECT_RPC_OK(File(buyer_, phone_, v1::Claim::REFUND, &refund));
  EXPECT_EQ(refund.eligibility_reason(), "WITHIN_REFUND_WINDOW");
}

TEST_F(WarrantyServiceTest, SecondFailedRepairAllowsExchangeAndDepreciatedRefund) {
  clock_.Advance(kDay);
  v1::Claim repair = Accepted(v1::Claim::REPAIR);
  v1::Claim out;
  for (int i = 0; i < 2; ++i) {
    EXPECT_RPC_OK(Repair(seller_, repair.name(), v1::RecordRepairRequest::STARTED, &out));
    clock_.Advance(kDay);
    EXPECT_RPC_OK(Repair(seller_, repair.name(), v1::RecordRepairRequest::FAILED, &out));
    if (i == 0) {
      clock_.Set(delivered_ + kDay * 20);
      grpc::Status s = File(buyer_, phone_, v1::Claim::EXCHANGE, &out);
      EXPECT_EQ(Reason(s), "REPAIR_COUNT_NOT_REACHED");
      clock_.Set(delivered_ + kDay * 2);
    }
  }
  EXPECT_EQ(out.total_repair_days(), 2);
  clock_.Set(delivered_ + kDay * 20);
  v1::CheckEligibilityResponse resp;
  EXPECT_RPC_OK(Check(buyer_, phone_, &resp, "SCREEN"));
  EXPECT_EQ(resp.failed_repair_count(), 2);
  for (const auto& k : resp.results()) {
    if (k.kind() == v1::Claim::EXCHANGE || k.kind() == v1::Claim::REFUND) {
      EXPECT_TRUE(k.allowed()) << v1::Claim::Kind_Name(k.kind());
      EXPECT_EQ(k.reason(), "REPAIRS_FAILED");
    }
  }
  v1::Claim exchange, refund;
  // A refund filed on day 20 with 2 repair days: 18 days at 50 bp/day.
  EXPECT_RPC_OK(File(buyer_, phone_, v1::Claim::REFUND, &refund));
  EXPECT_EQ(refund.eligibility_reason(), "REPAIRS_FAILED");
  // The buyer chooses: with the refund open, no exchange as well.
  EXPECT_EQ(Reason(File(buyer_, phone_, v1::Claim::EXCHANGE, &exchange)), "CLAIM_ALREADY_OPEN");
  EXPECT_RPC_OK(Respond(seller_, refund.name(), v1::RespondToClaimRequest::ACCEPT, &refund));
  int64_t cap = 329900LL * 50 * 18 / 10000;  // 29691 fen
  grpc::Status s = Resolve(seller_, refund.name(),
                           Outcome(v1::Resolution::REFUNDED, 329900 - cap - 1, cap + 1), false,
                           &out);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), ElementsAre("resolution.depreciation_deducted"));
  EXPECT_RPC_OK(Resolve(seller_, refund.name(),
                        Outcome(v1::Resolution::REFUNDED, 329900 - cap, cap), false, &out));
  EXPECT_EQ(out.resolution().refunded_amount().currency(), "CNY");
  // Once the buyer confirms the refund, nothing more can be claimed.
  EXPECT_RPC_OK(Resolve(buyer_, refund.name(), std::nullopt, true, &out));
  EXPECT_EQ(out.state(), v1::Claim::RESOLVED);
  EXPECT_EQ(Reason(File(buyer_, phone_, v1::Claim::REFUND, &exchange)), "ORDER_REFUNDED");
}

// ---------------------------------------------------------------------------
// Deadlines and credit events.

TEST_F(WarrantyServiceTest, FilingWritesAWebhookEventForTheMarketOperator) {
  v1::Claim c = Filed();
  std::vector<webhook::v1::Event> events = PendingWebhookEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_id(), "claim-filed:" + c.name());
  EXPECT_EQ(events[0].kind(), webhook::v1::CLAIM_FILED);
  EXPECT_EQ(events[0].resource(), c.name());
  EXPECT_EQ(events[0].market(), "markets/east");
  EXPECT_THAT(events[0].audience(), ::testing::ElementsAre(operator_));
  EXPECT_EQ(events[0].attributes().at("seller"), seller_);
}

TEST_F(WarrantyServiceTest, ReplyDueReminderIsWrittenOnceWithin24Hours) {
  v1::Claim c = Filed();  // reply deadline: 72 h
  clock_.Advance(absl::Hours(47));
  RunDeadlines();
  EXPECT_EQ(PendingWebhookEvents().size(), 1u);  // CLAIM_FILED only
  clock_.Advance(absl::Hours(2));
  RunDeadlines();
  RunDeadlines();
  std::vector<webhook::v1::Event> events = PendingWebhookEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind(), webhook::v1::CLAIM_REPLY_DUE);
  EXPECT_EQ(events[1].event_id(), "claim-reply-due:" + c.name());
}

TEST_F(WarrantyServiceTest, MissedReplyEscalatesAutomatically) {
  v1::Claim c = Filed();
  clock_.Advance(absl::Hours(72));
  EXPECT_EQ(RunDeadlines(), 0);  // the deadline itself is still in time
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(RunDeadlines(), 1);
  EXPECT_EQ(RunDeadlines(), 0);
  v1::Claim out;
  EXPECT_RPC_OK(Get(buyer_, c.name(), &out));
  EXPECT_EQ(out.state(), v1::Claim::ESCALATED);
  EXPECT_TRUE(out.auto_escalated());
  EXPECT_EQ(out.escalation_reason(), "REPLY_DEADLINE_MISSED");
  EXPECT_EQ(FromTimestamp(out.escalate_time()), clock_.Now());
  auto events = PendingCreditEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first,
            "claim-reply-missed-" + HexEncode(Sha256(c.name())).substr(0, 40));
  const Record& r = events[0].second;
  EXPECT_EQ(r.type(), Record::CLAIM_REPLY_MISSED);
  EXPECT_EQ(r.subject(), seller_);
  EXPECT_EQ(r.subject_role(), Role::SELLER);
  EXPECT_EQ(r.reference(), c.name());
  EXPECT_EQ(r.event_id(), events[0].first);
  EXPECT_FALSE(r.reason().empty());
  EXPECT_EQ(FromTimestamp(r.occurred_time()), clock_.Now());
  grpc::Status s = Respond(seller_, c.name(), v1::RespondToClaimRequest::ACCEPT, &out);
  EXPECT_EQ(Reason(s), "CLAIM_NOT_FILED");
}

TEST_F(WarrantyServiceTest, ReplyAfterDeadlineBeforeSchedulerIsRefused) {
  v1::Claim c = Filed();
  clock_.Advance(absl::Hours(73));
  v1::Claim out;
  grpc::Status s = Respond(seller_, c.name(), v1::RespondToClaimRequest::ACCEPT, &out);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "CLAIM_NOT_FILED");
}

TEST_F(WarrantyServiceTest, SchedulerThreadRunsDeadlines) {
  v1::Claim c = Filed();
  clock_.Advance(absl::Hours(80));
  auto ran = std::make_shared<absl::Notification>();
  warranty_.service->StartScheduler(absl::Milliseconds(10), [ran](const absl::StatusOr<int>&) {
    if (!ran->HasBeenNotified()) ran->Notify();
  });
  bool done = ran->WaitForNotificationWithTimeout(absl::Seconds(30));
  warranty_.service->StopScheduler();
  ASSERT_TRUE(done) << "the scheduler never ran";
  v1::Claim out;
  EXPECT_RPC_OK(Get(buyer_, c.name(), &out));
  EXPECT_EQ(out.state(), v1::Claim::ESCALATED);
}

TEST_F(WarrantyServiceTest, UpheldRulingRecordsClaimUpheldAndOnTimeResolution) {
  v1::Claim c = Rejected(v1::Claim::REFUND);
  v1::Claim out;
  EXPECT_RPC_OK(Escalate(buyer_, c.name(), &out));
  EXPECT_EQ(out.state(), v1::Claim::ESCALATED);
  EXPECT_FALSE(out.auto_escalated());
  grpc::Status s = Rule(supervisor_, c.name(), v1::Claim::RESOLVED, &out);
  EXPECT_THAT(BadFields(s), ElementsAre("outcome"));
  s = Rule(supervisor_, c.name(), v1::Claim::UPHELD, &out, /*unfounded=*/true, "");
  EXPECT_THAT(BadFields(s), UnorderedElementsAre("reason", "unfounded"));
  clock_.Advance(kDay);
  EXPECT_RPC_OK(Rule(supervisor_, c.name(), v1::Claim::UPHELD, &out));
  EXPECT_EQ(out.state(), v1::Claim::UPHELD);
  EXPECT_EQ(out.ruled_by(), supervisor_);
  EXPECT_EQ(FromTimestamp(out.resolve_deadline()), clock_.Now() + kDay * 15);
  EXPECT_EQ(Reason(Rule(supervisor_, c.name(), v1::Claim::DISMISSED, &out)),
            "CLAIM_NOT_ESCALATED");
  auto events = PendingCreditEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "claim-upheld-" + HexEncode(Sha256(c.name())).substr(0, 40));
  EXPECT_EQ(events[0].second.type(), Record::CLAIM_UPHELD);
  EXPECT_EQ(events[0].second.subject(), seller_);
  EXPECT_EQ(events[0].second.subject_role(), Role::SELLER);
  EXPECT_EQ(events[0].second.reference(), c.name());

  // The seller refunds in time; the buyer confirms.
  s = Resolve(seller_, c.name(), Outcome(v1::Resolution::REPAIRED), false, &out);
  EXPECT_THAT(BadFields(s), ElementsAre("resolution.outcome"));
  s = Resolve(seller_, c.name(), Outcome(v1::Resolution::REFUNDED, 329901), false, &out);
  EXPECT_THAT(BadFields(s), ElementsAre("resolution.refunded_amount"));
  s = Resolve(seller_, c.name(), Outcome(v1::Resolution::REFUNDED, 300000, 100), false, &out);
  EXPECT_THAT(BadFields(s), ElementsAre("resolution.depreciation_deducted"));
  s = Resolve(buyer_, c.name(), std::nullopt, true, &out);
  EXPECT_EQ(Reason(s), "NO_RESOLUTION_TO_CONFIRM");
  EXPECT_RPC_OK(Resolve(seller_, c.name(), Outcome(v1::Resolution::REFUNDED, 329900), false, &out));
  EXPECT_EQ(out.state(), v1::Claim::UPHELD);
  EXPECT_EQ(FromTimestamp(out.resolution().record_time()), clock_.Now());
  EXPECT_EQ(FromTimestamp(out.confirm_deadline()), clock_.Now() + kDay * 7);
  clock_.Advance(kDay);
  EXPECT_RPC_OK(Resolve(buyer_, c.name(), std::nullopt, true, &out));
  EXPECT_EQ(out.state(), v1::Claim::RESOLVED);
  EXPECT_FALSE(out.resolution().auto_confirmed());
  EXPECT_EQ(FromTimestamp(out.resolve_time()), clock_.Now());
  EXPECT_THAT(PendingTypes(), ElementsAre(Record::CLAIM_UPHELD, Record::CLAIM_RESOLVED_ON_TIME));
  Record on_time = PendingCreditEvents()[1].second;
  EXPECT_EQ(on_time.subject(), seller_);
  EXPECT_EQ(on_time.subject_role(), Role::SELLER);
  EXPECT_EQ(Reason(Resolve(buyer_, c.name(), std::nullopt, true, &out)), "CLAIM_NOT_RESOLVABLE");
}

TEST_F(WarrantyServiceTest, AutomaticEscalationWritesOneCaseEventAboutTheSeller) {
  v1::Claim c = Filed();
  EXPECT_TRUE(PendingCaseEvents().empty());
  clock_.Advance(absl::Hours(72) + absl::Seconds(1));
  EXPECT_EQ(RunDeadlines(), 1);
  EXPECT_EQ(RunDeadlines(), 0);
  auto events = PendingCaseEvents();
  ASSERT_EQ(events.size(), 1u);
  const supervision::v1::Case& k = events[0].case_();
  EXPECT_EQ(k.kind(), supervision::v1::Case::CLAIM_ESCALATED);
  EXPECT_EQ(k.resource(), c.name());
  ASSERT_EQ(k.subjects_size(), 1);
  EXPECT_EQ(k.subjects(0).subject(), seller_);
  EXPECT_EQ(k.subjects(0).role(), Role::SELLER);
  EXPECT_EQ(k.market(), c.order().substr(0, c.order().find("/orders/")));
}

TEST_F(WarrantyServiceTest, OverdueResolutionWritesOneClaimOverdueCaseEvent) {
  v1::Claim c = Accepted(v1::Claim::REPAIR);
  clock_.Advance(kDay * 15 + absl::Seconds(1));
  EXPECT_EQ(RunDeadlines(), 1);
  EXPECT_EQ(RunDeadlines(), 0);
  auto events = PendingCaseEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].case_().kind(), supervision::v1::Case::CLAIM_OVERDUE);
  EXPECT_EQ(events[0].case_().resource(), c.name());
}

TEST_F(WarrantyServiceTest, ResolutionAutoConfirmedAfterSevenDays) {
  v1::Claim c = Accepted(v1::Claim::REPAIR);
  v1::Claim out;
  EXPECT_RPC_OK(Resolve(seller_, c.name(), Outcome(v1::Resolution::REPAIRED), false, &out));
  clock_.Advance(kDay * 7);
  EXPECT_EQ(RunDeadlines(), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(RunDeadlines(), 1);
  EXPECT_RPC_OK(Get(seller_, c.name(), &out));
  EXPECT_EQ(out.state(), v1::Claim::RESOLVED);
  EXPECT_TRUE(out.resolution().auto_confirmed());
  EXPECT_THAT(PendingTypes(), ElementsAre(Record::CLAIM_RESOLVED_ON_TIME));
}

TEST_F(WarrantyServiceTest, LateResolutionIsFlaggedAndEarnsNothing) {
  v1::Claim c = Accepted(v1::Claim::REPAIR);
  clock_.Advance(kDay * 15 + absl::Seconds(1));
  EXPECT_EQ(RunDeadlines(), 1);  // reported overdue once
  EXPECT_EQ(RunDeadlines(), 0);
  v1::Claim out;
  EXPECT_RPC_OK(Get(buyer_, c.name(), &out));
  EXPECT_EQ(out.etag(), c.etag());  // flagging does not change the claim
  EXPECT_RPC_OK(Resolve(seller_, c.name(), Outcome(v1::Resolution::REPAIRED), false, &out));
  EXPECT_RPC_OK(Resolve(buyer_, c.name(), std::nullopt, true, &out));
  EXPECT_EQ(out.state(), v1::Claim::RESOLVED);
  EXPECT_TRUE(PendingTypes().empty());
}

TEST_F(WarrantyServiceTest, BuyerEscalatesInsteadOfConfirming) {
  v1::Claim c = Accepted(v1::Claim::REPAIR);
  v1::Claim out;
  grpc::Status s = Escalate(buyer_, c.name(), &out);
  EXPECT_EQ(Reason(s), "CLAIM_NOT_ESCALATABLE");
  s = Escalate(buyer_, c.name(), &out, "");
  EXPECT_THAT(BadFields(s), ElementsAre("reason"));
  EXPECT_RPC_OK(Resolve(seller_, c.name(), Outcome(v1::Resolution::REPAIRED), false, &out));
  EXPECT_RPC_OK(Escalate(buyer_, c.name(), &out, "修完还是坏的"));
  EXPECT_EQ(out.state(), v1::Claim::ESCALATED);
  EXPECT_FALSE(out.has_confirm_deadline());
  clock_.Advance(kDay * 30);
  EXPECT_EQ(RunDeadlines(), 0);  // nothing is due while escalated
  EXPECT_RPC_OK(Rule(supervisor_, c.name(), v1::Claim::UPHELD, &out));
  EXPECT_FALSE(out.has_resolution());
  // The seller must record a new resolution.
  EXPECT_RPC_OK(Resolve(seller_, c.name(), Outcome(v1::Resolution::REPAIRED), false, &out));
  EXPECT_RPC_OK(Resolve(buyer_, c.name(), std::nullopt, true, &out));
  EXPECT_EQ(out.state(), v1::Claim::RESOLVED);
}

TEST_F(WarrantyServiceTest, SecondUnfoundedDismissalWithin90DaysRecordsClaimUnfounded) {
  int orders = 0;
  auto dismiss = [&](bool unfounded) {
    delivered_ = clock_.Now();
    v1::Claim c = Filed(v1::Claim::REPAIR,
                        AddOrder(absl::StrCat("o", ++orders), common::v1::PHONE, 1000));
    v1::Claim out;
    EXPECT_RPC_OK(Respond(seller_, c.name(), v1::RespondToClaimRequest::REJECT, &out, "无依据"));
    EXPECT_RPC_OK(Escalate(buyer_, c.name(), &out));
    EXPECT_RPC_OK(Rule(supervisor_, c.name(), v1::Claim::DISMISSED, &out, unfounded));
    EXPECT_EQ(out.state(), v1::Claim::DISMISSED);
    EXPECT_EQ(out.unfounded(), unfounded);
    return c.name();
  };
  dismiss(true);
  dismiss(false);  // a plain dismissal does not count
  EXPECT_TRUE(PendingCreditEvents().empty());
  clock_.Advance(kDay * 60);
  std::string second = dismiss(true);
  auto events = PendingCreditEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "claim-unfounded-" + HexEncode(Sha256(second)).substr(0, 40));
  EXPECT_EQ(events[0].second.type(), Record::CLAIM_UNFOUNDED);
  EXPECT_EQ(events[0].second.subject(), buyer_);
  EXPECT_EQ(events[0].second.subject_role(), Role::BUYER);
  EXPECT_EQ(events[0].second.reference(), second);
  // The pair is used up: a third one alone records nothing; more than 90
  // days after the previous one neither.
  clock_.Advance(kDay * 100);
  dismiss(true);
  EXPECT_EQ(PendingCreditEvents().size(), 1u);
  clock_.Advance(kDay * 91);
  dismiss(true);
  EXPECT_EQ(PendingCreditEvents().size(), 1u);
}

// ---------------------------------------------------------------------------
// GetClaim and ListClaims.

TEST_F(WarrantyServiceTest, GetClaimErrors) {
  v1::Claim out;
  EXPECT_EQ(Get(buyer_, "claims/none", &out).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(buyer_, "claims/a/b", &out).error_code(), StatusCode::INVALID_ARGUMENT);
}

TEST_F(WarrantyServiceTest, ListClaimsVisibilityFiltersAndPages) {
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) {
    std::string order = AddOrder(absl::StrCat("p", i), common::v1::PHONE, 1000);
    names.push_back(Filed(i == 2 ? v1::Claim::EXCHANGE : v1::Claim::REPAIR, order).name());
    clock_.Advance(absl::Minutes(1));
  }
  // Another market with another operator and seller.
  OrderInfo west;
  {
    absl::MutexLock lock(&orders_mu_);
    west.order = orders_[phone_].order;
    west.order.set_name("markets/west/orders/w1");
    west.order.set_seller(other_seller_);
    west.market_operator = other_operator_;
    orders_[west.order.name()] = west;
  }
  std::string west_claim = Filed(v1::Claim::REPAIR, west.order.name()).name();
  EXPECT_THAT(ListNames(buyer_), ElementsAre(west_claim, names[2], names[1], names[0]));
  EXPECT_THAT(ListNames(seller_), ElementsAre(names[2], names[1], names[0]));
  EXPECT_THAT(ListNames(operator_), ElementsAre(names[2], names[1], names[0]));
  EXPECT_THAT(ListNames(other_operator_), ElementsAre(west_claim));
  EXPECT_THAT(ListNames(other_seller_), ElementsAre(west_claim));
  EXPECT_TRUE(ListNames(other_buyer_).empty());
  EXPECT_EQ(ListNames(supervisor_).size(), 4u);
  EXPECT_THAT(ListNames(supervisor_, "kind=EXCHANGE"), ElementsAre(names[2]));
  EXPECT_THAT(ListNames(supervisor_, "market=\"markets/west\""), ElementsAre(west_claim));
  EXPECT_THAT(ListNames(supervisor_, absl::StrCat("order=\"", phone_, "\"")), ElementsAre());
  EXPECT_THAT(ListNames(supervisor_, "state=FILED AND seller=\"subjects/seller-b\""),
              ElementsAre(west_claim));
  EXPECT_THAT(ListNames(supervisor_, "", "create_time"),
              ElementsAre(names[0], names[1], names[2], west_claim));
  std::string from = absl::FormatTime(absl::RFC3339_full, delivered_ + absl::Minutes(1), kChina);
  EXPECT_THAT(ListNames(supervisor_, absl::StrCat("create_time>=\"", from, "\" AND kind=REPAIR")),
              ElementsAre(west_claim, names[1]));

  // Pages of 2.
  v1::ListClaimsResponse page;
  EXPECT_RPC_OK(List(supervisor_, &page, "", "", 2));
  ASSERT_EQ(page.claims_size(), 2);
  ASSERT_FALSE(page.next_page_token().empty());
  v1::ListClaimsResponse rest;
  EXPECT_RPC_OK(List(supervisor_, &rest, "", "", 2, page.next_page_token()));
  ASSERT_EQ(rest.claims_size(), 2);
  EXPECT_EQ(rest.claims(1).name(), names[0]);
  EXPECT_TRUE(rest.next_page_token().empty());
  // Errors.
  v1::ListClaimsResponse bad;
  grpc::Status s = List(supervisor_, &bad, "", "", 2, page.next_page_token() + "x");
  EXPECT_THAT(BadFields(s), ElementsAre("page_token"));
  s = List(supervisor_, &bad, "kind=KNIFE");
  EXPECT_THAT(BadFields(s), ElementsAre("filter"));
  s = List(supervisor_, &bad, "colour=red");
  EXPECT_THAT(BadFields(s), ElementsAre("filter"));
  s = List(supervisor_, &bad, "", "price");
  EXPECT_THAT(BadFields(s), ElementsAre("order_by"));
  s = List(supervisor_, &bad, "", "", -1);
  EXPECT_THAT(BadFields(s), ElementsAre("page_size"));
}

}  // namespace
}  // namespace market::warranty
