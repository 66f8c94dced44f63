// Parsing of the ImportListings CSV (docs/listing-import-csv.md): RFC 4180
// text whose header row names Listing field paths, one listing per data row.
// Only syntax and value types are checked here; business rules are
// ValidateListingForCreate's. Thread-safe: pure functions.
#ifndef MARKET_SERVICES_LISTING_LISTING_CSV_H_
#define MARKET_SERVICES_LISTING_LISTING_CSV_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "market/listing/v1/listing.pb.h"

namespace market::listing {

// One data row of the file.
struct CsvRow {
  int row = 0;          // 1-based data row number (header is row 0; blank lines get none)
  v1::Listing listing;  // fields set from the non-empty cells
  // Cell-level problems: field = the column (Listing field path, e.g.
  // "price.amount_fen"), description = why. A row with violations must not be
  // created; its listing holds only the cells that parsed.
  std::vector<std::pair<std::string, std::string>> violations;
};

inline constexpr size_t kMaxCsvBytes = 4 << 20;  // 4 MiB
inline constexpr int kMaxCsvRows = 10000;
// Separator of the values of a repeated field inside one cell.
inline constexpr char kCsvListSeparator = ';';
// The column of photo SHA-256s (Listing.photos is a repeated message).
inline constexpr char kCsvPhotosColumn[] = "photos";
// Defaults of declared_condition when a row gives a level without a scheme
// (the same values as kConditionScheme / kConditionSchemeVersion in
// listing_rules.h).
inline constexpr char kCsvDefaultConditionScheme[] = "general-condition-v1";
inline constexpr int kCsvDefaultConditionVersion = 1;

// Parses `csv` (the raw bytes of ImportListingsRequest.csv_data) into one
// CsvRow per data row, in file order.
// Whole-file errors are INVALID_ARGUMENT naming the field "csv_data": not
// valid UTF-8, larger than kMaxCsvBytes, no header row, an empty, unknown,
// output-only or duplicated column, more than kMaxCsvRows data rows, an
// unterminated quoted field. Row-level problems (wrong number of cells, a
// cell that does not parse as its field's type, an unknown enum name, text
// after a closing quote, cells of two different `details` members in one row)
// go into that row's violations and parsing continues.
absl::StatusOr<std::vector<CsvRow>> ParseListingsCsv(absl::string_view csv);

// Every accepted header cell, in Listing field order: the writable Listing
// field paths and "photos". For tools that build templates and for the docs.
const std::vector<std::string>& ListingsCsvColumns();

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_LISTING_CSV_H_
