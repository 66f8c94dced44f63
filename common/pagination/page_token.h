// Opaque, tamper-checked page tokens (AIP-158). A token carries the position
// after the last returned item plus a fingerprint of the query it belongs to,
// protected by HMAC-SHA-256 under a server secret. Thread-safe (immutable).
#ifndef MARKET_COMMON_PAGINATION_PAGE_TOKEN_H_
#define MARKET_COMMON_PAGINATION_PAGE_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace market {

class PageTokenCodec {
 public:
  // `secret` is the HMAC key (at least 16 bytes, random per deployment).
  explicit PageTokenCodec(std::string secret) : secret_(std::move(secret)) {}

  // Encodes `position` for a query identified by `query` (e.g. the method name
  // plus its filter and order_by, so a token is refused for a different query).
  std::string Encode(absl::string_view query, absl::string_view position) const;
  // Returns the position, or INVALID_ARGUMENT naming `page_token` when the
  // token is malformed, altered, or was issued for another query.
  absl::StatusOr<std::string> Decode(absl::string_view query, absl::string_view token) const;

 private:
  std::string secret_;
};

// Clamps a requested page size: 0 → `default_size`; negative or above
// `max_size` → INVALID_ARGUMENT naming `page_size`.
absl::StatusOr<int> EffectivePageSize(int requested, int default_size = 50, int max_size = 1000);

}  // namespace market

#endif  // MARKET_COMMON_PAGINATION_PAGE_TOKEN_H_
