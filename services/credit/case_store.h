// Storage of supervision cases in credit.db (tables `cases` and
// `case_events`, migration 3 of the credit store), so that closing a case and
// appending its credit record commit in one transaction. Thread-safe.
#ifndef MARKET_SERVICES_CREDIT_CASE_STORE_H_
#define MARKET_SERVICES_CREDIT_CASE_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/idempotency/idempotency.h"
#include "common/pagination/cursor.h"
#include "market/supervision/v1/supervision.pb.h"
#include "services/credit/sqlite_credit_store.h"

namespace market::credit {

using supervision::v1::Case;

// The tables of the case queue; the credit store's migration 3.
extern const char kCaseSchema[];

// ListCases filter; unset members do not filter.
struct CaseQuery {
  std::optional<Case::Kind> kind;
  std::optional<Case::State> state;
  std::string region_prefix;
  std::string market;
  std::string assignee;
  std::string subject;
  std::optional<bool> overdue;  // against `now` of List()
};

struct CaseHit {
  Case c;
  SearchCursor cursor;  // (create time in µs, name)
};

class CaseStore {
 public:
  // `credit` is not owned and must outlive the store.
  explicit CaseStore(SqliteCreditStore* credit) : credit_(credit) {}

  // Stores the new case `c` (name, create_time, due_time set; state OPEN).
  // A retry with the same request key returns the stored case.
  absl::StatusOr<Case> Create(const Case& c, const RequestKey& key, absl::Time now);

  // RecordCaseEvent in one transaction: the case `event_id` opened before, if
  // any; else, when a case of c's kind about c's resource is not closed, that
  // case with a note of the event added; else `c` stored as new.
  absl::StatusOr<Case> CreateFromEvent(const std::string& event_id, const Case& c,
                                       absl::Time now);

  // NOT_FOUND when there is no such case. etag set.
  absl::StatusOr<Case> Get(const std::string& name);

  // Reads case `name` (NOT_FOUND), lets `change` modify it inside the write
  // transaction (it may append ledger records on the connection with
  // AppendInTransaction) and stores it with a new version. A retry with the
  // same request key returns the stored result without running `change`.
  absl::StatusOr<Case> Update(
      const std::string& name,
      const std::function<absl::Status(sqlite::Connection&, Case&, int64_t version)>& change,
      const RequestKey& key, absl::Time now);

  // Up to `limit` cases matching `q` after `after`, oldest first.
  absl::StatusOr<std::vector<CaseHit>> List(const CaseQuery& q,
                                            const std::optional<SearchCursor>& after, int limit,
                                            absl::Time now);

  SqliteCreditStore* credit() { return credit_; }

 private:
  SqliteCreditStore* credit_;
};

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CASE_STORE_H_
