#include "services/warranty/claim_lifecycle.h"

#include <string>

#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "common/status/transition_table_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::warranty {
namespace {

using ::market::testing::ExpectedMoves;
using ::market::testing::ExpectEveryMove;
using ::market::testing::StatusIs;
using v1::Claim;
using A = ClaimActor;

std::string Name(Claim::State s) { return Claim::State_Name(s); }

const Claim::State kStates[] = {Claim::STATE_UNSPECIFIED, Claim::FILED,     Claim::ACCEPTED,
                                Claim::REJECTED,          Claim::ESCALATED, Claim::UPHELD,
                                Claim::DISMISSED,         Claim::RESOLVED};

TEST(ClaimLifecycleTest, EveryStatePairAndActor) {
  const ExpectedMoves<Claim::State, ClaimActor> want{
      .states = {std::begin(kStates), std::end(kStates)},
      .actors = {A::kBuyer, A::kSeller, A::kSupervisor, A::kSystem},
      .allowed = {{Claim::FILED, Claim::ACCEPTED, A::kSeller},
                  {Claim::FILED, Claim::REJECTED, A::kSeller},
                  {Claim::FILED, Claim::ESCALATED, A::kSystem},
                  {Claim::REJECTED, Claim::ESCALATED, A::kBuyer},
                  {Claim::ACCEPTED, Claim::ESCALATED, A::kBuyer},
                  {Claim::UPHELD, Claim::ESCALATED, A::kBuyer},
                  {Claim::ESCALATED, Claim::UPHELD, A::kSupervisor},
                  {Claim::ESCALATED, Claim::DISMISSED, A::kSupervisor},
                  {Claim::ACCEPTED, Claim::RESOLVED, A::kBuyer},
                  {Claim::ACCEPTED, Claim::RESOLVED, A::kSystem},
                  {Claim::UPHELD, Claim::RESOLVED, A::kBuyer},
                  {Claim::UPHELD, Claim::RESOLVED, A::kSystem}},
      .reasons = {{Claim::ACCEPTED, "CLAIM_NOT_FILED"},
                  {Claim::REJECTED, "CLAIM_NOT_FILED"},
                  {Claim::ESCALATED, "CLAIM_NOT_ESCALATABLE"},
                  {Claim::UPHELD, "CLAIM_NOT_ESCALATED"},
                  {Claim::DISMISSED, "CLAIM_NOT_ESCALATED"},
                  {Claim::RESOLVED, "CLAIM_NOT_RESOLVABLE"}},
  };
  EXPECT_EQ(ExpectEveryMove(want, CheckClaimTransition, Name), 12);
}

TEST(ClaimLifecycleTest, BuyerEscalatingAFiledClaimIsNotEscalatable) {
  absl::Status s = CheckClaimTransition(Claim::FILED, Claim::ESCALATED, A::kBuyer);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(s), "CLAIM_NOT_ESCALATABLE");
}

TEST(ClaimLifecycleTest, SellerNeverResolvesOrEscalates) {
  EXPECT_THAT(CheckClaimTransition(Claim::ACCEPTED, Claim::RESOLVED, A::kSeller),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckClaimTransition(Claim::REJECTED, Claim::ESCALATED, A::kSeller),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

struct EscalationCase {
  Claim::State from;
  bool resolution_pending;
  bool resolve_deadline_missed;
  std::string reason;  // "" = allowed
};

TEST(ClaimLifecycleTest, EscalationGuards) {
  const EscalationCase cases[] = {
      {Claim::REJECTED, false, false, ""},
      {Claim::REJECTED, true, true, ""},
      {Claim::ACCEPTED, true, false, ""},
      {Claim::ACCEPTED, false, true, ""},
      {Claim::ACCEPTED, false, false, "CLAIM_NOT_ESCALATABLE"},
      {Claim::UPHELD, true, false, ""},
      {Claim::UPHELD, false, true, ""},
      {Claim::UPHELD, false, false, "CLAIM_NOT_ESCALATABLE"},
      {Claim::FILED, true, true, "CLAIM_NOT_ESCALATABLE"},
      {Claim::ESCALATED, true, true, "CLAIM_NOT_ESCALATABLE"},
      {Claim::DISMISSED, false, true, "CLAIM_NOT_ESCALATABLE"},
      {Claim::RESOLVED, true, false, "CLAIM_NOT_ESCALATABLE"},
  };
  for (const EscalationCase& c : cases) {
    absl::Status s = CheckClaimEscalation(c.from, c.resolution_pending, c.resolve_deadline_missed);
    const std::string label = absl::StrCat(Name(c.from), " pending=", c.resolution_pending,
                                           " missed=", c.resolve_deadline_missed);
    if (c.reason.empty()) {
      EXPECT_OK(s) << label;
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition)) << label;
      EXPECT_EQ(ReasonOf(s), c.reason) << label;
    }
  }
}

TEST(ClaimLifecycleTest, RepairsAndResolutionsNeedAcceptedOrUpheld) {
  for (Claim::State s : kStates) {
    const bool ok = s == Claim::ACCEPTED || s == Claim::UPHELD;
    if (ok) {
      EXPECT_OK(CheckClaimRepairable(s)) << Name(s);
      EXPECT_OK(CheckClaimResolvable(s)) << Name(s);
      continue;
    }
    EXPECT_THAT(CheckClaimRepairable(s), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(ReasonOf(CheckClaimRepairable(s)), "CLAIM_NOT_IN_REPAIRABLE_STATE") << Name(s);
    EXPECT_THAT(CheckClaimResolvable(s), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(ReasonOf(CheckClaimResolvable(s)), "CLAIM_NOT_RESOLVABLE") << Name(s);
  }
}

TEST(ClaimLifecycleTest, RefusalNamesBothStates) {
  EXPECT_THAT(CheckClaimTransition(Claim::RESOLVED, Claim::UPHELD, A::kSupervisor),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::HasSubstr("RESOLVED → UPHELD is not allowed")));
}

}  // namespace
}  // namespace market::warranty
