// ImportListings CSV (ImportListingsRequest.csv_data): ParseListingsCsv, then
// ValidateListingForCreate on every row that parsed cleanly, as the handler
// does. Input: the raw CSV bytes.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_support.h"
#include "services/listing/listing_csv.h"
#include "services/listing/listing_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view csv(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<market::listing::CsvRow>> rows = market::listing::ParseListingsCsv(csv);
  market::fuzz::Trace("parse", rows.status());
  if (!rows.ok()) {
    FUZZ_CHECK(rows.status().code() == absl::StatusCode::kInvalidArgument, rows.status().ToString());
    return 0;
  }
  FUZZ_CHECK(rows->size() <= static_cast<size_t>(market::listing::kMaxCsvRows), "too many rows");
  int previous = 0;
  for (const market::listing::CsvRow& row : *rows) {
    FUZZ_CHECK(row.row > previous, "rows out of order");
    previous = row.row;
    if (!row.violations.empty()) continue;
    absl::Status s = market::listing::ValidateListingForCreate(row.listing, market::fuzz::FuzzNow());
    market::fuzz::Trace("validate row", s);
    FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
  }
  return 0;
}
