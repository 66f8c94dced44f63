// Wires the warranty service over its data dir: DATA_DIR/warranty.db and the
// page-token secret DATA_DIR/warranty/page-token-hmac.key (created on first
// start, mode 0600). Orders come from the listing service through `orders`.
// Used by marketd and market-warranty; the caller relays the outbox of `db`
// (credit events, destination credit::kCreditDestination) and starts the
// deadline scheduler (service->StartScheduler).
#ifndef MARKET_SERVICES_WARRANTY_WARRANTY_MODULE_H_
#define MARKET_SERVICES_WARRANTY_WARRANTY_MODULE_H_

#include <memory>
#include <string>

#include "common/auth/jwt.h"
#include "common/auth/suspension.h"
#include "common/clock/clock.h"
#include "common/retention/retention.h"
#include "common/server/metrics.h"
#include "services/warranty/claim_tables.h"
#include "services/warranty/warranty_service.h"

namespace market::warranty {

struct WarrantyModule {
  std::unique_ptr<ClaimDatabase> store;
  std::unique_ptr<WarrantyServiceImpl> service;
  sqlite::Database* db = nullptr;  // store->db(), for the outbox relay
  // Purges request ids (and delivered outbox events, where the database has
  // an outbox) past their retention; gauges registered. Started by the binary.
  std::unique_ptr<retention::TablePurger> retention;
};

absl::StatusOr<WarrantyModule> OpenWarrantyModule(
    const std::string& data_dir, const Clock* clock, OrderLookup orders,
    std::shared_ptr<const auth::TokenVerifier> verifier,
    std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics);

}  // namespace market::warranty

#endif  // MARKET_SERVICES_WARRANTY_WARRANTY_MODULE_H_
