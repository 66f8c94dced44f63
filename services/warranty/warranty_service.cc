// WarrantyService: claims are read and changed in one write transaction
// together with their credit events and idempotent response, so a claim
// change and the events it causes commit or fail together. Eligibility is
// always derived from stored state: the order snapshot kept with each claim
// and the repair logs and exchanges of every claim on the order.
#include "services/warranty/warranty_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/idempotency/idempotency.h"
#include "common/pagination/page.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/server/log.h"
#include "common/status/status.h"
#include "services/credit/case_events.h"
#include "services/credit/credit_events.h"
#include "services/listing/listing_events.h"
#include "services/warranty/claim_lifecycle.h"
#include "services/webhook/webhook_events.h"

namespace market::warranty {
namespace {

using common::v1::Role;
using credit::v1::Record;
using sqlite::Connection;

constexpr char kService[] = "market.warranty.v1.WarrantyService";
constexpr absl::Duration kDay = absl::Hours(24);
constexpr absl::Duration kReplyPeriod = absl::Hours(72);
constexpr int kVehicleReplyWorkingDays = 10;
constexpr absl::Duration kResolvePeriod = absl::Hours(24 * 15);
constexpr int kVehicleResolveWorkingDays = 20;
constexpr absl::Duration kConfirmPeriod = absl::Hours(24 * 7);
constexpr absl::Duration kUnfoundedWindow = absl::Hours(24 * 90);
constexpr int kMaxText = 2000;
constexpr int kMaxPhotos = 20;
constexpr char kNoReasonReturn[] = "NO_REASON_RETURN";
constexpr char kClaimAlreadyOpen[] = "CLAIM_ALREADY_OPEN";
// The order was refunded through a claim: nothing more can be claimed on it.
constexpr char kOrderRefunded[] = "ORDER_REFUNDED";
constexpr char kReplyDeadlineMissed[] = "REPLY_DEADLINE_MISSED";

// ---------------------------------------------------------------------------
// Eligibility from stored state.

std::optional<Category> CategoryOf(common::v1::Category c) {
  switch (c) {
    case common::v1::PHONE:
      return Category::kPhone;
    case common::v1::APPLIANCE:
      return Category::kAppliance;
    case common::v1::FURNITURE:
      return Category::kFurniture;
    case common::v1::VEHICLE:
      return Category::kVehicle;
    default:
      return std::nullopt;
  }
}

bool IsVehicle(const listing::v1::Order& o) { return o.category() == common::v1::VEHICLE; }

WarrantyTerms TermsOf(const listing::v1::Order& o, Category category) {
  if (!o.has_warranty_policy()) return DefaultTerms(category);
  const common::v1::WarrantyPolicy& p = o.warranty_policy();
  return {.refund_days = p.refund_days(),
          .exchange_days = p.exchange_days(),
          .repair_days = p.repair_days(),
          .exchange_km = p.exchange_km(),
          .repair_km = p.repair_km(),
          .battery_days = p.battery_days(),
          .depreciation_bp_per_day = p.depreciation_bp_per_day()};
}

RepairEntry ToEngine(const v1::RepairEntry& r, const std::string& fault_code, bool vehicle) {
  RepairEntry e;
  e.fault_code = fault_code;
  e.start = FromTimestamp(r.start_time());
  if (r.has_end_time()) e.end = FromTimestamp(r.end_time());
  switch (r.outcome()) {
    case v1::RepairEntry::FINISHED:
      e.outcome = RepairEntry::Outcome::kFixed;
      break;
    case v1::RepairEntry::FAILED:
      e.outcome = RepairEntry::Outcome::kFailed;
      break;
    default:
      e.outcome = RepairEntry::Outcome::kInProgress;
  }
  switch (r.delay_cause()) {
    case v1::RepairEntry::PARTS_SHORTAGE:
      e.delay_cause = RepairEntry::DelayCause::kPartsShortage;
      break;
    case v1::RepairEntry::REPAIRER_FAULT:
      e.delay_cause = RepairEntry::DelayCause::kRepairerFault;
      break;
    default:
      e.delay_cause = RepairEntry::DelayCause::kNone;
  }
  e.major_assembly_replaced = r.major_assembly_replaced();
  e.serious_safety = vehicle && IsSafetyFaultCode(fault_code);
  return e;
}

// Everything the engine needs, from the order and every claim on it: the
// repair logs (with each claim's fault code) and the exchanges (resolutions
// EXCHANGED of RESOLVED claims, at their record time).
EligibilityInput BuildInput(const listing::v1::Order& o, Category category,
                            const std::vector<ClaimRow>& claims, const std::string& fault_code,
                            std::optional<int64_t> mileage_km) {
  EligibilityInput in;
  in.category = category;
  in.terms = TermsOf(o, category);
  bool delivered = o.state() == listing::v1::Order::DELIVERED ||
                   o.state() == listing::v1::Order::COMPLETED;
  if (delivered && o.has_delivery_time()) in.delivered = FromTimestamp(o.delivery_time());
  for (const ClaimRow& row : claims) {
    const v1::Claim& c = row.claim;
    for (const v1::RepairEntry& r : c.repairs()) {
      in.repairs.push_back(ToEngine(r, c.fault_code(), category == Category::kVehicle));
    }
    if (c.state() == v1::Claim::RESOLVED &&
        c.resolution().outcome() == v1::Resolution::EXCHANGED) {
      in.exchanges.push_back(FromTimestamp(c.resolution().record_time()));
    }
  }
  if (o.has_delivery_mileage_km()) in.delivery_mileage_km = o.delivery_mileage_km();
  in.current_mileage_km = mileage_km;
  in.fault_code = fault_code;
  in.price_fen = o.price().amount_fen();
  return in;
}

KindDecision& DecisionOf(Eligibility& e, v1::Claim::Kind kind) {
  if (kind == v1::Claim::REFUND) return e.refund;
  if (kind == v1::Claim::EXCHANGE) return e.exchange;
  return e.repair;
}

// CheckEligibility of the engine plus two service rules: the no-reason return
// of online orders (Order.no_reason_return_days, full refund) and
// CLAIM_ALREADY_OPEN for a kind with an open claim on the order (other than
// `exclude`).
absl::StatusOr<Eligibility> Evaluate(const listing::v1::Order& o,
                                     const std::vector<ClaimRow>& claims,
                                     const std::string& fault_code,
                                     std::optional<int64_t> mileage_km, absl::Time now,
                                     const std::string& exclude = "") {
  std::optional<Category> category = CategoryOf(o.category());
  if (!category.has_value()) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "CATEGORY_NOT_COVERED",
                      absl::StrCat(o.name(), " has no goods category covered by warranty"));
  }
  Eligibility e =
      CheckEligibility(BuildInput(o, *category, claims, fault_code, mileage_km), now);
  int no_reason_days = o.no_reason_return_days();
  if (no_reason_days > 0 && !e.refund.allowed && e.refund.reason != kOrderNotDelivered &&
      e.elapsed_days <= no_reason_days) {
    KindDecision d{.allowed = true,
                   .reason = kNoReasonReturn,
                   .rule = kNoReasonReturn,
                   .refund_amount_fen = o.price().amount_fen()};
    if (e.refund.window_end.has_value()) {
      d.window_end = *e.refund.window_end + kDay * (no_reason_days - TermsOf(o, *category).refund_days);
    }
    e.refund = d;
  }
  auto deny = [](KindDecision& d, const char* reason) {
    if (!d.allowed) return;
    d.allowed = false;
    d.reason = d.rule = reason;
    d.refund_amount_fen = d.depreciation_fen = 0;
  };
  for (const ClaimRow& row : claims) {
    if (row.claim.name() == exclude) continue;
    const v1::Claim& c = row.claim;
    if (c.state() == v1::Claim::RESOLVED &&
        c.resolution().outcome() == v1::Resolution::REFUNDED) {
      // The goods went back: no second refund, exchange or repair.
      for (auto kind : {v1::Claim::REFUND, v1::Claim::EXCHANGE, v1::Claim::REPAIR}) {
        deny(DecisionOf(e, kind), kOrderRefunded);
      }
      continue;
    }
    if (!IsOpen(c.state())) continue;
    deny(DecisionOf(e, c.kind()), kClaimAlreadyOpen);
    // A refund and an exchange exclude each other while either is open.
    if (c.kind() == v1::Claim::REFUND) deny(e.exchange, kClaimAlreadyOpen);
    if (c.kind() == v1::Claim::EXCHANGE) deny(e.refund, kClaimAlreadyOpen);
  }
  return e;
}

