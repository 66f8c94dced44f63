// CreditService and LedgerService through a real gRPC server on 127.0.0.1:0,
// with the identity service beside them for tokens and subjects.
#include "services/credit/credit_service.h"

#include <filesystem>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/credit_policy.h"
#include "ledger/leaf.h"
#include "ledger/merkle_tree.h"
#include "ledger/proof.h"
#include "market/credit/v1/credit.grpc.pb.h"
#include "services/credit/credit_client.h"
#include "services/credit/credit_module.h"
#include "services/identity/identity_testing.h"

namespace market::credit {
namespace {

using common::v1::Role;
using google::protobuf::util::TimeUtil;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

class CreditServiceTest : public identity::testing::ServiceTest {
 protected:
  CreditServiceTest() : ServiceTest(kStart) { subject_kind_ = identity::Subject::PERSON; }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    identity::IdentityStore* ids = identity_.store.get();
    SubjectDirectory directory = [ids](const std::string& s)
        -> absl::StatusOr<std::optional<SubjectInfo>> {
      auto row = ids->GetSubject(s);
      if (absl::IsNotFound(row.status())) return std::nullopt;
      if (!row.ok()) return row.status();
      return SubjectInfo{row->subject.display_name(), row->subject.affiliation()};
    };
    ASSERT_OK_AND_ASSIGN(credit_, OpenCreditModule(dir_, &clock_, directory, verifier_,
                                                   identity_.suspension, nullptr));
    ASSERT_OK_AND_ASSIGN(auto channel,
                         StartServer({{credit_.credit.get(), "market.credit.v1.CreditService"},
                                      {credit_.ledger.get(), "market.credit.v1.LedgerService"}}));
    credit_stub_ = v1::CreditService::NewStub(channel);
    ledger_stub_ = v1::LedgerService::NewStub(channel);
    supervisor_ = AddSubject("supervisor", Role::SUPERVISOR);
    service_ = AddSubject("svc-listing", Role::SERVICE);
    seller_ = AddSubject("seller-a", Role::SELLER);
    buyer_ = AddSubject("buyer-b", Role::BUYER);
  }
  Record Trade(const std::string& subject, const std::string& counterparty,
               const std::string& event_id) {
    Record r;
    r.set_subject(subject);
    r.set_subject_role(common::v1::SELLER);
    r.set_type(Record::TRADE_COMPLETED);
    r.set_counterparty(counterparty);
    r.set_reference("markets/m1/orders/o1");
    *r.mutable_occurred_time() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_.Now()));
    r.set_event_id(event_id);
    return r;
  }
  Record Sanction(const std::string& subject, Record::Type type, const std::string& event_id) {
    Record r;
    r.set_subject(subject);
    r.set_subject_role(common::v1::SELLER);
    r.set_type(type);
    r.set_decision_document_number("市监处〔2026〕17号");
    r.set_reason("counterfeit phones");
    *r.mutable_occurred_time() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_.Now()));
    r.set_event_id(event_id);
    return r;
  }
  grpc::Status Record_(const std::string& token, const Record& r,
                       v1::RecordEventResponse* resp) {
    v1::RecordEventRequest req;
    *req.mutable_record() = r;
    return credit_stub_->RecordEvent(Ctx(token).get(), req, resp);
  }
  v1::CreditProfile Profile(const std::string& subject, const std::string& token) {
    v1::GetCreditProfileRequest req;
    req.set_name(subject + "/creditProfile");
    req.set_purpose("test");
    v1::CreditProfile p;
    grpc::Status s = credit_stub_->GetCreditProfile(Ctx(token).get(), req, &p);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return p;
  }

  CreditModule credit_;
  std::unique_ptr<v1::CreditService::Stub> credit_stub_;
  std::unique_ptr<v1::LedgerService::Stub> ledger_stub_;
  std::string supervisor_, service_, seller_, buyer_;
};

TEST_F(CreditServiceTest, RecordEventReturnsRecordWithProofAgainstSignedCheckpoint) {
  v1::RecordEventResponse resp;
  ASSERT_TRUE(Record_(Token(service_, Role::SERVICE), Trade(seller_, buyer_, "ev-1"), &resp).ok());
  EXPECT_EQ(resp.record().index(), 0);
  EXPECT_EQ(resp.record().tier(), Record::POSITIVE);
  EXPECT_EQ(resp.record().source(), service_);
  auto cp = ledger::VerifyCheckpoint(resp.checkpoint().note(), resp.checkpoint().origin(),
                                     resp.checkpoint().public_key());
  ASSERT_OK(cp);
  EXPECT_EQ(cp->size, 1);
  std::vector<std::string> proof(resp.inclusion_proof().hashes().begin(),
                                 resp.inclusion_proof().hashes().end());
  v1::GetRecordsRequest greq;
  greq.set_start(0);
  greq.set_end(1);
  v1::GetRecordsResponse records;
  ASSERT_TRUE(ledger_stub_->GetRecords(Ctx("").get(), greq, &records).ok());
  EXPECT_OK(ledger::VerifyInclusion(0, 1, ledger::LeafHash(records.records(0).leaf()), proof,
                                    cp->root));
}

