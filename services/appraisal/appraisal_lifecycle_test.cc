#include "services/appraisal/appraisal_lifecycle.h"

#include <string>
#include <vector>

#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "common/status/transition_table_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::appraisal {
namespace {

using ::market::testing::ExpectedMoves;
using ::market::testing::ExpectEveryMove;
using ::market::testing::StatusIs;
using v1::Appraisal;
using v1::Dispute;
using v1::SigningKey;
using A = AppraisalActor;

const std::vector<AppraisalActor> kActors = {A::kFirm, A::kDisputant, A::kSupervisor, A::kSystem};

std::string ReportName(Appraisal::State s) { return Appraisal::State_Name(s); }
std::string DisputeName(Dispute::State s) { return Dispute::State_Name(s); }
std::string KeyName(SigningKey::State s) { return SigningKey::State_Name(s); }

TEST(AppraisalLifecycleTest, EveryReportStatePairAndActor) {
  const ExpectedMoves<Appraisal::State, AppraisalActor> want{
      .states = {Appraisal::STATE_UNSPECIFIED, Appraisal::FILED, Appraisal::SUPERSEDED,
                 Appraisal::DISPUTED, Appraisal::OVERTURNED, Appraisal::REVOKED},
      .actors = kActors,
      .allowed = {{Appraisal::FILED, Appraisal::SUPERSEDED, A::kSystem},
                  {Appraisal::FILED, Appraisal::DISPUTED, A::kDisputant},
                  {Appraisal::DISPUTED, Appraisal::DISPUTED, A::kDisputant},
                  {Appraisal::FILED, Appraisal::OVERTURNED, A::kSupervisor},
                  {Appraisal::DISPUTED, Appraisal::OVERTURNED, A::kSupervisor},
                  {Appraisal::SUPERSEDED, Appraisal::OVERTURNED, A::kSupervisor},
                  {Appraisal::DISPUTED, Appraisal::FILED, A::kSupervisor},
                  {Appraisal::DISPUTED, Appraisal::SUPERSEDED, A::kSupervisor}},
      .reasons = {{Appraisal::DISPUTED, "APPRAISAL_NOT_DISPUTABLE"}},
  };
  EXPECT_EQ(ExpectEveryMove(want, CheckAppraisalTransition, ReportName), 8);
}

TEST(AppraisalLifecycleTest, OverturnedOrSupersededReportIsNotDisputable) {
  for (Appraisal::State from : {Appraisal::OVERTURNED, Appraisal::SUPERSEDED, Appraisal::REVOKED}) {
    absl::Status s = CheckAppraisalTransition(from, Appraisal::DISPUTED, A::kDisputant);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition)) << ReportName(from);
    EXPECT_EQ(ReasonOf(s), "APPRAISAL_NOT_DISPUTABLE") << ReportName(from);
  }
}

TEST(AppraisalLifecycleTest, OverturnedReportIsNotOverturnedAgain) {
  EXPECT_THAT(
      CheckAppraisalTransition(Appraisal::OVERTURNED, Appraisal::OVERTURNED, A::kSupervisor),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               ::testing::HasSubstr("OVERTURNED → OVERTURNED is not allowed")));
}

TEST(AppraisalLifecycleTest, EveryDisputeStatePairAndActor) {
  const ExpectedMoves<Dispute::State, AppraisalActor> want{
      .states = {Dispute::STATE_UNSPECIFIED, Dispute::OPEN, Dispute::UPHELD, Dispute::DISMISSED},
      .actors = kActors,
      .allowed = {{Dispute::OPEN, Dispute::UPHELD, A::kSupervisor},
                  {Dispute::OPEN, Dispute::DISMISSED, A::kSupervisor}},
      .reasons = {{Dispute::UPHELD, "DISPUTE_NOT_OPEN"}, {Dispute::DISMISSED, "DISPUTE_NOT_OPEN"}},
  };
  EXPECT_EQ(ExpectEveryMove(want, CheckDisputeTransition, DisputeName), 2);
}

TEST(AppraisalLifecycleTest, EverySigningKeyStatePairAndActor) {
  const ExpectedMoves<SigningKey::State, AppraisalActor> want{
      .states = {SigningKey::STATE_UNSPECIFIED, SigningKey::ACTIVE, SigningKey::RETIRED},
      .actors = kActors,
      .allowed = {{SigningKey::ACTIVE, SigningKey::RETIRED, A::kFirm},
                  {SigningKey::ACTIVE, SigningKey::RETIRED, A::kSupervisor}},
      .reasons = {{SigningKey::RETIRED, "KEY_ALREADY_RETIRED"}},
  };
  EXPECT_EQ(ExpectEveryMove(want, CheckSigningKeyTransition, KeyName), 2);
}

TEST(AppraisalLifecycleTest, OnlyActiveKeysSign) {
  EXPECT_OK(CheckSigningKeyActive(SigningKey::ACTIVE));
  for (SigningKey::State s : {SigningKey::STATE_UNSPECIFIED, SigningKey::RETIRED}) {
    EXPECT_THAT(CheckSigningKeyActive(s), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(ReasonOf(CheckSigningKeyActive(s)), "KEY_NOT_ACTIVE") << KeyName(s);
  }
}

}  // namespace
}  // namespace market::appraisal
