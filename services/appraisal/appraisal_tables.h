// The appraisal.db tables: accreditations, signing keys, appraisals, disputes
// and grading schemes, plus the outbox and idempotency tables. Row I/O runs
// inside a caller's Database::Write()/Read() on its Connection, so the
// service composes a state change, its outbox events and the idempotent
// response into one transaction. As thread-safe as the connection.
#ifndef MARKET_SERVICES_APPRAISAL_APPRAISAL_TABLES_H_
#define MARKET_SERVICES_APPRAISAL_APPRAISAL_TABLES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sqlite/connection.h"
#include "common/sqlite/database.h"
#include "market/appraisal/v1/appraisal.pb.h"
#include "services/appraisal/grading_schemes.h"

namespace market::appraisal {

// Every migration of appraisal.db, oldest first.
const std::vector<sqlite::Migration>& AppraisalMigrations();

// Parses a filter of `key=value` terms joined by " AND " (values may be
// double-quoted); every key must be in `allowed` and appear once.
// INVALID_ARGUMENT naming `filter` otherwise.
absl::StatusOr<std::map<std::string, std::string>> ParseFilter(
    const std::string& filter, const std::set<std::string>& allowed);

// ---- Accreditations ----
struct AccreditationRow {
  v1::Accreditation accreditation;  // stored state (not derived); etag set
  int64_t version = 0;
  std::optional<absl::Time> ended;  // when it was suspended or revoked
};
absl::StatusOr<std::optional<AccreditationRow>> LoadAccreditation(sqlite::Connection& c,
                                                                  const std::string& name);
// Inserts (version 1; ALREADY_EXISTS when the name is taken) or updates.
// Returns the accreditation with its new etag.
absl::StatusOr<v1::Accreditation> SaveAccreditation(sqlite::Connection& c, v1::Accreditation a,
                                                    std::optional<absl::Time> ended,
                                                    int64_t version, bool insert);
// Every accreditation of `firm` (`firms/{firm}`), in name order.
absl::StatusOr<std::vector<AccreditationRow>> FirmAccreditations(sqlite::Connection& c,
                                                                 const std::string& firm);
struct AccreditationQuery {
  std::string firm;  // "" = every firm
  std::optional<common::v1::Category> category;
  std::optional<v1::Accreditation::State> state;  // derived at `now`
};
absl::StatusOr<std::vector<AccreditationRow>> ListAccreditations(sqlite::Connection& c,
                                                                 const AccreditationQuery& q,
                                                                 absl::Time now,
                                                                 const std::string& after,
                                                                 int limit);

// ---- Signing keys ----
struct KeyRow {
  v1::SigningKey key;  // etag set
  int64_t version = 0;
};
absl::StatusOr<std::optional<KeyRow>> LoadKey(sqlite::Connection& c, const std::string& name);
// As SaveAccreditation; inserting a key whose fingerprint is registered is
// ALREADY_EXISTS too.
absl::StatusOr<v1::SigningKey> SaveKey(sqlite::Connection& c, v1::SigningKey key, int64_t version,
                                       bool insert);
absl::StatusOr<std::vector<KeyRow>> ListKeys(sqlite::Connection& c, const std::string& firm,
                                             std::optional<v1::SigningKey::State> state,
                                             const std::string& after, int limit);

// ---- Appraisals ----
struct AppraisalRow {
  v1::Appraisal appraisal;
  int64_t version = 0;
  int64_t id = 0;  // insertion order
};
absl::StatusOr<std::optional<AppraisalRow>> LoadAppraisal(sqlite::Connection& c,
                                                          const std::string& name);
// The appraisal whose signed_content has this SHA-256 (raw bytes).
absl::StatusOr<std::optional<AppraisalRow>> FindAppraisalByContent(sqlite::Connection& c,
                                                                   const std::string& sha256);
// True when `firm` already filed `report_number`.
absl::StatusOr<bool> ReportNumberTaken(sqlite::Connection& c, const std::string& firm,
                                       const std::string& report_number);
// Inserts (ALREADY_EXISTS when the name is taken) or updates; `appraisal`
// has its content decoded.
absl::Status SaveAppraisal(sqlite::Connection& c, const v1::Appraisal& appraisal, int64_t version,
                           bool insert);
// FILED appraisals of `item`, newest first.
absl::StatusOr<std::vector<AppraisalRow>> FiledOnItem(sqlite::Connection& c,
                                                      const std::string& item);
// The newest appraisal of `item` filed after the row with `id` that is not
// OVERTURNED or REVOKED, if any.
absl::StatusOr<std::optional<std::string>> NewerOnItem(sqlite::Connection& c,
                                                       const std::string& item, int64_t id);
struct AppraisalQuery {
  std::string item, firm, listing;  // "" = any
  std::optional<common::v1::Category> category;
  std::optional<v1::Appraisal::State> state;
};
// Position after a returned appraisal in newest-inspection-first order.
struct AppraisalCursor {
  int64_t inspected_us = 0;
  std::string name;
};
std::string EncodeCursor(const AppraisalCursor& cursor);
absl::StatusOr<AppraisalCursor> DecodeCursor(const std::string& position);
absl::StatusOr<std::vector<AppraisalRow>> ListAppraisals(
    sqlite::Connection& c, const AppraisalQuery& q, const std::optional<AppraisalCursor>& after,
    int limit);

// ---- Disputes ----
struct DisputeRow {
  v1::Dispute dispute;  // etag set
  int64_t version = 0;
  int64_t id = 0;
};
absl::StatusOr<std::optional<DisputeRow>> LoadDispute(sqlite::Connection& c,
                                                      const std::string& name);
absl::StatusOr<v1::Dispute> SaveDispute(sqlite::Connection& c, v1::Dispute dispute, int64_t version,
                                        bool insert);
// OPEN disputes of `appraisal`, optionally only those raised by `raiser`.
absl::StatusOr<int> CountOpenDisputes(sqlite::Connection& c, const std::string& appraisal,
                                      const std::string& raiser = "");
struct DisputeQuery {
  std::string appraisal;  // "" = every appraisal
  std::optional<v1::Dispute::State> state;
  std::string raiser;  // "" = any
};
// Newest first, starting below row id `before` (0 = from the newest).
absl::StatusOr<std::vector<DisputeRow>> ListDisputes(sqlite::Connection& c, const DisputeQuery& q,
                                                     int64_t before, int limit);

// ---- Grading schemes ----
// Stores `def` unless the same (scheme, version) is stored already; a stored
// version with other content is FAILED_PRECONDITION (a published version is
// immutable: publish a new version instead).
absl::Status PutScheme(sqlite::Connection& c, const SchemeDefinition& def);
absl::StatusOr<std::optional<SchemeDefinition>> LoadScheme(sqlite::Connection& c,
                                                           const std::string& scheme, int version);
absl::StatusOr<std::vector<v1::GradingScheme>> ListSchemes(
    sqlite::Connection& c, std::optional<common::v1::Category> category, const std::string& scheme,
    const std::string& after, int limit);

}  // namespace market::appraisal

#endif  // MARKET_SERVICES_APPRAISAL_APPRAISAL_TABLES_H_
