// Page (see page.h).
#include "common/pagination/page.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "common/status/status.h"

namespace market {

absl::StatusOr<Page> Page::Start(const PageTokenCodec& codec, std::string query, int page_size,
                                 absl::string_view page_token, int default_size, int max_size) {
  MARKET_ASSIGN_OR_RETURN(int size, EffectivePageSize(page_size, default_size, max_size));
  std::string position;
  if (!page_token.empty()) {
    MARKET_ASSIGN_OR_RETURN(position, codec.Decode(query, page_token));
  }
  return Page(&codec, std::move(query), size, std::move(position));
}

absl::StatusOr<std::optional<SearchCursor>> Page::Cursor() const {
  if (position_.empty()) return std::nullopt;
  MARKET_ASSIGN_OR_RETURN(SearchCursor cursor, DecodeCursor(position_));
  return cursor;
}

absl::StatusOr<int64_t> Page::Int(int64_t first) const {
  if (position_.empty()) return first;
  int64_t value;
  if (!absl::SimpleAtoi(position_, &value) || value < 0) {
    return InvalidField("page_token", "malformed position");
  }
  return value;
}

}  // namespace market
