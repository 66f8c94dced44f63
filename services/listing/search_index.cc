#include "services/listing/search_index.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status.h"

namespace market::listing {
namespace {

using sqlite::Connection;
using sqlite::Statement;

// Splits `s` into characters by SQLite's substr() rule (see TextGrams).
std::vector<absl::string_view> Characters(absl::string_view s) {
  std::vector<absl::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = i + 1;
    if (static_cast<unsigned char>(s[i]) >= 0xC0) {
      while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;
    }
    out.push_back(s.substr(i, end - i));
    i = end;
  }
  return out;
}

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

const std::string& SearchIndexMigration() {
  // Grams are cut from chunks of 65 characters that overlap by one (each
  // chunk owns its first 64 positions), so long descriptions cost linear
  // rather than quadratic substr() work.
  static const auto* sql = new std::string(R"sql(
CREATE TABLE listing_text (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL
);
INSERT INTO listing_text(id, title, description)
  SELECT rowid, replace(lower(title), char(0), ' '), replace(lower(description), char(0), ' ')
  FROM listings_fts;
CREATE VIRTUAL TABLE listing_grams USING fts5(
  title, description, content = '', detail = column, tokenize = 'ascii');
WITH RECURSIVE
  chunk(id, field, c, rest) AS (
    SELECT id, 0, substr(title, 1, 65), substr(title, 65) FROM listing_text WHERE title <> ''
    UNION ALL
    SELECT id, 1, substr(description, 1, 65), substr(description, 65) FROM listing_text
      WHERE description <> ''
    UNION ALL
    SELECT id, field, substr(rest, 1, 65), substr(rest, 65) FROM chunk WHERE rest <> ''),
  pos(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM pos WHERE i < 64),
  width(n) AS (SELECT 1 UNION ALL SELECT 2),
  grams(id, field, token) AS (
    SELECT DISTINCT id, field, hex(substr(c, i, n)) FROM chunk, pos, width
    WHERE i <= length(c) AND (n = 1 OR i < length(c))),
  tokens(id, title, description) AS (
    SELECT id, group_concat(CASE field WHEN 0 THEN token END, ' '),
           group_concat(CASE field WHEN 1 THEN token END, ' ')
    FROM grams GROUP BY id)
INSERT INTO listing_grams(rowid, title, description)
  SELECT t.id, coalesce(g.title, ''), coalesce(g.description, '')
  FROM listing_text t LEFT JOIN tokens g ON g.id = t.id;
DROP TABLE listings_fts;
)sql");
  return *sql;
}

std::string FoldForSearch(absl::string_view text) {
  std::string out = absl::AsciiStrToLower(text);
  std::replace(out.begin(), out.end(), '\0', ' ');
  return out;
}

std::vector<std::string> TextGrams(absl::string_view folded) {
  std::vector<absl::string_view> chars = Characters(folded);
  std::vector<std::string> grams;
  grams.reserve(chars.size() * 2);
  for (size_t i = 0; i < chars.size(); ++i) {
    grams.emplace_back(chars[i]);
    if (i + 1 < chars.size()) grams.push_back(absl::StrCat(chars[i], chars[i + 1]));
  }
  return SortedUnique(std::move(grams));
}

std::vector<std::string> NeedleGrams(absl::string_view folded_needle) {
  std::vector<absl::string_view> chars = Characters(folded_needle);
  if (chars.size() == 1) return {std::string(chars[0])};
  std::vector<std::string> grams;
  for (size_t i = 0; i + 1 < chars.size(); ++i) {
    grams.push_back(absl::StrCat(chars[i], chars[i + 1]));
  }
  return SortedUnique(std::move(grams));
}

std::string GramToken(absl::string_view gram) {
  return absl::AsciiStrToUpper(absl::BytesToHexString(gram));
}

std::string GramTokens(absl::string_view folded) {
  std::vector<std::string> tokens;
  for (const std::string& g : TextGrams(folded)) tokens.push_back(GramToken(g));
  return absl::StrJoin(tokens, " ");
}

std::string GramsMatch(const std::vector<std::string>& grams, SearchField first, SearchField last) {
  std::vector<std::string> phrases;
  for (const std::string& g : grams) phrases.push_back(absl::StrCat("\"", GramToken(g), "\""));
  std::string all = absl::StrJoin(phrases, " AND ");
  if (first != last) return all;
  return absl::StrCat(first == SearchField::kTitle ? "title" : "description", " : (", all, ")");
}

absl::Status IndexListingText(Connection& c, int64_t id, absl::string_view title,
                              absl::string_view description) {
  std::string new_title = FoldForSearch(title), new_description = FoldForSearch(description);
  MARKET_ASSIGN_OR_RETURN(Statement old,
                          c.Prepare("SELECT title, description FROM listing_text WHERE id = ?"));
  MARKET_RETURN_IF_ERROR(old.Bind(1, id));
  MARKET_ASSIGN_OR_RETURN(bool found, old.Step());
  if (found) {
    std::string old_title = old.ColumnText(0), old_description = old.ColumnText(1);
    if (old_title == new_title && old_description == new_description) return absl::OkStatus();
    // A contentless FTS5 row is deleted by passing the tokens it was given.
    MARKET_ASSIGN_OR_RETURN(Statement del,
                            c.Prepare("INSERT INTO listing_grams(listing_grams, rowid, title, "
                                      "description) VALUES('delete', ?, ?, ?)"));
    MARKET_RETURN_IF_ERROR(del.Bind(1, id));
    MARKET_RETURN_IF_ERROR(del.BindText(2, GramTokens(old_title)));
    MARKET_RETURN_IF_ERROR(del.BindText(3, GramTokens(old_description)));
    MARKET_RETURN_IF_ERROR(del.Run());
  }
  MARKET_ASSIGN_OR_RETURN(
      Statement ins,
      c.Prepare("INSERT INTO listing_grams(rowid, title, description) VALUES(?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(ins.Bind(1, id));
  MARKET_RETURN_IF_ERROR(ins.BindText(2, GramTokens(new_title)));
  MARKET_RETURN_IF_ERROR(ins.BindText(3, GramTokens(new_description)));
  MARKET_RETURN_IF_ERROR(ins.Run());
  MARKET_ASSIGN_OR_RETURN(
      Statement text,
      c.Prepare("INSERT OR REPLACE INTO listing_text(id, title, description) VALUES(?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(text.Bind(1, id));
  MARKET_RETURN_IF_ERROR(text.BindText(2, new_title));
  MARKET_RETURN_IF_ERROR(text.BindText(3, new_description));
  return text.Run();
}

absl::StatusOr<int64_t> CountMatches(Connection& c, const std::string& match, int64_t cap) {
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          c.Prepare("SELECT count(*) FROM (SELECT rowid FROM listing_grams WHERE "
                                    "listing_grams MATCH ?1 LIMIT ?2)"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, match));
  MARKET_RETURN_IF_ERROR(st.Bind(2, cap));
  MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? st.ColumnInt64(0) : 0;
}

}  // namespace market::listing