std::string Detail(const std::string& reason, const KindDecision& d) {
  std::string until =
      d.window_end.has_value() ? absl::StrCat(" (until ", absl::FormatTime(*d.window_end), ")") : "";
  if (reason == kOrderNotDelivered) return "the order has not been delivered";
  if (reason == kWithinRefundWindow) return "within the refund window" + until;
  if (reason == kNoReasonReturn) return "within the no-reason return period" + until;
  if (reason == kWithinExchangeWindow) return "within the exchange window" + until;
  if (reason == kWithinRepairWindow) return "within the repair window" + until;
  if (reason == kRepairsFailed) return "2 repairs of the same fault failed";
  if (reason == kRepairStalled) return "a repair stalled beyond the statutory limit";
  if (reason == kVehicleMajorFault) return absl::StrCat("vehicle replace/refund trigger ", d.rule);
  if (reason == kRefundWindowClosed) return "the refund window has closed" + until;
  if (reason == kExchangeWindowClosed) return "the exchange window has closed" + until;
  if (reason == kRepairWindowClosed) return "the repair window has closed" + until;
  if (reason == kRepairCountNotReached) return "only 1 repair of this fault has failed; 2 are needed";
  if (reason == kMileageExceeded) {
    return d.mileage_limit_km.has_value()
               ? absl::StrCat("the odometer is above the limit of ", *d.mileage_limit_km, " km")
               : "the mileage limit is exceeded";
  }
  if (reason == kClaimAlreadyOpen) return "a claim of this kind is already open on the order";
  if (reason == kRepairInProgress) return "the goods are in repair";
  return reason;
}

v1::KindEligibility ToProto(v1::Claim::Kind kind, const KindDecision& d) {
  v1::KindEligibility k;
  k.set_kind(kind);
  k.set_allowed(d.allowed);
  k.set_reason(d.reason);
  k.set_detail(Detail(d.reason, d));
  if (d.window_end.has_value()) *k.mutable_window_end_time() = ToTimestamp(*d.window_end);
  if (d.mileage_limit_km.has_value()) k.set_mileage_limit_km(*d.mileage_limit_km);
  return k;
}

// ---------------------------------------------------------------------------
// Claims.

// Fills repair_days (running while in progress) and total_repair_days.
void Present(v1::Claim& c, absl::Time now) {
  int total = 0;
  for (v1::RepairEntry& r : *c.mutable_repairs()) {
    absl::Time end = r.has_end_time() ? FromTimestamp(r.end_time()) : now;
    absl::Duration d = end - FromTimestamp(r.start_time());
    int days = 0;
    if (d > absl::ZeroDuration()) {
      absl::Duration rem;
      days = static_cast<int>(absl::IDivDuration(d, kDay, &rem)) + (rem > absl::ZeroDuration());
    }
    r.set_repair_days(days);
    total += days;
  }
  c.set_total_repair_days(total);
}

absl::Time ReplyDeadline(const v1::Claim& c, absl::Time now) {
  return c.category() == common::v1::VEHICLE ? AddWorkingDays(now, kVehicleReplyWorkingDays)
                                             : now + kReplyPeriod;
}

absl::Time ResolveDeadline(const v1::Claim& c, absl::Time now) {
  return c.category() == common::v1::VEHICLE ? AddWorkingDays(now, kVehicleResolveWorkingDays)
                                             : now + kResolvePeriod;
}

bool HasPendingResolution(const v1::Claim& c) {
  return c.has_resolution() && !c.resolution().has_confirm_time();
}

v1::Resolution::Outcome OutcomeFor(v1::Claim::Kind kind) {
  switch (kind) {
    case v1::Claim::REFUND:
      return v1::Resolution::REFUNDED;
    case v1::Claim::EXCHANGE:
      return v1::Resolution::EXCHANGED;
    case v1::Claim::REPAIR:
      return v1::Resolution::REPAIRED;
    default:
      return v1::Resolution::OUTCOME_UNSPECIFIED;
  }
}

bool HasOpenRepair(const v1::Claim& c) {
  return std::any_of(c.repairs().begin(), c.repairs().end(),
                     [](const v1::RepairEntry& r) { return !r.has_end_time(); });
}

bool CanSee(const auth::Caller& caller, const ClaimRow& row) {
  return caller.HasRole(Role::SUPERVISOR) || caller.subject == row.claim.buyer() ||
         caller.subject == row.claim.seller() || caller.subject == row.market_operator;
}

