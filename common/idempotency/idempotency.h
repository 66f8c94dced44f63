// Idempotent mutations: the first response to (method, caller, request_id) is
// stored in the same transaction as the change it reports, and a retry with
// the same id gets that response back instead of a second change. The
// functions take a Connection and are as thread-safe as it (use them inside
// Database::Write/Read); RunIdempotent is thread-safe.
#ifndef MARKET_COMMON_IDEMPOTENCY_IDEMPOTENCY_H_
#define MARKET_COMMON_IDEMPOTENCY_IDEMPOTENCY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/sqlite/connection.h"
#include "common/sqlite/database.h"
#include "common/status/status.h"

namespace market {

// The table the functions below use; services include it in a migration.
// create_time is in Unix microseconds.
inline constexpr char kIdempotencySchema[] = R"sql(
CREATE TABLE IF NOT EXISTS idempotency(
  method TEXT NOT NULL,
  caller TEXT NOT NULL,
  request_id TEXT NOT NULL,
  response BLOB NOT NULL,
  create_time INTEGER NOT NULL,
  PRIMARY KEY(method, caller, request_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_by_create_time ON idempotency(create_time);
)sql";

// The stored serialized response for (method, caller, request_id), or nullopt
// when none is stored. Errors: those of Statement::Step().
absl::StatusOr<std::optional<std::string>> LookupResponse(sqlite::Connection& connection,
                                                          absl::string_view method,
                                                          absl::string_view caller,
                                                          absl::string_view request_id);

// Stores `serialized_response` for (method, caller, request_id); call it in
// the same Database::Write() function as the change, so both commit or
// neither does. ALREADY_EXISTS when a response is already stored.
absl::Status StoreResponse(sqlite::Connection& connection, absl::string_view method,
                           absl::string_view caller, absl::string_view request_id,
                           absl::string_view serialized_response, absl::Time now);

// Deletes responses stored before `cutoff`; returns how many it deleted.
absl::StatusOr<int64_t> PurgeOlderThan(sqlite::Connection& connection, absl::Time cutoff);

// What makes a mutation idempotent: the RPC, the caller ("" for anonymous)
// and the client's request_id ("" disables replay).
struct RequestKey {
  std::string method;
  std::string caller;
  std::string request_id;
};

// Runs `change` in one db.Write() together with the idempotency bookkeeping:
// with an empty `key.request_id` it just runs `change`; otherwise a stored
// response for the key is parsed and returned without running `change` (a
// replay; *replayed is set when given), else `change` runs and its response
// is stored. An error from `change` stores nothing (a retry runs it again)
// and is returned unchanged; DATA_LOSS when a stored response does not parse.
// Resp is a protobuf message type; name it explicitly: RunIdempotent<Resp>(...).
template <typename Resp>
absl::StatusOr<Resp> RunIdempotent(
    sqlite::Database& db, const RequestKey& key, absl::Time now,
    const std::function<absl::StatusOr<Resp>(sqlite::Connection&)>& change,
    bool* replayed = nullptr) {
  Resp response;
  MARKET_RETURN_IF_ERROR(db.Write([&](sqlite::Connection& connection) -> absl::Status {
    if (!key.request_id.empty()) {
      MARKET_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                              LookupResponse(connection, key.method, key.caller, key.request_id));
      if (stored.has_value()) {
        if (!response.ParseFromString(*stored)) {
          return absl::DataLossError(absl::StrCat("idempotency: stored response for ", key.method,
                                                  " request ", key.request_id, " does not parse"));
        }
        if (replayed != nullptr) *replayed = true;
        return absl::OkStatus();
      }
    }
    MARKET_ASSIGN_OR_RETURN(response, change(connection));
    if (key.request_id.empty()) return absl::OkStatus();
    return StoreResponse(connection, key.method, key.caller, key.request_id,
                         response.SerializeAsString(), now);
  }));
  return response;
}

// RunIdempotent for (method, caller, request_id).
template <typename Resp>
absl::StatusOr<Resp> RunIdempotent(
    sqlite::Database& db, absl::string_view method, absl::string_view caller,
    absl::string_view request_id, absl::Time now,
    const std::function<absl::StatusOr<Resp>(sqlite::Connection&)>& change) {
  return RunIdempotent<Resp>(
      db, RequestKey{std::string(method), std::string(caller), std::string(request_id)}, now,
      change);
}

}  // namespace market

#endif  // MARKET_COMMON_IDEMPOTENCY_IDEMPOTENCY_H_
