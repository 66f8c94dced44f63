#include "services/warranty/claim_lifecycle.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "common/status/transition_table.h"

namespace market::warranty {
namespace {

using v1::Claim;

std::string StateName(Claim::State s) { return Claim::State_Name(s); }

const TransitionTable<Claim::State, ClaimActor>& Table() {
  using A = ClaimActor;
  static const auto* table = new TransitionTable<Claim::State, ClaimActor>{
      .noun = "claim",
      .moves =
          {
              {Claim::FILED, Claim::ACCEPTED, {A::kSeller}},
              {Claim::FILED, Claim::REJECTED, {A::kSeller}},
              {Claim::FILED, Claim::ESCALATED, {A::kSystem}},
              {Claim::REJECTED, Claim::ESCALATED, {A::kBuyer}},
              {Claim::ACCEPTED, Claim::ESCALATED, {A::kBuyer}},
              {Claim::UPHELD, Claim::ESCALATED, {A::kBuyer}},
              {Claim::ESCALATED, Claim::UPHELD, {A::kSupervisor}},
              {Claim::ESCALATED, Claim::DISMISSED, {A::kSupervisor}},
              {Claim::ACCEPTED, Claim::RESOLVED, {A::kBuyer, A::kSystem}},
              {Claim::UPHELD, Claim::RESOLVED, {A::kBuyer, A::kSystem}},
          },
      .reasons = {{Claim::ACCEPTED, "CLAIM_NOT_FILED"},
                  {Claim::REJECTED, "CLAIM_NOT_FILED"},
                  {Claim::ESCALATED, "CLAIM_NOT_ESCALATABLE"},
                  {Claim::UPHELD, "CLAIM_NOT_ESCALATED"},
                  {Claim::DISMISSED, "CLAIM_NOT_ESCALATED"},
                  {Claim::RESOLVED, "CLAIM_NOT_RESOLVABLE"}},
      .state_name = StateName,
      // In enumerator order.
      .actor_names = {"BUYER", "SELLER", "SUPERVISOR", "SYSTEM"},
  };
  return *table;
}

bool Resolving(Claim::State s) { return s == Claim::ACCEPTED || s == Claim::UPHELD; }

absl::Status NotResolving(Claim::State state, absl::string_view reason, absl::string_view what) {
  if (Resolving(state)) return absl::OkStatus();
  return WithReason(
      absl::StatusCode::kFailedPrecondition, reason,
      absl::StrCat("claim is ", StateName(state), "; ", what, " need ACCEPTED or UPHELD"));
}

}  // namespace

absl::Status CheckClaimTransition(Claim::State from, Claim::State to, ClaimActor actor) {
  return CheckMove(Table(), from, to, actor);
}

absl::Status CheckClaimEscalation(Claim::State from, bool resolution_pending,
                                  bool resolve_deadline_missed) {
  absl::Status s = CheckClaimTransition(from, Claim::ESCALATED, ClaimActor::kBuyer);
  if (s.ok() && Resolving(from) && !resolution_pending && !resolve_deadline_missed) {
    s = WithReason(absl::StatusCode::kFailedPrecondition, "CLAIM_NOT_ESCALATABLE",
                   "claim is being resolved; escalate it instead of confirming a resolution, "
                   "or after a missed resolve deadline");
  }
  return s;
}

absl::Status CheckClaimRepairable(Claim::State state) {
  return NotResolving(state, "CLAIM_NOT_IN_REPAIRABLE_STATE", "repairs");
}

absl::Status CheckClaimResolvable(Claim::State state) {
  return NotResolving(state, "CLAIM_NOT_RESOLVABLE", "resolutions");
}

}  // namespace market::warranty