absl::Status CheckEtag(const std::string& given, const std::string& current) {
  if (!given.empty() && given != current) {
    return absl::AbortedError(absl::StrCat("etag ", given, " is stale; current is ", current));
  }
  return absl::OkStatus();
}

absl::Status Precondition(absl::string_view reason, absl::string_view message) {
  return WithReason(absl::StatusCode::kFailedPrecondition, reason, message);
}

bool ValidFaultCode(absl::string_view code) {
  return !code.empty() && code.size() <= 50 &&
         std::all_of(code.begin(), code.end(), [](char ch) {
           return absl::ascii_isupper(ch) || absl::ascii_isdigit(ch) || ch == '_';
         });
}

void CheckText(Violations& v, const char* field, const std::string& text, bool required) {
  size_t n = Utf8CharCount(text);
  if (required && n == 0) v.Add(field, "required");
  if (n > static_cast<size_t>(kMaxText)) v.Add(field, "longer than 2,000 characters");
}

Violations ClaimRequestViolations(const std::string& name, const std::string& request_id) {
  Violations v;
  if (!ValidCollectionName(name, "claims")) v.Add("name", "want claims/{claim}");
  CheckRequestId(v, request_id);
  return v;
}

// The outbox events about one claim, written in the caller's transaction:
// credit records about its seller or buyer, supervision cases about its
// seller, and webhook events for supervisors and the market's operator. Every
// event has a deterministic id, so writing one again keeps the first.
class ClaimEvents {
 public:
  ClaimEvents(Connection& c, const ClaimRow& row, absl::Time now) : c_(c), row_(row), now_(now) {}

  // A credit record of `type` against the seller (else the buyer), id
  // `prefix` + Key().
  absl::Status Credit(absl::string_view prefix, Record::Type type, bool against_seller,
                      absl::string_view reason) const {
    const v1::Claim& claim = row_.claim;
    Record r;
    r.set_subject(against_seller ? claim.seller() : claim.buyer());
    r.set_subject_role(against_seller ? Role::SELLER : Role::BUYER);
    r.set_counterparty(against_seller ? claim.buyer() : claim.seller());
    r.set_type(type);
    r.set_reference(claim.name());
    r.set_reason(std::string(reason));
    *r.mutable_occurred_time() = ToTimestamp(now_);
    return KeepFirst(credit::EnqueueCreditEvent(c_, absl::StrCat(prefix, Key()), r, now_));
  }

  // A supervision case of `kind` against the seller, once per claim and kind.
  absl::Status Case(supervision::v1::Case::Kind kind, absl::string_view summary) const {
    supervision::v1::Case event;
    event.set_kind(kind);
    supervision::v1::Party* seller = event.add_subjects();
    seller->set_subject(row_.claim.seller());
    seller->set_role(Role::SELLER);
    event.set_resource(row_.claim.name());
    event.set_market(Market());
    event.set_summary(std::string(summary));
    return credit::EnqueueCaseEvent(
        c_,
        absl::StrCat("case-", absl::AsciiStrToLower(supervision::v1::Case::Kind_Name(kind)), "-",
                     Key()),
        event, now_);
  }

  // The webhook event `kind`, id `id_prefix` + claim name, with the claim's
  // order, parties, state and reply deadline.
  absl::Status Webhook(webhook::v1::EventKind kind, absl::string_view id_prefix) const {
    const v1::Claim& claim = row_.claim;
    webhook::v1::Event e;
    e.set_event_id(absl::StrCat(id_prefix, claim.name()));
    e.set_kind(kind);
    *e.mutable_time() = ToTimestamp(now_);
    e.set_resource(claim.name());
    e.set_market(Market());
    if (!row_.market_operator.empty()) e.add_audience(row_.market_operator);
    auto& a = *e.mutable_attributes();
    a["order"] = claim.order();
    a["buyer"] = claim.buyer();
    a["seller"] = claim.seller();
    a["state"] = v1::Claim::State_Name(claim.state());
    if (claim.has_reply_deadline()) {
      a["reply_deadline"] = absl::FormatTime(
          absl::RFC3339_sec, FromTimestamp(claim.reply_deadline()), absl::UTCTimeZone());
    }
    return KeepFirst(webhook::EnqueueWebhookEvent(c_, e, now_));
  }

 private:
  // The first 40 hex digits of SHA-256 of the claim name.
  std::string Key() const { return HexEncode(Sha256(row_.claim.name())).substr(0, 40); }
  // The claim's market: its order name up to "/orders/".
  std::string Market() const {
    const std::string& order = row_.claim.order();
    return order.substr(0, order.find("/orders/"));
  }
  // An event already written with the same id is kept as it is.
  static absl::Status KeepFirst(absl::Status s) {
    return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
  }

  Connection& c_;
  const ClaimRow& row_;
  absl::Time now_;
};

