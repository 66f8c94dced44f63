#include "common/idempotency/idempotency.h"

#include <optional>
#include <string>

#include "common/sqlite/statement.h"
#include "common/status/status.h"

namespace market {

absl::StatusOr<std::optional<std::string>> LookupResponse(sqlite::Connection& connection,
                                                          absl::string_view method,
                                                          absl::string_view caller,
                                                          absl::string_view request_id) {
  MARKET_ASSIGN_OR_RETURN(sqlite::Statement select,
                          connection.Prepare("SELECT response FROM idempotency "
                                             "WHERE method = ? AND caller = ? AND request_id = ?"));
  MARKET_RETURN_IF_ERROR(select.BindText(1, method));
  MARKET_RETURN_IF_ERROR(select.BindText(2, caller));
  MARKET_RETURN_IF_ERROR(select.BindText(3, request_id));
  MARKET_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::nullopt;
  return select.ColumnBlob(0);
}

absl::Status StoreResponse(sqlite::Connection& connection, absl::string_view method,
                           absl::string_view caller, absl::string_view request_id,
                           absl::string_view serialized_response, absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(
      sqlite::Statement insert,
      connection.Prepare("INSERT INTO idempotency(method, caller, request_id, response, "
                         "create_time) VALUES (?, ?, ?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(insert.BindText(1, method));
  MARKET_RETURN_IF_ERROR(insert.BindText(2, caller));
  MARKET_RETURN_IF_ERROR(insert.BindText(3, request_id));
  MARKET_RETURN_IF_ERROR(insert.BindBlob(4, serialized_response));
  MARKET_RETURN_IF_ERROR(insert.Bind(5, absl::ToUnixMicros(now)));
  return insert.Run();
}

absl::StatusOr<int64_t> PurgeOlderThan(sqlite::Connection& connection, absl::Time cutoff) {
  MARKET_ASSIGN_OR_RETURN(sqlite::Statement purge,
                          connection.Prepare("DELETE FROM idempotency WHERE create_time < ?"));
  MARKET_RETURN_IF_ERROR(purge.Bind(1, absl::ToUnixMicros(cutoff)));
  MARKET_RETURN_IF_ERROR(purge.Run());
  return connection.Changes();
}

}  // namespace market
