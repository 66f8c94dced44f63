// Every List/Search filter grammar: the shared ParseFilterTerms /
// FilterTime / OrderByAscending (common/pagination/filter.h) and the
// per-service parsers built on them: listing SearchListings (ParseSearch) and
// ListOrders (ParseOrderQuery), appraisal ParseFilter, warranty ListClaims
// (ParseClaimQuery). Input: "filter\norder_by\nquery\nparent" (missing
// fields are empty; the last field keeps any further newlines).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "common/pagination/filter.h"
#include "fuzz/fuzz_support.h"
#include "services/appraisal/appraisal_tables.h"
#include "services/listing/listing_tables.h"
#include "services/warranty/claim_tables.h"

namespace {

void CheckInvalidArgument(const absl::Status& s) {
  FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  market::fuzz::FuzzInput in(data, size);
  std::string filter = in.Field();
  std::string order_by = in.Field();
  std::string query = in.Field();
  std::string parent = in.Rest();

  absl::StatusOr<std::vector<market::FilterTerm>> terms =
      market::ParseFilterTerms(filter, "want KEY OP VALUE", {"=", "!=", ">=", "<=", ">", "<"});
  market::fuzz::Trace("terms", terms.status());
  CheckInvalidArgument(terms.status());
  if (terms.ok()) {
    for (const market::FilterTerm& t : *terms) {
      FUZZ_CHECK(!t.key.empty(), t.text);
      FUZZ_CHECK(t.op == "=" || t.op == "!=" || t.op == ">=" || t.op == "<=" || t.op == ">" ||
                     t.op == "<",
                 t.text);
      CheckInvalidArgument(market::FilterTime(t).status());
    }
  }
  CheckInvalidArgument(market::ParseFilterTerms(filter, "want KEY=VALUE").status());
  CheckInvalidArgument(market::OrderByAscending(order_by, "create_time").status());

  CheckInvalidArgument(market::listing::ParseSearch(parent, filter, query, order_by).status());
  CheckInvalidArgument(market::listing::ParseOrderQuery(parent, filter, order_by).status());
  static const std::set<std::string> kAppraisalKeys = {"item", "firm", "listing", "category",
                                                       "state"};
  CheckInvalidArgument(market::appraisal::ParseFilter(filter, kAppraisalKeys).status());
  CheckInvalidArgument(market::warranty::ParseClaimQuery(filter, order_by).status());
  return 0;
}