// GetRecords: a MINOR record and a GENERAL one of seller_, read by `token`.
class GetRecordsVisibilityTest : public CreditServiceTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CreditServiceTest::SetUp());
    Record minor = Sanction(seller_, Record::CLAIM_REPLY_MISSED, "ev-minor");
    minor.set_reason("did not answer claim c-7");
    Record general = Sanction(seller_, Record::CLAIM_UPHELD, "ev-general");
    v1::RecordEventResponse resp;
    ASSERT_TRUE(Record_(Token(service_, Role::SERVICE), minor, &resp).ok());
    ASSERT_TRUE(Record_(Token(service_, Role::SERVICE), general, &resp).ok());
  }
  v1::GetRecordsResponse Read(const std::string& token) {
    v1::GetRecordsRequest req;
    req.set_end(2);
    v1::GetRecordsResponse resp;
    grpc::Status s = ledger_stub_->GetRecords(Ctx(token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.records_size(), 2);
    return resp;
  }
};

TEST_F(GetRecordsVisibilityTest, AnonymousSeesOnlyThePublicViewOfAMinorRecord) {
  v1::GetRecordsResponse resp = Read("");
  const v1::LedgerEntry& minor = resp.records(0);
  EXPECT_TRUE(minor.salt().empty());
  EXPECT_TRUE(minor.content().empty());
  EXPECT_EQ(minor.record().reason(), "");
  EXPECT_EQ(minor.record().type(), Record::TYPE_UNSPECIFIED);
  EXPECT_EQ(minor.record().tier(), Record::MINOR);
  EXPECT_EQ(minor.record().subject(), seller_);
}

TEST_F(GetRecordsVisibilityTest, AnonymousReadsAPublicRecordWithASaltThatOpensItsLeaf) {
  const v1::LedgerEntry general = Read("").records(1);
  EXPECT_EQ(general.record().reason(), "counterfeit phones");
  EXPECT_OK(ledger::CheckOpening(1, general.leaf(), general.content(), general.salt()));
}

TEST_F(GetRecordsVisibilityTest, TheSubjectReadsItsOwnMinorRecord) {
  const v1::LedgerEntry minor = Read(Token(seller_, Role::SELLER)).records(0);
  EXPECT_EQ(minor.record().reason(), "did not answer claim c-7");
  EXPECT_OK(ledger::CheckOpening(0, minor.leaf(), minor.content(), minor.salt()));
}

TEST_F(GetRecordsVisibilityTest, AnotherSubjectDoesNotReadAMinorRecord) {
  EXPECT_TRUE(Read(Token(buyer_, Role::BUYER)).records(0).salt().empty());
}

TEST_F(GetRecordsVisibilityTest, APublicRecordPastItsDisplayPeriodIsNoLongerServed) {
  clock_.Advance(absl::Hours(24 * 366));
  const v1::LedgerEntry general = Read("").records(1);
  EXPECT_TRUE(general.salt().empty());
  EXPECT_EQ(general.record().reason(), "");
}

TEST_F(CreditServiceTest, ReplayedEventIdAddsNothing) {
  v1::RecordEventResponse first, second;
  std::string token = Token(service_, Role::SERVICE);
  ASSERT_TRUE(Record_(token, Trade(seller_, buyer_, "ev-replay"), &first).ok());
  ASSERT_TRUE(Record_(token, Trade(seller_, buyer_, "ev-replay"), &second).ok());
  EXPECT_EQ(first.record().index(), second.record().index());
  v1::Checkpoint cp;
  ASSERT_TRUE(ledger_stub_->GetCheckpoint(Ctx("").get(), v1::GetCheckpointRequest(), &cp).ok());
  EXPECT_EQ(cp.tree_size(), 1);
}

TEST_F(CreditServiceTest, TierNotMatchingTypeNamesField) {
  Record r = Trade(seller_, buyer_, "ev-tier");
  r.set_tier(Record::SERIOUS);
  v1::RecordEventResponse resp;
  grpc::Status s = Record_(Token(service_, Role::SERVICE), r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(FieldViolationsOf(FromGrpcStatus(s)).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(s))[0].field, "record.tier");
}

TEST_F(CreditServiceTest, SupervisorSanctionNeedsDecisionDocument) {
  Record r = Sanction(seller_, Record::COUNTERFEIT_CONFIRMED, "ev-nodoc");
  r.clear_decision_document_number();
  v1::RecordEventResponse resp;
  grpc::Status s = Record_(Token(supervisor_, Role::SUPERVISOR), r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(s))[0].field, "record.decision_document_number");
}

