// Resource ids and names every service validates the same way (AIP-122
// style `collection/{id}` names). Pure functions; thread-safe.
#ifndef MARKET_COMMON_RESOURCE_NAMES_H_
#define MARKET_COMMON_RESOURCE_NAMES_H_

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/crypto/crypto.h"
#include "common/status/status.h"

namespace market {

// A client-chosen id: 4–63 characters of [a-z0-9-], starting with a letter.
inline bool ValidResourceId(absl::string_view id) {
  if (id.size() < 4 || id.size() > 63 || !absl::ascii_islower(id[0])) return false;
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
  }
  return true;
}

// Adds a violation of `field` unless `id` is empty (the server picks one) or
// a ValidResourceId.
inline void CheckResourceId(Violations& v, absl::string_view field, absl::string_view id) {
  if (!id.empty() && !ValidResourceId(id)) {
    v.Add(field, "want 4-63 characters of [a-z0-9-] starting with a letter");
  }
}

// Adds a violation of `request_id` when it is longer than 64 characters.
inline void CheckRequestId(Violations& v, absl::string_view request_id) {
  if (request_id.size() > 64) v.Add("request_id", "longer than 64 characters");
}

// `collection/{id}` with one non-empty segment of at most 63 bytes.
inline bool ValidCollectionName(absl::string_view name, absl::string_view collection) {
  return absl::ConsumePrefix(&name, collection) && absl::ConsumePrefix(&name, "/") &&
         !name.empty() && name.size() <= 63 && name.find('/') == absl::string_view::npos;
}

// `markets/{m}/{collection}/{id}`; on success sets *market to `markets/{m}`.
inline bool ValidMarketChildName(absl::string_view name, absl::string_view collection,
                                 std::string* market) {
  absl::string_view rest = name;
  if (!absl::ConsumePrefix(&rest, "markets/")) return false;
  size_t slash = rest.find('/');
  if (slash == 0 || slash == absl::string_view::npos || slash > 63) return false;
  absl::string_view child = rest.substr(slash + 1);
  if (!ValidCollectionName(child, collection)) return false;
  if (market != nullptr) *market = absl::StrCat("markets/", rest.substr(0, slash));
  return true;
}

// A server-generated id with a one-letter prefix, e.g. "l3f9c0d2e1a4b5c6d".
inline std::string GeneratedId(char prefix) {
  return absl::StrCat(std::string(1, prefix), HexEncode(RandomBytes(8)));
}

}  // namespace market

#endif  // MARKET_COMMON_RESOURCE_NAMES_H_
