#include "services/appraisal/appraisal_module.h"

#include "absl/strings/str_cat.h"
#include "common/config/files.h"
#include "common/status/status.h"
#include "services/appraisal/grading_schemes.h"

namespace market::appraisal {

std::string SchemesDir(const std::string& data_dir) {
  return absl::StrCat(data_dir, "/appraisal/schemes");
}

absl::StatusOr<AppraisalModule> OpenAppraisalModule(
    const std::string& data_dir, const Clock* clock, SubjectLookup subjects, ListingParties parties,
    std::shared_ptr<const auth::TokenVerifier> verifier,
    std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics,
    const std::string& public_base_url, ledger::CreditStandingLookup credit) {
  std::string secrets = absl::StrCat(data_dir, "/appraisal");
  MARKET_RETURN_IF_ERROR(config::EnsureDir(secrets));
  MARKET_ASSIGN_OR_RETURN(std::vector<SchemeDefinition> schemes, LoadSchemes(SchemesDir(data_dir)));
  AppraisalModule m;
  MARKET_ASSIGN_OR_RETURN(m.store, AppraisalDatabase::Open(data_dir + "/appraisal.db", schemes));
  m.db = &m.store->db();
  AppraisalDeps deps;
  deps.db = m.db;
  deps.clock = clock;
  deps.subjects = std::move(subjects);
  deps.parties = std::move(parties);
  MARKET_ASSIGN_OR_RETURN(deps.page_token_secret,
                          config::LoadOrCreateSecret(secrets + "/page-token-hmac.key", 32));
  deps.verifier = std::move(verifier);
  deps.suspension = std::move(suspension);
  deps.metrics = metrics;
  MARKET_ASSIGN_OR_RETURN(deps.public_base_url, NormalizePublicBaseUrl(public_base_url));
  deps.credit = std::move(credit);
  MARKET_ASSIGN_OR_RETURN(m.service, AppraisalServiceImpl::Create(std::move(deps)));
  m.retention = std::make_unique<retention::TablePurger>(
      "appraisal", m.db, clock, retention::Tables{.outbox = true, .idempotency = true});
  if (metrics != nullptr) m.retention->ExportMetrics(metrics);
  return m;
}

}  // namespace market::appraisal
