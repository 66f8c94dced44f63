// RFC 9162 proof verification, as the outside verifier runs it: inclusion and
// consistency proofs checked against roots. Pure functions; thread-safe.
#ifndef MARKET_LEDGER_PROOF_H_
#define MARKET_LEDGER_PROOF_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace market::ledger {

// RFC 9162 §2.1.3.2. OK when `proof` proves `leaf_hash` at `index` in the tree
// of `size` leaves with root `root`; otherwise an error saying what failed
// (INVALID_ARGUMENT for impossible parameters or a proof of the wrong length,
// DATA_LOSS for a mismatching root).
absl::Status VerifyInclusion(int64_t index, int64_t size, absl::string_view leaf_hash,
                             const std::vector<std::string>& proof, absl::string_view root);

// RFC 9162 §2.1.4.2. OK when `proof` shows the tree of `size1` leaves (root1)
// is a prefix of the tree of `size2` leaves (root2). size1 == size2 needs an
// empty proof and equal roots; size1 == 0 is rejected (INVALID_ARGUMENT).
absl::Status VerifyConsistency(int64_t size1, int64_t size2, absl::string_view root1,
                               absl::string_view root2, const std::vector<std::string>& proof);

}  // namespace market::ledger

#endif  // MARKET_LEDGER_PROOF_H_