// Confirms the recorded resolution: RESOLVED, and CLAIM_RESOLVED_ON_TIME when
// it was recorded by resolve_deadline.
absl::Status Confirm(Connection& c, ClaimRow& row, absl::Time now, bool automatic) {
  v1::Claim& claim = row.claim;
  *claim.mutable_resolution()->mutable_confirm_time() = ToTimestamp(now);
  claim.mutable_resolution()->set_auto_confirmed(automatic);
  claim.set_state(v1::Claim::RESOLVED);
  *claim.mutable_resolve_time() = ToTimestamp(now);
  if (claim.has_resolve_deadline() &&
      FromTimestamp(claim.resolution().record_time()) <= FromTimestamp(claim.resolve_deadline())) {
    return ClaimEvents(c, row, now)
        .Credit("claim-resolved-on-time-", Record::CLAIM_RESOLVED_ON_TIME,
                /*against_seller=*/true, "warranty claim resolved within its deadline");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Time AddWorkingDays(absl::Time from, int working_days) {
  const absl::TimeZone china = absl::FixedTimeZone(8 * 3600);
  absl::CivilDay day = absl::ToCivilDay(from, china);
  for (int counted = 0; counted < working_days;) {
    ++day;
    absl::Weekday w = absl::GetWeekday(day);
    if (w != absl::Weekday::saturday && w != absl::Weekday::sunday) ++counted;
  }
  return absl::FromCivil(day + 1, china);
}

std::vector<auth::RpcPolicy> WarrantyPolicies() {
  using common::v1::BUYER;
  using common::v1::OPERATOR;
  using common::v1::SELLER;
  using common::v1::SUPERVISOR;
  return {
      {.method = "CheckEligibility", .roles = {BUYER, SUPERVISOR}},
      {.method = "FileClaim", .roles = {BUYER}},
      {.method = "RespondToClaim", .roles = {SELLER}},
      {.method = "RecordRepair", .roles = {SELLER}},
      {.method = "EscalateClaim", .roles = {BUYER}},
      {.method = "RuleOnClaim", .roles = {SUPERVISOR}},
      {.method = "ResolveClaim", .roles = {SELLER, BUYER}},
      {.method = "GetClaim", .roles = {BUYER, SELLER, OPERATOR, SUPERVISOR}},
      {.method = "ListClaims", .roles = {BUYER, SELLER, OPERATOR, SUPERVISOR}},
  };
}

absl::StatusOr<std::unique_ptr<WarrantyServiceImpl>> WarrantyServiceImpl::Create(
    WarrantyDeps deps) {
  std::unique_ptr<WarrantyServiceImpl> s(new WarrantyServiceImpl(std::move(deps)));
  MARKET_ASSIGN_OR_RETURN(
      s->authorizer_,
      auth::Authorizer::Create(
          v1::Claim::descriptor()->file()->FindServiceByName("WarrantyService"),
          WarrantyPolicies(), s->deps_.verifier, s->deps_.suspension, s->deps_.clock));
  s->env_ = server::RpcEnv{kService, s->authorizer_.get(), s->deps_.metrics};
  return s;
}

WarrantyServiceImpl::~WarrantyServiceImpl() { StopScheduler(); }

grpc::Status WarrantyServiceImpl::CheckEligibility(grpc::ServerContext* ctx,
                                                   const v1::CheckEligibilityRequest* req,
                                                   v1::CheckEligibilityResponse* resp) {
  return server::HandleRpc(env_, ctx, "CheckEligibility", *req, [&](const auth::Caller& caller) {
    Violations v;
    if (!ValidMarketChildName(req->order(), "orders", nullptr)) {
      v.Add("order", "want markets/{market}/orders/{order}");
    }
    if (!req->fault_code().empty() && !ValidFaultCode(req->fault_code())) {
      v.Add("fault_code", "want 1-50 characters of [A-Z0-9_]");
    }
    if (req->has_mileage_km() && req->mileage_km() < 0) v.Add("mileage_km", "must be >= 0");
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_ASSIGN_OR_RETURN(OrderInfo info, Found(deps_.orders(req->order()), req->order()));
    const listing::v1::Order& o = info.order;
    if (!caller.HasRole(Role::SUPERVISOR) && caller.subject != o.buyer()) {
      return absl::PermissionDeniedError(
          absl::StrCat(caller.subject, " is not the buyer of ", req->order()));
    }
    std::optional<int64_t> mileage;
    if (req->has_mileage_km()) mileage = req->mileage_km();
    if (IsVehicle(o) && !mileage.has_value()) {
      return InvalidField("mileage_km", "required for vehicle orders");
    }
    if (IsVehicle(o) && o.has_delivery_mileage_km() && *mileage < o.delivery_mileage_km()) {
      return InvalidField("mileage_km", absl::StrCat("below the ", o.delivery_mileage_km(),
                                                     " km recorded at delivery"));
    }
    absl::Time now = deps_.clock->Now();
    std::vector<ClaimRow> claims;
    MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(claims, ClaimsOfOrder(c, req->order()));
      return absl::OkStatus();
    }));
    MARKET_ASSIGN_OR_RETURN(Eligibility e,
                            Evaluate(o, claims, req->fault_code(), mileage, now));
    resp->set_order(req->order());
    *resp->mutable_evaluate_time() = ToTimestamp(now);
    *resp->add_results() = ToProto(v1::Claim::REFUND, e.refund);
    *resp->add_results() = ToProto(v1::Claim::EXCHANGE, e.exchange);
    *resp->add_results() = ToProto(v1::Claim::REPAIR, e.repair);
    resp->set_days_in_repair(e.repair_days);
    resp->set_failed_repair_count(e.failed_repair_count);
    return absl::OkStatus();
  });
}

grpc::Status WarrantyServiceImpl::FileClaim(grpc::ServerContext* ctx,
                                            const v1::FileClaimRequest* req, v1::Claim* resp) {
  return server::HandleRpc(env_, ctx, "FileClaim", *req, [&](const auth::Caller& caller) {
    const v1::Claim& in = req->claim();
    Violations v;
    if (!ValidMarketChildName(in.order(), "orders", nullptr)) {
      v.Add("claim.order", "want markets/{market}/orders/{order}");
    }
    if (in.kind() != v1::Claim::REFUND && in.kind() != v1::Claim::EXCHANGE &&
        in.kind() != v1::Claim::REPAIR) {
      v.Add("claim.kind", "want REFUND, EXCHANGE or REPAIR");
    }
    if (!ValidFaultCode(in.fault_code())) {
      v.Add("claim.fault_code", "want 1-50 characters of [A-Z0-9_], e.g. SCREEN or BRAKES");
    }
    CheckText(v, "claim.fault_description", in.fault_description(), /*required=*/true);
    if (in.evidence_photos_size() > kMaxPhotos) v.Add("claim.evidence_photos", "at most 20");
    for (int i = 0; i < in.evidence_photos_size(); ++i) {
      if (!IsSha256Hex(in.evidence_photos(i))) {
        v.Add(absl::StrCat("claim.evidence_photos[", i, "]"), "want lower-case hex SHA-256");
      }
    }
    if (in.has_mileage_km() && in.mileage_km() < 0) v.Add("claim.mileage_km", "must be >= 0");
    CheckResourceId(v, "claim_id", req->claim_id());
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_ASSIGN_OR_RETURN(OrderInfo info, Found(deps_.orders(in.order()), in.order()));
    const listing::v1::Order& o = info.order;
    if (caller.subject != o.buyer()) {
      return absl::PermissionDeniedError(
          absl::StrCat("only the buyer of ", in.order(), " files claims on it"));
    }
    std::optional<int64_t> mileage;
    if (IsVehicle(o)) {
      if (!in.has_mileage_km()) return InvalidField("claim.mileage_km", "required for vehicles");
      if (o.has_delivery_mileage_km() && in.mileage_km() < o.delivery_mileage_km()) {
        return InvalidField("claim.mileage_km", absl::StrCat("below the ", o.delivery_mileage_km(),
                                                             " km recorded at delivery"));
      }
      mileage = in.mileage_km();
    }
    std::string name = absl::StrCat(
        "claims/", req->claim_id().empty() ? GeneratedId('c') : req->claim_id());
    absl::Time now = deps_.clock->Now();
    MARKET_ASSIGN_OR_RETURN(
        *resp,
        RunIdempotent<v1::Claim>(
            *deps_.db, "FileClaim", caller.subject, req->request_id(), now,
            [&](Connection& c) -> absl::StatusOr<v1::Claim> {
              MARKET_ASSIGN_OR_RETURN(std::vector<ClaimRow> claims, ClaimsOfOrder(c, o.name()));
              MARKET_ASSIGN_OR_RETURN(Eligibility e,
                                      Evaluate(o, claims, in.fault_code(), mileage, now));
              const KindDecision& d = DecisionOf(e, in.kind());
              if (!d.allowed) {
                return Precondition(d.reason, absl::StrCat(v1::Claim::Kind_Name(in.kind()), " on ",
                                                           o.name(), ": ", Detail(d.reason, d)));
              }
              ClaimRow row;
              row.version = 1;
              row.order = o;
              row.market_operator = info.market_operator;
              v1::Claim& claim = row.claim;
              claim.set_name(name);
              claim.set_order(o.name());
              claim.set_buyer(o.buyer());
              claim.set_seller(o.seller());
              claim.set_item(o.item());
              claim.set_category(o.category());
              claim.set_kind(in.kind());
              claim.set_fault_code(in.fault_code());
              claim.set_fault_description(in.fault_description());
              *claim.mutable_evidence_photos() = in.evidence_photos();
              if (mileage.has_value()) claim.set_mileage_km(*mileage);
              claim.set_state(v1::Claim::FILED);
              claim.set_eligibility_reason(d.reason);
              *claim.mutable_reply_deadline() = ToTimestamp(ReplyDeadline(claim, now));
              *claim.mutable_create_time() = ToTimestamp(now);
              *claim.mutable_update_time() = ToTimestamp(now);
              MARKET_ASSIGN_OR_RETURN(v1::Claim out, SaveClaim(c, row, /*insert=*/true));
              MARKET_RETURN_IF_ERROR(
                  ClaimEvents(c, row, now).Webhook(webhook::v1::CLAIM_FILED, "claim-filed:"));
              Present(out, now);
              return out;
            }));
    return absl::OkStatus();
  });
}

