#include "services/appraisal/appraisal_lifecycle.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "common/status/transition_table.h"

namespace market::appraisal {
namespace {

using v1::Appraisal;
using v1::Dispute;
using v1::SigningKey;
using A = AppraisalActor;

// In AppraisalActor's order.
std::vector<absl::string_view> ActorNames() {
  return {"FIRM", "DISPUTANT", "SUPERVISOR", "SYSTEM"};
}

std::string ReportStateName(Appraisal::State s) { return Appraisal::State_Name(s); }
std::string DisputeStateName(Dispute::State s) { return Dispute::State_Name(s); }
std::string KeyStateName(SigningKey::State s) { return SigningKey::State_Name(s); }

const TransitionTable<Appraisal::State, AppraisalActor>& ReportTable() {
  static const auto* table = new TransitionTable<Appraisal::State, AppraisalActor>{
      .noun = "appraisal",
      .moves =
          {
              {Appraisal::FILED, Appraisal::SUPERSEDED, {A::kSystem}},
              {Appraisal::FILED, Appraisal::DISPUTED, {A::kDisputant}},
              {Appraisal::DISPUTED, Appraisal::DISPUTED, {A::kDisputant}},
              {Appraisal::FILED, Appraisal::OVERTURNED, {A::kSupervisor}},
              {Appraisal::DISPUTED, Appraisal::OVERTURNED, {A::kSupervisor}},
              {Appraisal::SUPERSEDED, Appraisal::OVERTURNED, {A::kSupervisor}},
              {Appraisal::DISPUTED, Appraisal::FILED, {A::kSupervisor}},
              {Appraisal::DISPUTED, Appraisal::SUPERSEDED, {A::kSupervisor}},
          },
      .reasons = {{Appraisal::DISPUTED, "APPRAISAL_NOT_DISPUTABLE"}},
      .state_name = ReportStateName,
      .actor_names = ActorNames(),
  };
  return *table;
}

const TransitionTable<Dispute::State, AppraisalActor>& DisputeTable() {
  static const auto* table = new TransitionTable<Dispute::State, AppraisalActor>{
      .noun = "dispute",
      .moves = {{Dispute::OPEN, Dispute::UPHELD, {A::kSupervisor}},
                {Dispute::OPEN, Dispute::DISMISSED, {A::kSupervisor}}},
      .reasons = {{Dispute::UPHELD, "DISPUTE_NOT_OPEN"}, {Dispute::DISMISSED, "DISPUTE_NOT_OPEN"}},
      .state_name = DisputeStateName,
      .actor_names = ActorNames(),
  };
  return *table;
}

const TransitionTable<SigningKey::State, AppraisalActor>& KeyTable() {
  static const auto* table = new TransitionTable<SigningKey::State, AppraisalActor>{
      .noun = "signing key",
      .moves = {{SigningKey::ACTIVE, SigningKey::RETIRED, {A::kFirm, A::kSupervisor}}},
      .reasons = {{SigningKey::RETIRED, "KEY_ALREADY_RETIRED"}},
      .state_name = KeyStateName,
      .actor_names = ActorNames(),
  };
  return *table;
}

}  // namespace

absl::Status CheckAppraisalTransition(Appraisal::State from, Appraisal::State to,
                                      AppraisalActor actor) {
  return CheckMove(ReportTable(), from, to, actor);
}

absl::Status CheckDisputeTransition(Dispute::State from, Dispute::State to, AppraisalActor actor) {
  return CheckMove(DisputeTable(), from, to, actor);
}

absl::Status CheckSigningKeyTransition(SigningKey::State from, SigningKey::State to,
                                       AppraisalActor actor) {
  return CheckMove(KeyTable(), from, to, actor);
}

absl::Status CheckSigningKeyActive(SigningKey::State state) {
  if (state == SigningKey::ACTIVE) return absl::OkStatus();
  return WithReason(absl::StatusCode::kFailedPrecondition, "KEY_NOT_ACTIVE",
                    absl::StrCat("signing key is ", KeyStateName(state)));
}

}  // namespace market::appraisal
