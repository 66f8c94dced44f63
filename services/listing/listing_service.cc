#include "services/listing/listing_service.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/idempotency/idempotency.h"
#include "common/pagination/page.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "google/protobuf/descriptor.h"
#include "services/credit/credit_events.h"
#include "services/listing/credit_lists.h"
#include "services/listing/listing_csv.h"
#include "services/listing/listing_rules.h"
#include "services/listing/listing_tables.h"

namespace market::listing {
namespace {

using common::v1::Role;
using credit::v1::Record;
using sqlite::Connection;

constexpr char kService[] = "market.listing.v1.ListingService";

bool PubliclyVisible(v1::Listing::State s) {
  return s == v1::Listing::PUBLISHED || s == v1::Listing::RESERVED || s == v1::Listing::SOLD;
}

bool CanRead(const auth::Caller& caller, const v1::Listing& l, const std::string& market_operator) {
  return PubliclyVisible(l.state()) || IsListingOwner(caller, l, market_operator) ||
         caller.HasRole(Role::SUPERVISOR) || caller.HasRole(Role::SERVICE) ||
         (!caller.subject.empty() && caller.subject == market_operator);
}

// Resolves every photo's sha256 against the photos table and fills the
// server-side fields. INVALID_ARGUMENT "listing.photos" for unknown ones.
absl::Status ResolvePhotos(Connection& c, v1::Listing& l, const std::string& field) {
  std::set<std::string> seen;
  for (v1::Photo& p : *l.mutable_photos()) {
    if (!seen.insert(p.sha256()).second) {
      return InvalidField(field, absl::StrCat("photo ", p.sha256(), " listed twice"));
    }
    MARKET_ASSIGN_OR_RETURN(std::optional<v1::Photo> stored, LoadPhoto(c, p.sha256()));
    if (!stored.has_value()) {
      return InvalidField(field, absl::StrCat("photo ", p.sha256(), " was never uploaded"));
    }
    p = *stored;
  }
  if (l.photos_size() > kMaxPhotos) {
    return InvalidField(field, absl::StrCat("more than ", kMaxPhotos, " photos"));
  }
  return absl::OkStatus();
}

// Prepares a new listing for insertion (shared by CreateListing and
// ImportListings): the caller has validated it.
v1::Listing NewListing(v1::Listing in, const std::string& name, const std::string& seller,
                       const std::string& created_by, absl::Time now) {
  v1::Listing l = std::move(in);
  l.set_name(name);
  l.set_seller(seller);
  l.set_created_by(created_by);
  l.set_state(v1::Listing::DRAFT);
  l.clear_latest_appraisal();
  l.clear_removal_cause();
  l.clear_removal_reason();
  l.clear_removed_by();
  l.clear_etag();
  l.clear_publish_time();
  l.clear_withdraw_time();
  l.clear_remove_time();
  if (l.has_price() && l.price().currency().empty()) l.mutable_price()->set_currency("CNY");
  *l.mutable_warranty_policy() = EffectiveWarranty(l.category(), l.warranty_policy());
  l.set_item(ItemName(l));
  *l.mutable_create_time() = ToTimestamp(now);
  *l.mutable_update_time() = ToTimestamp(now);
  return l;
}

absl::StatusOr<v1::Listing> InsertListing(Connection& c, const v1::Listing& l, absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(v1::Listing out, SaveListing(c, l, 1, /*insert=*/true));
  if (!l.item().empty()) {
    MARKET_RETURN_IF_ERROR(EnsureItem(c, l.item(), l.category(), now).status());
  }
  return out;
}

// The membership/category preconditions of creating `l` in `market`.
absl::Status CheckMarketAdmits(const v1::Market& market, const v1::Listing& l) {
  if (!absl::c_linear_search(market.sellers(), l.seller())) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "SELLER_NOT_IN_MARKET",
                      absl::StrCat(l.seller(), " is not a seller in ", market.name()));
  }
  // An empty category list admits every category.
  if (!market.categories().empty() && !absl::c_linear_search(market.categories(), l.category())) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "CATEGORY_NOT_ALLOWED",
                      absl::StrCat(market.name(), " does not trade ",
                                   common::v1::Category_Name(l.category())));
  }
  return absl::OkStatus();
}

std::string ShortHash(absl::string_view s) { return HexEncode(Sha256(s)).substr(0, 40); }

