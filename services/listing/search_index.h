// The listing text index behind SearchListings: each listing's title and
// description folded for matching (listing_text) and the postings of their
// distinct one- and two-character grams (listing_grams, a contentless FTS5
// table whose tokens are the grams in hex, columns title and description), so
// a substring of any length is answered from postings and verified with
// instr() on the folded text. Pure functions and functions on a caller's
// transaction; as thread-safe as the connection.
#ifndef MARKET_SERVICES_LISTING_SEARCH_INDEX_H_
#define MARKET_SERVICES_LISTING_SEARCH_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sqlite/connection.h"

namespace market::listing {

// Migration 3 of listing.db: creates listing_text and listing_grams, fills
// them from the rows of listings_fts (migration 2's trigram index) and drops
// listings_fts. The SQL folds, splits and encodes text exactly as
// FoldForSearch and GramTokens do.
const std::string& SearchIndexMigration();

// The stored text a posting belongs to (a listing_grams column).
enum class SearchField : int { kTitle = 0, kDescription = 1 };

// `text` with ASCII letters lower-cased (what SQLite's lower() does without
// ICU; matching is case-insensitive for ASCII only) and NUL as a space.
std::string FoldForSearch(absl::string_view text);

// The distinct one- and two-character grams of `folded`, sorted. A character
// is a byte plus, when that byte is >= 0xC0, the continuation bytes after it
// (SQLite's substr() rule, so the migration produces the same grams).
std::vector<std::string> TextGrams(absl::string_view folded);

// The grams any text containing `folded_needle` must have: the needle itself
// when it is one character, its distinct bigrams otherwise; empty for "".
std::vector<std::string> NeedleGrams(absl::string_view folded_needle);

// The FTS5 token of a gram (its bytes in upper-case hex, what SQL hex()
// gives), and the tokens of TextGrams(folded) joined by spaces.
std::string GramToken(absl::string_view gram);
std::string GramTokens(absl::string_view folded);

// An FTS5 query for the listings whose fields [first, last] have every gram
// of `grams` (a superset of those containing the needle they came from).
std::string GramsMatch(const std::vector<std::string>& grams, SearchField first, SearchField last);

// Makes listing `id`'s index entry title/description (folded here), in the
// caller's write transaction: stores the folded text and replaces the
// listing's postings (nothing when the folded text is unchanged).
absl::Status IndexListingText(sqlite::Connection& c, int64_t id, absl::string_view title,
                              absl::string_view description);

// How many listings GramsMatch() expression `match` selects, counted only up
// to `cap` (a count of `cap` means "at least"). INTERNAL for a malformed
// expression.
absl::StatusOr<int64_t> CountMatches(sqlite::Connection& c, const std::string& match, int64_t cap);

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_SEARCH_INDEX_H_
