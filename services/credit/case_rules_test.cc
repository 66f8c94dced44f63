#include "services/credit/case_rules.h"

#include <string>

#include "common/resource/resource.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "common/status/transition_table_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::credit {
namespace {

using ::market::testing::ExpectedMoves;
using ::market::testing::ExpectEveryMove;
using ::market::testing::StatusIs;
using ::testing::UnorderedElementsAre;
using A = CaseActor;
using credit::v1::Record;

std::string Name(Case::State s) { return Case::State_Name(s); }

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(s)) out.push_back(v.field);
  return out;
}

Case Rollback() {
  Case c;
  c.set_kind(Case::MILEAGE_ROLLBACK);
  auto* p = c.add_subjects();
  p->set_subject("subjects/seller-a");
  p->set_role(common::v1::SELLER);
  c.set_resource("items/vehicle:LSVAA4189E2000001");
  return c;
}

TEST(CaseRulesTest, TransitionTableAllowsExactlyTheDocumentedMoves) {
  ExpectedMoves<Case::State, A> want{
      .states = {Case::STATE_UNSPECIFIED, Case::OPEN, Case::IN_REVIEW, Case::CLOSED},
      .actors = {A::kSupervisor, A::kAssignee},
      .allowed = {{Case::OPEN, Case::IN_REVIEW, A::kSupervisor},
                  {Case::OPEN, Case::IN_REVIEW, A::kAssignee},
                  {Case::IN_REVIEW, Case::IN_REVIEW, A::kSupervisor},
                  {Case::IN_REVIEW, Case::IN_REVIEW, A::kAssignee},
                  {Case::OPEN, Case::CLOSED, A::kSupervisor},
                  {Case::IN_REVIEW, Case::CLOSED, A::kAssignee}},
      .reasons = {{Case::IN_REVIEW, "CASE_CLOSED"}, {Case::CLOSED, "CASE_NOT_CLOSABLE"}},
  };
  EXPECT_EQ(ExpectEveryMove(want, CheckCaseTransition, Name), 6);
}

TEST(CaseRulesTest, ClosingAClosedCaseIsNotClosable) {
  absl::Status s = CheckCaseTransition(Case::CLOSED, Case::CLOSED, A::kAssignee);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(s), "CASE_NOT_CLOSABLE");
}

TEST(CaseRulesTest, ConfirmedRollbackDefaultsToMileageRollbackConfirmedAboutFirstSubject) {
  Decision in;
  in.set_outcome(Decision::CONFIRMED);
  in.set_decision_document_number("市监处〔2026〕9号");
  in.set_reason("odometer wound back");
  ASSERT_OK_AND_ASSIGN(Decision d, ValidateDecision(Rollback(), in));
  EXPECT_EQ(d.record_type(), Record::MILEAGE_ROLLBACK_CONFIRMED);
  EXPECT_EQ(d.subject(), "subjects/seller-a");
}

TEST(CaseRulesTest, ConfirmedDecisionNamesEveryMissingField) {
  Case manual = Rollback();
  manual.set_kind(Case::MANUAL);
  Decision in;
  in.set_outcome(Decision::CONFIRMED);
  in.set_subject("subjects/someone-else");
  EXPECT_THAT(Fields(ValidateDecision(manual, in).status()),
              UnorderedElementsAre("decision.reason", "decision.decision_document_number",
                                   "decision.record_type", "decision.subject"));
}

TEST(CaseRulesTest, DismissedDecisionMayNotNameARecordType) {
  Decision in;
  in.set_outcome(Decision::DISMISSED);
  in.set_reason("readings were from two different vehicles");
  in.set_record_type(Record::FRAUD_CONFIRMED);
  EXPECT_THAT(Fields(ValidateDecision(Rollback(), in).status()),
              UnorderedElementsAre("decision.record_type"));
}

TEST(CaseRulesTest, EventCaseNeedsAutomaticKindSubjectsAndResource) {
  Case c;
  c.set_kind(Case::MANUAL);
  c.add_subjects()->set_subject("seller-a");
  c.set_region_code("35");
  EXPECT_THAT(Fields(ValidateNewCase(c, /*from_event=*/true, absl::UnixEpoch())),
              UnorderedElementsAre("case.kind", "case.resource", "case.region_code",
                                   "case.subjects[0].subject", "case.subjects[0].role"));
  EXPECT_OK(ValidateNewCase(Rollback(), /*from_event=*/true, absl::UnixEpoch()));
}

TEST(CaseRulesTest, ManualCaseNeedsSummaryAndFutureDueTime) {
  Case c = Rollback();
  c.set_kind(Case::KIND_UNSPECIFIED);
  *c.mutable_due_time() = ToTimestamp(absl::FromUnixSeconds(10));
  EXPECT_THAT(Fields(ValidateNewCase(c, /*from_event=*/false, absl::FromUnixSeconds(20))),
              UnorderedElementsAre("case.summary", "case.due_time"));
}

TEST(CaseRulesTest, OpenCasePastItsDueTimeIsOverdueAndAClosedOneIsNot) {
  Case c = Rollback();
  c.set_state(Case::OPEN);
  *c.mutable_create_time() = ToTimestamp(absl::FromUnixSeconds(0));
  *c.mutable_due_time() = ToTimestamp(absl::FromUnixSeconds(0) + kCaseDuePeriod);
  PresentCase(c, absl::FromUnixSeconds(0) + kCaseDuePeriod + absl::Seconds(1));
  EXPECT_TRUE(c.overdue());
  EXPECT_EQ(c.age().seconds(), absl::ToInt64Seconds(kCaseDuePeriod) + 1);
  c.set_state(Case::CLOSED);
  *c.mutable_close_time() = ToTimestamp(absl::FromUnixSeconds(100));
  PresentCase(c, absl::FromUnixSeconds(0) + kCaseDuePeriod * 2);
  EXPECT_FALSE(c.overdue());
  EXPECT_EQ(c.age().seconds(), 100);
}

}  // namespace
}  // namespace market::credit
