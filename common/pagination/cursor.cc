#include "common/pagination/cursor.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"

namespace market {

std::string EncodeCursor(const SearchCursor& cursor) {
  return absl::StrCat(cursor.key, "|", cursor.name);
}

absl::StatusOr<SearchCursor> DecodeCursor(const std::string& position) {
  std::pair<std::string, std::string> parts = absl::StrSplit(position, absl::MaxSplits('|', 1));
  SearchCursor c;
  if (!absl::SimpleAtoi(parts.first, &c.key) || parts.second.empty()) {
    return InvalidField("page_token", "malformed position");
  }
  c.name = parts.second;
  return c;
}

absl::Status BindKeysetPage(sqlite::Statement& st, const std::optional<SearchCursor>& after,
                            int limit) {
  if (after.has_value()) {
    MARKET_RETURN_IF_ERROR(st.Bind(":after_key", after->key));
    MARKET_RETURN_IF_ERROR(st.BindText(":after_name", after->name));
  }
  return st.Bind(":limit", static_cast<int64_t>(limit));
}

}  // namespace market
