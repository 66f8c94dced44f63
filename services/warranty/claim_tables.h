// warranty.db: the claims table (each row holds the serialized Claim, the
// order snapshot it was filed on and indexed copies of the columns queries
// need), the idempotency table and the outbox of credit events. Row I/O takes
// the Connection of an open Database::Write()/Read(), so the service composes
// a claim change, its credit events and its idempotent response into one
// atomic transaction (the style of services/listing/listing_tables.h). As
// thread-safe as the connection; ClaimDatabase itself is thread-safe.
#ifndef MARKET_SERVICES_WARRANTY_CLAIM_TABLES_H_
#define MARKET_SERVICES_WARRANTY_CLAIM_TABLES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sqlite/connection.h"
#include "common/sqlite/database.h"
#include "market/listing/v1/listing.pb.h"
#include "market/warranty/v1/warranty.pb.h"
#include "common/pagination/cursor.h"

namespace market::warranty {

// Owns warranty.db (SQLite, synchronous=FULL, migrations applied on Open).
class ClaimDatabase {
 public:
  static absl::StatusOr<std::unique_ptr<ClaimDatabase>> Open(const std::string& path);
  sqlite::Database& db() { return *db_; }

 private:
  explicit ClaimDatabase(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  std::unique_ptr<sqlite::Database> db_;
};

// One stored claim.
struct ClaimRow {
  v1::Claim claim;  // etag set from version on load
  int64_t version = 0;
  // The order as it was when the claim was filed (delivery time and mileage,
  // price, category, warranty policy snapshot; none of them change after
  // delivery) and its market's operator then.
  listing::v1::Order order;
  std::string market_operator;
  // The resolve deadline passed without a resolution and was reported.
  bool overdue = false;
  // This unfounded dismissal already counted toward a CLAIM_UNFOUNDED event.
  bool unfounded_counted = false;
};

// Open claims are those still moving toward a result: FILED, ACCEPTED,
// ESCALATED, UPHELD (a REJECTED claim waits for the buyer and does not block
// a new claim).
bool IsOpen(v1::Claim::State state);

// The deadline the scheduler acts on in the claim's current state, if any:
// reply_deadline (FILED), confirm_deadline (ACCEPTED/UPHELD with a recorded,
// unconfirmed resolution), resolve_deadline (ACCEPTED/UPHELD without a
// resolution, until reported overdue).
std::optional<absl::Time> DueTime(const ClaimRow& row);

absl::StatusOr<std::optional<ClaimRow>> LoadClaim(sqlite::Connection& c, const std::string& name);
// Inserts (ALREADY_EXISTS when the name is taken) or updates the row with
// row.version as its new version; returns the claim with its new etag.
absl::StatusOr<v1::Claim> SaveClaim(sqlite::Connection& c, const ClaimRow& row, bool insert);
// Every claim on `order`, oldest first.
absl::StatusOr<std::vector<ClaimRow>> ClaimsOfOrder(sqlite::Connection& c,
                                                    const std::string& order);
// Claims whose DueTime has passed (is before `now`), earliest first.
// FILED claims whose reply deadline is in (now, now + within] and for which
// no outbox event `event_prefix` + name exists yet (the webhook reminder),
// up to `limit`.
absl::StatusOr<std::vector<std::string>> RepliesDueUnreminded(sqlite::Connection& c,
                                                              absl::Time now,
                                                              absl::Duration within,
                                                              const std::string& event_prefix,
                                                              int limit);

absl::StatusOr<std::vector<std::string>> DueClaims(sqlite::Connection& c, absl::Time now,
                                                   int limit);
// Unfounded dismissals of `buyer` ruled after `since` not yet counted toward
// a CLAIM_UNFOUNDED event, oldest first; and marking them counted.
absl::StatusOr<std::vector<std::string>> UncountedUnfounded(sqlite::Connection& c,
                                                            const std::string& buyer,
                                                            absl::Time since);
absl::Status MarkUnfoundedCounted(sqlite::Connection& c, const std::vector<std::string>& names);

// ListClaims filter and order (grammar in warranty.proto).
struct ClaimQuery {
  std::optional<std::string> order;
  std::optional<std::string> market;
  std::optional<std::string> buyer;
  std::optional<std::string> seller;
  std::optional<v1::Claim::State> state;
  std::optional<v1::Claim::Kind> kind;
  std::optional<absl::Time> created_from;    // inclusive
  std::optional<absl::Time> created_before;  // exclusive
  bool ascending = false;
  // Restricts to claims where the subject is buyer, seller or the market's
  // operator; "" = no restriction (supervisors).
  std::string visible_to;
};
// INVALID_ARGUMENT naming `filter` or `order_by`.
absl::StatusOr<ClaimQuery> ParseClaimQuery(const std::string& filter, const std::string& order_by);

struct ClaimHit {
  ClaimRow row;
  SearchCursor cursor;  // (create time in µs, name)
};
absl::StatusOr<std::vector<ClaimHit>> ListClaims(sqlite::Connection& c, const ClaimQuery& q,
                                                 const std::optional<SearchCursor>& after,
                                                 int limit);

}  // namespace market::warranty

#endif  // MARKET_SERVICES_WARRANTY_CLAIM_TABLES_H_
