#include "services/warranty/warranty_module.h"

#include "absl/strings/str_cat.h"
#include "common/config/files.h"
#include "common/status/status.h"

namespace market::warranty {

absl::StatusOr<WarrantyModule> OpenWarrantyModule(
    const std::string& data_dir, const Clock* clock, OrderLookup orders,
    std::shared_ptr<const auth::TokenVerifier> verifier,
    std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics) {
  std::string secrets = absl::StrCat(data_dir, "/warranty");
  MARKET_RETURN_IF_ERROR(config::EnsureDir(secrets));
  WarrantyDeps deps{.clock = clock,
                    .orders = std::move(orders),
                    .verifier = std::move(verifier),
                    .suspension = std::move(suspension),
                    .metrics = metrics};
  MARKET_ASSIGN_OR_RETURN(deps.page_token_secret,
                          config::LoadOrCreateSecret(secrets + "/page-token-hmac.key", 32));
  WarrantyModule m;
  MARKET_ASSIGN_OR_RETURN(m.store, ClaimDatabase::Open(data_dir + "/warranty.db"));
  m.db = &m.store->db();
  deps.db = m.db;
  MARKET_ASSIGN_OR_RETURN(m.service, WarrantyServiceImpl::Create(std::move(deps)));
  m.retention = std::make_unique<retention::TablePurger>(
      "warranty", m.db, clock, retention::Tables{.outbox = true, .idempotency = true});
  if (metrics != nullptr) m.retention->ExportMetrics(metrics);
  return m;
}

}  // namespace market::warranty
