// Domain rules of supervision cases (market.supervision.v1): the case state
// machine, the due period, which credit record a confirmed case appends, and
// field validation of the requests that carry a case. Field paths follow
// market/supervision/v1/supervision.proto.
// Thread-safe: every function here is a pure function of its arguments.
#ifndef MARKET_SERVICES_CREDIT_CASE_RULES_H_
#define MARKET_SERVICES_CREDIT_CASE_RULES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "market/supervision/v1/supervision.pb.h"

namespace market::credit {

using supervision::v1::Case;
using supervision::v1::Decision;

// Who moves a case: kSupervisor is any supervisor; kAssignee is the
// supervisor the case is assigned to.
enum class CaseActor { kSupervisor, kAssignee };

// "SUPERVISOR" or "ASSIGNEE".
absl::string_view CaseActorName(CaseActor actor);

// A decision is due this long after a case opens, unless OpenCase gives one.
inline constexpr absl::Duration kCaseDuePeriod = absl::Hours(24 * 15);
inline constexpr int kMaxCaseNoteChars = 2000;
inline constexpr int kMaxCaseTextChars = 500;

// The case state machine. Allowed (everything else is refused):
//   OPEN → IN_REVIEW          kSupervisor, kAssignee (AssignCase)
//   IN_REVIEW → IN_REVIEW     kSupervisor, kAssignee (hand over)
//   OPEN → CLOSED             kSupervisor (CloseCase of an unassigned case)
//   IN_REVIEW → CLOSED        kAssignee
// CLOSED is final. PERMISSION_DENIED when `actor` may never move a case into
// `to`; otherwise FAILED_PRECONDITION "case FROM → TO is not allowed" with
// reason CASE_CLOSED (to IN_REVIEW) or CASE_NOT_CLOSABLE (to CLOSED).
absl::Status CheckCaseTransition(Case::State from, Case::State to, CaseActor actor);

// The credit record a CONFIRMED decision on a case of `kind` appends when the
// decision names none: MILEAGE_ROLLBACK_CONFIRMED for MILEAGE_ROLLBACK, else
// TYPE_UNSPECIFIED (the decision must name one).
credit::v1::Record::Type DefaultRecordType(Case::Kind kind);

// Whether a case decision may append records of `type`: COUNTERFEIT_CONFIRMED,
// FRAUD_CONFIRMED, MILEAGE_ROLLBACK_CONFIRMED, UNLICENSED_OPERATION.
bool IsCaseRecordType(credit::v1::Record::Type type);

// Validates the client-set fields of a case opened by OpenCase (`from_event`
// false: kind MANUAL or unset, summary required, due_time after `now` when
// set) or RecordCaseEvent (true: kind one of the automatic kinds, resource
// required): OK or one INVALID_ARGUMENT naming every bad field ("case.kind",
// "case.subjects[0].subject", …).
absl::Status ValidateNewCase(const Case& c, bool from_event, absl::Time now);

// Validates CloseCaseRequest.decision for a case `c` as it is stored: outcome,
// reason, and for CONFIRMED the decision document number, the record type
// (given or DefaultRecordType) and the subject (one of c's subjects). Returns
// the decision to store (record type and subject filled in).
absl::StatusOr<Decision> ValidateDecision(const Case& c, const Decision& in);

// Sets the output-only fields computed at read time: age and overdue.
void PresentCase(Case& c, absl::Time now);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CASE_RULES_H_
