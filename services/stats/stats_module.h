// Wires the statistics service over DATA_DIR/stats.db. Used by marketd, which
// relays listing's order events (stats_events.h) to it.
#ifndef MARKET_SERVICES_STATS_STATS_MODULE_H_
#define MARKET_SERVICES_STATS_STATS_MODULE_H_

#include <memory>
#include <string>

#include "common/auth/jwt.h"
#include "common/auth/suspension.h"
#include "common/clock/clock.h"
#include "common/server/metrics.h"
#include "services/stats/export_http.h"  // AddStatsExportRoute, for the binaries
#include "services/stats/stats_service.h"
#include "services/stats/stats_store.h"

namespace market::stats {

struct StatsModule {
  std::unique_ptr<StatsStore> store;
  std::unique_ptr<StatisticsServiceImpl> service;
};

absl::StatusOr<StatsModule> OpenStatsModule(const std::string& data_dir, const Clock* clock,
                                            std::shared_ptr<const auth::TokenVerifier> verifier,
                                            std::shared_ptr<auth::SuspensionChecker> suspension,
                                            server::Metrics* metrics);

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_STATS_MODULE_H_
