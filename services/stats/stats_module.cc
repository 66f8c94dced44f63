#include "services/stats/stats_module.h"

#include <utility>

#include "common/status/status.h"

namespace market::stats {

absl::StatusOr<StatsModule> OpenStatsModule(const std::string& data_dir, const Clock* clock,
                                            std::shared_ptr<const auth::TokenVerifier> verifier,
                                            std::shared_ptr<auth::SuspensionChecker> suspension,
                                            server::Metrics* metrics) {
  StatsModule m;
  MARKET_ASSIGN_OR_RETURN(m.store, StatsStore::Open(data_dir + "/stats.db"));
  MARKET_ASSIGN_OR_RETURN(m.service,
                          StatisticsServiceImpl::Create(m.store.get(), clock, std::move(verifier),
                                                        std::move(suspension), metrics));
  return m;
}

}  // namespace market::stats