TEST_F(CreditServiceTest, SellerCannotRecordEvents) {
  v1::RecordEventResponse resp;
  EXPECT_EQ(Record_(Token(seller_, Role::SELLER), Trade(seller_, buyer_, "ev-x"), &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CreditServiceTest, ServiceCannotRecordCommendation) {
  Record r = Sanction(seller_, Record::COMMENDATION, "ev-comm");
  v1::RecordEventResponse resp;
  EXPECT_EQ(Record_(Token(service_, Role::SERVICE), r, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CreditServiceTest, SeriousSanctionBlacklistsUntilRepairApproved) {
  v1::RecordEventResponse sanction;
  ASSERT_TRUE(Record_(Token(supervisor_, Role::SUPERVISOR),
                      Sanction(seller_, Record::COUNTERFEIT_CONFIRMED, "ev-serious"), &sanction)
                  .ok());
  EXPECT_EQ(sanction.record().tier(), Record::SERIOUS);
  v1::CreditProfile p = Profile(seller_, "");
  EXPECT_TRUE(p.blacklisted());
  EXPECT_EQ(p.level(), v1::CreditProfile::D);
  EXPECT_FALSE(p.has_score());  // public view
  v1::ListBlacklistResponse black;
  ASSERT_TRUE(credit_stub_->ListBlacklist(Ctx("").get(), v1::ListBlacklistRequest(), &black).ok());
  ASSERT_EQ(black.entries_size(), 1);
  EXPECT_EQ(black.entries(0).subject(), seller_);
  EXPECT_EQ(black.entries(0).reason_type(), Record::COUNTERFEIT_CONFIRMED);

  v1::ApplyForRepairRequest apply;
  apply.set_parent(seller_);
  apply.mutable_repair_application()->set_record(sanction.record().name());
  apply.mutable_repair_application()->set_correction_statement("all stock destroyed");
  apply.mutable_repair_application()->set_fulfilment_statement("fine paid");
  apply.mutable_repair_application()->set_commitment("守法经营");
  v1::RepairApplication app;
  grpc::Status early = credit_stub_->ApplyForRepair(Ctx(Token(seller_, Role::SELLER)).get(),
                                                    apply, &app);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(early)), "MIN_DISPLAY_PERIOD_NOT_OVER");

  clock_.Advance(absl::Hours(24 * 366));
  ASSERT_TRUE(credit_stub_->ApplyForRepair(Ctx(Token(seller_, Role::SELLER)).get(), apply, &app)
                  .ok());
  EXPECT_EQ(app.state(), v1::RepairApplication::PENDING);
  v1::RuleOnRepairRequest rule;
  rule.set_name(app.name());
  rule.set_outcome(v1::RepairApplication::APPROVED);
  rule.set_reason("correction verified on site");
  v1::RepairApplication ruled;
  ASSERT_TRUE(credit_stub_->RuleOnRepair(Ctx(Token(supervisor_, Role::SUPERVISOR)).get(), rule,
                                         &ruled)
                  .ok());
  EXPECT_EQ(ruled.state(), v1::RepairApplication::APPROVED);
  EXPECT_EQ(ruled.repair_record(), "ledgers/main/records/1");
  EXPECT_FALSE(Profile(seller_, "").blacklisted());
  grpc::Status twice = credit_stub_->RuleOnRepair(
      Ctx(Token(supervisor_, Role::SUPERVISOR)).get(), rule, &ruled);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(twice)), "APPLICATION_NOT_PENDING");
}

TEST_F(CreditServiceTest, SelfProfileShowsScoreAndActiveRecords) {
  v1::RecordEventResponse resp;
  ASSERT_TRUE(Record_(Token(service_, Role::SERVICE), Trade(seller_, buyer_, "ev-s"), &resp).ok());
  v1::CreditProfile p = Profile(seller_, Token(seller_, Role::SELLER));
  EXPECT_EQ(p.score(), 602);
  EXPECT_EQ(p.active_records_size(), 1);
  EXPECT_EQ(p.scoring_policy_version(), ledger::kPolicyVersion);
}

TEST_F(CreditServiceTest, UnknownSubjectProfileIsNotFound) {
  v1::GetCreditProfileRequest req;
  req.set_name("subjects/nobody/creditProfile");
  v1::CreditProfile p;
  EXPECT_EQ(credit_stub_->GetCreditProfile(Ctx("").get(), req, &p).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(CreditServiceTest, SupervisorReadIsAccessLoggedAndVisibleToSubject) {
  v1::ListRecordsRequest req;
  req.set_parent("ledgers/main");
  req.set_filter(absl::StrCat("subject=\"", seller_, "\""));
  req.set_purpose("complaint 2026-118");
  v1::ListRecordsResponse records;
  ASSERT_TRUE(credit_stub_->ListRecords(Ctx(Token(supervisor_, Role::SUPERVISOR)).get(), req,
                                        &records)
                  .ok());
  v1::ListAccessLogRequest log_req;
  log_req.set_parent(seller_);
  v1::ListAccessLogResponse log;
  ASSERT_TRUE(
      credit_stub_->ListAccessLog(Ctx(Token(seller_, Role::SELLER)).get(), log_req, &log).ok());
  ASSERT_EQ(log.access_log_entries_size(), 1);
  EXPECT_EQ(log.access_log_entries(0).reader(), supervisor_);
  EXPECT_EQ(log.access_log_entries(0).purpose(), "complaint 2026-118");
}

TEST_F(CreditServiceTest, ReadingOthersRecordsNeedsPurpose) {
  v1::ListRecordsRequest req;
  req.set_parent("ledgers/main");
  req.set_filter(absl::StrCat("subject=\"", seller_, "\""));
  v1::ListRecordsResponse records;
  grpc::Status s =
      credit_stub_->ListRecords(Ctx(Token(supervisor_, Role::SUPERVISOR)).get(), req, &records);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CreditServiceTest, BuyerCannotReadSellersRecords) {
  v1::ListRecordsRequest req;
  req.set_parent("ledgers/main");
  req.set_filter(absl::StrCat("subject=\"", seller_, "\""));
  req.set_purpose("curious");
  v1::ListRecordsResponse records;
  EXPECT_EQ(credit_stub_->ListRecords(Ctx(Token(buyer_, Role::BUYER)).get(), req, &records)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CreditServiceTest, OperatorReadsItsOnboardedSeller) {
  std::string op = AddSubject("market-op", Role::OPERATOR);
  std::string mine = AddSubject("seller-mine", Role::SELLER, op);
  v1::ListRecordsRequest req;
  req.set_parent("ledgers/main");
  req.set_filter(absl::StrCat("subject=\"", mine, "\""));
  req.set_purpose("monthly review");
  v1::ListRecordsResponse records;
  EXPECT_TRUE(
      credit_stub_->ListRecords(Ctx(Token(op, Role::OPERATOR)).get(), req, &records).ok());
  req.set_filter(absl::StrCat("subject=\"", seller_, "\""));
  EXPECT_EQ(credit_stub_->ListRecords(Ctx(Token(op, Role::OPERATOR)).get(), req, &records)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CreditServiceTest, MinorRecordExpiresAfterNinetyDays) {
  Record late;
  late.set_subject(seller_);
  late.set_subject_role(common::v1::SELLER);
  late.set_type(Record::CLAIM_REPLY_MISSED);
  late.set_reference("claims/c1");
  *late.mutable_occurred_time() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_.Now()));
  late.set_event_id("ev-minor");
  v1::RecordEventResponse resp;
  ASSERT_TRUE(Record_(Token(service_, Role::SERVICE), late, &resp).ok());
  EXPECT_EQ(*credit_.credit->RunExpiry(), 0);
  clock_.Advance(absl::Hours(24 * 91));
  EXPECT_EQ(*credit_.credit->RunExpiry(), 1);
  EXPECT_EQ(*credit_.credit->RunExpiry(), 0);
  auto records = credit_.store->RecordsOfSubject(seller_);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].type(), Record::RECORD_EXPIRED);
  EXPECT_EQ((*records)[1].refers_to(), 0);
}

