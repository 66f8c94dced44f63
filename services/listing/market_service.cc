#include "services/listing/market_service.h"

#include <set>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/crypto/crypto.h"
#include "common/pagination/filter.h"
#include "common/pagination/page.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/status/status.h"

namespace market::listing {
namespace {

using common::v1::Role;

constexpr char kService[] = "market.listing.v1.MarketService";

bool Digits(absl::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// "HH:MM" → minutes since midnight, or -1.
int Minutes(absl::string_view hhmm) {
  if (hhmm.size() != 5 || hhmm[2] != ':' || !Digits(hhmm.substr(0, 2), 2) ||
      !Digits(hhmm.substr(3, 2), 2)) {
    return -1;
  }
  int h = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
  int m = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
  return h < 24 && m < 60 ? h * 60 + m : -1;
}

void CheckSchedule(Violations& v, const v1::SwapSchedule& s) {
  const std::string f = "market.swap_schedule";
  if (s.frequency() == v1::SwapSchedule::WEEKLY) {
    if (s.days_of_week().empty()) v.Add(f + ".days_of_week", "at least one day, 1-7");
    for (int d : s.days_of_week()) {
      if (d < 1 || d > 7) v.Add(f + ".days_of_week", absl::StrCat(d, ", want 1 (Mon)..7 (Sun)"));
    }
  } else if (s.frequency() == v1::SwapSchedule::MONTHLY) {
    if (s.days_of_month().empty()) v.Add(f + ".days_of_month", "at least one day, 1-31");
    for (int d : s.days_of_month()) {
      if (d < 1 || d > 31) v.Add(f + ".days_of_month", absl::StrCat(d, ", want 1..31"));
    }
  } else {
    v.Add(f + ".frequency", "want WEEKLY or MONTHLY");
  }
  int start = Minutes(s.start_time_of_day());
  int end = Minutes(s.end_time_of_day());
  if (start < 0) v.Add(f + ".start_time_of_day", "want HH:MM");
  if (end < 0) v.Add(f + ".end_time_of_day", "want HH:MM");
  if (start >= 0 && end >= 0 && end <= start) {
    v.Add(f + ".end_time_of_day", "must be after start_time_of_day");
  }
  absl::TimeZone tz;
  if (!s.time_zone().empty() && !absl::LoadTimeZone(s.time_zone(), &tz)) {
    v.Add(f + ".time_zone", absl::StrCat("unknown time zone \"", s.time_zone(), "\""));
  }
}

// Fields any editor may set; `what` limits to the paths being written.
void CheckMarketFields(Violations& v, const v1::Market& m, const std::set<std::string>& what) {
  auto has = [&](const char* p) { return what.empty() || what.contains(p); };
  if (has("display_name") && (m.display_name().empty() || Utf8CharCount(m.display_name()) > 100)) {
    v.Add("market.display_name", "required, 1-100 characters");
  }
  if (has("region_code") && !Digits(m.region_code(), 6)) {
    v.Add("market.region_code",
          absl::StrCat("\"", m.region_code(), "\", want 6 digits (GB/T 2260)"));
  }
  if (has("address") && Utf8CharCount(m.address()) > 200) {
    v.Add("market.address", "longer than 200 characters");
  }
  if (has("swap_schedule") && m.has_swap_schedule()) CheckSchedule(v, m.swap_schedule());
  if (has("categories")) {
    std::set<int> seen;
    for (int c : m.categories()) {
      if (!common::v1::Category_IsValid(c) || c == common::v1::CATEGORY_UNSPECIFIED ||
          !seen.insert(c).second) {
        v.Add("market.categories", absl::StrCat("invalid or repeated category ", c));
      }
    }
  }
}

}  // namespace

std::vector<auth::RpcPolicy> MarketPolicies() {
  using common::v1::OPERATOR;
  using common::v1::SUPERVISOR;
  // Which market an operator may change is checked in the handler (ownership
  // needs the stored market).
  return {
      {.method = "CreateMarket", .roles = {SUPERVISOR, OPERATOR}},
      {.method = "GetMarket", .public_access = true},
      {.method = "ListMarkets", .public_access = true},
      {.method = "UpdateMarket", .roles = {SUPERVISOR, OPERATOR}},
      {.method = "AddSeller", .roles = {SUPERVISOR, OPERATOR}},
      {.method = "RemoveSeller", .roles = {SUPERVISOR, OPERATOR}},
  };
}

absl::StatusOr<std::unique_ptr<MarketServiceImpl>> MarketServiceImpl::Create(
    MarketStore* store, const Clock* clock, SubjectLookup subjects, std::string page_token_secret,
    std::shared_ptr<const auth::TokenVerifier> verifier,
    std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics,
    ledger::CreditStandingLookup credit) {
  std::unique_ptr<MarketServiceImpl> s(
      new MarketServiceImpl(store, clock, std::move(subjects), std::move(page_token_secret)));
  s->credit_ = std::move(credit);
  MARKET_ASSIGN_OR_RETURN(s->authorizer_,
                          auth::Authorizer::Create(
                              v1::Market::descriptor()->file()->FindServiceByName("MarketService"),
                              MarketPolicies(), std::move(verifier), std::move(suspension), clock));
  s->env_ = server::RpcEnv{kService, s->authorizer_.get(), metrics};
  return s;
}

v1::Market MarketServiceImpl::View(v1::Market market, const auth::Caller& caller) const {
  if (!caller.HasRole(common::v1::SUPERVISOR) && caller.subject != market.operator_()) {
    market.clear_sellers();
  }
  return market;
}

absl::Status MarketServiceImpl::CheckOwner(const auth::Caller& caller,
                                           const v1::Market& market) const {
  if (caller.HasRole(common::v1::SUPERVISOR) || caller.subject == market.operator_()) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat(caller.subject, " does not operate ", market.name()));
}

absl::Status MarketServiceImpl::CheckSubjectRole(const std::string& subject, Role role,
                                                 const char* reason) const {
  MARKET_ASSIGN_OR_RETURN(identity::v1::Subject found, Found(subjects_(subject), subject));
  bool has_role = absl::c_linear_search(found.roles(), role);
  if (!has_role || found.state() != identity::v1::Subject::ACTIVE) {
    return WithReason(absl::StatusCode::kFailedPrecondition, reason,
                      absl::StrCat(subject, " is not an active ", common::v1::Role_Name(role)));
  }
  return absl::OkStatus();
}

grpc::Status MarketServiceImpl::CreateMarket(grpc::ServerContext* ctx,
                                             const v1::CreateMarketRequest* req, v1::Market* resp) {
  return server::HandleRpc(env_, ctx, "CreateMarket", *req, [&](const auth::Caller& caller) {
    const v1::Market& in = req->market();
    Violations v;
    if (!req->has_market()) v.Add("market", "required");
    if (in.kind() == v1::Market::KIND_UNSPECIFIED || !v1::Market::Kind_IsValid(in.kind())) {
      v.Add("market.kind", "want FLEA_MARKET, TRADING_ZONE or ONLINE_PLATFORM");
    }
    CheckMarketFields(v, in, {});
    if (in.kind() != v1::Market::ONLINE_PLATFORM && in.address().empty()) {
      v.Add("market.address", "required for a physical market");
    }
    CheckResourceId(v, "market_id", req->market_id());
    CheckRequestId(v, req->request_id());
    bool supervisor = caller.HasRole(common::v1::SUPERVISOR);
    std::string op = in.operator_();
    if (supervisor && op.empty()) v.Add("market.operator", "required when a supervisor creates");
    if (!op.empty() && !ValidCollectionName(op, "subjects")) v.Add("market.operator", "want subjects/{id}");
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    if (!supervisor) {
      if (!op.empty() && op != caller.subject) {
        return absl::PermissionDeniedError("an operator creates markets for itself only");
      }
      op = caller.subject;
    }
    MARKET_RETURN_IF_ERROR(CheckSubjectRole(op, common::v1::OPERATOR, "SUBJECT_NOT_OPERATOR"));
    v1::Market m = in;
    m.set_name(absl::StrCat("markets/", req->market_id().empty()
                                            ? GeneratedId('m')
                                            : req->market_id()));
    m.set_operator_(op);
    m.clear_sellers();
    m.clear_etag();
    bool replayed = false;
    MARKET_ASSIGN_OR_RETURN(
        v1::Market created,
        store_->CreateMarket(m, RequestKey{"CreateMarket", caller.subject, req->request_id()},
                             clock_->Now(), &replayed));
    *resp = View(std::move(created), caller);
    return absl::OkStatus();
  });
}

grpc::Status MarketServiceImpl::GetMarket(grpc::ServerContext* ctx, const v1::GetMarketRequest* req,
                                          v1::Market* resp) {
  return server::HandleRpc(env_, ctx, "GetMarket", *req, [&](const auth::Caller& caller) {
    if (!ValidCollectionName(req->name(), "markets")) return InvalidField("name", "want markets/{market}");
    MARKET_ASSIGN_OR_RETURN(MarketRow row, store_->GetMarket(req->name()));
    *resp = View(std::move(row.market), caller);
    return absl::OkStatus();
  });
}

grpc::Status MarketServiceImpl::ListMarkets(grpc::ServerContext* ctx,
                                            const v1::ListMarketsRequest* req,
                                            v1::ListMarketsResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListMarkets", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(Page page,
                            Page::Start(pages_, absl::StrCat("ListMarkets|", req->filter()),
                                        req->page_size(), req->page_token()));
    MarketFilter filter;
    constexpr char kWant[] = "want kind=, operator=, region= (2/4/6 digits), category= or seller=";
    MARKET_ASSIGN_OR_RETURN(std::vector<FilterTerm> terms, ParseFilterTerms(req->filter(), kWant));
    for (const FilterTerm& t : terms) {
      const std::string& value = t.value;
      v1::Market::Kind kind;
      common::v1::Category category;
      if (t.key == "kind" && v1::Market::Kind_Parse(value, &kind) &&
          kind != v1::Market::KIND_UNSPECIFIED) {
        filter.kind = kind;
      } else if (t.key == "operator" && ValidCollectionName(value, "subjects")) {
        filter.operator_subject = value;
      } else if (t.key == "region" && (Digits(value, 2) || Digits(value, 4) || Digits(value, 6))) {
        filter.region_prefix = value;
      } else if (t.key == "seller" && ValidCollectionName(value, "subjects")) {
        // Where a seller is admitted is shown to the seller itself,
        // supervisors and other services (credit), not to the public.
        if (caller.subject != value && !caller.HasRole(common::v1::SUPERVISOR) &&
            !caller.HasRole(common::v1::SERVICE)) {
          return absl::PermissionDeniedError(
              "filter seller= is for the seller itself, SUPERVISOR and SERVICE callers");
        }
        filter.seller = value;
      } else if (t.key == "category" && common::v1::Category_Parse(value, &category) &&
                 category != common::v1::CATEGORY_UNSPECIFIED) {
        filter.category = category;
      } else {
        return InvalidField("filter", absl::StrCat("cannot use term \"", t.text, "\"; ", kWant));
      }
    }
    MARKET_ASSIGN_OR_RETURN(std::vector<MarketRow> rows,
                            store_->ListMarkets(filter, page.position(), page.limit()));
    resp->set_next_page_token(page.Trim(rows, [](const MarketRow& r) { return r.market.name(); }));
    for (MarketRow& row : rows) *resp->add_markets() = View(row.market, caller);
    return absl::OkStatus();
  });
}

