#include "services/stats/stats_service.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace market::stats {

namespace {

constexpr char kService[] = "market.stats.v1.StatisticsService";

bool ValidRegionPrefix(const std::string& r) {
  if (r.size() != 2 && r.size() != 4 && r.size() != 6) return false;
  for (char ch : r) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(ch))) return false;
  }
  return true;
}

bool ValidMarketName(const std::string& m) {
  if (!absl::StartsWith(m, "markets/") || m.size() == 8 || m.size() > 200) return false;
  return m.find_first_of("/,", 8) == std::string::npos;
}

}  // namespace

std::vector<auth::RpcPolicy> StatsPolicies() {
  using common::v1::SERVICE;
  using common::v1::SUPERVISOR;
  return {
      // Role-dependent scope, decided in QueryTrade.
      {.method = "QueryTrade", .public_access = true},
      {.method = "RecordTradeEvent", .roles = {SERVICE}},
      {.method = "RebuildTrade", .roles = {SUPERVISOR}},
      // Role-dependent scope as QueryTrade (figures_service.cc).
      {.method = "QueryAfterSales", .public_access = true},
      {.method = "QueryAppraisals", .public_access = true},
      {.method = "QueryEntities", .public_access = true},
      // Not implemented on this branch yet (UNIMPLEMENTED); public like the others.
      {.method = "QueryCredit", .public_access = true},
      {.method = "RecordStatsEvent", .roles = {SERVICE}},
  };
}

absl::StatusOr<std::unique_ptr<StatisticsServiceImpl>> StatisticsServiceImpl::Create(
    StatsStore* store, const Clock* clock, std::shared_ptr<const auth::TokenVerifier> verifier,
    std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics) {
  std::unique_ptr<StatisticsServiceImpl> s(new StatisticsServiceImpl(store));
  MARKET_ASSIGN_OR_RETURN(
      s->authorizer_,
      auth::Authorizer::Create(
          v1::TradeRow::descriptor()->file()->FindServiceByName("StatisticsService"),
          StatsPolicies(), std::move(verifier), std::move(suspension), clock));
  s->env_ = server::RpcEnv{kService, s->authorizer_.get(), metrics};
  return s;
}

absl::StatusOr<QueryScope> ResolveScope(const auth::Caller& caller, const ScopeRequest& req,
                                        StatsStore& store) {
  Violations v;
  absl::StatusOr<DayRange> range = ResolvePeriod(req.period, req.from_date, req.to_date);
  if (!range.ok() && !v.Merge(range.status())) return range.status();
  if (!v1::GroupBy_IsValid(req.group_by)) v.Add("group_by", "unknown value");
  if (!common::v1::Category_IsValid(req.category)) v.Add("category", "unknown value");
  if (!req.region.empty() && !ValidRegionPrefix(req.region)) {
    v.Add("region", "want a 2-, 4- or 6-digit region code prefix");
  }
  for (size_t i = 0; i < req.markets.size(); ++i) {
    if (!ValidMarketName(req.markets[i])) {
      v.Add(absl::StrCat("markets[", i, "]"), "want markets/{market}");
    }
  }
  MARKET_RETURN_IF_ERROR(v.ToStatus());
  QueryScope scope;
  TradeQuery& q = scope.q;
  q = TradeQuery{.range = *range,
                 .group_by = req.group_by,
                 .markets = req.markets,
                 .region = req.region,
                 .category = req.category};
  const bool supervisor = caller.HasRole(common::v1::SUPERVISOR);
  const bool operator_ = caller.HasRole(common::v1::OPERATOR);
  const bool is_public = !supervisor && !operator_;
  scope.is_public = is_public;
  if (operator_ && !supervisor) {
    MARKET_ASSIGN_OR_RETURN(std::set<std::string> own, store.MarketsOfOperator(caller.subject));
    for (const std::string& m : q.markets) {
      if (!own.contains(m)) {
        return absl::PermissionDeniedError(
            absl::StrCat(caller.subject, " does not operate ", m));
      }
    }
    if (q.markets.empty()) {
      q.markets.assign(own.begin(), own.end());
      // No market with trades yet: nothing to show (an empty filter means all).
      if (q.markets.empty()) q.markets.push_back("markets/-");
    }
  }
  if (is_public) {
    if (req.period != v1::MONTH) {
      return absl::PermissionDeniedError("the public sees monthly figures only (period MONTH)");
    }
    if (req.group_by != v1::CATEGORY && req.group_by != v1::GROUP_BY_UNSPECIFIED) {
      return absl::PermissionDeniedError("the public sees figures grouped by category only");
    }
    if (!req.markets.empty() || (!req.region.empty() && req.region.size() != 6)) {
      return absl::PermissionDeniedError(
          "the public sees county-level figures only (region of 6 digits, no market)");
    }
  }
  return scope;
}