TEST_F(CreditServiceTest, WithdrawalNeedsActiveRecord) {
  v1::RecordEventResponse sanction;
  std::string sup = Token(supervisor_, Role::SUPERVISOR);
  ASSERT_TRUE(Record_(sup, Sanction(seller_, Record::FRAUD_CONFIRMED, "ev-f"), &sanction).ok());
  Record withdraw = Sanction(seller_, Record::RECORD_WITHDRAWN, "ev-w");
  withdraw.set_refers_to(sanction.record().index());
  v1::RecordEventResponse w;
  ASSERT_TRUE(Record_(sup, withdraw, &w).ok());
  EXPECT_EQ(w.record().tier(), Record::SERIOUS);
  EXPECT_FALSE(Profile(seller_, "").blacklisted());
  withdraw.set_event_id("ev-w2");
  grpc::Status again = Record_(sup, withdraw, &w);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(again)), "RECORD_NOT_ACTIVE");
}

TEST_F(CreditServiceTest, LedgerRejectsImpossibleProofRequests) {
  v1::RecordEventResponse resp;
  ASSERT_TRUE(Record_(Token(service_, Role::SERVICE), Trade(seller_, buyer_, "ev-p"), &resp).ok());
  v1::GetInclusionProofRequest inc;
  inc.set_index(1);
  inc.set_tree_size(1);
  v1::InclusionProof ip;
  EXPECT_EQ(ledger_stub_->GetInclusionProof(Ctx("").get(), inc, &ip).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetConsistencyProofRequest con;
  con.set_first_size(0);
  v1::ConsistencyProof cp;
  EXPECT_EQ(ledger_stub_->GetConsistencyProof(Ctx("").get(), con, &cp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetRecordsRequest gr;
  gr.set_start(-1);
  v1::GetRecordsResponse grr;
  EXPECT_EQ(ledger_stub_->GetRecords(Ctx("").get(), gr, &grr).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CreditServiceTest, ReservedEventIdPrefixIsInvalidArgument) {
  v1::RecordEventResponse resp;
  grpc::Status s = Record_(Token(service_, Role::SERVICE), Trade(seller_, buyer_, "expire-0"),
                           &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(s))[0].field, "record.event_id");
}

TEST_F(CreditServiceTest, RecordIsConcludedOnlyOnce) {
  std::string sup = Token(supervisor_, Role::SUPERVISOR);
  v1::RecordEventResponse sanction;
  ASSERT_TRUE(Record_(sup, Sanction(seller_, Record::FRAUD_CONFIRMED, "ev-once"), &sanction).ok());
  clock_.Advance(absl::Hours(24 * 366));
  sup = Token(supervisor_, Role::SUPERVISOR);  // the first token has expired
  v1::ApplyForRepairRequest apply;
  apply.set_parent(seller_);
  apply.mutable_repair_application()->set_record(sanction.record().name());
  apply.mutable_repair_application()->set_correction_statement("fixed");
  apply.mutable_repair_application()->set_fulfilment_statement("paid");
  apply.mutable_repair_application()->set_commitment("承诺");
  v1::RepairApplication app;
  ASSERT_TRUE(credit_stub_->ApplyForRepair(Ctx(Token(seller_, Role::SELLER)).get(), apply, &app)
                  .ok());
  // Withdrawn while the repair application is pending ...
  Record withdraw = Sanction(seller_, Record::RECORD_WITHDRAWN, "ev-once-w");
  withdraw.set_refers_to(sanction.record().index());
  v1::RecordEventResponse w;
  ASSERT_TRUE(Record_(sup, withdraw, &w).ok());
  // ... so approving the repair must not conclude the record a second time.
  v1::RuleOnRepairRequest rule;
  rule.set_name(app.name());
  rule.set_outcome(v1::RepairApplication::APPROVED);
  rule.set_reason("ok");
  v1::RepairApplication ruled;
  grpc::Status s = credit_stub_->RuleOnRepair(Ctx(sup).get(), rule, &ruled);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(s)), "RECORD_NOT_ACTIVE");
}

TEST_F(CreditServiceTest, RuleOnRepairRetryWithRequestIdReplays) {
  std::string sup = Token(supervisor_, Role::SUPERVISOR);
  v1::RecordEventResponse sanction;
  ASSERT_TRUE(Record_(sup, Sanction(seller_, Record::FRAUD_CONFIRMED, "ev-rr"), &sanction).ok());
  clock_.Advance(absl::Hours(24 * 366));
  sup = Token(supervisor_, Role::SUPERVISOR);  // the first token has expired
  v1::ApplyForRepairRequest apply;
  apply.set_parent(seller_);
  apply.set_request_id("apply-1");
  apply.mutable_repair_application()->set_record(sanction.record().name());
  apply.mutable_repair_application()->set_correction_statement("fixed");
  apply.mutable_repair_application()->set_fulfilment_statement("paid");
  apply.mutable_repair_application()->set_commitment("承诺");
  v1::RepairApplication app, app_again;
  std::string seller_token = Token(seller_, Role::SELLER);
  ASSERT_TRUE(credit_stub_->ApplyForRepair(Ctx(seller_token).get(), apply, &app).ok());
  ASSERT_TRUE(credit_stub_->ApplyForRepair(Ctx(seller_token).get(), apply, &app_again).ok());
  EXPECT_EQ(app.name(), app_again.name());
  v1::RuleOnRepairRequest rule;
  rule.set_name(app.name());
  rule.set_outcome(v1::RepairApplication::APPROVED);
  rule.set_reason("ok");
  rule.set_request_id("rule-1");
  v1::RepairApplication first, second;
  ASSERT_TRUE(credit_stub_->RuleOnRepair(Ctx(sup).get(), rule, &first).ok());
  ASSERT_TRUE(credit_stub_->RuleOnRepair(Ctx(sup).get(), rule, &second).ok());
  EXPECT_EQ(first.repair_record(), second.repair_record());
  EXPECT_EQ(*credit_.store->Size(), 2);
}

TEST_F(CreditServiceTest, GetRecordsNearInt64MaxIsEmptyNotAnError) {
  v1::GetRecordsRequest req;
  req.set_start(9223372036854775806);
  req.set_end(9223372036854775807);
  v1::GetRecordsResponse resp;
  EXPECT_TRUE(ledger_stub_->GetRecords(Ctx("").get(), req, &resp).ok());
  EXPECT_EQ(resp.records_size(), 0);
}

TEST_F(CreditServiceTest, MissingLedgerKeyForExistingLedgerRefusesToStart) {
  std::filesystem::remove(dir_ + "/credit/ledger-key.pem");
  auto reopened = OpenCreditModule(
      dir_, &clock_, [](const std::string&) -> absl::StatusOr<std::optional<SubjectInfo>> {
        return std::nullopt;
      },
      verifier_, nullptr, nullptr);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kFailedPrecondition);
}

