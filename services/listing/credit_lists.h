// The listing service's copy of the credit black and red lists (table
// credit_lists in listing.db), so SearchListings leaves out blacklisted
// sellers and offers the 诚信商户 facet and badge as indexed SQL, never asking
// the credit service per row (restriction-policy-v1, docs/restriction-policy-v1.md
// §3). A CreditListMirror replaces the copy from CreditService.ListBlacklist /
// ListRedlist every period. Every row keeps the list's `until` (the end of the
// blacklisting record's display period), and queries compare it with the
// clock, so expiry lifts a restriction at once; a repair, a withdrawal or a
// new listing shows after at most one refresh period. Write paths never use
// the copy: they ask credit (credit::CreditClient) at the moment of the
// action. Thread-safe.
#ifndef MARKET_SERVICES_LISTING_CREDIT_LISTS_H_
#define MARKET_SERVICES_LISTING_CREDIT_LISTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/server/periodic.h"
#include "common/sqlite/connection.h"
#include "common/sqlite/database.h"
#include "services/credit/credit_client.h"

namespace market::listing {

// Migration 4 of listing.db: credit_lists(subject, list, record, until_us),
// primary key (subject, list); list 1 = black, 2 = red.
const std::string& CreditListsMigration();

enum class CreditList : int { kBlack = 1, kRed = 2 };

struct CreditListRow {
  std::string subject;
  CreditList list = CreditList::kBlack;
  std::string record;  // ledgers/main/records/{index}
  absl::Time until;
};

// Replaces the whole copy with `rows` in one transaction.
absl::Status ReplaceCreditLists(sqlite::Database& db, const std::vector<CreditListRow>& rows);

// Whether `seller` is on the red list copy at `now` (the badge of a listing).
absl::StatusOr<bool> OnRedList(sqlite::Connection& c, const std::string& seller, absl::Time now);

// Refreshes the copy from the credit service every period.
class CreditListMirror {
 public:
  CreditListMirror(sqlite::Database* db, credit::CreditListSource lists)
      : db_(db), lists_(std::move(lists)) {}

  // Reads both lists and replaces the copy; returns how many rows it holds.
  // The credit service's error (UNAVAILABLE) leaves the old copy in place.
  absl::StatusOr<int> RefreshOnce();
  void Start(absl::Duration period) { job_.Start(period); }
  void Stop() { job_.Stop(); }
  // For tests: waits for `count` scheduled refreshes.
  bool AwaitRuns(int64_t count, absl::Duration timeout) const {
    return job_.AwaitRuns(count, timeout);
  }
  int64_t runs() const { return job_.runs(); }

 private:
  sqlite::Database* db_;
  credit::CreditListSource lists_;
  server::PeriodicJob job_{"credit lists refreshed", [this] { return RefreshOnce(); }};
};

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_CREDIT_LISTS_H_
