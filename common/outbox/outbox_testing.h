// Test-only helpers that read a service's outbox table (common/outbox) the
// way its relay would: the pending rows in order, and the pending payloads to
// one destination parsed as the request the relay would send. For tests only;
// header-only.
#ifndef MARKET_COMMON_OUTBOX_OUTBOX_TESTING_H_
#define MARKET_COMMON_OUTBOX_OUTBOX_TESTING_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/sqlite/connection.h"
#include "common/sqlite/database.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace market::outbox::testing {

// One row of the outbox table.
struct OutboxRow {
  std::string event_id;
  std::string destination;
  std::string payload;
};

// The undelivered rows of `db`'s outbox, oldest first; only those to
// `destination` unless it is empty. A failed read fails the current test.
inline std::vector<OutboxRow> PendingRows(sqlite::Database& db,
                                          const std::string& destination = "") {
  std::vector<OutboxRow> out;
  EXPECT_OK(db.Read([&](sqlite::Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(
        sqlite::Statement st,
        c.Prepare("SELECT event_id, destination, payload FROM outbox "
                  "WHERE delivered_time IS NULL AND (?1 = '' OR destination = ?1) ORDER BY id"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, destination));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) return absl::OkStatus();
      out.push_back({st.ColumnText(0), st.ColumnText(1), st.ColumnBlob(2)});
    }
  }));
  return out;
}

// The undelivered payloads to `destination`, oldest first, each parsed as
// `Request` (the message the relay sends there). A payload that does not
// parse fails the current test.
template <typename Request>
std::vector<Request> PendingRequests(sqlite::Database& db, const std::string& destination) {
  std::vector<Request> out;
  for (const OutboxRow& row : PendingRows(db, destination)) {
    EXPECT_TRUE(out.emplace_back().ParseFromString(row.payload)) << row.event_id;
  }
  return out;
}

}  // namespace market::outbox::testing

#endif  // MARKET_COMMON_OUTBOX_OUTBOX_TESTING_H_
