// The ledger's tile parsers as the HTTP port and the verifier run them
// (ledger/tiles.h): ParseTilePath on any request path, DecodeEntryBundle on
// any bundle body, ParseLeaf on any entry. Whatever the input: a parsed path
// re-encodes to exactly the input (one spelling per tile), a decoded bundle
// re-encodes to exactly the input, and errors are INVALID_ARGUMENT or
// DATA_LOSS, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_support.h"
#include "ledger/leaf.h"
#include "ledger/tiles.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<market::ledger::TileRef> tile = market::ledger::ParseTilePath(input);
  if (tile.ok()) {
    FUZZ_CHECK(market::ledger::TilePath(*tile) == input, "path does not round-trip");
  } else {
    FUZZ_CHECK(tile.status().code() == absl::StatusCode::kInvalidArgument,
               tile.status().ToString());
  }
  absl::StatusOr<std::vector<std::string>> entries = market::ledger::DecodeEntryBundle(input);
  if (entries.ok()) {
    FUZZ_CHECK(*market::ledger::EncodeEntryBundle(*entries) == input, "bundle does not round-trip");
    for (const std::string& e : *entries) {
      absl::Status parsed = market::ledger::ParseLeaf(e).status();
      FUZZ_CHECK(parsed.ok() || parsed.code() == absl::StatusCode::kDataLoss, parsed.ToString());
    }
  } else {
    FUZZ_CHECK(entries.status().code() == absl::StatusCode::kDataLoss,
               entries.status().ToString());
  }
  return 0;
}
