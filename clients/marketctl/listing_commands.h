// The pure helpers behind the listing, order and item commands (CSV import
// batches, resource names, update masks). Thread-safe.
#ifndef MARKET_CLIENTS_MARKETCTL_LISTING_COMMANDS_H_
#define MARKET_CLIENTS_MARKETCTL_LISTING_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "market/listing/v1/listing.pb.h"

namespace market::ctl {

namespace internal {

// One ImportListings call's worth of a CSV file.
struct CsvBatch {
  std::string csv;    // the header record, then the batch's data records (bytes as in the file)
  int first_row = 0;  // whole-file number of the batch's first data row (1-based; header is 0)
  int rows = 0;       // data rows in the batch
};

// Splits RFC 4180 `csv` into batches of at most `rows_per_batch` data rows,
// each starting with the header record. A record ends at a newline outside
// quotes. As the server does, a leading UTF-8 BOM is dropped and blank records
// (every cell empty) are neither counted nor sent. A header without data rows
// gives one header-only batch; a file without a header gives none.
// INVALID_ARGUMENT for an unterminated quoted field or rows_per_batch < 1.
absl::StatusOr<std::vector<CsvBatch>> SplitCsv(absl::string_view csv, int rows_per_batch);

// Turns a batch's row numbers (1-based within the batch) into whole-file row
// numbers, given the batch's first whole-file row.
void RenumberRows(int first_row, ::market::listing::v1::ImportListingsResponse* batch);

// Appends `batch`'s results to `total` and adds its counts; `total` is
// committed when any batch committed (something was written).
void MergeImportResponse(const ::market::listing::v1::ImportListingsResponse& batch,
                         ::market::listing::v1::ImportListingsResponse* total);

// The full name of a market's child resource in `collection` ("listings",
// "orders"): `markets/m/listings/l` as given, `m/listings/l` prefixed, or a
// bare id `l` with `market` ("m" or "markets/m"). INVALID_ARGUMENT when a bare
// id comes without a market, or the name is of another collection.
absl::StatusOr<std::string> ChildName(const std::string& arg, const std::string& market,
                                      absl::string_view collection);

// Sorted, without duplicates, and without paths covered by a parent path
// ("phone.imei" goes when "phone" is present).
std::vector<std::string> NormalizeMask(std::vector<std::string> paths);

// The photo MIME type for a file name's extension (.jpg/.jpeg, .png, .webp,
// case-insensitive); "" when unknown.
std::string ContentTypeFor(absl::string_view path);

}  // namespace internal
}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_LISTING_COMMANDS_H_
