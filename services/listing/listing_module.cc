#include "services/listing/listing_module.h"

#include <utility>

#include "common/config/files.h"
#include "common/status/status.h"

namespace market::listing {

absl::StatusOr<ListingModule> OpenListingModule(const std::string& data_dir, const Clock* clock,
                                                SubjectLookup subjects,
                                                std::shared_ptr<const auth::TokenVerifier> verifier,
                                                std::shared_ptr<auth::SuspensionChecker> suspension,
                                                server::Metrics* metrics,
                                                ledger::CreditStandingLookup standing,
                                                credit::CreditListSource lists,
                                                credit::CreditStandingsLookup standings) {
  MARKET_RETURN_IF_ERROR(config::EnsureDir(data_dir + "/listing"));
  MARKET_ASSIGN_OR_RETURN(std::string secret, config::LoadOrCreateSecret(
                                                  data_dir + "/listing/page-token-hmac.key", 32));
  ListingModule m;
  MARKET_ASSIGN_OR_RETURN(m.store, SqliteMarketStore::Open(data_dir + "/listing.db"));
  m.db = &m.store->db();
  MARKET_ASSIGN_OR_RETURN(
      m.markets, MarketServiceImpl::Create(m.store.get(), clock, std::move(subjects), secret,
                                           verifier, suspension, metrics, standing));
  ListingDeps deps{.db = m.db,
                   .clock = clock,
                   .photo_dir = data_dir + "/listing/photos",
                   .page_token_secret = secret,
                   .verifier = std::move(verifier),
                   .suspension = std::move(suspension),
                   .metrics = metrics,
                   .credit = standing,
                   .credit_standings = std::move(standings)};
  MARKET_ASSIGN_OR_RETURN(m.listings, ListingServiceImpl::Create(deps));
  MARKET_ASSIGN_OR_RETURN(m.orders, OrderServiceImpl::Create(deps));
  MARKET_ASSIGN_OR_RETURN(m.items, ItemServiceImpl::Create(deps));
  if (lists) m.credit_lists = std::make_unique<CreditListMirror>(m.db, std::move(lists));
  m.retention = std::make_unique<retention::TablePurger>(
      "listing", m.db, clock, retention::Tables{.outbox = true, .idempotency = true});
  if (metrics != nullptr) m.retention->ExportMetrics(metrics);
  return m;
}

}  // namespace market::listing