template <typename Req>
absl::Status WarrantyServiceImpl::Mutate(
    const auth::Caller& caller, const char* method, const Req& req, v1::Claim* resp,
    const std::function<absl::Status(const ClaimRow&)>& allowed,
    const std::function<absl::Status(Connection&, ClaimRow&, absl::Time)>& change) {
  const std::string& name = req.name();
  absl::Time now = deps_.clock->Now();
  MARKET_ASSIGN_OR_RETURN(
      *resp, RunIdempotent<v1::Claim>(
                 *deps_.db, method, caller.subject, req.request_id(), now,
                 [&](Connection& c) -> absl::StatusOr<v1::Claim> {
                   MARKET_ASSIGN_OR_RETURN(ClaimRow row, Found(LoadClaim(c, name), name));
                   MARKET_RETURN_IF_ERROR(allowed(row));
                   MARKET_RETURN_IF_ERROR(CheckEtag(req.etag(), row.claim.etag()));
                   MARKET_RETURN_IF_ERROR(change(c, row, now));
                   row.version += 1;
                   *row.claim.mutable_update_time() = ToTimestamp(now);
                   MARKET_ASSIGN_OR_RETURN(v1::Claim out, SaveClaim(c, row, /*insert=*/false));
                   Present(out, now);
                   return out;
                 }));
  return absl::OkStatus();
}

namespace {

std::function<absl::Status(const ClaimRow&)> Only(const auth::Caller& caller, bool seller,
                                                  absl::string_view what) {
  return [&caller, seller, what](const ClaimRow& row) -> absl::Status {
    const std::string& party = seller ? row.claim.seller() : row.claim.buyer();
    if (caller.subject == party) return absl::OkStatus();
    return absl::PermissionDeniedError(absl::StrCat("only the ", seller ? "seller" : "buyer",
                                                    " of ", row.claim.name(), " ", what));
  };
}

}  // namespace

grpc::Status WarrantyServiceImpl::RespondToClaim(grpc::ServerContext* ctx,
                                                 const v1::RespondToClaimRequest* req,
                                                 v1::Claim* resp) {
  return server::HandleRpc(env_, ctx, "RespondToClaim", *req, [&](const auth::Caller& caller) {
    Violations v = ClaimRequestViolations(req->name(), req->request_id());
    if (req->decision() != v1::RespondToClaimRequest::ACCEPT &&
        req->decision() != v1::RespondToClaimRequest::REJECT) {
      v.Add("decision", "want ACCEPT or REJECT");
    }
    CheckText(v, "reason", req->reason(),
              /*required=*/req->decision() == v1::RespondToClaimRequest::REJECT);
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    return Mutate(caller, "RespondToClaim", *req, resp,
                  Only(caller, /*seller=*/true, "responds to it"),
                  [&](Connection&, ClaimRow& row, absl::Time now) -> absl::Status {
                    v1::Claim& claim = row.claim;
                    const bool accept = req->decision() == v1::RespondToClaimRequest::ACCEPT;
                    MARKET_RETURN_IF_ERROR(CheckClaimTransition(
                        claim.state(), accept ? v1::Claim::ACCEPTED : v1::Claim::REJECTED,
                        ClaimActor::kSeller));
                    if (FromTimestamp(claim.reply_deadline()) < now) {
                      return Precondition(
                          "CLAIM_NOT_FILED",
                          absl::StrCat("the reply deadline of ", claim.name(), " passed at ",
                                       absl::FormatTime(FromTimestamp(claim.reply_deadline())),
                                       "; it is escalated to a supervisor"));
                    }
                    *claim.mutable_reply_time() = ToTimestamp(now);
                    if (accept) {
                      claim.set_state(v1::Claim::ACCEPTED);
                      *claim.mutable_resolve_deadline() = ToTimestamp(ResolveDeadline(claim, now));
                    } else {
                      claim.set_state(v1::Claim::REJECTED);
                      claim.set_reject_reason(req->reason());
                    }
                    return absl::OkStatus();
                  });
  });
}