grpc::Status MarketServiceImpl::UpdateMarket(grpc::ServerContext* ctx,
                                             const v1::UpdateMarketRequest* req, v1::Market* resp) {
  return server::HandleRpc(env_, ctx, "UpdateMarket", *req, [&](const auth::Caller& caller) {
    const v1::Market& in = req->market();
    Violations v;
    if (!ValidCollectionName(in.name(), "markets")) v.Add("market.name", "want markets/{market}");
    if (req->update_mask().paths().empty()) v.Add("update_mask", "at least one path required");
    static const std::set<std::string> kOperatorPaths = {"display_name", "address", "swap_schedule",
                                                         "categories"};
    static const std::set<std::string> kSupervisorPaths = {"region_code", "operator"};
    std::set<std::string> paths;
    for (const std::string& p : req->update_mask().paths()) {
      if (!kOperatorPaths.contains(p) && !kSupervisorPaths.contains(p)) {
        v.Add("update_mask", absl::StrCat("path \"", p, "\" cannot be updated"));
      }
      paths.insert(p);
    }
    CheckMarketFields(v, in, paths);
    if (paths.contains("operator") && !ValidCollectionName(in.operator_(), "subjects")) {
      v.Add("market.operator", "want subjects/{id}");
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    bool supervisor = caller.HasRole(common::v1::SUPERVISOR);
    for (const std::string& p : paths) {
      if (kSupervisorPaths.contains(p) && !supervisor) {
        return absl::PermissionDeniedError(absl::StrCat("only a supervisor may update ", p));
      }
    }
    if (paths.contains("operator")) {
      MARKET_RETURN_IF_ERROR(
          CheckSubjectRole(in.operator_(), common::v1::OPERATOR, "SUBJECT_NOT_OPERATOR"));
    }
    auto change = [&](MarketRow& row) -> absl::Status {
      MARKET_RETURN_IF_ERROR(CheckOwner(caller, row.market));
      if (!in.etag().empty() && in.etag() != row.market.etag()) {
        return absl::AbortedError(absl::StrCat("etag ", in.etag(), " is stale"));
      }
      v1::Market& m = row.market;
      if (paths.contains("display_name")) m.set_display_name(in.display_name());
      if (paths.contains("address")) m.set_address(in.address());
      if (paths.contains("swap_schedule")) {
        if (in.has_swap_schedule()) {
          *m.mutable_swap_schedule() = in.swap_schedule();
        } else {
          m.clear_swap_schedule();
        }
      }
      if (paths.contains("categories")) *m.mutable_categories() = in.categories();
      if (paths.contains("region_code")) m.set_region_code(in.region_code());
      if (paths.contains("operator")) m.set_operator_(in.operator_());
      return absl::OkStatus();
    };
    MARKET_ASSIGN_OR_RETURN(
        v1::Market updated,
        store_->MutateMarket(in.name(),
                             RequestKey{"UpdateMarket", caller.subject, req->request_id()},
                             clock_->Now(), change, nullptr));
    *resp = View(std::move(updated), caller);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Market> MarketServiceImpl::ChangeSellers(
    const auth::Caller& caller, const char* method, const std::string& market,
    const std::string& seller, const std::string& etag, const std::string& request_id, bool add) {
  Violations v;
  if (!ValidCollectionName(market, "markets")) v.Add("market", "want markets/{market}");
  if (!ValidCollectionName(seller, "subjects")) v.Add("seller", "want subjects/{subject}");
  CheckRequestId(v, request_id);
  MARKET_RETURN_IF_ERROR(v.ToStatus());
  // Ownership before existence of the seller.
  MARKET_ASSIGN_OR_RETURN(MarketRow current, store_->GetMarket(market));
  MARKET_RETURN_IF_ERROR(CheckOwner(caller, current.market));
  if (add) {
    MARKET_RETURN_IF_ERROR(CheckSubjectRole(seller, common::v1::SELLER, "SUBJECT_NOT_SELLER"));
    // restriction-policy-v1: neither a blacklisted operator's market admits,
    // nor is a blacklisted seller admitted.
    MARKET_RETURN_IF_ERROR(ledger::CheckRestriction(credit_, current.market.operator_(),
                                                    common::v1::OPERATOR,
                                                    ledger::RestrictedAction::kAdmitSeller));
    MARKET_RETURN_IF_ERROR(ledger::CheckRestriction(credit_, seller, common::v1::SELLER,
                                                    ledger::RestrictedAction::kBeAdmitted));
  }
  auto change = [&](MarketRow& row) -> absl::Status {
    MARKET_RETURN_IF_ERROR(CheckOwner(caller, row.market));
    if (!etag.empty() && etag != row.market.etag()) {
      return absl::AbortedError(absl::StrCat("etag ", etag, " is stale"));
    }
    auto* sellers = row.market.mutable_sellers();
    auto it = std::find(sellers->begin(), sellers->end(), seller);
    if (add) {
      if (it != sellers->end()) {
        return absl::AlreadyExistsError(absl::StrCat(seller, " already sells in ", market));
      }
      sellers->Add(std::string(seller));
      std::sort(sellers->begin(), sellers->end());
    } else {
      if (it == sellers->end()) {
        return absl::NotFoundError(absl::StrCat(seller, " is not a seller in ", market));
      }
      sellers->erase(it);
    }
    return absl::OkStatus();
  };
  MARKET_ASSIGN_OR_RETURN(
      v1::Market updated,
      store_->MutateMarket(market, RequestKey{method, caller.subject, request_id}, clock_->Now(),
                           change, nullptr));
  return View(std::move(updated), caller);
}

grpc::Status MarketServiceImpl::AddSeller(grpc::ServerContext* ctx, const v1::AddSellerRequest* req,
                                          v1::Market* resp) {
  return server::HandleRpc(env_, ctx, "AddSeller", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(*resp, ChangeSellers(caller, "AddSeller", req->market(), req->seller(),
                                                 req->etag(), req->request_id(),
                                                 /*add=*/true));
    return absl::OkStatus();
  });
}

grpc::Status MarketServiceImpl::RemoveSeller(grpc::ServerContext* ctx,
                                             const v1::RemoveSellerRequest* req, v1::Market* resp) {
  return server::HandleRpc(env_, ctx, "RemoveSeller", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(*resp, ChangeSellers(caller, "RemoveSeller", req->market(),
                                                 req->seller(), req->etag(), req->request_id(),
                                                 /*add=*/false));
    return absl::OkStatus();
  });
}

}  // namespace market::listing
