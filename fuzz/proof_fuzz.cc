// RFC 9162 proof verification as the outside verifier runs it
// (ledger/proof.h): VerifyInclusion and VerifyConsistency on arbitrary
// parameters and hashes. Input: int64 index/size1, int64 size/size2 (big
// endian), then 32-byte chunks: leaf hash (or root1), root (or root2), then
// the proof hashes (the last chunk may be short). Whatever the input, the
// result is OK or INVALID_ARGUMENT / DATA_LOSS, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "ledger/proof.h"

namespace {

void CheckCode(const absl::Status& s) {
  FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument ||
                 s.code() == absl::StatusCode::kDataLoss,
             s.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  market::fuzz::FuzzInput in(data, size);
  int64_t a = in.Int<int64_t>();
  int64_t b = in.Int<int64_t>();
  std::string first = in.Bytes(32);
  std::string second = in.Bytes(32);
  std::vector<std::string> proof;
  while (in.remaining() > 0 && proof.size() < 128) proof.push_back(in.Bytes(32));

  absl::Status inclusion = market::ledger::VerifyInclusion(a, b, first, proof, second);
  market::fuzz::Trace("inclusion", inclusion);
  CheckCode(inclusion);
  absl::Status consistency = market::ledger::VerifyConsistency(a, b, first, second, proof);
  market::fuzz::Trace("consistency", consistency);
  CheckCode(consistency);
  if (consistency.ok() && a == b) FUZZ_CHECK(first == second, "equal sizes, different roots");
  return 0;
}