grpc::Status WarrantyServiceImpl::RecordRepair(grpc::ServerContext* ctx,
                                               const v1::RecordRepairRequest* req,
                                               v1::Claim* resp) {
  return server::HandleRpc(env_, ctx, "RecordRepair", *req, [&](const auth::Caller& caller) {
    using Req = v1::RecordRepairRequest;
    Violations v = ClaimRequestViolations(req->name(), req->request_id());
    if (req->action() != Req::STARTED && req->action() != Req::FINISHED &&
        req->action() != Req::FAILED) {
      v.Add("action", "want STARTED, FINISHED or FAILED");
    }
    if (!v1::RepairEntry::DelayCause_IsValid(req->delay_cause())) {
      v.Add("delay_cause", "want PARTS_SHORTAGE, REPAIRER_FAULT or unset");
    }
    if (req->major_assembly_replaced() && req->action() == Req::STARTED) {
      v.Add("major_assembly_replaced", "only with FINISHED or FAILED");
    }
    CheckText(v, "note", req->note(), /*required=*/false);
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    return Mutate(
        caller, "RecordRepair", *req, resp, Only(caller, /*seller=*/true, "records its repairs"),
        [&](Connection& c, ClaimRow& row, absl::Time now) -> absl::Status {
          v1::Claim& claim = row.claim;
          MARKET_RETURN_IF_ERROR(CheckClaimRepairable(claim.state()));
          if (req->major_assembly_replaced() && claim.category() != common::v1::VEHICLE) {
            return InvalidField("major_assembly_replaced", "vehicles only");
          }
          v1::RepairEntry* open = nullptr;
          for (v1::RepairEntry& r : *claim.mutable_repairs()) {
            if (!r.has_end_time()) open = &r;
          }
          if (req->action() == Req::STARTED) {
            if (open != nullptr) {
              return Precondition("REPAIR_ALREADY_OPEN",
                                  absl::StrCat(claim.name(), " has a repair in progress"));
            }
            MARKET_ASSIGN_OR_RETURN(std::vector<ClaimRow> others, ClaimsOfOrder(c, claim.order()));
            for (const ClaimRow& other : others) {
              if (other.claim.name() != claim.name() && HasOpenRepair(other.claim)) {
                return Precondition("REPAIR_ALREADY_OPEN",
                                    absl::StrCat("the goods of ", claim.order(),
                                                 " are in repair under ", other.claim.name()));
              }
            }
            v1::RepairEntry* r = claim.add_repairs();
            *r->mutable_start_time() = ToTimestamp(now);
            r->set_outcome(v1::RepairEntry::IN_PROGRESS);
            r->set_delay_cause(req->delay_cause());
            r->set_note(req->note());
            return absl::OkStatus();
          }
          if (open == nullptr) {
            return Precondition("NO_OPEN_REPAIR",
                                absl::StrCat(claim.name(), " has no repair in progress"));
          }
          *open->mutable_end_time() = ToTimestamp(now);
          open->set_outcome(req->action() == Req::FINISHED ? v1::RepairEntry::FINISHED
                                                           : v1::RepairEntry::FAILED);
          if (req->delay_cause() != v1::RepairEntry::DELAY_CAUSE_UNSPECIFIED) {
            open->set_delay_cause(req->delay_cause());
          }
          open->set_major_assembly_replaced(req->major_assembly_replaced());
          if (!req->note().empty()) open->set_note(req->note());
          return absl::OkStatus();
        });
  });
}

grpc::Status WarrantyServiceImpl::EscalateClaim(grpc::ServerContext* ctx,
                                                const v1::EscalateClaimRequest* req,
                                                v1::Claim* resp) {
  return server::HandleRpc(env_, ctx, "EscalateClaim", *req, [&](const auth::Caller& caller) {
    Violations v = ClaimRequestViolations(req->name(), req->request_id());
    CheckText(v, "reason", req->reason(), /*required=*/true);
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    return Mutate(caller, "EscalateClaim", *req, resp,
                  Only(caller, /*seller=*/false, "escalates it"),
                  [&](Connection& c, ClaimRow& row, absl::Time now) -> absl::Status {
                    v1::Claim& claim = row.claim;
                    bool late = !claim.has_resolution() && claim.has_resolve_deadline() &&
                                FromTimestamp(claim.resolve_deadline()) < now;
                    MARKET_RETURN_IF_ERROR(
                        CheckClaimEscalation(claim.state(), HasPendingResolution(claim), late));
                    claim.set_state(v1::Claim::ESCALATED);
                    claim.set_escalation_reason(req->reason());
                    claim.set_auto_escalated(false);
                    *claim.mutable_escalate_time() = ToTimestamp(now);
                    claim.clear_confirm_deadline();
                    const ClaimEvents events(c, row, now);
                    MARKET_RETURN_IF_ERROR(
                        events.Case(supervision::v1::Case::CLAIM_ESCALATED, req->reason()));
                    return events.Webhook(webhook::v1::CLAIM_ESCALATED, "claim-escalated:");
                  });
  });
}

