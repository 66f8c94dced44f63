// OrderService: purchases and swaps of listings. The listing row is read and
// changed in the same write transaction as the order, and writes are
// serialized by SQLite's single writer, so of concurrent PlaceOrder calls on
// one listing exactly one sees it PUBLISHED; the partial unique index
// orders_one_open_per_listing backs this up in the schema.
#include <algorithm>
#include <functional>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "common/idempotency/idempotency.h"
#include "common/pagination/page.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "services/credit/credit_events.h"
#include "services/listing/listing_rules.h"
#include "services/listing/listing_service.h"
#include "services/listing/listing_figures.h"
#include "services/listing/listing_tables.h"
#include "services/listing/order_lifecycle.h"
#include "services/stats/stats_events.h"

namespace market::listing {
namespace {

using common::v1::Role;
using credit::v1::Record;
using sqlite::Connection;

constexpr char kService[] = "market.listing.v1.OrderService";
constexpr int kNoReasonReturnDays = 7;

// True when `now` falls on a swap day of `s` in the schedule's time zone.
bool IsSwapDay(const v1::SwapSchedule& s, absl::Time now) {
  absl::TimeZone tz = absl::FixedTimeZone(8 * 3600);
  if (!s.time_zone().empty()) absl::LoadTimeZone(s.time_zone(), &tz);
  absl::CivilDay day = absl::ToCivilDay(now, tz);
  if (s.frequency() == v1::SwapSchedule::WEEKLY) {
    int iso = static_cast<int>(absl::GetWeekday(day)) + 1;  // absl: Monday = 0
    return absl::c_linear_search(s.days_of_week(), iso);
  }
  if (s.frequency() == v1::SwapSchedule::MONTHLY) {
    int dom = day.day();
    return absl::c_linear_search(s.days_of_month(), dom);
  }
  return false;
}

bool CanSeeOrder(const auth::Caller& caller, const v1::Order& o, const std::string& op) {
  return caller.HasRole(Role::SUPERVISOR) || caller.HasRole(Role::SERVICE) ||
         caller.subject == o.buyer() ||
         caller.subject == o.seller() || caller.subject == op;
}

std::string MarketOfOrder(const std::string& name) {
  std::string market;
  ValidMarketChildName(name, "orders", &market);
  return market;
}

// Writes the statistics ledger's event of `o` entering `kind` (its new state)
// in the caller's transaction (stats_events.h).
absl::Status EnqueueStatsEvent(Connection& c, const v1::Order& o,
                               stats::v1::TradeEvent::Kind kind, absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(MarketFigures m, LoadMarketFigures(c, MarketOfOrder(o.name())));
  stats::v1::TradeEvent e;
  e.set_kind(kind);
  e.set_order(o.name());
  e.set_region_code(std::move(m.region_code));
  e.set_market_operator(std::move(m.market_operator));
  e.set_category(o.category());
  e.set_seller(o.seller());
  e.set_buyer(o.buyer());
  e.set_price_fen(o.price().amount_fen());
  e.set_swap(!o.swap_listing().empty());
  *e.mutable_time() = ToTimestamp(now);
  return stats::EnqueueTradeEvent(c, e, now);
}

}  // namespace

std::vector<auth::RpcPolicy> OrderPolicies() {
  using common::v1::BUYER;
  using common::v1::OPERATOR;
  using common::v1::SELLER;
  using common::v1::SERVICE;
  using common::v1::SUPERVISOR;
  return {
      {.method = "PlaceOrder", .roles = {BUYER}},
      {.method = "CancelOrder", .roles = {BUYER, SELLER}},
      {.method = "ConfirmDelivery", .roles = {BUYER}},
      {.method = "CompleteOrder", .roles = {BUYER, SERVICE}},
      {.method = "GetOrder", .roles = {BUYER, SELLER, OPERATOR, SUPERVISOR, SERVICE}},
      {.method = "ListOrders", .roles = {BUYER, SELLER, OPERATOR, SUPERVISOR, SERVICE}},
  };
}

absl::StatusOr<std::unique_ptr<OrderServiceImpl>> OrderServiceImpl::Create(ListingDeps deps) {
  std::unique_ptr<OrderServiceImpl> s(new OrderServiceImpl(std::move(deps)));
  MARKET_RETURN_IF_ERROR(s->InitRpc(kService, OrderPolicies()));
  return s;
}

OrderServiceImpl::~OrderServiceImpl() { StopScheduler(); }

grpc::Status OrderServiceImpl::PlaceOrder(grpc::ServerContext* ctx,
                                          const v1::PlaceOrderRequest* req, v1::Order* resp) {
  return server::HandleRpc(env_, ctx, "PlaceOrder", *req, [&](const auth::Caller& caller) {
    absl::Time now = deps_.clock->Now();
    std::string market;
    Violations v;
    if (!ValidMarketChildName(req->listing(), "listings", &market)) {
      v.Add("listing", "want markets/{market}/listings/{listing}");
    }
    if (!req->swap_listing().empty() &&
        !ValidMarketChildName(req->swap_listing(), "listings", nullptr)) {
      v.Add("swap_listing", "want markets/{market}/listings/{listing}");
    }
    CheckResourceId(v, "order_id", req->order_id());
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    std::string name = absl::StrCat(market, "/orders/",
                                    req->order_id().empty() ? GeneratedId('o') : req->order_id());
    // Both parties' standing, asked before the write (restriction-policy-v1);
    // a missing listing or one's own fails inside it.
    MARKET_ASSIGN_OR_RETURN(std::optional<std::string> seller,
                            ListingSeller(req->listing(), nullptr));
    // Both asked at once (one round trip's latency, not two).
    if (seller.has_value() && *seller != caller.subject) {
      MARKET_RETURN_IF_ERROR(CheckCredits(
          {{caller.subject, common::v1::BUYER, ledger::RestrictedAction::kPlaceOrder},
           {*seller, common::v1::SELLER, ledger::RestrictedAction::kAcceptOrder}}));
    }
    auto run = [&](Connection& c) -> absl::StatusOr<v1::Order> {
      MARKET_ASSIGN_OR_RETURN(ListingRow row,
                              Found(LoadListing(c, req->listing()), req->listing()));
      v1::Listing& l = row.listing;
      if (l.seller() == caller.subject) {
        return WithReason(absl::StatusCode::kFailedPrecondition, "OWN_LISTING",
                          "a seller cannot buy its own listing");
      }
      MARKET_RETURN_IF_ERROR(CheckEtag(req->listing_etag(), l.etag()));
      MARKET_RETURN_IF_ERROR(CheckTransition(l.state(), v1::Listing::RESERVED, Actor::kSystem));
      if (l.disclosed_defects_size() > 0 && !req->defects_acknowledged()) {
        return WithReason(absl::StatusCode::kFailedPrecondition, "DEFECTS_NOT_ACKNOWLEDGED",
                          absl::StrCat(l.name(), " discloses ", l.disclosed_defects_size(),
                                       " defect(s); set defects_acknowledged"));
      }
      MARKET_ASSIGN_OR_RETURN(MarketRow m, Found(LoadMarket(c, market), market));
      std::optional<ListingRow> swap;
      if (!req->swap_listing().empty()) {
        MARKET_ASSIGN_OR_RETURN(swap, LoadListing(c, req->swap_listing()));
        if (!swap.has_value()) return NotFound(req->swap_listing());
        auto refuse = [](const std::string& why) {
          return WithReason(absl::StatusCode::kFailedPrecondition, "SWAP_NOT_ALLOWED", why);
        };
        if (!m.market.has_swap_schedule()) return refuse(market + " has no swap days");
        if (!IsSwapDay(m.market.swap_schedule(), now)) {
          return refuse(absl::StrCat("today is not a swap day in ", market));
        }
        if (MarketOfOrder(name) != market || !absl::StartsWith(req->swap_listing(), market + "/")) {
          return refuse("the swap listing is in another market");
        }
        if (swap->listing.seller() != caller.subject ||
            swap->listing.state() != v1::Listing::PUBLISHED) {
          return refuse("the swap listing must be the buyer's own PUBLISHED listing");
        }
      }
      v1::Order o;
      o.set_name(name);
      o.set_listing(l.name());
      o.set_swap_listing(req->swap_listing());
      o.set_buyer(caller.subject);
      o.set_seller(l.seller());
      o.mutable_price()->set_currency("CNY");
      o.mutable_price()->set_amount_fen(swap.has_value() ? 0 : l.price().amount_fen());
      o.set_category(l.category());
      o.set_item(l.item());
      *o.mutable_warranty_policy() = l.warranty_policy();
      *o.mutable_disclosed_defects() = l.disclosed_defects();
      o.set_defects_acknowledged(req->defects_acknowledged());
      if (req->defects_acknowledged()) *o.mutable_defects_acknowledge_time() = ToTimestamp(now);
      bool waived = req->defects_acknowledged() && l.disclosed_defects_size() > 0;
      o.set_no_reason_return_days(
          m.market.kind() == v1::Market::ONLINE_PLATFORM && !waived ? kNoReasonReturnDays : 0);
      o.set_state(v1::Order::PLACED);
      *o.mutable_place_time() = ToTimestamp(now);
      *o.mutable_update_time() = ToTimestamp(now);
      // The listing and the swap listing are held by the order.
      for (ListingRow* held : {&row, swap.has_value() ? &*swap : nullptr}) {
        if (held == nullptr) continue;
        held->listing.set_state(v1::Listing::RESERVED);
        *held->listing.mutable_update_time() = ToTimestamp(now);
        MARKET_RETURN_IF_ERROR(SaveListing(c, held->listing, held->version + 1, false).status());
      }
      MARKET_RETURN_IF_ERROR(EnqueueStatsEvent(c, o, stats::v1::TradeEvent::PLACED, now));
      return SaveOrder(c, o, 1, /*insert=*/true);
    };
    MARKET_ASSIGN_OR_RETURN(*resp, RunIdempotent<v1::Order>(*deps_.db, "PlaceOrder", caller.subject,
                                                            req->request_id(), now, run));
    return absl::OkStatus();
  });
}

namespace {

// Runs `change` on order `name` (NOT_FOUND when absent) in the idempotent
// write of `method`, then stamps update_time with `now` and saves it.
// `change` checks the caller and the etag before it changes anything.
absl::StatusOr<v1::Order> MutateOrder(
    sqlite::Database& db, const char* method, const std::string& caller, const std::string& name,
    const std::string& request_id, absl::Time now,
    const std::function<absl::Status(Connection&, v1::Order&)>& change) {
  return RunIdempotent<v1::Order>(
      db, method, caller, request_id, now, [&](Connection& c) -> absl::StatusOr<v1::Order> {
        MARKET_ASSIGN_OR_RETURN(OrderRow row, Found(LoadOrder(c, name), name));
        MARKET_RETURN_IF_ERROR(change(c, row.order));
        *row.order.mutable_update_time() = ToTimestamp(now);
        return SaveOrder(c, row.order, row.version + 1, false);
      });
}

absl::Status ValidateOrderRequest(const std::string& name, const std::string& request_id) {
  Violations v;
  if (!ValidMarketChildName(name, "orders", nullptr)) {
    v.Add("name", "want markets/{market}/orders/{order}");
  }
  CheckRequestId(v, request_id);
  return v.ToStatus();
}

}  // namespace

grpc::Status OrderServiceImpl::CancelOrder(grpc::ServerContext* ctx,
                                           const v1::CancelOrderRequest* req, v1::Order* resp) {
  return server::HandleRpc(env_, ctx, "CancelOrder", *req, [&](const auth::Caller& caller) {
    MARKET_RETURN_IF_ERROR(ValidateOrderRequest(req->name(), req->request_id()));
    if (Utf8CharCount(req->reason()) > 500) return InvalidField("reason", "longer than 500 characters");
    absl::Time now = deps_.clock->Now();
    auto run = [&](Connection& c, v1::Order& o) -> absl::Status {
      if (caller.subject != o.buyer() && caller.subject != o.seller()) {
        return absl::PermissionDeniedError(
            absl::StrCat(caller.subject, " is neither buyer nor seller of ", o.name()));
      }
      MARKET_RETURN_IF_ERROR(CheckEtag(req->etag(), o.etag()));
      MARKET_RETURN_IF_ERROR(CheckOrderTransition(
          o.state(), v1::Order::CANCELLED,
          caller.subject == o.buyer() ? OrderActor::kBuyer : OrderActor::kSeller));
      o.set_state(v1::Order::CANCELLED);
      o.set_cancelled_by(caller.subject);
      o.set_cancel_reason(req->reason());
      *o.mutable_cancel_time() = ToTimestamp(now);
      MARKET_RETURN_IF_ERROR(EnqueueStatsEvent(c, o, stats::v1::TradeEvent::CANCELLED, now));
      MARKET_RETURN_IF_ERROR(SetListingState(c, o.listing(), v1::Listing::PUBLISHED, now));
      return SetListingState(c, o.swap_listing(), v1::Listing::PUBLISHED, now);
    };
    MARKET_ASSIGN_OR_RETURN(*resp, MutateOrder(*deps_.db, "CancelOrder", caller.subject,
                                               req->name(), req->request_id(), now, run));
    return absl::OkStatus();
  });
}

grpc::Status OrderServiceImpl::ConfirmDelivery(grpc::ServerContext* ctx,
                                               const v1::ConfirmDeliveryRequest* req,
                                               v1::Order* resp) {
  return server::HandleRpc(env_, ctx, "ConfirmDelivery", *req, [&](const auth::Caller& caller) {
    MARKET_RETURN_IF_ERROR(ValidateOrderRequest(req->name(), req->request_id()));
    if (req->has_mileage_km() && req->mileage_km() < 0) {
      return InvalidField("mileage_km", "must be >= 0");
    }
    absl::Time now = deps_.clock->Now();
    auto run = [&](Connection& c, v1::Order& o) -> absl::Status {
      if (caller.subject != o.buyer()) {
        return absl::PermissionDeniedError(
            absl::StrCat("only the buyer confirms delivery of ", o.name()));
      }
      MARKET_RETURN_IF_ERROR(CheckEtag(req->etag(), o.etag()));
      MARKET_RETURN_IF_ERROR(
          CheckOrderTransition(o.state(), v1::Order::DELIVERED, OrderActor::kBuyer));
      if (o.category() == common::v1::VEHICLE) {
        MARKET_ASSIGN_OR_RETURN(std::optional<ListingRow> l, LoadListing(c, o.listing()));
        int64_t listed = l.has_value() ? l->listing.vehicle().mileage_km() : 0;
        int64_t km = req->has_mileage_km() ? req->mileage_km() : listed;
        if (km < listed) {
          return InvalidField("mileage_km",
                              absl::StrCat(km, " km is below the listed ", listed, " km"));
        }
        o.set_delivery_mileage_km(km);
        if (!o.item().empty()) {
          MARKET_ASSIGN_OR_RETURN(ItemRow item, EnsureItem(c, o.item(), o.category(), now));
          v1::Observation obs;
          obs.set_name(absl::StrCat(o.item(), "/observations/", GeneratedId('d')));
          obs.set_kind(v1::Observation::MILEAGE);
          obs.set_source(o.name());
          obs.set_mileage_km(km);
          *obs.mutable_observed_time() = ToTimestamp(now);
          obs.set_recorded_by(caller.subject);
          MARKET_RETURN_IF_ERROR(AddObservation(c, item, obs, now).status());
        }
      }
      o.set_state(v1::Order::DELIVERED);
      *o.mutable_delivery_time() = ToTimestamp(now);
      MARKET_RETURN_IF_ERROR(SetListingState(c, o.listing(), v1::Listing::SOLD, now));
      return SetListingState(c, o.swap_listing(), v1::Listing::SOLD, now);
    };
    MARKET_ASSIGN_OR_RETURN(*resp, MutateOrder(*deps_.db, "ConfirmDelivery", caller.subject,
                                               req->name(), req->request_id(), now, run));
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Order> OrderServiceImpl::Complete(const std::string& name,
                                                     const std::string& etag,
                                                     const std::string& caller,
                                                     const std::string& request_id, bool by_buyer) {
  absl::Time now = deps_.clock->Now();
  return MutateOrder(
      *deps_.db, "CompleteOrder", caller, name, request_id, now,
      [&](Connection& c, v1::Order& o) -> absl::Status {
        if (by_buyer && caller != o.buyer()) {
          return absl::PermissionDeniedError(absl::StrCat("only the buyer completes ", o.name()));
        }
        MARKET_RETURN_IF_ERROR(CheckEtag(etag, o.etag()));
        MARKET_RETURN_IF_ERROR(CheckOrderTransition(
            o.state(), v1::Order::COMPLETED, by_buyer ? OrderActor::kBuyer : OrderActor::kSystem));
        if (!by_buyer && RefundDeadline(o) > now) {
          return WithReason(absl::StatusCode::kFailedPrecondition, "REFUND_WINDOW_OPEN",
                            absl::StrCat("the refund window of ", o.name(), " closes at ",
                                         absl::FormatTime(RefundDeadline(o))));
        }
        o.set_state(v1::Order::COMPLETED);
        *o.mutable_complete_time() = ToTimestamp(now);
        MARKET_RETURN_IF_ERROR(EnqueueStatsEvent(c, o, stats::v1::TradeEvent::COMPLETED, now));
        std::string hash = HexEncode(Sha256(o.name())).substr(0, 40);
        for (bool buyer_side : {true, false}) {
          Record r;
          r.set_subject(buyer_side ? o.buyer() : o.seller());
          r.set_subject_role(buyer_side ? Role::BUYER : Role::SELLER);
          r.set_counterparty(buyer_side ? o.seller() : o.buyer());
          r.set_type(Record::TRADE_COMPLETED);
          r.set_reference(o.name());
          r.set_reason(o.swap_listing().empty() ? "trade completed" : "swap completed");
          *r.mutable_occurred_time() = ToTimestamp(now);
          MARKET_RETURN_IF_ERROR(credit::EnqueueCreditEvent(
              c, absl::StrCat("trade-", buyer_side ? "buyer-" : "seller-", hash), r, now));
        }
        return absl::OkStatus();
      });
}

grpc::Status OrderServiceImpl::CompleteOrder(grpc::ServerContext* ctx,
                                             const v1::CompleteOrderRequest* req,
                                             v1::Order* resp) {
  return server::HandleRpc(env_, ctx, "CompleteOrder", *req, [&](const auth::Caller& caller) {
    MARKET_RETURN_IF_ERROR(ValidateOrderRequest(req->name(), req->request_id()));
    bool service = caller.HasRole(Role::SERVICE);
    MARKET_ASSIGN_OR_RETURN(*resp, Complete(req->name(), req->etag(), caller.subject,
                                            req->request_id(), /*by_buyer=*/!service));
    return absl::OkStatus();
  });
}

grpc::Status OrderServiceImpl::GetOrder(grpc::ServerContext* ctx, const v1::GetOrderRequest* req,
                                        v1::Order* resp) {
  return server::HandleRpc(env_, ctx, "GetOrder", *req, [&](const auth::Caller& caller) {
    MARKET_RETURN_IF_ERROR(ValidateOrderRequest(req->name(), ""));
    return deps_.db->Read([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(OrderRow row, Found(LoadOrder(c, req->name()), req->name()));
      MARKET_ASSIGN_OR_RETURN(std::optional<MarketRow> m, LoadMarket(c, MarketOfOrder(req->name())));
      if (!CanSeeOrder(caller, row.order, m.has_value() ? m->market.operator_() : "")) {
        return absl::PermissionDeniedError(
            absl::StrCat(caller.subject, " is not a party to ", req->name()));
      }
      *resp = std::move(row.order);
      return absl::OkStatus();
    });
  });
}

grpc::Status OrderServiceImpl::ListOrders(grpc::ServerContext* ctx,
                                          const v1::ListOrdersRequest* req,
                                          v1::ListOrdersResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListOrders", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(
        Page page, Page::Start(pages_,
                               absl::StrCat("ListOrders|", req->parent(), "|", req->filter(), "|",
                                            req->order_by()),
                               req->page_size(), req->page_token()));
    MARKET_ASSIGN_OR_RETURN(OrderQuery q,
                            ParseOrderQuery(req->parent(), req->filter(), req->order_by()));
    if (!caller.HasRole(Role::SUPERVISOR) && !caller.HasRole(Role::SERVICE)) {
      q.visible_to = caller.subject;
    }
    MARKET_ASSIGN_OR_RETURN(std::optional<SearchCursor> after, page.Cursor());
    return deps_.db->Read([&](Connection& c) -> absl::Status {
      if (q.market.has_value()) {
        MARKET_ASSIGN_OR_RETURN(MarketRow m, Found(LoadMarket(c, *q.market), *q.market));
      }
      MARKET_ASSIGN_OR_RETURN(std::vector<OrderHit> hits,
                              listing::ListOrders(c, q, after, page.limit()));
      resp->set_next_page_token(
          page.Trim(hits, [](const OrderHit& h) { return EncodeCursor(h.cursor); }));
      for (OrderHit& hit : hits) *resp->add_orders() = std::move(hit.row.order);
      return absl::OkStatus();
    });
  });
}

absl::StatusOr<int> OrderServiceImpl::RunAutoComplete() {
  std::vector<std::string> due;
  MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(due, DueOrders(c, deps_.clock->Now(), 500));
    return absl::OkStatus();
  }));
  int completed = 0;
  for (const std::string& name : due) {
    absl::StatusOr<v1::Order> o = Complete(name, "", "system:scheduler", "", /*by_buyer=*/false);
    if (o.ok()) {
      ++completed;
    } else if (!absl::IsFailedPrecondition(o.status())) {
      return o.status();  // a buyer may have completed it meanwhile: skip those
    }
  }
  return completed;
}

void OrderServiceImpl::StartScheduler(absl::Duration period) { scheduler_.Start(period); }

void OrderServiceImpl::StopScheduler() { scheduler_.Stop(); }

}  // namespace market::listing
