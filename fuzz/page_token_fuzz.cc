// Page tokens (AIP-158): PageTokenCodec::Decode under a fixed secret and the
// positions inside them: DecodeCursor (common/pagination/cursor.h) and the
// appraisal list cursor. Also checks the round trips Decode(Encode(p)) == p
// and DecodeCursor(EncodeCursor(c)) == c. Input: "query\ntoken".
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/pagination/cursor.h"
#include "common/pagination/page_token.h"
#include "fuzz/fuzz_support.h"
#include "services/appraisal/appraisal_tables.h"

namespace {

void CheckCursors(const std::string& position) {
  absl::StatusOr<market::SearchCursor> c = market::DecodeCursor(position);
  FUZZ_CHECK(c.ok() || c.status().code() == absl::StatusCode::kInvalidArgument,
             c.status().ToString());
  if (c.ok()) {
    absl::StatusOr<market::SearchCursor> again = market::DecodeCursor(market::EncodeCursor(*c));
    FUZZ_CHECK(again.ok() && again->key == c->key && again->name == c->name, position);
  }
  absl::StatusOr<market::appraisal::AppraisalCursor> a = market::appraisal::DecodeCursor(position);
  FUZZ_CHECK(a.ok() || a.status().code() == absl::StatusCode::kInvalidArgument,
             a.status().ToString());
  if (a.ok()) {
    absl::StatusOr<market::appraisal::AppraisalCursor> again =
        market::appraisal::DecodeCursor(market::appraisal::EncodeCursor(*a));
    FUZZ_CHECK(again.ok() && again->inspected_us == a->inspected_us && again->name == a->name,
               position);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const market::PageTokenCodec codec(market::fuzz::kPageTokenSecret);
  market::fuzz::FuzzInput in(data, size);
  std::string query = in.Field();
  std::string token = in.Rest();

  absl::StatusOr<std::string> position = codec.Decode(query, token);
  FUZZ_CHECK(position.ok() || position.status().code() == absl::StatusCode::kInvalidArgument,
             position.status().ToString());
  market::fuzz::Trace("decode", position.status());
  if (position.ok()) CheckCursors(*position);

  // The token bytes as a position, and as a position sealed by the codec.
  CheckCursors(token);
  absl::StatusOr<std::string> round = codec.Decode(query, codec.Encode(query, token));
  FUZZ_CHECK(round.ok() && *round == token, "Decode(Encode(p)) != p");
  if (query != "other") {
    FUZZ_CHECK(!codec.Decode("other", codec.Encode(query, token)).ok(),
               "token accepted for another query");
  }
  return 0;
}
