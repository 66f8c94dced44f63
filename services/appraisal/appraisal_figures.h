// Appraisal reports and disputes as snapshots for the statistics ledger
// (appraisal figures per firm and category): written to appraisal's outbox by
// SaveAppraisal/SaveDispute in the same transaction as every change
// (stats_events.h).
#ifndef MARKET_SERVICES_APPRAISAL_APPRAISAL_FIGURES_H_
#define MARKET_SERVICES_APPRAISAL_APPRAISAL_FIGURES_H_

#include <cstdint>

#include "absl/status/status.h"
#include "common/sqlite/connection.h"
#include "market/appraisal/v1/appraisal.pb.h"

namespace market::appraisal {

// The report `a` at `version`: firm and category from its content.
absl::Status EnqueueAppraisalFigures(sqlite::Connection& c, const v1::Appraisal& a,
                                     int64_t version);
// The dispute `d` at `version`, with its report's firm and category (read in
// the same transaction); overturned when UPHELD.
absl::Status EnqueueDisputeFigures(sqlite::Connection& c, const v1::Dispute& d, int64_t version);

}  // namespace market::appraisal

#endif  // MARKET_SERVICES_APPRAISAL_APPRAISAL_FIGURES_H_