// The current operator of the market a listing name lies in ("" if none).
absl::StatusOr<std::string> OperatorOf(Connection& c, const std::string& listing_name) {
  std::string market;
  if (!ValidMarketChildName(listing_name, "listings", &market)) return std::string();
  MARKET_ASSIGN_OR_RETURN(std::optional<MarketRow> m, LoadMarket(c, market));
  return m.has_value() ? m->market.operator_() : std::string();
}

}  // namespace

bool IsListingOwner(const auth::Caller& caller, const v1::Listing& l,
                    const std::string& market_operator) {
  if (caller.subject.empty()) return false;
  return caller.subject == l.seller() ||
         (!l.created_by().empty() && caller.subject == l.created_by() &&
          caller.subject == market_operator);
}

std::vector<auth::RpcPolicy> ListingPolicies() {
  using common::v1::OPERATOR;
  using common::v1::SELLER;
  using common::v1::SUPERVISOR;
  // Ownership of the listing and the market is checked in the handlers.
  return {
      {.method = "CreateListing", .roles = {SELLER, OPERATOR}},
      {.method = "GetListing", .public_access = true},
      {.method = "UpdateListing", .roles = {SELLER, OPERATOR}},
      {.method = "PublishListing", .roles = {SELLER, OPERATOR}},
      {.method = "WithdrawListing", .roles = {SELLER, OPERATOR}},
      {.method = "RemoveListing", .roles = {SUPERVISOR, OPERATOR}},
      {.method = "UploadPhoto", .any_authenticated = true},
      {.method = "ImportListings", .roles = {OPERATOR}},
      {.method = "SearchListings", .public_access = true},
  };
}

absl::StatusOr<std::unique_ptr<ListingServiceImpl>> ListingServiceImpl::Create(ListingDeps deps) {
  MARKET_ASSIGN_OR_RETURN(PhotoStore photos, PhotoStore::Open(deps.photo_dir));
  std::unique_ptr<ListingServiceImpl> s(new ListingServiceImpl(std::move(deps), std::move(photos)));
  MARKET_RETURN_IF_ERROR(s->InitRpc(kService, ListingPolicies()));
  MARKET_RETURN_IF_ERROR(s->deps_.db->Write(BackfillListingPhotos));
  return s;
}

absl::StatusOr<std::pair<v1::Photo, std::string>> ListingServiceImpl::ReadPhoto(
    const std::string& authorization, const std::string& sha256) const {
  v1::GetListingRequest request;  // the rule of GetListing, for every listing carrying the photo
  MARKET_ASSIGN_OR_RETURN(auth::Caller caller,
                          authorizer_->Authorize("GetListing", authorization, request));
  std::optional<v1::Photo> photo;
  MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(std::vector<std::string> listings, ListingsWithPhoto(c, sha256));
    for (const std::string& name : listings) {
      MARKET_ASSIGN_OR_RETURN(std::optional<ListingRow> row, LoadListing(c, name));
      if (!row.has_value()) continue;
      MARKET_ASSIGN_OR_RETURN(std::string op, OperatorOf(c, name));
      if (CanRead(caller, row->listing, op)) {
        MARKET_ASSIGN_OR_RETURN(photo, LoadPhoto(c, sha256));
        break;
      }
    }
    return absl::OkStatus();
  }));
  std::string photo_name = absl::StrCat(kPhotoUrlPrefix, sha256);
  if (!photo.has_value()) return NotFound(photo_name);
  MARKET_ASSIGN_OR_RETURN(std::string bytes, photos_.Get(sha256));
  return std::make_pair(*std::move(photo), std::move(bytes));
}

absl::Status ListingRpcBase::InitRpc(const char* full_name, std::vector<auth::RpcPolicy> policies) {
  MARKET_ASSIGN_OR_RETURN(
      authorizer_,
      auth::Authorizer::Create(
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(full_name),
          std::move(policies), deps_.verifier, deps_.suspension, deps_.clock));
  env_ = server::RpcEnv{full_name, authorizer_.get(), deps_.metrics};
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> ListingRpcBase::ListingSeller(
    const std::string& name, const auth::Caller* owner) const {
  std::optional<std::string> seller;
  if (!ValidMarketChildName(name, "listings", nullptr)) return seller;
  MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(std::optional<ListingRow> row, LoadListing(c, name));
    if (!row.has_value()) return absl::OkStatus();
    if (owner != nullptr) {
      MARKET_ASSIGN_OR_RETURN(std::string op, OperatorOf(c, name));
      if (!IsListingOwner(*owner, row->listing, op)) return absl::OkStatus();
    }
    seller = row->listing.seller();
    return absl::OkStatus();
  }));
  return seller;
}

