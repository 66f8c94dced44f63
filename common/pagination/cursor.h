// A keyset-pagination position (the sort key of the last returned row and its
// name, the tie-breaker) and its text form inside a page token. Pure
// functions; thread-safe.
#ifndef MARKET_COMMON_PAGINATION_CURSOR_H_
#define MARKET_COMMON_PAGINATION_CURSOR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace market {

struct SearchCursor {
  int64_t key = 0;
  std::string name;
};

// "key|name"; the inverse of DecodeCursor.
std::string EncodeCursor(const SearchCursor& cursor);

// INVALID_ARGUMENT naming `page_token` unless `position` is "int64|non-empty".
absl::StatusOr<SearchCursor> DecodeCursor(const std::string& position);

}  // namespace market

#endif  // MARKET_COMMON_PAGINATION_CURSOR_H_
