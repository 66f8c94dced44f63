// A keyset-pagination position (the sort key of the last returned row and its
// name, the tie-breaker) and its text form inside a page token. Pure
// functions; thread-safe.
#ifndef MARKET_COMMON_PAGINATION_CURSOR_H_
#define MARKET_COMMON_PAGINATION_CURSOR_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sqlite/statement.h"

namespace market {

struct SearchCursor {
  int64_t key = 0;
  std::string name;
};

// "key|name"; the inverse of DecodeCursor.
std::string EncodeCursor(const SearchCursor& cursor);

// INVALID_ARGUMENT naming `page_token` unless `position` is "int64|non-empty".
absl::StatusOr<SearchCursor> DecodeCursor(const std::string& position);

// Binds the keyset parameters of a page query: :after_key and :after_name
// when `after` is set (the SQL names them only then) and :limit. Errors: those
// of Statement::Bind.
absl::Status BindKeysetPage(sqlite::Statement& st, const std::optional<SearchCursor>& after,
                            int limit);

}  // namespace market

#endif  // MARKET_COMMON_PAGINATION_CURSOR_H_