absl::Status ListingRpcBase::CheckCredit(const std::string& subject, Role role,
                                         ledger::RestrictedAction action) const {
  return ledger::CheckRestriction(deps_.credit, subject, role, action);
}

absl::Status ListingRpcBase::CheckCredits(const std::vector<CreditCheck>& checks) const {
  if (!deps_.credit || !deps_.credit_standings) {
    for (const CreditCheck& check : checks) {
      MARKET_RETURN_IF_ERROR(CheckCredit(check.subject, check.role, check.action));
    }
    return absl::OkStatus();
  }
  std::vector<std::string> subjects;
  for (const CreditCheck& check : checks) subjects.push_back(check.subject);
  std::vector<absl::StatusOr<ledger::CreditStanding>> standings = deps_.credit_standings(subjects);
  if (standings.size() != checks.size()) {
    return absl::UnavailableError("credit standing: wrong number of answers");
  }
  for (size_t i = 0; i < checks.size(); ++i) {
    MARKET_RETURN_IF_ERROR(standings[i].status());
    MARKET_RETURN_IF_ERROR(ledger::CheckRestriction(checks[i].role, checks[i].action, *standings[i]));
  }
  return absl::OkStatus();
}

grpc::Status ListingServiceImpl::CreateListing(grpc::ServerContext* ctx,
                                               const v1::CreateListingRequest* req,
                                               v1::Listing* resp) {
  return server::HandleRpc(env_, ctx, "CreateListing", *req, [&](const auth::Caller& caller) {
    absl::Time now = deps_.clock->Now();
    Violations v;
    if (!ValidCollectionName(req->parent(), "markets")) v.Add("parent", "want markets/{market}");
    if (!req->has_listing()) v.Add("listing", "required");
    CheckResourceId(v, "listing_id", req->listing_id());
    CheckRequestId(v, req->request_id());
    const std::string& seller_in = req->listing().seller();
    if (!seller_in.empty() && !ValidCollectionName(seller_in, "subjects")) {
      v.Add("listing.seller", "want subjects/{subject}");
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_RETURN_IF_ERROR(ValidateListingForCreate(req->listing(), now));
    // A SELLER lists for itself; an OPERATOR names the seller.
    bool as_operator = !seller_in.empty() && seller_in != caller.subject;
    if (as_operator && !caller.HasRole(Role::OPERATOR)) {
      return absl::PermissionDeniedError("only the market's operator lists for another seller");
    }
    if (!as_operator && !caller.HasRole(Role::SELLER)) {
      return InvalidField("listing.seller", "required when an operator creates a listing");
    }
    std::string seller = as_operator ? seller_in : caller.subject;
    std::string name =
        absl::StrCat(req->parent(), "/listings/",
                     req->listing_id().empty() ? GeneratedId('l') : req->listing_id());
    auto run = [&](Connection& c) -> absl::StatusOr<v1::Listing> {
      MARKET_ASSIGN_OR_RETURN(MarketRow market, Found(LoadMarket(c, req->parent()), req->parent()));
      if (as_operator && market.market.operator_() != caller.subject) {
        return absl::PermissionDeniedError(
            absl::StrCat(caller.subject, " does not operate ", req->parent()));
      }
      v1::Listing l =
          NewListing(req->listing(), name, seller, as_operator ? caller.subject : "", now);
      MARKET_RETURN_IF_ERROR(CheckMarketAdmits(market.market, l));
      MARKET_RETURN_IF_ERROR(ResolvePhotos(c, l, "listing.photos"));
      return InsertListing(c, l, now);
    };
    MARKET_ASSIGN_OR_RETURN(*resp,
                            RunIdempotent<v1::Listing>(*deps_.db, "CreateListing", caller.subject,
                                                       req->request_id(), now, run));
    return absl::OkStatus();
  });
}

grpc::Status ListingServiceImpl::GetListing(grpc::ServerContext* ctx,
                                            const v1::GetListingRequest* req, v1::Listing* resp) {
  return server::HandleRpc(env_, ctx, "GetListing", *req, [&](const auth::Caller& caller) {
    if (!ValidMarketChildName(req->name(), "listings", nullptr)) {
      return InvalidField("name", "want markets/{market}/listings/{listing}");
    }
    return deps_.db->Read([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(ListingRow row, Found(LoadListing(c, req->name()), req->name()));
      // A public listing needs no market operator (the lookup parses the market).
      std::string op;
      if (!PubliclyVisible(row.listing.state())) {
        MARKET_ASSIGN_OR_RETURN(op, OperatorOf(c, req->name()));
      }
      if (!CanRead(caller, row.listing, op)) {
        return absl::PermissionDeniedError(
            absl::StrCat(req->name(), " is ", v1::Listing::State_Name(row.listing.state()),
                         "; only its owner, the market's operator and supervisors see it"));
      }
      MARKET_ASSIGN_OR_RETURN(bool red, OnRedList(c, row.listing.seller(), deps_.clock->Now()));
      if (red) row.listing.set_seller_badge(ledger::kTrustedMerchantBadge);
      *resp = std::move(row.listing);
      return absl::OkStatus();
    });
  });
}

absl::Status ListingServiceImpl::MutateListing(
    const auth::Caller& caller, const char* method, const std::string& name,
    const std::string& etag, const std::string& request_id, v1::Listing* out,
    const std::function<absl::Status(Connection&, v1::Listing&, const MarketRow&)>& change) {
  std::string market;
  Violations v;
  if (!ValidMarketChildName(name, "listings", &market)) {
    v.Add("name", "want markets/{market}/listings/{listing}");
  }
  CheckRequestId(v, request_id);
  MARKET_RETURN_IF_ERROR(v.ToStatus());
  absl::Time now = deps_.clock->Now();
  auto run = [&](Connection& c) -> absl::StatusOr<v1::Listing> {
    MARKET_ASSIGN_OR_RETURN(ListingRow row, Found(LoadListing(c, name), name));
    MARKET_ASSIGN_OR_RETURN(MarketRow m, Found(LoadMarket(c, market), market));
    v1::Listing l = row.listing;
    MARKET_RETURN_IF_ERROR(change(c, l, m));
    MARKET_RETURN_IF_ERROR(CheckEtag(etag, row.listing.etag()));
    *l.mutable_update_time() = ToTimestamp(now);
    return SaveListing(c, l, row.version + 1, /*insert=*/false);
  };
  MARKET_ASSIGN_OR_RETURN(
      *out, RunIdempotent<v1::Listing>(*deps_.db, method, caller.subject, request_id, now, run));
  return absl::OkStatus();
}

namespace {

absl::Status RequireOwner(const auth::Caller& caller, const v1::Listing& l,
                          const std::string& market_operator) {
  if (IsListingOwner(caller, l, market_operator)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(caller.subject, " does not own ", l.name()));
}

// Listing `name` for a change by `caller`: NOT_FOUND, PERMISSION_DENIED unless
// the caller owns it, FAILED_PRECONDITION unless its state allows editing.
absl::StatusOr<ListingRow> LoadEditable(Connection& c, const auth::Caller& caller,
                                        const std::string& name) {
  MARKET_ASSIGN_OR_RETURN(ListingRow row, Found(LoadListing(c, name), name));
  MARKET_ASSIGN_OR_RETURN(std::string op, OperatorOf(c, name));
  MARKET_RETURN_IF_ERROR(RequireOwner(caller, row.listing, op));
  MARKET_RETURN_IF_ERROR(CheckEditable(row.listing.state()));
  return row;
}

}  // namespace

grpc::Status ListingServiceImpl::UpdateListing(grpc::ServerContext* ctx,
                                               const v1::UpdateListingRequest* req,
                                               v1::Listing* resp) {
  return server::HandleRpc(env_, ctx, "UpdateListing", *req, [&](const auth::Caller& caller) {
    absl::Time now = deps_.clock->Now();
    std::string name = req->listing().name();
    if (!ValidMarketChildName(name, "listings", nullptr)) {
      return InvalidField("listing.name", "want markets/{market}/listings/{listing}");
    }
    return MutateListing(
        caller, "UpdateListing", name, req->listing().etag(), req->request_id(), resp,
        [&](Connection& c, v1::Listing& l, const MarketRow& m) -> absl::Status {
          MARKET_RETURN_IF_ERROR(RequireOwner(caller, l, m.market.operator_()));
          MARKET_RETURN_IF_ERROR(CheckEditable(l.state()));
          MARKET_ASSIGN_OR_RETURN(v1::Listing updated,
                                  ApplyListingUpdate(l, req->listing(), req->update_mask(), now));
          *updated.mutable_warranty_policy() =
              EffectiveWarranty(updated.category(), updated.warranty_policy());
          if (updated.has_price() && updated.price().currency().empty()) {
            updated.mutable_price()->set_currency("CNY");
          }
          updated.set_item(ItemName(updated));
          MARKET_RETURN_IF_ERROR(ResolvePhotos(c, updated, "listing.photos"));
          if (!updated.item().empty() && updated.item() != l.item()) {
            MARKET_RETURN_IF_ERROR(EnsureItem(c, updated.item(), updated.category(), now).status());
          }
          l = std::move(updated);
          return absl::OkStatus();
        });
  });
}

grpc::Status ListingServiceImpl::PublishListing(grpc::ServerContext* ctx,
                                                const v1::PublishListingRequest* req,
                                                v1::Listing* resp) {
  return server::HandleRpc(env_, ctx, "PublishListing", *req, [&](const auth::Caller& caller) {
    absl::Time now = deps_.clock->Now();
    // The seller's standing is asked before the write (never inside it); a
    // listing that is missing or not the caller's fails in MutateListing.
    MARKET_ASSIGN_OR_RETURN(std::optional<std::string> seller, ListingSeller(req->name(), &caller));
    if (seller.has_value()) {
      MARKET_RETURN_IF_ERROR(
          CheckCredit(*seller, Role::SELLER, ledger::RestrictedAction::kPublishListing));
    }
    auto change = [&](Connection&, v1::Listing& l, const MarketRow& m) -> absl::Status {
      MARKET_RETURN_IF_ERROR(RequireOwner(caller, l, m.market.operator_()));
      MARKET_RETURN_IF_ERROR(CheckTransition(l.state(), v1::Listing::PUBLISHED, Actor::kSeller));
      MARKET_RETURN_IF_ERROR(CheckPublishable(l));
      MARKET_RETURN_IF_ERROR(CheckMarketAdmits(m.market, l));
      l.set_state(v1::Listing::PUBLISHED);
      *l.mutable_publish_time() = ToTimestamp(now);
      l.clear_withdraw_time();
      return absl::OkStatus();
    };
    return MutateListing(caller, "PublishListing", req->name(), req->etag(), req->request_id(),
                         resp, change);
  });
}

grpc::Status ListingServiceImpl::WithdrawListing(grpc::ServerContext* ctx,
                                                 const v1::WithdrawListingRequest* req,
                                                 v1::Listing* resp) {
  return server::HandleRpc(env_, ctx, "WithdrawListing", *req, [&](const auth::Caller& caller) {
    absl::Time now = deps_.clock->Now();
    auto change = [&](Connection&, v1::Listing& l, const MarketRow& m) -> absl::Status {
      MARKET_RETURN_IF_ERROR(RequireOwner(caller, l, m.market.operator_()));
      MARKET_RETURN_IF_ERROR(CheckTransition(l.state(), v1::Listing::WITHDRAWN, Actor::kSeller));
      l.set_state(v1::Listing::WITHDRAWN);
      *l.mutable_withdraw_time() = ToTimestamp(now);
      return absl::OkStatus();
    };
    return MutateListing(caller, "WithdrawListing", req->name(), req->etag(), req->request_id(),
                         resp, change);
  });
}

grpc::Status ListingServiceImpl::RemoveListing(grpc::ServerContext* ctx,
                                               const v1::RemoveListingRequest* req,
                                               v1::Listing* resp) {
  return server::HandleRpc(env_, ctx, "RemoveListing", *req, [&](const auth::Caller& caller) {
    absl::Time now = deps_.clock->Now();
    Violations v;
    if (req->cause() == v1::Listing::REMOVAL_CAUSE_UNSPECIFIED ||
        !v1::Listing::RemovalCause_IsValid(req->cause())) {
      v.Add("cause", "want COUNTERFEIT, FRAUD, PROHIBITED_GOODS, WRONG_CATEGORY, MISLEADING or OTHER");
    }
    size_t reason_chars = Utf8CharCount(req->reason());
    if (reason_chars == 0 || reason_chars > 500) v.Add("reason", "required, 1-500 characters");
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    bool supervisor = caller.HasRole(Role::SUPERVISOR);
    if (!supervisor) {
      // Which market the caller operates is known from the name: permission
      // before existence of the listing.
      std::string op;
      MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
        MARKET_ASSIGN_OR_RETURN(op, OperatorOf(c, req->name()));
        return absl::OkStatus();
      }));
      if (op != caller.subject && ValidMarketChildName(req->name(), "listings", nullptr)) {
        return absl::PermissionDeniedError(
            absl::StrCat(caller.subject, " does not operate the market of ", req->name()));
      }
    }
    return MutateListing(
        caller, "RemoveListing", req->name(), req->etag(), req->request_id(), resp,
        [&](Connection& c, v1::Listing& l, const MarketRow& m) -> absl::Status {
          if (!supervisor && m.market.operator_() != caller.subject) {
            return absl::PermissionDeniedError(
                absl::StrCat(caller.subject, " does not operate ", m.market.name()));
          }
          MARKET_RETURN_IF_ERROR(CheckTransition(
              l.state(), v1::Listing::REMOVED, supervisor ? Actor::kSupervisor : Actor::kOperator));
          if (l.state() == v1::Listing::RESERVED) {
            // Cancel the open order holding it; a swap listing returns to sale.
            MARKET_ASSIGN_OR_RETURN(std::vector<OrderRow> open, OpenOrders(c, l.name()));
            for (OrderRow& o : open) {
              o.order.set_state(v1::Order::CANCELLED);
              o.order.set_cancelled_by(caller.subject);
              o.order.set_cancel_reason(absl::StrCat("listing removed: ", req->reason()));
              *o.order.mutable_cancel_time() = ToTimestamp(now);
              *o.order.mutable_update_time() = ToTimestamp(now);
              MARKET_RETURN_IF_ERROR(SaveOrder(c, o.order, o.version + 1, false).status());
              // The other listing of the order returns to sale.
              const std::string& other =
                  o.order.listing() == l.name() ? o.order.swap_listing() : o.order.listing();
              MARKET_RETURN_IF_ERROR(SetListingState(c, other, v1::Listing::PUBLISHED, now));
            }
          }
          l.set_state(v1::Listing::REMOVED);
          l.set_removal_cause(req->cause());
          l.set_removal_reason(req->reason());
          l.set_removed_by(caller.subject);
          *l.mutable_remove_time() = ToTimestamp(now);
          Record r;
          r.set_subject(l.seller());
          r.set_subject_role(Role::SELLER);
          r.set_type(Record::LISTING_REMOVED);
          if (supervisor && req->cause() == v1::Listing::COUNTERFEIT) {
            r.set_type(Record::COUNTERFEIT_CONFIRMED);
          } else if (supervisor && req->cause() == v1::Listing::FRAUD) {
            r.set_type(Record::FRAUD_CONFIRMED);
          }
          r.set_reference(l.name());
          r.set_reason(
              absl::StrCat("listing removed: ", v1::Listing::RemovalCause_Name(req->cause())));
          *r.mutable_occurred_time() = ToTimestamp(now);
          return credit::EnqueueCreditEvent(
              c, absl::StrCat("listing-removed-", ShortHash(l.name())), r, now);
        });
  });
}