// ---- Role matrix: every credit and ledger RPC × every role. ----

enum class Expect { kAllowed, kDenied, kUnauthenticated };
constexpr Expect A = Expect::kAllowed;
constexpr Expect D = Expect::kDenied;
constexpr Expect U = Expect::kUnauthenticated;

struct MatrixRow {
  std::string rpc;
  // PUB, SUP, OPR, SEL, BUY, FIRM, APR, SVC
  std::vector<Expect> expect;
};

TEST_F(CreditServiceTest, RoleMatrixForEveryRpc) {
  const std::vector<Role> roles = {Role::SUPERVISOR,     Role::OPERATOR,  Role::SELLER,
                                   Role::BUYER,          Role::APPRAISAL_FIRM,
                                   Role::APPRAISER,      Role::SERVICE};
  std::vector<std::string> callers = {""};
  std::vector<std::string> tokens = {""};
  for (Role r : roles) {
    std::string s = AddSubject(absl::StrCat("caller-", static_cast<int>(r)), r);
    callers.push_back(s);
    tokens.push_back(Token(s, r));
  }
  // A sanction on the seller for repair calls.
  v1::RecordEventResponse sanction;
  ASSERT_TRUE(Record_(Token(supervisor_, Role::SUPERVISOR),
                      Sanction(seller_, Record::COUNTERFEIT_CONFIRMED, "ev-matrix"), &sanction)
                  .ok());
  int n = 0;
  auto call = [&](const std::string& rpc, size_t i) -> grpc::Status {
    auto ctx = Ctx(tokens[i]);
    if (rpc == "RecordEvent") {
      Record r = Trade(seller_, buyer_, absl::StrCat("m-", n++));
      v1::RecordEventRequest req;
      *req.mutable_record() = r;
      v1::RecordEventResponse resp;
      return credit_stub_->RecordEvent(ctx.get(), req, &resp);
    }
    if (rpc == "GetCreditProfile") {
      v1::GetCreditProfileRequest req;
      req.set_name(seller_ + "/creditProfile");
      v1::CreditProfile resp;
      return credit_stub_->GetCreditProfile(ctx.get(), req, &resp);
    }
    if (rpc == "ListRecords") {
      v1::ListRecordsRequest req;
      req.set_parent("ledgers/main");
      v1::ListRecordsResponse resp;
      return credit_stub_->ListRecords(ctx.get(), req, &resp);
    }
    if (rpc == "ListAccessLog") {
      v1::ListAccessLogRequest req;
      req.set_parent(seller_);  // not owned by any matrix caller
      v1::ListAccessLogResponse resp;
      return credit_stub_->ListAccessLog(ctx.get(), req, &resp);
    }
    if (rpc == "ApplyForRepair") {
      v1::ApplyForRepairRequest req;
      req.set_parent(seller_);
      req.mutable_repair_application()->set_record(sanction.record().name());
      req.mutable_repair_application()->set_correction_statement("x");
      req.mutable_repair_application()->set_fulfilment_statement("x");
      req.mutable_repair_application()->set_commitment("x");
      v1::RepairApplication resp;
      return credit_stub_->ApplyForRepair(ctx.get(), req, &resp);
    }
    if (rpc == "RuleOnRepair") {
      v1::RuleOnRepairRequest req;
      req.set_name(seller_ + "/repairApplications/none");  // NOT_FOUND when allowed
      req.set_outcome(v1::RepairApplication::REJECTED);
      req.set_reason("x");
      v1::RepairApplication resp;
      return credit_stub_->RuleOnRepair(ctx.get(), req, &resp);
    }
    if (rpc == "ListBlacklist") {
      v1::ListBlacklistResponse resp;
      return credit_stub_->ListBlacklist(ctx.get(), v1::ListBlacklistRequest(), &resp);
    }
    if (rpc == "ListRedlist") {
      v1::ListRedlistResponse resp;
      return credit_stub_->ListRedlist(ctx.get(), v1::ListRedlistRequest(), &resp);
    }
    if (rpc == "GetCheckpoint") {
      v1::Checkpoint resp;
      return ledger_stub_->GetCheckpoint(ctx.get(), v1::GetCheckpointRequest(), &resp);
    }
    if (rpc == "GetRecords") {
      v1::GetRecordsRequest req;
      req.set_end(10);
      v1::GetRecordsResponse resp;
      return ledger_stub_->GetRecords(ctx.get(), req, &resp);
    }
    if (rpc == "GetInclusionProof") {
      v1::GetInclusionProofRequest req;
      v1::InclusionProof resp;
      return ledger_stub_->GetInclusionProof(ctx.get(), req, &resp);
    }
    if (rpc == "GetConsistencyProof") {
      v1::GetConsistencyProofRequest req;
      req.set_first_size(1);
      v1::ConsistencyProof resp;
      return ledger_stub_->GetConsistencyProof(ctx.get(), req, &resp);
    }
    ADD_FAILURE() << rpc;
    return grpc::Status::OK;
  };
  //                                 PUB SUP OPR SEL BUY FIRM APR SVC
  const std::vector<MatrixRow> matrix = {
      {"RecordEvent", {U, D, D, D, D, D, D, A}},  // SUP may not record trades
      {"GetCreditProfile", {A, A, A, A, A, A, A, A}},
      {"ListRecords", {U, A, A, A, A, A, A, A}},  // own records
      {"ListAccessLog", {U, A, D, D, D, D, D, D}},
      {"ApplyForRepair", {U, D, D, D, D, D, D, D}},  // only the record's subject
      {"RuleOnRepair", {U, A, D, D, D, D, D, D}},
      {"ListBlacklist", {A, A, A, A, A, A, A, A}},
      {"ListRedlist", {A, A, A, A, A, A, A, A}},
      {"GetCheckpoint", {A, A, A, A, A, A, A, A}},
      {"GetRecords", {A, A, A, A, A, A, A, A}},
      {"GetInclusionProof", {A, A, A, A, A, A, A, A}},
      {"GetConsistencyProof", {A, A, A, A, A, A, A, A}},
  };
  std::set<std::string> covered;
  for (const auto& row : matrix) {
    covered.insert(row.rpc);
    for (size_t i = 0; i < tokens.size(); ++i) {
      grpc::Status s = call(row.rpc, i);
      std::string where = absl::StrCat(row.rpc, " as caller #", i, ": ", s.error_message());
      if (row.expect[i] == A) {
        EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
        EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL) << where;
      } else if (row.expect[i] == D) {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
      } else {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
      }
    }
  }
  for (const char* service : {"CreditService", "LedgerService"}) {
    const auto* d = v1::Record::descriptor()->file()->FindServiceByName(service);
    for (int i = 0; i < d->method_count(); ++i) {
      EXPECT_TRUE(covered.contains(d->method(i)->name())) << d->method(i)->name();
    }
  }
  // The seller itself may apply (FAILED_PRECONDITION: the minimum period is not over).
  v1::ApplyForRepairRequest own;
  own.set_parent(seller_);
  own.mutable_repair_application()->set_record(sanction.record().name());
  own.mutable_repair_application()->set_correction_statement("x");
  own.mutable_repair_application()->set_fulfilment_statement("x");
  own.mutable_repair_application()->set_commitment("x");
  v1::RepairApplication app;
  EXPECT_EQ(credit_stub_->ApplyForRepair(Ctx(Token(seller_, Role::SELLER)).get(), own, &app)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

// The provider-owned deliverer (credit_client.h) against this real server.
// ---- The public lists and pagination ----

class CreditListsTest : public CreditServiceTest {
 protected:
  // Gives each of `subjects` 30 counted TRADE_COMPLETED records (ten
  // counterparties, three rounds 31 days apart): score 660, level A, and no
  // negative record, which is what the red list asks for.
  void MakeRedlisted(const std::vector<std::string>& subjects) {
    std::vector<std::string> counterparties;
    for (int i = 0; i < 10; ++i) {
      counterparties.push_back(AddSubject(absl::StrCat("buyer-", i), Role::BUYER));
    }
    for (int round = 0; round < 3; ++round) {
      if (round > 0) clock_.Advance(absl::Hours(24 * 31));
      std::string token = Token(service_, Role::SERVICE);
      for (const std::string& subject : subjects) {
        for (const std::string& c : counterparties) {
          v1::RecordEventResponse resp;
          grpc::Status s =
              Record_(token, Trade(subject, c, absl::StrCat(subject, c, round)), &resp);
          ASSERT_TRUE(s.ok()) << s.error_message();
        }
      }
    }
  }
  // Seriously sanctions each of `subjects`, a minute apart.
  void MakeBlacklisted(const std::vector<std::string>& subjects) {
    for (const std::string& subject : subjects) {
      clock_.Advance(absl::Minutes(1));
      v1::RecordEventResponse resp;
      grpc::Status s =
          Record_(Token(supervisor_, Role::SUPERVISOR),
                  Sanction(subject, Record::COUNTERFEIT_CONFIRMED, "ev-" + subject), &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }
  std::vector<std::string> Sellers(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(AddSubject(absl::StrCat("seller-", i), Role::SELLER));
    return out;
  }

  // One page: (page size, page token) -> status; appends the page's item
  // names to `names` and sets `next` to its next_page_token.
  using PageFn =
      std::function<grpc::Status(int, const std::string&, std::vector<std::string>*, std::string*)>;
  // Every item name over all pages of `page_size` (at most 100 pages), or a
  // failure of the test.
  static std::vector<std::string> Walk(const PageFn& page, int page_size) {
    std::vector<std::string> names;
    std::string token;
    for (int pages = 0; pages < 100; ++pages) {
      std::string next;
      size_t before = names.size();
      grpc::Status s = page(page_size, token, &names, &next);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return names;
      EXPECT_LE(names.size() - before, static_cast<size_t>(page_size));
      if (next.empty()) return names;
      token = next;
    }
    ADD_FAILURE() << "more than 100 pages";
    return names;
  }
  // Walking with page sizes 1 and 2 visits exactly `want`, in order, and a
  // page token that was never issued is INVALID_ARGUMENT.
  static void ExpectPagesVisitEachOnce(const PageFn& page, const std::vector<std::string>& want) {
    ASSERT_GE(want.size(), 3u);  // so that size 2 needs a second page
    std::vector<std::string> all;
    ASSERT_TRUE(page(1000, "", &all, nullptr).ok());
    EXPECT_EQ(all, want);
    EXPECT_EQ(Walk(page, 1), want);
    EXPECT_EQ(Walk(page, 2), want);
    std::vector<std::string> ignored;
    EXPECT_EQ(page(1, "not-a-page-token", &ignored, nullptr).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }

  // The pages of a public credit list (ListRedlist or ListBlacklist).
  template <typename Req, typename Resp>
  PageFn CreditList(grpc::Status (v1::CreditService::Stub::*rpc)(grpc::ClientContext*, const Req&,
                                                                 Resp*)) {
    return [this, rpc](int size, const std::string& token, std::vector<std::string>* names,
                       std::string* next) {
      Req req;
      req.set_page_size(size);
      req.set_page_token(token);
      Resp resp;
      grpc::Status s = (credit_stub_.get()->*rpc)(Ctx("").get(), req, &resp);
      for (const auto& e : resp.entries()) names->push_back(e.subject());
      if (next != nullptr) *next = resp.next_page_token();
      return s;
    };
  }
};

TEST_F(CreditListsTest, RedlistHoldsSubjectsWithLevelAAndEnoughCleanTrades) {
  MakeRedlisted({seller_});
  std::string few = AddSubject("seller-few", Role::SELLER);
  v1::RecordEventResponse one;
  ASSERT_TRUE(Record_(Token(service_, Role::SERVICE), Trade(few, buyer_, "ev-few"), &one).ok());

  v1::ListRedlistResponse red;
  ASSERT_TRUE(credit_stub_->ListRedlist(Ctx("").get(), v1::ListRedlistRequest(), &red).ok());

  ASSERT_EQ(red.entries_size(), 1);
  const v1::CreditListEntry& e = red.entries(0);
  EXPECT_EQ(e.subject(), seller_);
  EXPECT_EQ(e.display_name(), "seller-a");
  EXPECT_EQ(e.reason_type(), Record::TRADE_COMPLETED);
  EXPECT_EQ(TimeUtil::TimestampToNanoseconds(e.since()), absl::ToUnixNanos(clock_.Now()));
  EXPECT_TRUE(e.record().rfind("ledgers/main/records/", 0) == 0) << e.record();
}

TEST_F(CreditListsTest, SanctionedSubjectLeavesTheRedlist) {
  MakeRedlisted({seller_});
  v1::RecordEventResponse resp;
  ASSERT_TRUE(Record_(Token(supervisor_, Role::SUPERVISOR),
                      Sanction(seller_, Record::COUNTERFEIT_CONFIRMED, "ev-late"), &resp)
                  .ok());
  v1::ListRedlistResponse red;
  ASSERT_TRUE(credit_stub_->ListRedlist(Ctx("").get(), v1::ListRedlistRequest(), &red).ok());
  EXPECT_EQ(red.entries_size(), 0);
}

TEST_F(CreditListsTest, RedlistPagesVisitEachSubjectOnce) {
  std::vector<std::string> sellers = Sellers(3);
  MakeRedlisted(sellers);
  // Same `since` for all three: ordered by subject.
  ExpectPagesVisitEachOnce(CreditList(&v1::CreditService::Stub::ListRedlist), sellers);
}

TEST_F(CreditListsTest, BlacklistPagesVisitEachSubjectOnce) {
  std::vector<std::string> sellers = Sellers(3);
  MakeBlacklisted(sellers);
  // Most recently listed first.
  ExpectPagesVisitEachOnce(CreditList(&v1::CreditService::Stub::ListBlacklist),
                           {sellers[2], sellers[1], sellers[0]});
}

TEST_F(CreditListsTest, ListRecordsPagesVisitEachRecordOnce) {
  std::string token = Token(service_, Role::SERVICE);
  std::set<std::string> want;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Minutes(1));
    v1::RecordEventResponse resp;
    ASSERT_TRUE(Record_(token, Trade(seller_, buyer_, absl::StrCat("ev-", i)), &resp).ok());
    want.insert(resp.record().name());
  }
  v1::RecordEventResponse other;
  ASSERT_TRUE(Record_(token, Trade(buyer_, seller_, "ev-other"), &other).ok());
  PageFn page = [&](int size, const std::string& page_token, std::vector<std::string>* names,
                    std::string* next) {
    v1::ListRecordsRequest req;
    req.set_parent("ledgers/main");
    req.set_page_size(size);
    req.set_page_token(page_token);
    v1::ListRecordsResponse resp;
    grpc::Status s = credit_stub_->ListRecords(Ctx(Token(seller_, Role::SELLER)).get(), req, &resp);
    for (const auto& r : resp.records()) names->push_back(r.name());
    if (next != nullptr) *next = resp.next_page_token();
    return s;
  };
  std::vector<std::string> all;
  ASSERT_TRUE(page(1000, "", &all, nullptr).ok());
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), want);  // the seller's own only
  EXPECT_EQ(all.size(), want.size());
  ExpectPagesVisitEachOnce(page, all);
}

