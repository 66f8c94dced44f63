// Wires the listing services (markets, listings, orders, items) over
// `data_dir`/listing.db, the photo folder and the page-token secret
// (`data_dir`/listing/, mode 0600). Used by marketd and market-listing so both
// start them the same way.
#ifndef MARKET_SERVICES_LISTING_LISTING_MODULE_H_
#define MARKET_SERVICES_LISTING_LISTING_MODULE_H_

#include <memory>
#include <string>

#include "common/auth/jwt.h"
#include "common/auth/suspension.h"
#include "common/clock/clock.h"
#include "common/retention/retention.h"
#include "common/server/metrics.h"
#include "common/sqlite/database.h"
#include "services/listing/credit_lists.h"
#include "services/listing/listing_service.h"
#include "services/listing/market_service.h"
#include "services/listing/photo_http.h"  // AddPhotoHttpRoutes, for the binaries
#include "services/listing/sqlite_market_store.h"

namespace market::listing {

struct ListingModule {
  std::unique_ptr<SqliteMarketStore> store;
  std::unique_ptr<MarketServiceImpl> markets;
  std::unique_ptr<ListingServiceImpl> listings;
  std::unique_ptr<OrderServiceImpl> orders;
  std::unique_ptr<ItemServiceImpl> items;
  sqlite::Database* db = nullptr;  // store->db(): for the outbox relay
  // Purges request ids (and delivered outbox events, where the database has
  // an outbox) past their retention; gauges registered. Started by the binary.
  std::unique_ptr<retention::TablePurger> retention;
  // The black/red list copy behind search (credit_lists.h); null without a
  // `lists`. Started by the binary.
  std::unique_ptr<CreditListMirror> credit_lists;
};

// Opens the listing services; `subjects` answers identity look-ups (an
// identity::IdentityClient in both deployments); `standing` and `lists` ask
// the credit service (a credit::CreditClient in both deployments; unset: no
// credit restrictions and no list copy).
absl::StatusOr<ListingModule> OpenListingModule(const std::string& data_dir, const Clock* clock,
                                                SubjectLookup subjects,
                                                std::shared_ptr<const auth::TokenVerifier> verifier,
                                                std::shared_ptr<auth::SuspensionChecker> suspension,
                                                server::Metrics* metrics,
                                                ledger::CreditStandingLookup standing = nullptr,
                                                credit::CreditListSource lists = nullptr,
                                                credit::CreditStandingsLookup standings = nullptr);

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_LISTING_MODULE_H_
