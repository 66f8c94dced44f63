// CaseService (market.supervision.v1) through a real gRPC server on
// 127.0.0.1:0, hosted with the credit service over one credit.db, with the
// identity service beside it for tokens and subjects. The flows that need
// the listing service (a buyer's report, events sent by listing and
// warranty) are in tests/supervision_cases_test.cc.
#include "services/credit/case_service.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/resource/resource.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "market/credit/v1/credit.grpc.pb.h"
#include "market/supervision/v1/supervision.grpc.pb.h"
#include "services/credit/case_rules.h"
#include "services/credit/credit_module.h"
#include "services/identity/identity_testing.h"

namespace market::credit {
namespace {

namespace sv = supervision::v1;
using common::v1::Role;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Fields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(FromGrpcStatus(s))) out.push_back(v.field);
  return out;
}

class CaseServiceTest : public identity::testing::ServiceTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    SubjectDirectory directory = [](const std::string&)
        -> absl::StatusOr<std::optional<SubjectInfo>> { return std::nullopt; };
    ASSERT_OK_AND_ASSIGN(credit_, OpenCreditModule(dir_, &clock_, directory, verifier_,
                                                   identity_.suspension, nullptr));
    ASSERT_OK(OpenCaseService(credit_, dir_, &clock_, CasePeers{}, verifier_,
                              identity_.suspension, nullptr));
    ASSERT_OK_AND_ASSIGN(auto channel,
                         StartServer({{credit_.credit.get(), "market.credit.v1.CreditService"},
                                      {credit_.cases.get(), "market.supervision.v1.CaseService"}}));
    cases_ = sv::CaseService::NewStub(channel);
    supervisor_ = AddSubject("supervisor", Role::SUPERVISOR);
    other_supervisor_ = AddSubject("supervisor-two", Role::SUPERVISOR);
    service_ = AddSubject("svc-listing", Role::SERVICE);
    seller_ = AddSubject("seller-a", Role::SELLER);
    buyer_ = AddSubject("buyer-b", Role::BUYER);
  }

  sv::RecordCaseEventRequest RollbackEvent(const std::string& event_id) {
    sv::RecordCaseEventRequest req;
    req.set_event_id(event_id);
    sv::Case* c = req.mutable_case_();
    c->set_kind(sv::Case::MILEAGE_ROLLBACK);
    sv::Party* p = c->add_subjects();
    p->set_subject(seller_);
    p->set_role(Role::SELLER);
    c->set_resource("items/vehicle:LSVAA4189E2000001");
    c->set_market("markets/east");
    c->set_region_code("350102");
    c->set_summary("50000 km is below an earlier reading");
    return req;
  }
  grpc::Status Event(const sv::RecordCaseEventRequest& req, sv::Case* out,
                     const std::string& who = "") {
    return cases_->RecordCaseEvent(Ctx(who.empty() ? service_ : who).get(), req, out);
  }
  sv::Case OpenRollback(const std::string& event_id = "ev-1") {
    sv::Case c;
    grpc::Status s = Event(RollbackEvent(event_id), &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c;
  }
  grpc::Status Close(const std::string& who, const std::string& name, sv::Decision::Outcome outcome,
                     sv::Case* out, const std::string& request_id = "") {
    sv::CloseCaseRequest req;
    req.set_name(name);
    req.mutable_decision()->set_outcome(outcome);
    req.mutable_decision()->set_reason("inspection of the odometer");
    if (outcome == sv::Decision::CONFIRMED) {
      req.mutable_decision()->set_decision_document_number("市监处〔2026〕21号");
    }
    req.set_request_id(request_id);
    return cases_->CloseCase(Ctx(who).get(), req, out);
  }
  grpc::Status Assign(const std::string& who, const std::string& name, sv::Case* out) {
    sv::AssignCaseRequest req;
    req.set_name(name);
    return cases_->AssignCase(Ctx(who).get(), req, out);
  }
  std::vector<std::string> List(const std::string& filter) {
    sv::ListCasesRequest req;
    req.set_filter(filter);
    sv::ListCasesResponse resp;
    grpc::Status s = cases_->ListCases(Ctx(supervisor_).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> names;
    for (const auto& c : resp.cases()) names.push_back(c.name());
    return names;
  }
  int64_t LedgerSize() {
    absl::StatusOr<int64_t> n = credit_.store->Size();
    EXPECT_OK(n.status());
    return n.value_or(-1);
  }

  CreditModule credit_;
  std::unique_ptr<sv::CaseService::Stub> cases_;
  std::string supervisor_, other_supervisor_, service_, seller_, buyer_;
};

TEST_F(CaseServiceTest, RollbackEventOpensOneCaseAndItsReplayOpensNoSecond) {
  sv::Case first = OpenRollback("ev-1");
  EXPECT_EQ(first.state(), sv::Case::OPEN);
  EXPECT_EQ(first.opened_by(), service_);
  EXPECT_EQ(first.source_event(), "ev-1");
  EXPECT_EQ(FromTimestamp(first.due_time()), clock_.Now() + kCaseDuePeriod);
  sv::Case replay = OpenRollback("ev-1");
  EXPECT_EQ(replay.name(), first.name());
  EXPECT_THAT(List(""), ElementsAre(first.name()));
}

TEST_F(CaseServiceTest, SecondEventAboutTheSameItemIsANoteOnTheOpenCase) {
  sv::Case first = OpenRollback("ev-1");
  sv::Case second = OpenRollback("ev-2");
  EXPECT_EQ(second.name(), first.name());
  ASSERT_EQ(second.notes_size(), 1);
  EXPECT_THAT(second.notes(0).text(), ::testing::HasSubstr("ev-2"));
  EXPECT_THAT(List(""), ElementsAre(first.name()));
}

TEST_F(CaseServiceTest, ClosingConfirmedAppendsMileageRollbackConfirmedInTheLedger) {
  sv::Case c = OpenRollback();
  sv::Case assigned;
  ASSERT_TRUE(Assign(supervisor_, c.name(), &assigned).ok());
  EXPECT_EQ(assigned.state(), sv::Case::IN_REVIEW);
  EXPECT_EQ(assigned.assignee(), supervisor_);
  const int64_t before = LedgerSize();
  sv::Case closed;
  grpc::Status s = Close(supervisor_, c.name(), sv::Decision::CONFIRMED, &closed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(closed.state(), sv::Case::CLOSED);
  EXPECT_EQ(closed.decision().decided_by(), supervisor_);
  EXPECT_EQ(LedgerSize(), before + 1);
  EXPECT_EQ(closed.decision().record(), absl::StrCat("ledgers/main/records/", before));
  ASSERT_OK_AND_ASSIGN(Record r, credit_.store->GetRecord(before));
  EXPECT_EQ(r.type(), Record::MILEAGE_ROLLBACK_CONFIRMED);
  EXPECT_EQ(r.tier(), Record::SERIOUS);
  EXPECT_EQ(r.subject(), seller_);
  EXPECT_EQ(r.subject_role(), Role::SELLER);
  EXPECT_EQ(r.decision_document_number(), "市监处〔2026〕21号");
  EXPECT_EQ(r.reference(), "items/vehicle:LSVAA4189E2000001");
  EXPECT_EQ(r.source(), supervisor_);
}

TEST_F(CaseServiceTest, RetriedCloseWithTheSameRequestIdAppendsOnce) {
  sv::Case c = OpenRollback();
  const int64_t before = LedgerSize();
  sv::Case first, retry;
  ASSERT_TRUE(Close(supervisor_, c.name(), sv::Decision::CONFIRMED, &first, "close-1").ok());
  ASSERT_TRUE(Close(supervisor_, c.name(), sv::Decision::CONFIRMED, &retry, "close-1").ok());
  EXPECT_EQ(retry.decision().record(), first.decision().record());
  EXPECT_EQ(LedgerSize(), before + 1);
}

TEST_F(CaseServiceTest, ClosingDismissedAppendsNothing) {
  sv::Case c = OpenRollback();
  const int64_t before = LedgerSize();
  sv::Case closed;
  ASSERT_TRUE(Close(supervisor_, c.name(), sv::Decision::DISMISSED, &closed).ok());
  EXPECT_EQ(closed.state(), sv::Case::CLOSED);
  EXPECT_EQ(closed.decision().outcome(), sv::Decision::DISMISSED);
  EXPECT_EQ(closed.decision().record(), "");
  EXPECT_EQ(LedgerSize(), before);
}

TEST_F(CaseServiceTest, ClosedCaseRefusesASecondCloseAndNotes) {
  sv::Case c = OpenRollback();
  sv::Case closed;
  ASSERT_TRUE(Close(supervisor_, c.name(), sv::Decision::DISMISSED, &closed).ok());
  grpc::Status again = Close(supervisor_, c.name(), sv::Decision::CONFIRMED, &closed);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(again)), "CASE_NOT_CLOSABLE");
  sv::AddCaseNoteRequest note;
  note.set_name(c.name());
  note.set_text("late note");
  grpc::Status noted = cases_->AddCaseNote(Ctx(supervisor_).get(), note, &closed);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(noted)), "CASE_CLOSED");
}

