// A listing's snapshot for the statistics ledger (listing and market-entity
// figures): written to listing's outbox by SaveListing in the same
// transaction as every change (stats_events.h).
#ifndef MARKET_SERVICES_LISTING_LISTING_FIGURES_H_
#define MARKET_SERVICES_LISTING_LISTING_FIGURES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/sqlite/connection.h"
#include "market/listing/v1/listing.pb.h"

namespace market::listing {

// What a statistics event says of a market: its region and current operator,
// read from the markets row's columns (no parse of the market); empty when
// the market is absent.
struct MarketFigures {
  std::string region_code;
  std::string market_operator;
};
absl::StatusOr<MarketFigures> LoadMarketFigures(sqlite::Connection& c, const std::string& market);

// Enqueues the snapshot of `l` at `version` (its market's region and
// operator read in the same transaction). A SOLD listing's sold time is its
// update time.
absl::Status EnqueueListingFigures(sqlite::Connection& c, const v1::Listing& l, int64_t version);

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_LISTING_FIGURES_H_
