// The state machines of appraisal reports, disputes and signing keys (API.md
// AppraisalService, appraisal.proto) as tables of allowed moves.
// Thread-safe: pure functions.
#ifndef MARKET_SERVICES_APPRAISAL_APPRAISAL_LIFECYCLE_H_
#define MARKET_SERVICES_APPRAISAL_APPRAISAL_LIFECYCLE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "market/appraisal/v1/appraisal.pb.h"

namespace market::appraisal {

// Who changes a report, dispute or key: the firm (its staff for keys), a
// disputant (a party to the listing or another firm), a supervisor, or the
// system (a newer report filed on the same item).
enum class AppraisalActor { kFirm, kDisputant, kSupervisor, kSystem };

// The report state machine. Allowed (everything else is refused):
//   FILED → SUPERSEDED                        kSystem (newer report on the item)
//   FILED, DISPUTED → DISPUTED                kDisputant (FileDispute)
//   FILED, DISPUTED, SUPERSEDED → OVERTURNED  kSupervisor (dispute upheld)
//   DISPUTED → FILED, SUPERSEDED              kSupervisor (last dispute dismissed)
// A SUPERSEDED report disputed by the counter-appraisal that superseded it
// stays SUPERSEDED (no move). PERMISSION_DENIED when `actor` never moves a
// report into `to`; otherwise FAILED_PRECONDITION with reason
// APPRAISAL_NOT_DISPUTABLE (to DISPUTED) or ILLEGAL_STATE_TRANSITION.
absl::Status CheckAppraisalTransition(v1::Appraisal::State from, v1::Appraisal::State to,
                                      AppraisalActor actor);

// The dispute state machine: OPEN → UPHELD, DISMISSED by kSupervisor
// (RuleOnDispute). PERMISSION_DENIED for other actors; otherwise
// FAILED_PRECONDITION DISPUTE_NOT_OPEN (to UPHELD or DISMISSED) or
// ILLEGAL_STATE_TRANSITION.
absl::Status CheckDisputeTransition(v1::Dispute::State from, v1::Dispute::State to,
                                    AppraisalActor actor);

// The signing-key state machine: ACTIVE → RETIRED by kFirm or kSupervisor
// (RetireSigningKey). PERMISSION_DENIED for other actors; otherwise
// FAILED_PRECONDITION KEY_ALREADY_RETIRED (to RETIRED) or
// ILLEGAL_STATE_TRANSITION.
absl::Status CheckSigningKeyTransition(v1::SigningKey::State from, v1::SigningKey::State to,
                                       AppraisalActor actor);

// FileAppraisal: OK for an ACTIVE key, else FAILED_PRECONDITION KEY_NOT_ACTIVE.
absl::Status CheckSigningKeyActive(v1::SigningKey::State state);

}  // namespace market::appraisal

#endif  // MARKET_SERVICES_APPRAISAL_APPRAISAL_LIFECYCLE_H_