TEST_F(CaseServiceTest, OnlyTheAssigneeClosesACaseInReview) {
  sv::Case c = OpenRollback();
  sv::Case out;
  ASSERT_TRUE(Assign(supervisor_, c.name(), &out).ok());
  grpc::Status s = Close(other_supervisor_, c.name(), sv::Decision::DISMISSED, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(s)), "CASE_NOT_CLOSABLE");
  ASSERT_TRUE(Assign(other_supervisor_, c.name(), &out).ok());  // hand-over
  EXPECT_TRUE(Close(other_supervisor_, c.name(), sv::Decision::DISMISSED, &out).ok());
}

TEST_F(CaseServiceTest, StaleEtagIsAborted) {
  sv::Case c = OpenRollback();
  sv::AssignCaseRequest req;
  req.set_name(c.name());
  req.set_etag("\"v99\"");
  sv::Case out;
  EXPECT_EQ(cases_->AssignCase(Ctx(supervisor_).get(), req, &out).error_code(),
            grpc::StatusCode::ABORTED);
  req.set_etag(c.etag());
  EXPECT_TRUE(cases_->AssignCase(Ctx(supervisor_).get(), req, &out).ok());
}

TEST_F(CaseServiceTest, RolesFollowThePolicyTable) {
  sv::Case c = OpenRollback();
  sv::Case out;
  EXPECT_EQ(Event(RollbackEvent("ev-9"), &out, supervisor_).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Close(service_, c.name(), sv::Decision::DISMISSED, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Assign(seller_, c.name(), &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  sv::ListCasesResponse list;
  EXPECT_EQ(cases_->ListCases(Ctx(buyer_).get(), sv::ListCasesRequest(), &list).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(cases_->ListCases(Ctx("").get(), sv::ListCasesRequest(), &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  sv::GetCaseRequest get;
  get.set_name(c.name());
  EXPECT_EQ(cases_->GetCase(Ctx(buyer_).get(), get, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  sv::ReportSuspectedViolationRequest report;
  EXPECT_EQ(cases_->ReportSuspectedViolation(Ctx(supervisor_).get(), report, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CaseServiceTest, ValidationNamesEveryBadField) {
  sv::Case out;
  sv::RecordCaseEventRequest bad_event;
  bad_event.mutable_case_()->set_kind(sv::Case::MANUAL);
  grpc::Status s = Event(bad_event, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Fields(s), UnorderedElementsAre("event_id", "case.kind", "case.resource",
                                              "case.subjects"));
  sv::CloseCaseRequest close;
  close.set_name("case/x");
  s = cases_->CloseCase(Ctx(supervisor_).get(), close, &out);
  EXPECT_THAT(Fields(s), UnorderedElementsAre("name", "decision"));
  sv::OpenCaseRequest open;
  open.mutable_case_()->set_market("east");
  s = cases_->OpenCase(Ctx(supervisor_).get(), open, &out);
  EXPECT_THAT(Fields(s), UnorderedElementsAre("case.summary", "case.market", "case.subjects"));
  sv::ListCasesRequest list;
  list.set_filter("colour=red");
  sv::ListCasesResponse resp;
  s = cases_->ListCases(Ctx(supervisor_).get(), list, &resp);
  EXPECT_THAT(Fields(s), ElementsAre("filter"));
}

TEST_F(CaseServiceTest, ManualCaseIsOpenedBySupervisorWithGivenDueTime) {
  sv::OpenCaseRequest req;
  sv::Case* c = req.mutable_case_();
  sv::Party* p = c->add_subjects();
  p->set_subject(seller_);
  p->set_role(Role::SELLER);
  c->set_summary("unlicensed vehicle dealing reported by phone");
  *c->mutable_due_time() = ToTimestamp(clock_.Now() + absl::Hours(72));
  sv::Case out;
  grpc::Status s = cases_->OpenCase(Ctx(supervisor_).get(), req, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.kind(), sv::Case::MANUAL);
  EXPECT_EQ(out.opened_by(), supervisor_);
  EXPECT_EQ(FromTimestamp(out.due_time()), clock_.Now() + absl::Hours(72));
}

TEST_F(CaseServiceTest, ListFiltersByKindStateRegionAssigneeAndOverdueAndPages) {
  sv::Case a = OpenRollback("ev-a");
  clock_.Advance(absl::Seconds(1));
  sv::RecordCaseEventRequest claim = RollbackEvent("ev-b");
  claim.mutable_case_()->set_kind(sv::Case::CLAIM_ESCALATED);
  claim.mutable_case_()->set_resource("claims/c1");
  claim.mutable_case_()->set_region_code("110101");
  sv::Case b;
  ASSERT_TRUE(Event(claim, &b).ok());
  sv::Case out;
  ASSERT_TRUE(Assign(supervisor_, b.name(), &out).ok());
  EXPECT_THAT(List("kind=MILEAGE_ROLLBACK"), ElementsAre(a.name()));
  EXPECT_THAT(List("state=IN_REVIEW"), ElementsAre(b.name()));
  EXPECT_THAT(List("region=3501"), ElementsAre(a.name()));
  EXPECT_THAT(List(absl::StrCat("assignee=\"", supervisor_, "\"")), ElementsAre(b.name()));
  EXPECT_THAT(List(absl::StrCat("subject=\"", seller_, "\"")), ElementsAre(a.name(), b.name()));
  EXPECT_THAT(List("overdue=true"), ElementsAre());
  clock_.Advance(kCaseDuePeriod + absl::Seconds(1));
  EXPECT_THAT(List("overdue=true"), ElementsAre(a.name(), b.name()));

  sv::ListCasesRequest req;
  req.set_page_size(1);
  sv::ListCasesResponse page;
  ASSERT_TRUE(cases_->ListCases(Ctx(supervisor_).get(), req, &page).ok());
  ASSERT_EQ(page.cases_size(), 1);
  EXPECT_EQ(page.cases(0).name(), a.name());
  EXPECT_TRUE(page.cases(0).overdue());
  req.set_page_token(page.next_page_token());
  ASSERT_TRUE(cases_->ListCases(Ctx(supervisor_).get(), req, &page).ok());
  ASSERT_EQ(page.cases_size(), 1);
  EXPECT_EQ(page.cases(0).name(), b.name());
  EXPECT_EQ(page.next_page_token(), "");
}

}  // namespace
}  // namespace market::credit
