// The warranty claim state machine (API.md WarrantyService, warranty.proto
// Claim.State) as a table of allowed moves, and the state preconditions of
// the claim changes that keep the state. Thread-safe: pure functions.
#ifndef MARKET_SERVICES_WARRANTY_CLAIM_LIFECYCLE_H_
#define MARKET_SERVICES_WARRANTY_CLAIM_LIFECYCLE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "market/warranty/v1/warranty.pb.h"

namespace market::warranty {

// Who changes a claim: the order's buyer or seller, a supervisor ruling, or
// the deadline scheduler (kSystem).
enum class ClaimActor { kBuyer, kSeller, kSupervisor, kSystem };

// The claim state machine. Allowed (everything else is refused):
//   FILED → ACCEPTED, REJECTED                 kSeller (RespondToClaim)
//   FILED → ESCALATED                          kSystem (reply deadline missed)
//   REJECTED, ACCEPTED, UPHELD → ESCALATED     kBuyer (EscalateClaim; see
//                                              CheckClaimEscalation)
//   ESCALATED → UPHELD, DISMISSED              kSupervisor (RuleOnClaim)
//   ACCEPTED, UPHELD → RESOLVED                kBuyer, kSystem (confirmation)
// PERMISSION_DENIED when `actor` never moves a claim into `to`; otherwise
// FAILED_PRECONDITION with reason CLAIM_NOT_FILED (to ACCEPTED or REJECTED),
// CLAIM_NOT_ESCALATABLE, CLAIM_NOT_ESCALATED (to UPHELD or DISMISSED),
// CLAIM_NOT_RESOLVABLE (to RESOLVED) or ILLEGAL_STATE_TRANSITION.
absl::Status CheckClaimTransition(v1::Claim::State from, v1::Claim::State to, ClaimActor actor);

// EscalateClaim by the buyer: CheckClaimTransition(from, ESCALATED, kBuyer),
// and from ACCEPTED or UPHELD only instead of confirming a recorded
// resolution (`resolution_pending`) or once the resolve deadline passed
// without one (`resolve_deadline_missed`); else CLAIM_NOT_ESCALATABLE.
absl::Status CheckClaimEscalation(v1::Claim::State from, bool resolution_pending,
                                  bool resolve_deadline_missed);

// RecordRepair: OK in ACCEPTED and UPHELD, else FAILED_PRECONDITION
// CLAIM_NOT_IN_REPAIRABLE_STATE.
absl::Status CheckClaimRepairable(v1::Claim::State state);

// ResolveClaim recording the seller's resolution: OK in ACCEPTED and UPHELD,
// else FAILED_PRECONDITION CLAIM_NOT_RESOLVABLE.
absl::Status CheckClaimResolvable(v1::Claim::State state);

}  // namespace market::warranty

#endif  // MARKET_SERVICES_WARRANTY_CLAIM_LIFECYCLE_H_