TEST_F(CreditListsTest, ListAccessLogPagesVisitEachEntryOnce) {
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(absl::Minutes(1));
    v1::ListRecordsRequest req;
    req.set_parent("ledgers/main");
    req.set_filter(absl::StrCat("subject=\"", seller_, "\""));
    req.set_purpose(absl::StrCat("complaint ", i));
    v1::ListRecordsResponse records;
    ASSERT_TRUE(
        credit_stub_->ListRecords(Ctx(Token(supervisor_, Role::SUPERVISOR)).get(), req, &records)
            .ok());
  }
  std::vector<std::string> purposes;
  PageFn page = [&](int size, const std::string& page_token, std::vector<std::string>* names,
                    std::string* next) {
    v1::ListAccessLogRequest req;
    req.set_parent(seller_);
    req.set_page_size(size);
    req.set_page_token(page_token);
    v1::ListAccessLogResponse resp;
    grpc::Status s =
        credit_stub_->ListAccessLog(Ctx(Token(seller_, Role::SELLER)).get(), req, &resp);
    for (const auto& e : resp.access_log_entries()) {
      names->push_back(e.name());
      if (next == nullptr) purposes.push_back(e.purpose());
    }
    if (next != nullptr) *next = resp.next_page_token();
    return s;
  };
  std::vector<std::string> all;
  ASSERT_TRUE(page(1000, "", &all, nullptr).ok());
  // Newest first.
  EXPECT_EQ(purposes,
            (std::vector<std::string>{"complaint 3", "complaint 2", "complaint 1", "complaint 0"}));
  ExpectPagesVisitEachOnce(page, all);
}