grpc::Status ListingServiceImpl::UploadPhoto(grpc::ServerContext* ctx,
                                             grpc::ServerReader<v1::UploadPhotoRequest>* reader,
                                             v1::Photo* resp) {
  v1::UploadPhotoRequest header;
  bool got_header = reader->Read(&header);
  return server::HandleRpc(env_, ctx, "UploadPhoto", header, [&](const auth::Caller& caller) {
    if (!got_header) return InvalidField("data", "empty upload");
    Violations v;
    if (!header.listing().empty() && !ValidMarketChildName(header.listing(), "listings", nullptr)) {
      v.Add("listing", "want markets/{market}/listings/{listing}");
    }
    if (!header.sha256().empty() && header.sha256().size() != 64) {
      v.Add("sha256", "want 64 lower-case hex characters");
    }
    if (header.content_type() != "image/jpeg" && header.content_type() != "image/png" &&
        header.content_type() != "image/webp") {
      v.Add("content_type", "want image/jpeg, image/png or image/webp");
    }
    CheckRequestId(v, header.request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    // Ownership before reading the rest of the stream.
    if (!header.listing().empty()) {
      MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
        return LoadEditable(c, caller, header.listing()).status();
      }));
    }
    std::string data = header.data();
    v1::UploadPhotoRequest chunk;
    while (reader->Read(&chunk)) {
      if (!chunk.content_type().empty() || !chunk.listing().empty() || !chunk.sha256().empty() ||
          !chunk.request_id().empty()) {
        return InvalidField("content_type", "header fields are allowed in the first message only");
      }
      if (static_cast<int64_t>(data.size() + chunk.data().size()) > kMaxPhotoBytes) {
        return InvalidField("data", absl::StrCat("larger than ", kMaxPhotoBytes, " bytes"));
      }
      data += chunk.data();
    }
    absl::Time now = deps_.clock->Now();
    MARKET_ASSIGN_OR_RETURN(v1::Photo photo,
                            photos_.Put(data, header.content_type(), header.sha256()));
    MARKET_RETURN_IF_ERROR(deps_.db->Write([&](Connection& c) -> absl::Status {
      MARKET_RETURN_IF_ERROR(SavePhoto(c, photo, now));
      if (header.listing().empty()) return absl::OkStatus();
      MARKET_ASSIGN_OR_RETURN(ListingRow row, LoadEditable(c, caller, header.listing()));
      v1::Listing& l = row.listing;
      for (const v1::Photo& p : l.photos()) {
        if (p.sha256() == photo.sha256()) return absl::OkStatus();  // a retry appends nothing
      }
      if (l.photos_size() >= kMaxPhotos) {
        return WithReason(absl::StatusCode::kFailedPrecondition, "TOO_MANY_PHOTOS",
                          absl::StrCat(l.name(), " already has ", kMaxPhotos, " photos"));
      }
      *l.add_photos() = photo;
      *l.mutable_update_time() = ToTimestamp(now);
      return SaveListing(c, l, row.version + 1, false).status();
    }));
    *resp = photo;
    return absl::OkStatus();
  });
}

