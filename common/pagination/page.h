// One page of a List RPC: the clamped page_size, the decoded page_token and
// the "fetch size+1 rows, trim, issue next_page_token" step every List
// handler shares. A Page refers to its codec, which must outlive it.
#ifndef MARKET_COMMON_PAGINATION_PAGE_H_
#define MARKET_COMMON_PAGINATION_PAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/pagination/cursor.h"
#include "common/pagination/page_token.h"

namespace market {

class Page {
 public:
  // Clamps `page_size` (EffectivePageSize) and decodes `page_token` issued
  // for `query`. INVALID_ARGUMENT naming `page_size` or `page_token`.
  static absl::StatusOr<Page> Start(const PageTokenCodec& codec, std::string query, int page_size,
                                    absl::string_view page_token, int default_size = 50,
                                    int max_size = 1000);

  int size() const { return size_; }
  // Rows to fetch: one more than size() tells whether another page exists.
  int limit() const { return size_ + 1; }
  // The position after the previous page; "" on the first page.
  const std::string& position() const { return position_; }
  // position() as a keyset cursor; nullopt on the first page.
  // INVALID_ARGUMENT naming `page_token` when it is not one.
  absl::StatusOr<std::optional<SearchCursor>> Cursor() const;
  // position() as a non-negative integer (an offset or row id); `first` on
  // the first page. INVALID_ARGUMENT naming `page_token` when it is not one.
  absl::StatusOr<int64_t> Int(int64_t first) const;
  // The token for the page that starts after `position`.
  std::string Next(absl::string_view position) const { return codec_->Encode(query_, position); }

  // Keeps the first size() of `rows` (fetched with limit()) and returns the
  // next page token, `position_of(last kept row)`, or "" when none is left.
  template <typename Row, typename PositionOf>
  std::string Trim(std::vector<Row>& rows, PositionOf position_of) const {
    if (static_cast<int>(rows.size()) <= size_) return "";
    rows.resize(size_);
    return Next(position_of(rows.back()));
  }

 private:
  Page(const PageTokenCodec* codec, std::string query, int size, std::string position)
      : codec_(codec), query_(std::move(query)), size_(size), position_(std::move(position)) {}

  const PageTokenCodec* codec_;
  std::string query_;
  int size_;
  std::string position_;
};

}  // namespace market

#endif  // MARKET_COMMON_PAGINATION_PAGE_H_
