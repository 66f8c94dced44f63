// Wires the appraisal service over its data dir: appraisal.db, the grading
// schemes (built-in plus `data_dir`/appraisal/schemes/*.json) and the
// page-token secret (`data_dir`/appraisal/, mode 0600); certificates' verify
// URLs start with `public_base_url` (INVALID_ARGUMENT unless an http(s) URL). Used by marketd and
// market-appraisal.
#ifndef MARKET_SERVICES_APPRAISAL_APPRAISAL_MODULE_H_
#define MARKET_SERVICES_APPRAISAL_APPRAISAL_MODULE_H_

#include <memory>
#include <string>

#include "common/auth/jwt.h"
#include "common/auth/suspension.h"
#include "common/clock/clock.h"
#include "common/retention/retention.h"
#include "common/server/metrics.h"
#include "common/sqlite/database.h"
#include "services/appraisal/appraisal_database.h"
#include "services/appraisal/appraisal_service.h"
#include "services/appraisal/certificate.h"
#include "services/appraisal/verify_http.h"  // AddVerifyHttpRoute, for the binaries

namespace market::appraisal {

struct AppraisalModule {
  std::unique_ptr<AppraisalDatabase> store;
  std::unique_ptr<AppraisalServiceImpl> service;
  sqlite::Database* db = nullptr;  // store->db(): for the outbox relay
  // Purges request ids (and delivered outbox events, where the database has
  // an outbox) past their retention; gauges registered. Started by the binary.
  std::unique_ptr<retention::TablePurger> retention;
};

// The folder of additional grading schemes under `data_dir`.
std::string SchemesDir(const std::string& data_dir);

absl::StatusOr<AppraisalModule> OpenAppraisalModule(
    const std::string& data_dir, const Clock* clock, SubjectLookup subjects, ListingParties parties,
    std::shared_ptr<const auth::TokenVerifier> verifier,
    std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics,
    const std::string& public_base_url = kDefaultPublicBaseUrl,
    ledger::CreditStandingLookup credit = nullptr);

}  // namespace market::appraisal

#endif  // MARKET_SERVICES_APPRAISAL_APPRAISAL_MODULE_H_