grpc::Status WarrantyServiceImpl::RuleOnClaim(grpc::ServerContext* ctx,
                                              const v1::RuleOnClaimRequest* req,
                                              v1::Claim* resp) {
  return server::HandleRpc(env_, ctx, "RuleOnClaim", *req, [&](const auth::Caller& caller) {
    Violations v = ClaimRequestViolations(req->name(), req->request_id());
    if (req->outcome() != v1::Claim::UPHELD && req->outcome() != v1::Claim::DISMISSED) {
      v.Add("outcome", "want UPHELD or DISMISSED");
    }
    CheckText(v, "reason", req->reason(), /*required=*/true);
    if (req->unfounded() && req->outcome() == v1::Claim::UPHELD) {
      v.Add("unfounded", "only with DISMISSED");
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    return Mutate(
        caller, "RuleOnClaim", *req, resp, [](const ClaimRow&) { return absl::OkStatus(); },
        [&](Connection& c, ClaimRow& row, absl::Time now) -> absl::Status {
          v1::Claim& claim = row.claim;
          MARKET_RETURN_IF_ERROR(
              CheckClaimTransition(claim.state(), req->outcome(), ClaimActor::kSupervisor));
          claim.set_ruling_reason(req->reason());
          claim.set_ruled_by(caller.subject);
          *claim.mutable_rule_time() = ToTimestamp(now);
          claim.set_state(req->outcome() == v1::Claim::UPHELD ? v1::Claim::UPHELD
                                                              : v1::Claim::DISMISSED);
          MARKET_RETURN_IF_ERROR(
              ClaimEvents(c, row, now).Webhook(webhook::v1::RULING_MADE, "claim-ruled:"));
          if (req->outcome() == v1::Claim::UPHELD) {
            claim.set_state(v1::Claim::UPHELD);
            claim.clear_resolution();
            claim.clear_confirm_deadline();
            *claim.mutable_resolve_deadline() = ToTimestamp(ResolveDeadline(claim, now));
            row.overdue = false;
            return ClaimEvents(c, row, now)
                .Credit("claim-upheld-", Record::CLAIM_UPHELD, /*against_seller=*/true,
                        "warranty claim upheld by a supervisor against the seller");
          }
          claim.set_state(v1::Claim::DISMISSED);
          claim.set_unfounded(req->unfounded());
          if (!req->unfounded()) return absl::OkStatus();
          // This dismissal plus the buyer's earlier uncounted ones in 90 days.
          MARKET_ASSIGN_OR_RETURN(std::vector<std::string> earlier,
                                  UncountedUnfounded(c, claim.buyer(), now - kUnfoundedWindow));
          if (earlier.empty()) return absl::OkStatus();
          row.unfounded_counted = true;
          MARKET_RETURN_IF_ERROR(MarkUnfoundedCounted(c, earlier));
          return ClaimEvents(c, row, now)
              .Credit("claim-unfounded-", Record::CLAIM_UNFOUNDED, /*against_seller=*/false,
                      "second warranty claim dismissed as unfounded within 90 days");
        });
  });
}

grpc::Status WarrantyServiceImpl::ResolveClaim(grpc::ServerContext* ctx,
                                               const v1::ResolveClaimRequest* req,
                                               v1::Claim* resp) {
  return server::HandleRpc(env_, ctx, "ResolveClaim", *req, [&](const auth::Caller& caller) {
    Violations v = ClaimRequestViolations(req->name(), req->request_id());
    const v1::Resolution& in = req->resolution();
    bool recording = req->has_resolution();
    if (recording && req->confirm()) {
      v.Add("resolution", "must be unset when confirm is true");
    } else if (!recording && !req->confirm()) {
      v.Add("resolution", "required unless confirm is true");
    }
    if (recording) {
      if (in.outcome() != v1::Resolution::REPAIRED && in.outcome() != v1::Resolution::EXCHANGED &&
          in.outcome() != v1::Resolution::REFUNDED) {
        v.Add("resolution.outcome", "want REPAIRED, EXCHANGED or REFUNDED");
      }
      bool refund = in.outcome() == v1::Resolution::REFUNDED;
      auto check_money = [&](const char* field, bool has, const common::v1::Money& money) {
        if (!has) return;
        if (!refund) v.Add(field, "only for REFUNDED");
        if (money.amount_fen() < 0) v.Add(field, "must be >= 0");
        if (!money.currency().empty() && money.currency() != "CNY") {
          v.Add(field, absl::StrCat("currency \"", money.currency(), "\", want \"CNY\" or empty"));
        }
      };
      check_money("resolution.refunded_amount", in.has_refunded_amount(), in.refunded_amount());
      check_money("resolution.depreciation_deducted", in.has_depreciation_deducted(),
                  in.depreciation_deducted());
      if (refund && !in.has_refunded_amount()) {
        v.Add("resolution.refunded_amount", "required for REFUNDED");
      }
      if (!in.replacement_item().empty()) {
        if (in.outcome() != v1::Resolution::EXCHANGED) {
          v.Add("resolution.replacement_item", "only for EXCHANGED");
        } else {
          v.Merge(listing::ParseItemName(in.replacement_item(), "resolution.replacement_item")
                      .status());
        }
      }
      CheckText(v, "resolution.note", in.note(), /*required=*/false);
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    return Mutate(
        caller, "ResolveClaim", *req, resp,
        Only(caller, /*seller=*/recording,
             recording ? "records its resolution" : "confirms its resolution"),
        [&](Connection& c, ClaimRow& row, absl::Time now) -> absl::Status {
          v1::Claim& claim = row.claim;
          MARKET_RETURN_IF_ERROR(
              recording
                  ? CheckClaimResolvable(claim.state())
                  : CheckClaimTransition(claim.state(), v1::Claim::RESOLVED, ClaimActor::kBuyer));
          if (!recording) {
            if (!HasPendingResolution(claim)) {
              return Precondition("NO_RESOLUTION_TO_CONFIRM",
                                  absl::StrCat(claim.name(), " has no recorded resolution"));
            }
            return Confirm(c, row, now, /*automatic=*/false);
          }
          v1::Resolution::Outcome wanted = OutcomeFor(claim.kind());
          if (in.outcome() != wanted) {
            return InvalidField(
                "resolution.outcome",
                absl::StrCat("a ", v1::Claim::Kind_Name(claim.kind()), " claim resolves as ",
                             v1::Resolution::Outcome_Name(wanted)));
          }
          if (HasOpenRepair(claim)) {
            return Precondition("REPAIR_STILL_OPEN",
                                absl::StrCat(claim.name(), " has a repair in progress"));
          }
          v1::Resolution r = in;
          if (in.outcome() == v1::Resolution::REFUNDED) {
            int64_t price = row.order.price().amount_fen();
            int64_t refunded = in.refunded_amount().amount_fen();
            int64_t deducted = in.depreciation_deducted().amount_fen();
            // The most depreciation allowed: as of filing, repair days excluded.
            MARKET_ASSIGN_OR_RETURN(std::vector<ClaimRow> claims, ClaimsOfOrder(c, claim.order()));
            MARKET_ASSIGN_OR_RETURN(
                Eligibility e,
                Evaluate(row.order, claims, claim.fault_code(),
                         claim.has_mileage_km() ? std::optional<int64_t>(claim.mileage_km())
                                                : std::nullopt,
                         FromTimestamp(claim.create_time()), claim.name()));
            int64_t cap = e.refund.allowed ? e.refund.depreciation_fen : 0;
            Violations bad;
            if (refunded > price) {
              bad.Add("resolution.refunded_amount",
                      absl::StrCat(refunded, " fen is above the price of ", price, " fen"));
            } else if (deducted > price - refunded) {
              bad.Add("resolution.refunded_amount", "refund plus depreciation is above the price");
            }
            if (deducted > cap) {
              bad.Add("resolution.depreciation_deducted",
                      cap == 0 ? std::string("no depreciation inside the refund window")
                               : absl::StrCat("at most ", cap, " fen at the policy rate"));
            }
            MARKET_RETURN_IF_ERROR(bad.ToStatus());
            r.mutable_refunded_amount()->set_currency("CNY");
            if (r.has_depreciation_deducted()) {
              r.mutable_depreciation_deducted()->set_currency("CNY");
            }
          }
          r.clear_confirm_time();
          r.clear_auto_confirmed();
          *r.mutable_record_time() = ToTimestamp(now);
          *claim.mutable_resolution() = std::move(r);
          *claim.mutable_confirm_deadline() = ToTimestamp(now + kConfirmPeriod);
          return absl::OkStatus();
        });
  });
}

grpc::Status WarrantyServiceImpl::GetClaim(grpc::ServerContext* ctx, const v1::GetClaimRequest* req,
                                           v1::Claim* resp) {
  return server::HandleRpc(env_, ctx, "GetClaim", *req, [&](const auth::Caller& caller) {
    MARKET_RETURN_IF_ERROR(ClaimRequestViolations(req->name(), "").ToStatus());
    return deps_.db->Read([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(ClaimRow row, Found(LoadClaim(c, req->name()), req->name()));
      if (!CanSee(caller, row)) {
        return absl::PermissionDeniedError(
            absl::StrCat(caller.subject, " is not a party to ", req->name()));
      }
      *resp = std::move(row.claim);
      Present(*resp, deps_.clock->Now());
      return absl::OkStatus();
    });
  });
}

grpc::Status WarrantyServiceImpl::ListClaims(grpc::ServerContext* ctx,
                                             const v1::ListClaimsRequest* req,
                                             v1::ListClaimsResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListClaims", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(
        Page page,
        Page::Start(pages_, absl::StrCat("ListClaims|", req->filter(), "|", req->order_by()),
                    req->page_size(), req->page_token()));
    MARKET_ASSIGN_OR_RETURN(ClaimQuery q, ParseClaimQuery(req->filter(), req->order_by()));
    if (!caller.HasRole(Role::SUPERVISOR)) q.visible_to = caller.subject;
    MARKET_ASSIGN_OR_RETURN(std::optional<SearchCursor> after, page.Cursor());
    absl::Time now = deps_.clock->Now();
    return deps_.db->Read([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(std::vector<ClaimHit> hits,
                              warranty::ListClaims(c, q, after, page.limit()));
      resp->set_next_page_token(
          page.Trim(hits, [](const ClaimHit& h) { return EncodeCursor(h.cursor); }));
      for (ClaimHit& hit : hits) {
        v1::Claim* claim = resp->add_claims();
        *claim = std::move(hit.row.claim);
        Present(*claim, now);
      }
      return absl::OkStatus();
    });
  });
}

