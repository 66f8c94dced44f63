// Credit figures (QueryCredit) in stats.db, kept from the credit ledger's
// snapshots (stats.v1.CreditRecordSnapshot, CreditStandingSnapshot):
//   credit_daily(day, metric, role)      n: records appended that day, by
//     "records", tier ("serious_records") and type ("records_fraud_confirmed")
//   credit_deltas(day, metric, role)     n: the change that day of the subjects
//     per level ("subjects_level_a"), "blacklisted", "redlisted" and
//     "subjects" (every subject with a standing), so the figure at the end of
//     day D is the sum of the deltas of days <= D
//   credit_parties(month, role, subject) n: records of the subject that month
//     (role "" also holds every role), and credit_party_counts(month, role)
//     the distinct subjects among them, for the public suppression rule
// A standing snapshot says the subject's standing from its time on, as
// segments. Every version is kept (credit_standings); version v is in force
// from its time to the time of the next stored version, so a newer one takes
// back the older one's deltas from its own time on, and a late older one fills
// its place in the history (snapshot times grow with versions: the ledger
// appends in order). Queries read counter rows only: O(days × metrics × roles),
// never records or subjects. Used by FiguresStore inside its transactions.
#ifndef MARKET_SERVICES_STATS_CREDIT_FIGURES_H_
#define MARKET_SERVICES_STATS_CREDIT_FIGURES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sqlite/connection.h"
#include "market/stats/v1/stats.pb.h"
#include "services/stats/stats_period.h"

namespace market::stats {

// The stats.db migration that creates the credit tables.
extern const char kCreditFiguresSchema[];

enum class CreditTable {
  kDaily,    // credit_daily
  kDeltas,   // credit_deltas
  kParties,  // credit_parties (day holds the month number, metric is "")
};

struct CreditCell {
  CreditTable table = CreditTable::kDaily;
  int64_t day = 0;
  std::string metric, role, subject;

  auto Key() const { return std::tie(table, day, metric, role, subject); }
  bool operator<(const CreditCell& o) const { return Key() < o.Key(); }
};
using CreditDelta = std::map<CreditCell, int64_t>;

// QueryCredit's columns, in order (stats.proto, QueryFiguresResponse).
const std::vector<std::string>& CreditColumns();

// INVALID_ARGUMENT naming the field (snapshot.credit_record.* /
// snapshot.credit_standing.*); OK for other states.
absl::Status ValidateCreditSnapshot(const v1::FigureSnapshot& s);

// Adds `sign` × the cells of a record snapshot to `delta`.
void AddRecordCells(const v1::FigureSnapshot& s, int sign, CreditDelta& delta);
// Adds `sign` × the cells of standing snapshot `s` in force from its time
// until `until` (none: open-ended) to `delta`.
void AddStandingCells(const v1::FigureSnapshot& s, std::optional<absl::Time> until, int sign,
                      CreditDelta& delta);

// Adds `delta` to the credit counters (rows reaching 0 are deleted; party
// counts follow the presence rows).
absl::Status ApplyCreditDelta(sqlite::Connection& c, const CreditDelta& delta);

// Stores standing snapshot `s` (valid) in its subject's history and moves the
// counters; false when that version is stored already.
absl::StatusOr<bool> ApplyStanding(sqlite::Connection& c, const v1::FigureSnapshot& s);

// One credit row per key ("" or the role name with `by_role`), values in
// CreditColumns() order, rows whose values are all 0 left out.
struct CreditRows {
  std::vector<v1::FigureRow> rows;
  // Per key: distinct subjects with records in the month of range.first, and
  // subjects with a standing at the end of the range.
  std::map<std::string, int64_t> record_subjects, standing_subjects;
};
absl::StatusOr<CreditRows> QueryCreditRows(sqlite::Connection& c, DayRange range, bool by_role);

// Recomputes the credit counters from the stored record snapshots
// (figure_entities) and standings, adding every difference to `resp`; with
// `repair` replaces them.
absl::Status RebuildCredit(sqlite::Connection& c, bool repair, v1::RebuildTradeResponse& resp);

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_CREDIT_FIGURES_H_
