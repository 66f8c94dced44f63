// A claim's snapshot for the statistics ledger (after-sales figures): written
// to warranty's outbox by SaveClaim in the same transaction as every change
// (stats_events.h). Pure.
#ifndef MARKET_SERVICES_WARRANTY_CLAIM_FIGURES_H_
#define MARKET_SERVICES_WARRANTY_CLAIM_FIGURES_H_

#include "market/stats/v1/stats.pb.h"
#include "services/warranty/claim_tables.h"

namespace market::warranty {

// The claim of `row` as stats.v1.FigureSnapshot (version: the row version).
stats::v1::FigureSnapshot ClaimFigures(const ClaimRow& row);

}  // namespace market::warranty

#endif  // MARKET_SERVICES_WARRANTY_CLAIM_FIGURES_H_
