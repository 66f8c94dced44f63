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
#include "services/stats/stats_store.h"

namespace market::stats {

// Public cells counting fewer distinct subjects than this are suppressed.
inline constexpr int64_t kMinPublicSubjects = 5;

std::vector<auth::RpcPolicy> StatsPolicies();

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

 private:
  explicit StatisticsServiceImpl(StatsStore* store) : store_(store) {}
  absl::Status Query(const auth::Caller& caller, const v1::QueryTradeRequest& req,
                     v1::QueryTradeResponse& resp);
  StatsStore* store_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
};

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_STATS_SERVICE_H_
