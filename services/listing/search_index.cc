#include "services/listing/search_index.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
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

// Applies the difference between the grams of `before` and `after` (both
// folded) of one field of listing `id`.
absl::Status UpdatePostings(Statement& del, Statement& ins, int64_t id, SearchField field,
                            absl::string_view before, absl::string_view after) {
  std::vector<std::string> old_grams = TextGrams(before), new_grams = TextGrams(after);
  std::vector<std::string> gone, added;
  std::set_difference(old_grams.begin(), old_grams.end(), new_grams.begin(), new_grams.end(),
                      std::back_inserter(gone));
  std::set_difference(new_grams.begin(), new_grams.end(), old_grams.begin(), old_grams.end(),
                      std::back_inserter(added));
  for (auto [st, grams] : {std::pair{&del, &gone}, std::pair{&ins, &added}}) {
    for (const std::string& g : *grams) {
      st->Reset();
      MARKET_RETURN_IF_ERROR(st->BindText(1, g));
      MARKET_RETURN_IF_ERROR(st->Bind(2, static_cast<int64_t>(field)));
      MARKET_RETURN_IF_ERROR(st->Bind(3, id));
      MARKET_RETURN_IF_ERROR(st->Run());
    }
  }
  return absl::OkStatus();
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
  SELECT rowid, lower(title), lower(description) FROM listings_fts;
CREATE TABLE listing_grams (
  gram TEXT NOT NULL,
  field INTEGER NOT NULL,
  id INTEGER NOT NULL,
  PRIMARY KEY (gram, field, id)
) WITHOUT ROWID;
WITH RECURSIVE
  chunk(id, field, c, rest) AS (
    SELECT id, 0, substr(title, 1, 65), substr(title, 65) FROM listing_text WHERE title <> ''
    UNION ALL
    SELECT id, 1, substr(description, 1, 65), substr(description, 65) FROM listing_text
      WHERE description <> ''
    UNION ALL
    SELECT id, field, substr(rest, 1, 65), substr(rest, 65) FROM chunk WHERE rest <> ''),
  pos(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM pos WHERE i < 64),
  width(n) AS (SELECT 1 UNION ALL SELECT 2)
INSERT OR IGNORE INTO listing_grams(gram, field, id)
  SELECT substr(c, i, n), field, id FROM chunk, pos, width
  WHERE i <= length(c) AND (n = 1 OR i < length(c))
  ORDER BY 1, 2, 3;
DROP TABLE listings_fts;
)sql");
  return *sql;
}

std::string FoldForSearch(absl::string_view text) { return absl::AsciiStrToLower(text); }

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

absl::Status IndexListingText(Connection& c, int64_t id, absl::string_view title,
                              absl::string_view description) {
  std::string new_title = FoldForSearch(title), new_description = FoldForSearch(description);
  MARKET_ASSIGN_OR_RETURN(Statement old,
                          c.Prepare("SELECT title, description FROM listing_text WHERE id = ?"));
  MARKET_RETURN_IF_ERROR(old.Bind(1, id));
  MARKET_ASSIGN_OR_RETURN(bool found, old.Step());
  std::string old_title = found ? old.ColumnText(0) : "";
  std::string old_description = found ? old.ColumnText(1) : "";
  if (found && old_title == new_title && old_description == new_description) {
    return absl::OkStatus();
  }
  MARKET_ASSIGN_OR_RETURN(
      Statement del,
      c.Prepare("DELETE FROM listing_grams WHERE gram = ?1 AND field = ?2 AND id = ?3"));
  MARKET_ASSIGN_OR_RETURN(
      Statement ins, c.Prepare("INSERT INTO listing_grams(gram, field, id) VALUES(?1, ?2, ?3)"));
  MARKET_RETURN_IF_ERROR(UpdatePostings(del, ins, id, SearchField::kTitle, old_title, new_title));
  MARKET_RETURN_IF_ERROR(
      UpdatePostings(del, ins, id, SearchField::kDescription, old_description, new_description));
  MARKET_ASSIGN_OR_RETURN(
      Statement text,
      c.Prepare("INSERT OR REPLACE INTO listing_text(id, title, description) VALUES(?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(text.Bind(1, id));
  MARKET_RETURN_IF_ERROR(text.BindText(2, new_title));
  MARKET_RETURN_IF_ERROR(text.BindText(3, new_description));
  return text.Run();
}

absl::StatusOr<RarestGram> FindRarestGram(Connection& c, const std::vector<std::string>& grams,
                                          SearchField first, SearchField last, int64_t cap) {
  if (grams.empty()) return absl::InvalidArgumentError("no grams to look up");
  MARKET_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("SELECT count(*) FROM (SELECT 1 FROM listing_grams WHERE gram = ?1 "
                              "AND field BETWEEN ?2 AND ?3 LIMIT ?4)"));
  RarestGram best{.postings = cap + 1};
  for (const std::string& g : grams) {
    st.Reset();
    MARKET_RETURN_IF_ERROR(st.BindText(1, g));
    MARKET_RETURN_IF_ERROR(st.Bind(2, static_cast<int64_t>(first)));
    MARKET_RETURN_IF_ERROR(st.Bind(3, static_cast<int64_t>(last)));
    // Counting past the best so far cannot change the answer.
    MARKET_RETURN_IF_ERROR(st.Bind(4, std::min(cap, best.postings)));
    MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
    int64_t n = row ? st.ColumnInt64(0) : 0;
    if (n < best.postings) best = RarestGram{g, n};
    if (best.postings == 0) break;
  }
  return best;
}

}  // namespace market::listing
