// market.stats.v1.StatisticsService over a StatsStore: validation, the
// access rules (SUPERVISOR all; OPERATOR its own markets; everyone else
// county-level months by category with small cells suppressed) and the
// rebuild check. Opened by stats_module.h.
#ifndef MARKET_SERVICES_STATS_STATS_SERVICE_H_
#define MARKET_SERVICES_STATS_STATS_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/policy.h"
#include "common/clock/clock.h"
#include "common/server/handler.h"
#include "market/stats/v1/stats.grpc.pb.h"
#include "services/stats/figures_store.h"
#include "services/stats/stats_store.h"

namespace market::stats {

// Public cells counting fewer distinct subjects than this are suppressed.
inline constexpr int64_t kMinPublicSubjects = 5;

std::vector<auth::RpcPolicy> StatsPolicies();

// The filters of a QueryTrade or Query{AfterSales,Appraisals,Entities} request.
struct ScopeRequest {
  v1::Period period = v1::PERIOD_UNSPECIFIED;
  std::string from_date, to_date;
  v1::GroupBy group_by = v1::GROUP_BY_UNSPECIFIED;
  std::vector<std::string> markets;
  std::string region;
  common::v1::Category category = common::v1::CATEGORY_UNSPECIFIED;
};
template <typename Request>
ScopeRequest ScopeRequestOf(const Request& r) {
  return ScopeRequest{r.period(),   r.from_date(), r.to_date(),
                      r.group_by(), {r.markets().begin(), r.markets().end()},
                      r.region(),   r.category()};
}

// A validated query and whether the caller is the public (suppression applies).
struct QueryScope {
  TradeQuery q;
  bool is_public = false;
};
// Validates `req` (INVALID_ARGUMENT naming fields; group_by SUBJECT_ROLE is
// for QueryCredit only, which resolves its group itself) and applies the access
// rules: SUPERVISOR all; OPERATOR its own markets (PERMISSION_DENIED for
// another; none given: its own); anyone else MONTH by CATEGORY, county level.
absl::StatusOr<QueryScope> ResolveScope(const auth::Caller& caller, const ScopeRequest& req,
                                        StatsStore& store);

class StatisticsServiceImpl final : public v1::StatisticsService::Service {
 public:
  // `store` is not owned and must outlive the service.
  static absl::StatusOr<std::unique_ptr<StatisticsServiceImpl>> Create(
      StatsStore* store, const Clock* clock, std::shared_ptr<const auth::TokenVerifier> verifier,
      std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics);

  grpc::Status QueryTrade(grpc::ServerContext*, const v1::QueryTradeRequest*,
                          v1::QueryTradeResponse*) override;
  grpc::Status RecordTradeEvent(grpc::ServerContext*, const v1::RecordTradeEventRequest*,
                                v1::RecordTradeEventResponse*) override;
  grpc::Status RebuildTrade(grpc::ServerContext*, const v1::RebuildTradeRequest*,
                            v1::RebuildTradeResponse*) override;
  // figures_service.cc
  grpc::Status QueryAfterSales(grpc::ServerContext*, const v1::QueryFiguresRequest*,
                               v1::QueryFiguresResponse*) override;
  grpc::Status QueryAppraisals(grpc::ServerContext*, const v1::QueryFiguresRequest*,
                               v1::QueryFiguresResponse*) override;
  grpc::Status QueryEntities(grpc::ServerContext*, const v1::QueryFiguresRequest*,
                             v1::QueryFiguresResponse*) override;
  grpc::Status QueryCredit(grpc::ServerContext*, const v1::QueryFiguresRequest*,
                           v1::QueryFiguresResponse*) override;
  grpc::Status RecordStatsEvent(grpc::ServerContext*, const v1::RecordStatsEventRequest*,
                                v1::RecordStatsEventResponse*) override;

 private:
  explicit StatisticsServiceImpl(StatsStore* store) : store_(store), figures_(&store->db()) {}
  absl::Status Query(const auth::Caller& caller, const v1::QueryTradeRequest& req,
                     v1::QueryTradeResponse& resp);
  // figures_service.cc: one figure family's query (`family`: the RPC name).
  grpc::Status QueryFamily(grpc::ServerContext* ctx, const char* family,
                           const v1::QueryFiguresRequest& req, v1::QueryFiguresResponse& resp);
  // Adds the listing figures of QueryTrade's rows (a row per new key).
  absl::Status AddListingFigures(const TradeQuery& q, bool is_public,
                                 std::vector<v1::TradeRow>& rows);
  StatsStore* store_;
  FiguresStore figures_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
};

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_STATS_SERVICE_H_