absl::Status StatisticsServiceImpl::Query(const auth::Caller& caller,
                                          const v1::QueryTradeRequest& req,
                                          v1::QueryTradeResponse& resp) {
  MARKET_ASSIGN_OR_RETURN(QueryScope scope, ResolveScope(caller, ScopeRequestOf(req), *store_));
  const TradeQuery& q = scope.q;
  const DayRange* range = &q.range;
  const bool is_public = scope.is_public;
  MARKET_ASSIGN_OR_RETURN(std::vector<v1::TradeRow> rows, store_->QueryTrade(q));
  if (is_public) {
    MARKET_ASSIGN_OR_RETURN(auto parties,
                            store_->DistinctParties(MonthOfDay(range->first), q.group_by, q.region));
    for (v1::TradeRow& r : rows) {
      auto it = parties.find(r.key());
      if (it == parties.end() || it->second < kMinPublicSubjects) {
        std::string key = r.key();
        r.Clear();
        r.set_key(key);
        r.set_suppressed(true);
      }
    }
  }
  MARKET_RETURN_IF_ERROR(AddListingFigures(q, is_public, rows));
  resp.set_from_date(FormatDay(range->first));
  resp.set_to_date(FormatDay(range->last));
  for (v1::TradeRow& r : rows) *resp.add_rows() = std::move(r);
  return absl::OkStatus();
}

grpc::Status StatisticsServiceImpl::QueryTrade(grpc::ServerContext* ctx,
                                               const v1::QueryTradeRequest* req,
                                               v1::QueryTradeResponse* resp) {
  return server::HandleRpc(env_, ctx, "QueryTrade", *req, [&](const auth::Caller& caller) {
    return Query(caller, *req, *resp);
  });
}

grpc::Status StatisticsServiceImpl::RecordTradeEvent(grpc::ServerContext* ctx,
                                                     const v1::RecordTradeEventRequest* req,
                                                     v1::RecordTradeEventResponse* resp) {
  return server::HandleRpc(env_, ctx, "RecordTradeEvent", *req, [&](const auth::Caller&) {
    if (req->event_id().empty() || req->event_id().size() > 128) {
      return InvalidField("event_id", "required, up to 128 characters");
    }
    if (!req->has_event()) return InvalidField("event", "required");
    MARKET_ASSIGN_OR_RETURN(bool applied, store_->ApplyTradeEvent(req->event_id(), req->event()));
    resp->set_applied(applied);
    return absl::OkStatus();
  });
}

grpc::Status StatisticsServiceImpl::RebuildTrade(grpc::ServerContext* ctx,
                                                 const v1::RebuildTradeRequest* req,
                                                 v1::RebuildTradeResponse* resp) {
  return server::HandleRpc(env_, ctx, "RebuildTrade", *req, [&](const auth::Caller&) {
    MARKET_ASSIGN_OR_RETURN(*resp, store_->RebuildTrade(req->repair()));
    MARKET_RETURN_IF_ERROR(figures_.Rebuild(req->repair(), *resp));
    return absl::OkStatus();
  });
}

}  // namespace market::stats
