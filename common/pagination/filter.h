// The filter grammar every List/Search RPC shares: `key OP value` terms joined
// by " AND ", values optionally in double quotes. Each service keeps its own
// keys and value checks. Pure functions; thread-safe.
#ifndef MARKET_COMMON_PAGINATION_FILTER_H_
#define MARKET_COMMON_PAGINATION_FILTER_H_

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace market {

// One term of a filter, e.g. `price>=100` → {"price", ">=", "100"}.
struct FilterTerm {
  std::string key;
  std::string op;     // one of the operators the caller accepts
  std::string value;  // surrounding whitespace and one pair of quotes removed
  std::string text;   // the term as written (whitespace-stripped), for messages
};

// Splits `filter` into terms; a blank filter has none. `ops` are the accepted
// operators among =, !=, >=, <=, >, <. INVALID_ARGUMENT naming `filter`:
// "cannot parse term \"T\"; <want>" for a term without key or operator,
// "unknown operator \"OP\" in \"T\"" for an operator not in `ops`.
absl::StatusOr<std::vector<FilterTerm>> ParseFilterTerms(
    absl::string_view filter, absl::string_view want,
    std::initializer_list<absl::string_view> ops = {"="});

// INVALID_ARGUMENT naming `filter`: "cannot use \"<key><op><value>\"; <want>".
absl::Status BadFilterTerm(const FilterTerm& term, absl::string_view want);

// The term's value as an RFC 3339 time, else BadFilterTerm(term, "want an RFC
// 3339 time, e.g. ...").
absl::StatusOr<absl::Time> FilterTime(const FilterTerm& term);

// Whether order_by sorts by `field` ascending: "<field>" → true; "" or
// "<field> desc" → false; INVALID_ARGUMENT naming `order_by` otherwise.
absl::StatusOr<bool> OrderByAscending(absl::string_view order_by, absl::string_view field);

}  // namespace market

#endif  // MARKET_COMMON_PAGINATION_FILTER_H_