absl::StatusOr<bool> WarrantyServiceImpl::ApplyDeadline(const std::string& name) {
  bool changed = false;
  MARKET_RETURN_IF_ERROR(deps_.db->Write([&](Connection& c) -> absl::Status {
    absl::Time now = deps_.clock->Now();
    MARKET_ASSIGN_OR_RETURN(std::optional<ClaimRow> row, LoadClaim(c, name));
    if (!row.has_value()) return absl::OkStatus();
    std::optional<absl::Time> due = DueTime(*row);
    if (!due.has_value() || *due >= now) return absl::OkStatus();  // changed meanwhile
    v1::Claim& claim = row->claim;
    if (claim.state() == v1::Claim::FILED) {
      claim.set_state(v1::Claim::ESCALATED);
      claim.set_escalation_reason(kReplyDeadlineMissed);
      claim.set_auto_escalated(true);
      *claim.mutable_escalate_time() = ToTimestamp(now);
      const ClaimEvents events(c, *row, now);
      MARKET_RETURN_IF_ERROR(events.Credit("claim-reply-missed-", Record::CLAIM_REPLY_MISSED,
                                           /*against_seller=*/true,
                                           "seller missed the reply deadline of a warranty claim"));
      MARKET_RETURN_IF_ERROR(
          events.Case(supervision::v1::Case::CLAIM_ESCALATED, "seller missed the reply deadline"));
      MARKET_RETURN_IF_ERROR(events.Webhook(webhook::v1::CLAIM_ESCALATED, "claim-escalated:"));
    } else if (HasPendingResolution(claim)) {
      MARKET_RETURN_IF_ERROR(Confirm(c, *row, now, /*automatic=*/true));
    } else {
      // Resolve deadline passed without a resolution: report it once; the
      // claim itself (and its etag) stays as it is.
      row->overdue = true;
      MARKET_RETURN_IF_ERROR(
          ClaimEvents(c, *row, now)
              .Case(supervision::v1::Case::CLAIM_OVERDUE, "claim resolution past its deadline"));
      server::LogJson("warn", "warranty claim resolution overdue",
                      {{"claim", claim.name()},
                       {"seller", claim.seller()},
                       {"resolve_deadline", absl::FormatTime(FromTimestamp(claim.resolve_deadline()))}});
      changed = true;
      return SaveClaim(c, *row, /*insert=*/false).status();
    }
    row->version += 1;
    *claim.mutable_update_time() = ToTimestamp(now);
    changed = true;
    return SaveClaim(c, *row, /*insert=*/false).status();
  }));
  return changed;
}

absl::StatusOr<int> WarrantyServiceImpl::RunDeadlines() {
  std::vector<std::string> due;
  MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(due, DueClaims(c, deps_.clock->Now(), 500));
    return absl::OkStatus();
  }));
  int changed = 0;
  for (const std::string& name : due) {
    MARKET_ASSIGN_OR_RETURN(bool did, ApplyDeadline(name));
    changed += did ? 1 : 0;
  }
  MARKET_RETURN_IF_ERROR(RemindReplies());
  return changed;
}

absl::Status WarrantyServiceImpl::RemindReplies() {
  std::vector<std::string> due;
  MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(due, RepliesDueUnreminded(c, deps_.clock->Now(), kReplyReminder,
                                                      "claim-reply-due:", 500));
    return absl::OkStatus();
  }));
  for (const std::string& name : due) {
    MARKET_RETURN_IF_ERROR(deps_.db->Write([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(std::optional<ClaimRow> row, LoadClaim(c, name));
      if (!row.has_value() || row->claim.state() != v1::Claim::FILED) return absl::OkStatus();
      return ClaimEvents(c, *row, deps_.clock->Now())
          .Webhook(webhook::v1::CLAIM_REPLY_DUE, "claim-reply-due:");
    }));
  }
  return absl::OkStatus();
}

void WarrantyServiceImpl::StartScheduler(
    absl::Duration period, std::function<void(const absl::StatusOr<int>&)> after_run) {
  {
    absl::MutexLock lock(&after_run_mu_);
    after_run_ = std::move(after_run);
  }
  scheduler_.Start(period);
}

void WarrantyServiceImpl::StopScheduler() { scheduler_.Stop(); }

}  // namespace market::warranty
