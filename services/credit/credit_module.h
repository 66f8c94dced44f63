// Wires the credit service over its data dir: credit.db, the ledger's Ed25519
// key (created on first start, mode 0600) and the page-token secret. Used by
// marketd and market-credit.
#ifndef MARKET_SERVICES_CREDIT_CREDIT_MODULE_H_
#define MARKET_SERVICES_CREDIT_CREDIT_MODULE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/auth/jwt.h"
#include "common/auth/suspension.h"
#include "common/clock/clock.h"
#include "common/outbox/outbox.h"
#include "common/retention/retention.h"
#include "common/server/metrics.h"
#include "services/credit/case_service.h"
#include "services/credit/credit_service.h"
#include "services/credit/ledger_http.h"  // AddLedgerHttpRoutes, for the binaries
#include "services/credit/sqlite_credit_store.h"
#include "services/identity/identity_client.h"
#include "services/listing/listing_client.h"  // OrderInfo

namespace market::credit {

// "/v2": leaf format v2 (ledger/leaf.h); a new leaf format gets a new origin.
inline constexpr char kDefaultOrigin[] = "second-hand-market/ledgers/main/v2";

struct CreditModule {
  std::unique_ptr<SqliteCreditStore> store;
  std::unique_ptr<CreditServiceImpl> credit;
  std::unique_ptr<LedgerServiceImpl> ledger;
  // Purges request ids (and delivered outbox events, where the database has
  // an outbox) past their retention; gauges registered. Started by the binary.
  std::unique_ptr<retention::TablePurger> retention;
  // The case queue (market.supervision.v1) in credit.db; set by
  // OpenCaseService.
  std::unique_ptr<CaseStore> case_store;
  std::unique_ptr<CaseServiceImpl> cases;
  // Relays credit.db's outbox (credit_outbox.h); set by OpenCreditRelay,
  // started by the binary.
  std::unique_ptr<outbox::Relay> relay;
};

// Operators of the markets a seller is admitted to
// (listing::ListingClient::OperatorsOfSeller).
using SellerOperators =
    std::function<absl::StatusOr<std::vector<std::string>>(const std::string& seller)>;

// The directory the credit service reads in both deployments: display name and
// affiliation from identity, the operators of the seller's markets from listing.
SubjectDirectory PeerDirectory(identity::SubjectLookup subjects, SellerOperators operators);

absl::StatusOr<CreditModule> OpenCreditModule(const std::string& data_dir, const Clock* clock,
                                              SubjectDirectory directory,
                                              std::shared_ptr<const auth::TokenVerifier> verifier,
                                              std::shared_ptr<auth::SuspensionChecker> suspension,
                                              server::Metrics* metrics,
                                              const std::string& origin = kDefaultOrigin);

// Creates m.relay over credit.db's outbox (not started): stats figures to
// `to_figures` (stats::FiguresDeliverer), list-entry webhook events to
// `to_webhook` (in-process PublishEvent), a seller's entries with the
// operators of its markets as audience (WithSellerOperators). Registers the
// gauges market_credit_outbox_depth and market_credit_outbox_oldest_age_seconds.
// `options.batch` is raised to at least kCreditRelayBatch: every append
// enqueues two or more events, and appends run at thousands per second.
inline constexpr int kCreditRelayBatch = 500;
void OpenCreditRelay(CreditModule& m, const Clock* clock, outbox::Relay::Deliverer to_figures,
                     outbox::Relay::Deliverer to_webhook, SellerOperators operators,
                     server::Metrics* metrics, outbox::RelayOptions options = {});

// What the case queue asks the listing service in both deployments:
// `orders` is ListingClient::GetOrder, `market_region` ListingClient::MarketRegion.
CasePeers ListingCasePeers(
    std::function<absl::StatusOr<std::optional<listing::OrderInfo>>(const std::string&)> orders,
    std::function<absl::StatusOr<std::string>(const std::string&)> market_region);

// Opens the case queue over `m`'s credit.db (m.case_store, m.cases), with
// the page-token secret of the credit service in `data_dir`.
absl::Status OpenCaseService(CreditModule& m, const std::string& data_dir, const Clock* clock,
                             CasePeers peers, std::shared_ptr<const auth::TokenVerifier> verifier,
                             std::shared_ptr<auth::SuspensionChecker> suspension,
                             server::Metrics* metrics);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CREDIT_MODULE_H_