grpc::Status ListingServiceImpl::ImportListings(grpc::ServerContext* ctx,
                                                const v1::ImportListingsRequest* req,
                                                v1::ImportListingsResponse* resp) {
  return server::HandleRpc(env_, ctx, "ImportListings", *req, [&](const auth::Caller& caller) {
    absl::Time now = deps_.clock->Now();
    Violations v;
    if (!ValidCollectionName(req->parent(), "markets")) v.Add("parent", "want markets/{market}");
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    // The market and its operator before the file is looked at.
    MarketRow market;
    MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(market, Found(LoadMarket(c, req->parent()), req->parent()));
      return absl::OkStatus();
    }));
    if (market.market.operator_() != caller.subject) {
      return absl::PermissionDeniedError(
          absl::StrCat(caller.subject, " does not operate ", req->parent()));
    }
    MARKET_ASSIGN_OR_RETURN(std::vector<CsvRow> rows, ParseListingsCsv(req->csv_data()));
    // Validate every row first (no database access).
    std::vector<v1::Listing> prepared(rows.size());
    v1::ImportListingsResponse out;
    // Publishing for a seller is the seller's publishing: asked once per seller.
    std::map<std::string, absl::Status> standing;
    auto may_publish = [&](const std::string& seller) -> const absl::Status& {
      auto it = standing.find(seller);
      if (it == standing.end()) {
        it = standing
                 .emplace(seller, CheckCredit(seller, Role::SELLER,
                                              ledger::RestrictedAction::kPublishListing))
                 .first;
      }
      return it->second;
    };
    for (size_t i = 0; i < rows.size(); ++i) {
      CsvRow& row = rows[i];
      v1::ImportRowResult* result = out.add_results();
      result->set_row(row.row);
      auto add = [&](const std::string& field, const std::string& description) {
        auto* fv = result->add_violations();
        fv->set_field(field);
        fv->set_description(description);
      };
      for (const auto& [field, description] : row.violations) add(field, description);
      if (!row.violations.empty()) continue;
      if (row.listing.seller().empty()) {
        add("seller", "required: the subject the listing is for");
        continue;
      }
      absl::Status s = ValidateListingForCreate(row.listing, now);
      for (const FieldViolation& fv : FieldViolationsOf(s)) {
        std::string field = fv.field;
        if (absl::StartsWith(field, "listing.")) field = field.substr(8);
        add(field, fv.description);
      }
      if (!s.ok()) continue;
      v1::Listing l = NewListing(row.listing, "", row.listing.seller(), caller.subject, now);
      if (absl::Status admits = CheckMarketAdmits(market.market, l); !admits.ok()) {
        add(ReasonOf(admits) == "CATEGORY_NOT_ALLOWED" ? "category" : "seller",
            std::string(admits.message()));
        continue;
      }
      if (req->publish()) {
        if (absl::Status pub = CheckPublishable(l); !pub.ok()) {
          add("state", absl::StrCat(ReasonOf(pub), ": ", pub.message()));
          continue;
        }
        if (const absl::Status& may = may_publish(l.seller()); !may.ok()) {
          // A credit outage fails the whole import (retryable), never one row.
          if (ReasonOf(may).empty()) return may;
          add("seller", std::string(may.message()));
          continue;
        }
        l.set_state(v1::Listing::PUBLISHED);
        *l.mutable_publish_time() = ToTimestamp(now);
      }
      prepared[i] = std::move(l);
    }
    int failed = 0;
    for (const auto& r : out.results()) failed += r.violations_size() > 0 ? 1 : 0;
    out.set_failed_count(failed);
    bool commit = !req->validate_only() && !(req->all_or_nothing() && failed > 0);
    if (!commit) {
      *resp = std::move(out);
      return absl::OkStatus();
    }
    auto run = [&](Connection& c) -> absl::StatusOr<v1::ImportListingsResponse> {
      v1::ImportListingsResponse done = out;
      MARKET_ASSIGN_OR_RETURN(std::optional<MarketRow> m, LoadMarket(c, req->parent()));
      if (!m.has_value()) return absl::NotFoundError(absl::StrCat(req->parent(), " gone"));
      if (m->market.operator_() != caller.subject) {
        return absl::PermissionDeniedError(
            absl::StrCat(caller.subject, " does not operate ", req->parent()));
      }
      int created = 0;
      for (size_t i = 0; i < prepared.size(); ++i) {
        v1::ImportRowResult* result = done.mutable_results(static_cast<int>(i));
        if (result->violations_size() > 0) continue;
        v1::Listing l = prepared[i];
        l.set_name(absl::StrCat(req->parent(), "/listings/", GeneratedId('l')));
        // Membership and photos may have changed since validation.
        absl::Status admits = CheckMarketAdmits(m->market, l);
        absl::Status photos = admits.ok() ? ResolvePhotos(c, l, "photos") : admits;
        if (!photos.ok()) {
          std::vector<FieldViolation> fvs = FieldViolationsOf(photos);
          if (fvs.empty()) fvs.push_back({"seller", std::string(photos.message())});
          for (const FieldViolation& fv : fvs) {
            auto* x = result->add_violations();
            x->set_field(fv.field);
            x->set_description(fv.description);
          }
          if (req->all_or_nothing()) {
            return WithReason(absl::StatusCode::kFailedPrecondition, "IMPORT_ROW_FAILED",
                              absl::StrCat("row ", result->row(), ": ", photos.message()));
          }
          done.set_failed_count(done.failed_count() + 1);
          continue;
        }
        MARKET_ASSIGN_OR_RETURN(v1::Listing stored, InsertListing(c, l, now));
        result->set_listing(stored.name());
        ++created;
      }
      done.set_created_count(created);
      done.set_committed(true);
      return done;
    };
    MARKET_ASSIGN_OR_RETURN(
        *resp, RunIdempotent<v1::ImportListingsResponse>(
                   *deps_.db, "ImportListings", caller.subject, req->request_id(), now, run));
    return absl::OkStatus();
  });
}

