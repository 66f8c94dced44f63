// The credit ledger's leaf format v2: a salted commitment to the record plus
// its public view (docs/ledger-leaf-v2.md). Tiles and GetRecords publish every
// leaf, so a leaf reveals only what credit-policy-v1 needs to recompute every
// public level; the record itself is revealed, with its salt, only to callers
// allowed to read it. Pure functions; thread-safe.
//
//   leaf       = commitment (32 bytes) ‖ public view (deterministic protobuf)
//   commitment = SHA-256("market-credit-record/v2" ‖ 0x00 ‖ salt ‖ content)
//   content    = CanonicalRecordBytes(record)   (the v1 leaf)
//   salt       = 32 random bytes per record
//
// Public view: index, subject, the effective tier, occurred_time, and for
// meta records (repair, expiry, withdrawal) also type and refers_to.
#ifndef MARKET_LEDGER_LEAF_H_
#define MARKET_LEDGER_LEAF_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "market/credit/v1/credit.pb.h"

namespace market::ledger {

using credit::v1::Record;

inline constexpr size_t kSaltSize = 32;
inline constexpr size_t kCommitmentSize = 32;

// The record's deterministic protobuf serialization with `name` cleared.
std::string CanonicalRecordBytes(const Record& record);
// SHA-256("market-credit-record/v2" ‖ 0x00 ‖ salt ‖ content).
std::string RecordCommitment(absl::string_view salt, absl::string_view content);
// What the public may see of `record` (see above).
Record PublicView(const Record& record);
// The v2 leaf of `record` (index set) with `salt` (kSaltSize bytes).
std::string CommittedLeaf(const Record& record, absl::string_view salt);

struct ParsedLeaf {
  std::string commitment;
  Record public_view;
};
// Splits and decodes a v2 leaf. DATA_LOSS when it is shorter than a
// commitment or its public view does not decode.
absl::StatusOr<ParsedLeaf> ParseLeaf(absl::string_view leaf);

// OK when (`content`, `salt`) open `leaf` at `index`: the commitment matches
// and the leaf's public view is exactly PublicView of the decoded content,
// whose index is `index`. DATA_LOSS saying what differs otherwise.
absl::Status CheckOpening(int64_t index, absl::string_view leaf, absl::string_view content,
                          absl::string_view salt);

// Whether credit-policy-v1 displays `record` publicly at `now`, so that anyone
// may read it in full: a non-meta record of a public tier (POSITIVE, GENERAL,
// SERIOUS; never MINOR) inside its display period (occurred_time <= now <
// occurred_time + MaxDisplay) that no meta record concludes (`concluded`).
// Exactly the active non-MINOR records of Evaluate.
bool PubliclyDisplayed(const Record& record, bool concluded, absl::Time now);

}  // namespace market::ledger

#endif  // MARKET_LEDGER_LEAF_H_
