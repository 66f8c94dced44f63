// StatisticsServiceImpl's figure families other than trade: the column
// definitions of QueryAfterSales/QueryAppraisals/QueryEntities over
// FiguresStore, QueryCredit, the public suppression by distinct parties, the listing
// figures of QueryTrade, and RecordStatsEvent.
#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "services/stats/credit_figures.h"
#include "services/stats/export_table.h"
#include "services/stats/figure_rules.h"
#include "services/stats/figures_service.h"
#include "services/stats/stats_service.h"

namespace market::stats {

namespace {
using C = FigureColumn;
}  // namespace

const std::map<std::string, FamilyColumns>& FamilyColumnsByRpc() {
  static const auto* families = new std::map<std::string, FamilyColumns>{
      {"QueryAfterSales",
       {{{"claims_filed", C::kSum, "claims_filed"},
         {"refund_claims", C::kSum, "refund_claims"},
         {"exchange_claims", C::kSum, "exchange_claims"},
         {"repair_claims", C::kSum, "repair_claims"},
         {"upheld", C::kSum, "upheld"},
         {"dismissed", C::kSum, "dismissed"},
         {"replies_on_time", C::kSum, "replies_on_time"},
         {"replies_missed", C::kSum, "replies_missed"},
         {"resolved", C::kSum, "resolved"},
         {"median_days_to_resolution", C::kMedian, "days_to_resolution"}},
        "claim_parties"}},
      {"QueryAppraisals",
       {{{"reports_filed", C::kSum, "reports_filed"},
         {"disputes_raised", C::kSum, "disputes_raised"},
         {"disputes_ruled", C::kSum, "disputes_ruled"},
         {"overturned", C::kSum, "overturned"},
         {"overturn_permille", C::kPermille, "overturned", "disputes_ruled"}},
        "appraisal_parties"}},
      {"QueryEntities",
       {{{"listings_created", C::kSum, "listings_created"},
         {"listings_published", C::kSum, "listings_published"},
         {"listings_removed", C::kSum, "listings_removed"},
         {"listings_sold", C::kSum, "listings_sold"},
         {"median_days_to_sale", C::kMedian, "days_to_sale"},
         {"mean_days_to_sale", C::kMean, "days_to_sale"},
         {"active_markets", C::kDistinct, "active_markets"},
         {"active_sellers", C::kDistinct, "active_sellers"},
         {"new_sellers", C::kFirstIn, "publishing_sellers"}},
        "active_sellers"}},
  };
  return *families;
}

grpc::Status StatisticsServiceImpl::QueryFamily(grpc::ServerContext* ctx, const char* family,
                                                const v1::QueryFiguresRequest& req,
                                                v1::QueryFiguresResponse& resp) {
  return server::HandleRpc(env_, ctx, family, req, [&](const auth::Caller& caller) -> absl::Status {
    const FamilyColumns& f = FamilyColumnsByRpc().at(family);
    MARKET_ASSIGN_OR_RETURN(QueryScope scope, ResolveScope(caller, ScopeRequestOf(req), *store_));
    MARKET_ASSIGN_OR_RETURN(std::vector<v1::FigureRow> rows, figures_.Query(f.columns, scope.q));
    if (scope.is_public) {
      MARKET_ASSIGN_OR_RETURN(
          std::vector<v1::FigureRow> parties,
          figures_.Query({{"parties", C::kDistinct, f.parties}}, scope.q));
      std::map<std::string, int64_t> by_key;
      for (const v1::FigureRow& p : parties) by_key[p.key()] = p.values(0);
      for (v1::FigureRow& r : rows) {
        if (by_key[r.key()] >= kMinPublicSubjects) continue;
        for (int64_t& v : *r.mutable_values()) v = 0;
        r.set_suppressed(true);
      }
    }
    resp.set_from_date(FormatDay(scope.q.range.first));
    resp.set_to_date(FormatDay(scope.q.range.last));
    for (const FigureColumn& c : f.columns) {
      resp.add_columns(c.name);
      resp.add_column_titles(FigureHeader(c.name));
    }
    for (v1::FigureRow& r : rows) *resp.add_rows() = std::move(r);
    return absl::OkStatus();
  });
}

grpc::Status StatisticsServiceImpl::QueryAfterSales(grpc::ServerContext* ctx,
                                                    const v1::QueryFiguresRequest* req,
                                                    v1::QueryFiguresResponse* resp) {
  return QueryFamily(ctx, "QueryAfterSales", *req, *resp);
}

grpc::Status StatisticsServiceImpl::QueryAppraisals(grpc::ServerContext* ctx,
                                                    const v1::QueryFiguresRequest* req,
                                                    v1::QueryFiguresResponse* resp) {
  return QueryFamily(ctx, "QueryAppraisals", *req, *resp);
}

grpc::Status StatisticsServiceImpl::QueryEntities(grpc::ServerContext* ctx,
                                                  const v1::QueryFiguresRequest* req,
                                                  v1::QueryFiguresResponse* resp) {
  return QueryFamily(ctx, "QueryEntities", *req, *resp);
}

// Credit figures: validated here (the group is SUBJECT_ROLE or none, and there
// is no market, region or category to filter by), then the period and the
// caller's scope as the other families, except that an OPERATOR sees none and
// the public sees ungrouped months. A public row is suppressed when its
// records of the month come from fewer than 5 distinct subjects, or its
// end-of-month standing counts fewer than 5 subjects (a part with no
// subjects at all reveals nothing and does not suppress).
grpc::Status StatisticsServiceImpl::QueryCredit(grpc::ServerContext* ctx,
                                                const v1::QueryFiguresRequest* req,
                                                v1::QueryFiguresResponse* resp) {
  return server::HandleRpc(env_, ctx, "QueryCredit", *req, [&](const auth::Caller& caller) -> absl::Status {
    Violations v;
    const bool by_role = req->group_by() == v1::SUBJECT_ROLE;
    if (req->group_by() != v1::GROUP_BY_UNSPECIFIED && !by_role) {
      v.Add("group_by", "credit figures are grouped by SUBJECT_ROLE or not at all");
    }
    if (!req->markets().empty()) v.Add("markets", "credit records belong to no market");
    if (!req->region().empty()) v.Add("region", "credit records belong to no region");
    if (req->category() != common::v1::CATEGORY_UNSPECIFIED) {
      v.Add("category", "credit records belong to no category");
    }
    ScopeRequest period = ScopeRequestOf(*req);
    period.group_by = v1::GROUP_BY_UNSPECIFIED;
    period.markets.clear();
    period.region.clear();
    period.category = common::v1::CATEGORY_UNSPECIFIED;
    absl::StatusOr<QueryScope> scope = ResolveScope(caller, period, *store_);
    if (!scope.ok()) v.Merge(scope.status());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    if (!scope.ok()) return scope.status();
    if (caller.HasRole(common::v1::OPERATOR) && !caller.HasRole(common::v1::SUPERVISOR)) {
      return absl::PermissionDeniedError(
          "credit records belong to no market: an OPERATOR sees no credit figures");
    }
    if (scope->is_public && by_role) {
      return absl::PermissionDeniedError("the public sees credit totals only (no group_by)");
    }
    MARKET_ASSIGN_OR_RETURN(CreditRows got, figures_.QueryCredit(scope->q.range, by_role));
    resp->set_from_date(FormatDay(scope->q.range.first));
    resp->set_to_date(FormatDay(scope->q.range.last));
    for (const std::string& c : CreditColumns()) {
      resp->add_columns(c);
      resp->add_column_titles(FigureHeader(c));
    }
    for (v1::FigureRow& r : got.rows) {
      if (scope->is_public) {
        const int64_t record_subjects = got.record_subjects[r.key()];
        const int64_t standing_subjects = got.standing_subjects[r.key()];
        if ((r.values(0) > 0 && record_subjects < kMinPublicSubjects) ||
            (standing_subjects > 0 && standing_subjects < kMinPublicSubjects)) {
          for (int64_t& value : *r.mutable_values()) value = 0;
          r.set_suppressed(true);
        }
      }
      *resp->add_rows() = std::move(r);
    }
    return absl::OkStatus();
  });
}

absl::Status StatisticsServiceImpl::AddListingFigures(const TradeQuery& q, bool is_public,
                                                      std::vector<v1::TradeRow>& rows) {
  MARKET_ASSIGN_OR_RETURN(std::vector<v1::FigureRow> listing,
                          figures_.Query({{"listings_created", C::kSum, "listings_created"},
                                          {"listings_published", C::kSum, "listings_published"},
                                          {"listings_removed", C::kSum, "listings_removed"},
                                          {"median_days_to_sale", C::kMedian, "days_to_sale"},
                                          {"mean_days_to_sale", C::kMean, "days_to_sale"},
                                          {"sellers", C::kDistinct, "active_sellers"}},
                                         q));
  std::map<std::string, v1::TradeRow*> by_key;
  for (v1::TradeRow& r : rows) by_key[r.key()] = &r;
  std::vector<v1::TradeRow> added;
  for (const v1::FigureRow& f : listing) {
    v1::TradeRow* r = by_key[f.key()];
    if (r == nullptr) {
      r = &added.emplace_back();
      r->set_key(f.key());
      // A public cell with listings only: its subjects are the sellers.
      r->set_suppressed(is_public && f.values(5) < kMinPublicSubjects);
    }
    if (r->suppressed()) continue;
    r->set_listings_created(f.values(0));
    r->set_listings_published(f.values(1));
    r->set_listings_removed(f.values(2));
    r->set_median_days_to_sale(f.values(3));
    r->set_mean_days_to_sale(f.values(4));
  }
  if (added.empty()) return absl::OkStatus();
  for (v1::TradeRow& r : added) rows.push_back(std::move(r));
  std::sort(rows.begin(), rows.end(),
            [](const v1::TradeRow& a, const v1::TradeRow& b) { return a.key() < b.key(); });
  return absl::OkStatus();
}

grpc::Status StatisticsServiceImpl::RecordStatsEvent(grpc::ServerContext* ctx,
                                                     const v1::RecordStatsEventRequest* req,
                                                     v1::RecordStatsEventResponse* resp) {
  return server::HandleRpc(env_, ctx, "RecordStatsEvent", *req, [&](const auth::Caller&) {
    if (req->event_id().empty() || req->event_id().size() > 128) {
      return InvalidField("event_id", "required, up to 128 characters");
    }
    if (!req->has_snapshot()) return InvalidField("snapshot", "required");
    MARKET_RETURN_IF_ERROR(ValidateSnapshot(req->snapshot()));
    MARKET_ASSIGN_OR_RETURN(bool applied, figures_.Apply(req->event_id(), req->snapshot()));
    resp->set_applied(applied);
    return absl::OkStatus();
  });
}

}  // namespace market::stats