grpc::Status ListingServiceImpl::SearchListings(grpc::ServerContext* ctx,
                                                const v1::SearchListingsRequest* req,
                                                v1::SearchListingsResponse* resp) {
  return server::HandleRpc(env_, ctx, "SearchListings", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(
        Page page, Page::Start(pages_,
                               absl::StrCat("SearchListings|", req->parent(), "|", req->filter(),
                                            "|", req->query(), "|", req->order_by()),
                               req->page_size(), req->page_token()));
    MARKET_ASSIGN_OR_RETURN(SearchQuery q,
                            ParseSearch(req->parent(), req->filter(), req->query(), req->order_by()));
    MARKET_ASSIGN_OR_RETURN(std::optional<SearchCursor> after, page.Cursor());
    absl::Time now = deps_.clock->Now();
    return deps_.db->Read([&](Connection& c) -> absl::Status {
      if (req->parent() != "markets/-") {
        MARKET_ASSIGN_OR_RETURN(MarketRow m, Found(LoadMarket(c, req->parent()), req->parent()));
      }
      MARKET_ASSIGN_OR_RETURN(std::vector<SearchHit> hits,
                              listing::SearchListings(c, q, after, page.limit(), now));
      resp->set_next_page_token(
          page.Trim(hits, [](const SearchHit& h) { return EncodeCursor(h.cursor); }));
      for (SearchHit& hit : hits) {
        if (CanRead(caller, hit.row.listing, hit.market_operator)) {
          if (hit.trusted_seller) hit.row.listing.set_seller_badge(ledger::kTrustedMerchantBadge);
          *resp->add_listings() = std::move(hit.row.listing);
        }
      }
      return absl::OkStatus();
    });
  });
}

}  // namespace market::listing
