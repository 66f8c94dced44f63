// The shared filter grammar (see filter.h).
#include "common/pagination/filter.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"

namespace market {

absl::StatusOr<std::vector<FilterTerm>> ParseFilterTerms(
    absl::string_view filter, absl::string_view want,
    std::initializer_list<absl::string_view> ops) {
  std::vector<FilterTerm> terms;
  if (absl::StripAsciiWhitespace(filter).empty()) return terms;
  for (absl::string_view raw : absl::StrSplit(filter, " AND ")) {
    absl::string_view t = absl::StripAsciiWhitespace(raw);
    size_t at = t.find_first_of("<>=!");
    if (at == absl::string_view::npos || at == 0) {
      return InvalidField("filter", absl::StrCat("cannot parse term \"", t, "\"; ", want));
    }
    size_t end = t.find_first_not_of("<>=!", at);
    if (end == absl::string_view::npos) end = t.size();
    FilterTerm term;
    term.key = std::string(absl::StripAsciiWhitespace(t.substr(0, at)));
    term.op = std::string(t.substr(at, end - at));
    absl::string_view value = absl::StripAsciiWhitespace(t.substr(end));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    term.value = std::string(value);
    term.text = std::string(t);
    if (std::find(ops.begin(), ops.end(), term.op) == ops.end()) {
      return InvalidField("filter",
                          absl::StrCat("unknown operator \"", term.op, "\" in \"", t, "\""));
    }
    terms.push_back(std::move(term));
  }
  return terms;
}

absl::Status BadFilterTerm(const FilterTerm& term, absl::string_view want) {
  return InvalidField("filter",
                      absl::StrCat("cannot use \"", term.key, term.op, term.value, "\"; ", want));
}

absl::StatusOr<absl::Time> FilterTime(const FilterTerm& term) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, term.value, &t, &err)) {
    return BadFilterTerm(term, "want an RFC 3339 time, e.g. \"2026-11-01T00:00:00+08:00\"");
  }
  return t;
}

absl::StatusOr<bool> OrderByAscending(absl::string_view order_by, absl::string_view field) {
  if (order_by == field) return true;
  if (order_by.empty() || order_by == absl::StrCat(field, " desc")) return false;
  return InvalidField("order_by", absl::StrCat("want ", field, " or ", field, " desc"));
}

}  // namespace market