class CreditClientTest : public CreditServiceTest {
 protected:
  outbox::Relay::Deliverer Deliverer() {
    return CreditDeliverer(grpc::CreateChannel(absl::StrCat("127.0.0.1:", runner_->grpc_port()),
                                               grpc::InsecureChannelCredentials()),
                           [this] {
                             return absl::StatusOr<std::string>(Token(service_, Role::SERVICE));
                           });
  }
  static std::string Payload(const Record& record) {
    v1::RecordEventRequest req;
    *req.mutable_record() = record;
    return req.SerializeAsString();
  }
  int64_t TreeSize() {
    v1::Checkpoint cp;
    EXPECT_TRUE(ledger_stub_->GetCheckpoint(Ctx("").get(), v1::GetCheckpointRequest(), &cp).ok());
    return cp.tree_size();
  }
};

TEST_F(CreditClientTest, DeliveryAppendsTheEventAndRedeliveryChangesNothing) {
  outbox::Relay::Deliverer deliver = Deliverer();
  std::string payload = Payload(Trade(seller_, buyer_, "trade-o1"));
  ASSERT_OK(deliver("trade-o1", payload));
  ASSERT_OK(deliver("trade-o1", payload));
  EXPECT_EQ(TreeSize(), 1);
}

TEST_F(CreditClientTest, UnparseablePayloadIsDataLoss) {
  EXPECT_THAT(Deliverer()("e-1", "\xff\xff not a request"),
              ::market::testing::StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(TreeSize(), 0);
}

TEST_F(CreditClientTest, ServerDownIsUnavailableSoTheRelayRetries) {
  outbox::Relay::Deliverer deliver = Deliverer();
  runner_->Shutdown(absl::ZeroDuration());
  EXPECT_THAT(deliver("trade-o2", Payload(Trade(seller_, buyer_, "trade-o2"))),
              ::market::testing::StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace market::credit
