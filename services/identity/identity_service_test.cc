// IdentityService through a real gRPC server on 127.0.0.1:0 and the generated
// stub, over a real SQLite file.
#include "services/identity/identity_service.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/jwt.h"
#include "common/crypto/crypto.h"
#include "common/server/log.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "market/identity/v1/identity.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/identity/identity_testing.h"
#include "services/identity/sqlite_identity_store.h"

namespace market::identity {
namespace {

using common::v1::Role;
using ::testing::HasSubstr;
namespace v1 = ::market::identity::v1;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);
constexpr char kPassword[] = "correct horse battery";
constexpr char kSupervisorPassword[] = "supervisor's own passphrase";

class IdentityServiceTest : public testing::ServiceTest {
 protected:
  IdentityServiceTest() : ServiceTest(kStart) {}

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    service_ = identity_.service.get();
    ASSERT_OK_AND_ASSIGN(auto channel,
                         StartServer({{service_, "market.identity.v1.IdentityService"}}));
    stub_ = v1::IdentityService::NewStub(channel);
    auto boot = service_->BootstrapSupervisor();
    ASSERT_OK(boot);
    ASSERT_TRUE(boot->has_value());
    supervisor_ = (*boot)->first;
    // Every client's first step: the bootstrap password is replaced.
    testing::ChangeFirstPassword(*stub_, supervisor_, (*boot)->second, kSupervisorPassword);
    supervisor_password_ = kSupervisorPassword;
  }
  // A subject stored directly, with kPassword.
  std::string AddSubject(const std::string& id, std::vector<Role> roles,
                         v1::Subject::Kind kind = v1::Subject::PERSON) {
    SubjectRow row;
    row.subject.set_name("subjects/" + id);
    row.subject.set_kind(kind);
    for (Role r : roles) row.subject.add_roles(r);
    row.subject.set_display_name(id);
    row.subject.set_phone("13812345678");
    row.subject.set_state(v1::Subject::ACTIVE);
    row.password_hash = *HashPasswordWithCost(kPassword, 10);
    EXPECT_OK(
        identity_.store->CreateSubject(row, std::nullopt, RequestKey{}, clock_.Now(), nullptr));
    return row.subject.name();
  }

  std::string Login(const std::string& subject, const std::string& password) {
    v1::LoginRequest req;
    req.set_subject(subject);
    req.set_password(password);
    v1::LoginResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = stub_->Login(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.access_token();
  }

  std::string SupervisorToken() { return Token(supervisor_, {common::v1::SUPERVISOR}); }

  // CreateSubject by the supervisor of a SELLER person with `id_number`.
  grpc::Status CreatePersonWithIdNumber(const std::string& id_number);

  IdentityServiceImpl* service_ = nullptr;  // identity_'s
  std::unique_ptr<v1::IdentityService::Stub> stub_;
  std::string supervisor_, supervisor_password_;
};

std::vector<std::string> BadFields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(FromGrpcStatus(s))) out.push_back(v.field);
  return out;
}

v1::CreateSubjectRequest PersonRequest(const std::string& name, Role role) {
  v1::CreateSubjectRequest req;
  req.mutable_subject()->set_kind(v1::Subject::PERSON);
  req.mutable_subject()->add_roles(role);
  req.mutable_subject()->set_display_name(name);
  req.mutable_subject()->set_id_number("11010519491231002X");
  req.set_password(kPassword);
  return req;
}

grpc::Status IdentityServiceTest::CreatePersonWithIdNumber(const std::string& id_number) {
  v1::CreateSubjectRequest req = PersonRequest("x", common::v1::SELLER);
  req.mutable_subject()->set_id_number(id_number);
  v1::Subject out;
  return stub_->CreateSubject(Ctx(SupervisorToken()).get(), req, &out);
}

TEST_F(IdentityServiceTest, BootstrapSupervisorLogsInAndWhoAmI) {
  std::string token = Login(supervisor_, supervisor_password_);
  v1::WhoAmIResponse who;
  ASSERT_TRUE(stub_->WhoAmI(Ctx(token).get(), v1::WhoAmIRequest(), &who).ok());
  EXPECT_EQ(who.subject(), supervisor_);
  ASSERT_EQ(who.roles_size(), 1);
  EXPECT_EQ(who.roles(0), common::v1::SUPERVISOR);
}

TEST_F(IdentityServiceTest, BootstrapRunsOnlyOnEmptyStore) {
  auto again = service_->BootstrapSupervisor();
  ASSERT_OK(again);
  EXPECT_FALSE(again->has_value());
}

TEST_F(IdentityServiceTest, WrongPasswordIsUnauthenticated) {
  v1::LoginRequest req;
  req.set_subject(supervisor_);
  req.set_password("wrong password!");
  v1::LoginResponse resp;
  grpc::ClientContext ctx;
  EXPECT_EQ(stub_->Login(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(IdentityServiceTest, UnknownSubjectLoginIsUnauthenticated) {
  v1::LoginRequest req;
  req.set_subject("subjects/nobody");
  req.set_password("whatever-long");
  v1::LoginResponse resp;
  grpc::ClientContext ctx;
  EXPECT_EQ(stub_->Login(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(IdentityServiceTest, OrganisationWithBadUsccNamesField) {
  v1::CreateSubjectRequest req;
  req.mutable_subject()->set_kind(v1::Subject::ORGANIZATION);
  req.mutable_subject()->add_roles(common::v1::APPRAISAL_FIRM);
  req.mutable_subject()->set_display_name("鉴定评估有限公司");
  req.mutable_subject()->set_credit_code("91350100M000100Y44");
  req.set_password(kPassword);
  v1::Subject out;
  grpc::Status s = stub_->CreateSubject(Ctx(SupervisorToken()).get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"subject.credit_code"});
}

TEST_F(IdentityServiceTest, OrganisationWithValidUsccIsCreated) {
  v1::CreateSubjectRequest req;
  req.mutable_subject()->set_kind(v1::Subject::ORGANIZATION);
  req.mutable_subject()->add_roles(common::v1::APPRAISAL_FIRM);
  req.mutable_subject()->set_display_name("鉴定评估有限公司");
  req.mutable_subject()->set_credit_code("91350100M000100Y43");
  req.set_subject_id("firm-one");
  req.set_password(kPassword);
  v1::Subject out;
  ASSERT_TRUE(stub_->CreateSubject(Ctx(SupervisorToken()).get(), req, &out).ok());
  EXPECT_EQ(out.name(), "subjects/firm-one");
  EXPECT_EQ(out.credit_code(), "91350100M000100Y43");
  EXPECT_EQ(out.state(), v1::Subject::ACTIVE);
  EXPECT_FALSE(out.etag().empty());
}

TEST_F(IdentityServiceTest, DuplicateCreditCodeIsAlreadyExists) {
  v1::CreateSubjectRequest req;
  req.mutable_subject()->set_kind(v1::Subject::ORGANIZATION);
  req.mutable_subject()->add_roles(common::v1::OPERATOR);
  req.mutable_subject()->set_display_name("跳蚤市场");
  req.mutable_subject()->set_credit_code("91350200776049653A");
  req.set_password(kPassword);
  v1::Subject out;
  ASSERT_TRUE(stub_->CreateSubject(Ctx(SupervisorToken()).get(), req, &out).ok());
  EXPECT_EQ(stub_->CreateSubject(Ctx(SupervisorToken()).get(), req, &out).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(IdentityServiceTest, IdNumberIsStoredOnlyHashedAndMasked) {
  v1::Subject out;
  ASSERT_TRUE(stub_->CreateSubject(Ctx(SupervisorToken()).get(),
                                   PersonRequest("卖家张三", common::v1::SELLER), &out)
                  .ok());
  EXPECT_EQ(out.id_number(), "");
  EXPECT_EQ(out.id_number_masked(), "1101**********002X");
  identity_.store.reset();  // close, so the WAL is checkpointed into the file
  std::string bytes;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes += ss.str();
  }
  EXPECT_EQ(bytes.find("11010519491231002X"), std::string::npos);
  EXPECT_NE(bytes.find("1101**********002X"), std::string::npos);
  identity_.store = *SqliteIdentityStore::Open(TempPath("identity.db"));
}

TEST_F(IdentityServiceTest, BadIdNumberNamesField) {
  grpc::Status s = CreatePersonWithIdNumber("110105194902300021");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"subject.id_number"});
}

// The fake clock stands at 2026-09-21; real time is later. A birth date
// between the two is in the future only by the injected clock.
TEST_F(IdentityServiceTest, IdNumberBornAfterTheClocksTodayIsRejected) {
  grpc::Status s = CreatePersonWithIdNumber("110105202611010020");  // born 2026-11-01
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"subject.id_number"});
}

TEST_F(IdentityServiceTest, IdNumberBornBeforeTheClocksTodayIsAccepted) {
  grpc::Status s = CreatePersonWithIdNumber("110105202609010021");  // born 2026-09-01
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(IdentityServiceTest, SelfRegistrationAsBuyerWorksWithoutToken) {
  v1::CreateSubjectRequest req = PersonRequest("买家", common::v1::BUYER);
  req.mutable_subject()->clear_id_number();
  v1::Subject out;
  ASSERT_TRUE(stub_->CreateSubject(Ctx("").get(), req, &out).ok());
  EXPECT_FALSE(Login(out.name(), kPassword).empty());
}

TEST_F(IdentityServiceTest, SelfRegistrationAsSupervisorIsPermissionDenied) {
  v1::Subject out;
  EXPECT_EQ(stub_->CreateSubject(Ctx("").get(), PersonRequest("x", common::v1::SUPERVISOR), &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IdentityServiceTest, OperatorOnboardsSellerAffiliatedToItself) {
  std::string op = AddSubject("market-op", {common::v1::OPERATOR});
  v1::Subject out;
  ASSERT_TRUE(stub_
                  ->CreateSubject(Ctx(Token(op, {common::v1::OPERATOR})).get(),
                                  PersonRequest("卖家", common::v1::SELLER), &out)
                  .ok());
  EXPECT_EQ(out.affiliation(), op);
}

TEST_F(IdentityServiceTest, CreateWithoutPasswordReturnsWorkingApiKeyOnce) {
  v1::CreateSubjectRequest req = PersonRequest("机器", common::v1::BUYER);
  req.clear_password();
  req.set_request_id("req-apikey-1");
  v1::Subject out;
  ASSERT_TRUE(stub_->CreateSubject(Ctx(SupervisorToken()).get(), req, &out).ok());
  ASSERT_FALSE(out.initial_api_key().empty());
  v1::LoginRequest login;
  login.set_subject(out.name());
  login.set_api_key(out.initial_api_key());
  v1::LoginResponse resp;
  grpc::ClientContext ctx;
  EXPECT_TRUE(stub_->Login(&ctx, login, &resp).ok());
  v1::Subject replay;
  ASSERT_TRUE(stub_->CreateSubject(Ctx(SupervisorToken()).get(), req, &replay).ok());
  EXPECT_EQ(replay.name(), out.name());
  EXPECT_EQ(replay.initial_api_key(), "");
}

TEST_F(IdentityServiceTest, RetryWithSameRequestIdReplaysFirstResponse) {
  v1::CreateSubjectRequest req = PersonRequest("重试", common::v1::SELLER);
  req.set_request_id("7f1d2c9e-retry");
  v1::Subject first, second;
  ASSERT_TRUE(stub_->CreateSubject(Ctx(SupervisorToken()).get(), req, &first).ok());
  ASSERT_TRUE(stub_->CreateSubject(Ctx(SupervisorToken()).get(), req, &second).ok());
  EXPECT_EQ(first.name(), second.name());
  EXPECT_EQ(*identity_.store->CountSubjects(), 2);
}

TEST_F(IdentityServiceTest, StaleEtagIsAborted) {
  std::string target = AddSubject("etag-target", {common::v1::BUYER});
  v1::UpdateSubjectRequest req;
  req.mutable_subject()->set_name(target);
  req.mutable_subject()->set_display_name("new name");
  req.mutable_subject()->set_etag("\"v1\"");
  req.mutable_update_mask()->add_paths("display_name");
  v1::Subject out;
  ASSERT_TRUE(stub_->UpdateSubject(Ctx(SupervisorToken()).get(), req, &out).ok());
  EXPECT_EQ(out.display_name(), "new name");
  EXPECT_EQ(stub_->UpdateSubject(Ctx(SupervisorToken()).get(), req, &out).error_code(),
            grpc::StatusCode::ABORTED);
}

TEST_F(IdentityServiceTest, DemotedSupervisorLosesRightsBeforeTokenExpires) {
  std::string second = AddSubject("sup-two", {common::v1::SUPERVISOR});
  std::string token = Token(second, {common::v1::SUPERVISOR});
  v1::UpdateSubjectRequest demote;
  demote.mutable_subject()->set_name(second);
  demote.mutable_subject()->add_roles(common::v1::BUYER);
  demote.mutable_update_mask()->add_paths("roles");
  v1::Subject out;
  ASSERT_TRUE(stub_->UpdateSubject(Ctx(SupervisorToken()).get(), demote, &out).ok());
  v1::SuspendSubjectRequest req;
  req.set_name(supervisor_);
  req.set_reason("revenge");
  EXPECT_EQ(stub_->SuspendSubject(Ctx(token).get(), req, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IdentityServiceTest, AnonymousRetriesDoNotShareReplays) {
  v1::CreateSubjectRequest first = PersonRequest("甲", common::v1::BUYER);
  first.mutable_subject()->clear_id_number();
  first.mutable_subject()->set_phone("13811112222");
  first.set_request_id("1");
  v1::CreateSubjectRequest second = first;
  second.mutable_subject()->set_display_name("乙");
  second.mutable_subject()->set_phone("13933334444");
  v1::Subject a, b;
  ASSERT_TRUE(stub_->CreateSubject(Ctx("").get(), first, &a).ok());
  ASSERT_TRUE(stub_->CreateSubject(Ctx("").get(), second, &b).ok());
  EXPECT_NE(a.name(), b.name());
  EXPECT_EQ(b.phone(), "13933334444");
}

TEST_F(IdentityServiceTest, PersonCannotBeAppraisalFirm) {
  v1::Subject out;
  grpc::Status s = stub_->CreateSubject(
      Ctx(SupervisorToken()).get(), PersonRequest("x", common::v1::APPRAISAL_FIRM), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"subject.roles"});
}

TEST_F(IdentityServiceTest, SelfMayUpdatePhoneOnly) {
  std::string me = AddSubject("self-upd", {common::v1::BUYER});
  std::string token = Token(me, {common::v1::BUYER});
  v1::UpdateSubjectRequest req;
  req.mutable_subject()->set_name(me);
  req.mutable_subject()->set_phone("13900001111");
  req.mutable_update_mask()->add_paths("phone");
  v1::Subject out;
  ASSERT_TRUE(stub_->UpdateSubject(Ctx(token).get(), req, &out).ok());
  EXPECT_EQ(out.phone(), "13900001111");
  req.mutable_update_mask()->add_paths("roles");
  req.mutable_subject()->add_roles(common::v1::SUPERVISOR);
  EXPECT_EQ(stub_->UpdateSubject(Ctx(token).get(), req, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IdentityServiceTest, UnknownUpdateMaskPathNamesField) {
  v1::UpdateSubjectRequest req;
  req.mutable_subject()->set_name(supervisor_);
  req.mutable_update_mask()->add_paths("credit_code");
  v1::Subject out;
  grpc::Status s = stub_->UpdateSubject(Ctx(SupervisorToken()).get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"update_mask"});
}

TEST_F(IdentityServiceTest, PhoneIsMaskedForOthers) {
  std::string target = AddSubject("phone-owner", {common::v1::SELLER});
  std::string other = AddSubject("phone-reader", {common::v1::BUYER});
  v1::GetSubjectRequest req;
  req.set_name(target);
  v1::Subject as_other, as_self;
  ASSERT_TRUE(stub_->GetSubject(Ctx(Token(other, {common::v1::BUYER})).get(), req, &as_other).ok());
  ASSERT_TRUE(
      stub_->GetSubject(Ctx(Token(target, {common::v1::SELLER})).get(), req, &as_self).ok());
  EXPECT_EQ(as_other.phone(), "138****5678");
  EXPECT_EQ(as_self.phone(), "13812345678");
}

TEST_F(IdentityServiceTest, SuspendedSubjectCannotLoginAndTokenStopsWorking) {
  std::string target = AddSubject("to-suspend", {common::v1::SELLER});
  std::string token = Login(target, kPassword);
  v1::WhoAmIResponse who;
  ASSERT_TRUE(stub_->WhoAmI(Ctx(token).get(), v1::WhoAmIRequest(), &who).ok());
  v1::SuspendSubjectRequest req;
  req.set_name(target);
  req.set_reason("counterfeit goods under investigation");
  v1::Subject out;
  ASSERT_TRUE(stub_->SuspendSubject(Ctx(SupervisorToken()).get(), req, &out).ok());
  EXPECT_EQ(out.state(), v1::Subject::SUSPENDED);
  EXPECT_EQ(stub_->WhoAmI(Ctx(token).get(), v1::WhoAmIRequest(), &who).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::LoginRequest login;
  login.set_subject(target);
  login.set_password(kPassword);
  v1::LoginResponse resp;
  grpc::ClientContext ctx;
  grpc::Status s = stub_->Login(&ctx, login, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(s)), "SUBJECT_SUSPENDED");
}

TEST_F(IdentityServiceTest, ReinstatedSubjectLogsInAgain) {
  std::string target = AddSubject("reinstate-me", {common::v1::SELLER});
  v1::SuspendSubjectRequest sreq;
  sreq.set_name(target);
  sreq.set_reason("check");
  v1::Subject out;
  ASSERT_TRUE(stub_->SuspendSubject(Ctx(SupervisorToken()).get(), sreq, &out).ok());
  v1::ReinstateSubjectRequest rreq;
  rreq.set_name(target);
  ASSERT_TRUE(stub_->ReinstateSubject(Ctx(SupervisorToken()).get(), rreq, &out).ok());
  EXPECT_EQ(out.state(), v1::Subject::ACTIVE);
  EXPECT_FALSE(Login(target, kPassword).empty());
  grpc::Status again = stub_->ReinstateSubject(Ctx(SupervisorToken()).get(), rreq, &out);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(again)), "NOT_SUSPENDED");
}

TEST_F(IdentityServiceTest, SupervisorCannotSuspendItself) {
  v1::SuspendSubjectRequest req;
  req.set_name(supervisor_);
  req.set_reason("oops");
  v1::Subject out;
  grpc::Status s = stub_->SuspendSubject(Ctx(SupervisorToken()).get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(s)), "CANNOT_SUSPEND_SELF");
}

TEST_F(IdentityServiceTest, ListSubjectsPagesWithFilter) {
  for (int i = 0; i < 5; ++i) AddSubject(absl::StrCat("seller-", i), {common::v1::SELLER});
  AddSubject("buyer-only", {common::v1::BUYER});
  std::vector<std::string> names;
  v1::ListSubjectsRequest req;
  req.set_page_size(2);
  req.set_filter("role=SELLER AND state=ACTIVE");
  do {
    v1::ListSubjectsResponse resp;
    ASSERT_TRUE(stub_->ListSubjects(Ctx(SupervisorToken()).get(), req, &resp).ok());
    for (const auto& s : resp.subjects()) names.push_back(s.name());
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  EXPECT_EQ(names, (std::vector<std::string>{"subjects/seller-0", "subjects/seller-1",
                                             "subjects/seller-2", "subjects/seller-3",
                                             "subjects/seller-4"}));
}

TEST_F(IdentityServiceTest, TamperedPageTokenIsInvalidArgument) {
  for (int i = 0; i < 3; ++i) AddSubject(absl::StrCat("page-", i), {common::v1::BUYER});
  v1::ListSubjectsRequest req;
  req.set_page_size(1);
  v1::ListSubjectsResponse resp;
  ASSERT_TRUE(stub_->ListSubjects(Ctx(SupervisorToken()).get(), req, &resp).ok());
  std::string token = resp.next_page_token();
  token[token.size() / 2] = token[token.size() / 2] == 'a' ? 'b' : 'a';
  req.set_page_token(token);
  grpc::Status s = stub_->ListSubjects(Ctx(SupervisorToken()).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"page_token"});
}

TEST_F(IdentityServiceTest, BadFilterNamesField) {
  v1::ListSubjectsRequest req;
  req.set_filter("name=foo");
  v1::ListSubjectsResponse resp;
  grpc::Status s = stub_->ListSubjects(Ctx(SupervisorToken()).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"filter"});
}

TEST_F(IdentityServiceTest, RevokedApiKeyNoLongerLogsIn) {
  std::string me = AddSubject("key-owner", {common::v1::SELLER});
  std::string token = Token(me, {common::v1::SELLER});
  v1::CreateApiKeyRequest creq;
  creq.set_parent(me);
  creq.set_display_name("pos terminal");
  v1::CreateApiKeyResponse created;
  ASSERT_TRUE(stub_->CreateApiKey(Ctx(token).get(), creq, &created).ok());
  v1::LoginRequest login;
  login.set_subject(me);
  login.set_api_key(created.key());
  v1::LoginResponse resp;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->Login(&ctx, login, &resp).ok());
  }
  v1::RevokeApiKeyRequest rreq;
  rreq.set_name(created.api_key().name());
  v1::ApiKey revoked;
  ASSERT_TRUE(stub_->RevokeApiKey(Ctx(token).get(), rreq, &revoked).ok());
  EXPECT_TRUE(revoked.has_revoke_time());
  grpc::ClientContext ctx;
  EXPECT_EQ(stub_->Login(&ctx, login, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(IdentityServiceTest, SigningKeysVerifyIssuedTokens) {
  std::string token = Login(supervisor_, supervisor_password_);
  v1::GetSigningKeysResponse keys;
  ASSERT_TRUE(stub_->GetSigningKeys(Ctx("").get(), v1::GetSigningKeysRequest(), &keys).ok());
  ASSERT_GE(keys.keys_size(), 1);
  auth::TokenVerifier outside;
  for (const auto& k : keys.keys()) {
    outside.AddKey(k.key_id(), *Ed25519PublicKey::FromRaw(k.public_key()));
  }
  auto claims = outside.Verify(token, clock_.Now());
  ASSERT_OK(claims);
  EXPECT_EQ(claims->subject, supervisor_);
}

TEST_F(IdentityServiceTest, TokenFromRotatedOutKeyStillVerifiesUntilExpiry) {
  v1::LoginRequest login;
  login.set_subject(supervisor_);
  login.set_password(supervisor_password_);
  v1::LoginResponse before;
  ASSERT_TRUE(stub_->Login(Ctx("").get(), login, &before).ok());
  ASSERT_OK(service_->token_authority()->Rotate());
  std::string after = Login(supervisor_, supervisor_password_);
  v1::WhoAmIResponse who;
  EXPECT_TRUE(stub_->WhoAmI(Ctx(before.access_token()).get(), v1::WhoAmIRequest(), &who).ok());
  EXPECT_TRUE(stub_->WhoAmI(Ctx(after).get(), v1::WhoAmIRequest(), &who).ok());

  clock_.Advance(absl::FromUnixSeconds(before.expire_time().seconds()) - clock_.Now());
  EXPECT_EQ(stub_->WhoAmI(Ctx(before.access_token()).get(), v1::WhoAmIRequest(), &who).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// After months without a login the active key is older than rotation + TTL;
// the rotation the next login triggers must keep it for the tokens it signed
// moments before.
TEST_F(IdentityServiceTest, KeyRetiredAfterALongIdlePeriodStillVerifiesItsLiveTokens) {
  clock_.Advance(absl::Hours(24 * 365));
  std::string issued = service_->token_authority()->Issue(supervisor_, {Role::SUPERVISOR})->first;
  std::string after = Login(supervisor_, supervisor_password_);  // rotates
  v1::WhoAmIResponse who;
  EXPECT_TRUE(stub_->WhoAmI(Ctx(issued).get(), v1::WhoAmIRequest(), &who).ok());
  EXPECT_TRUE(stub_->WhoAmI(Ctx(after).get(), v1::WhoAmIRequest(), &who).ok());
}

// (A name that is not UTF-8 fails protobuf parsing before any field check:
// MalformedRequestsNeverCauseInternal covers it.)
TEST_F(IdentityServiceTest, MalformedSubjectNameIsInvalidArgumentNamingTheField) {
  std::string token = SupervisorToken();
  for (const std::string& n :
       {std::string(""), std::string("subjects/"), std::string("subjects/A"), std::string("x/y"),
        std::string("subjects/a b"), std::string(300, 'z')}) {
    v1::Subject s;
    v1::GetSubjectRequest get;
    get.set_name(n);
    grpc::Status st = stub_->GetSubject(Ctx(token).get(), get, &s);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "GetSubject " << n;
    EXPECT_EQ(BadFields(st), std::vector<std::string>{"name"}) << "GetSubject " << n;
    v1::SuspendSubjectRequest suspend;
    suspend.set_name(n);
    suspend.set_reason("fraud");
    st = stub_->SuspendSubject(Ctx(token).get(), suspend, &s);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "SuspendSubject " << n;
    EXPECT_EQ(BadFields(st), std::vector<std::string>{"name"}) << "SuspendSubject " << n;
  }
}

// Malformed requests of every shape get INVALID_ARGUMENT (or another client
// error), never INTERNAL or UNKNOWN.
TEST_F(IdentityServiceTest, MalformedRequestsNeverCauseInternal) {
  std::string token = SupervisorToken();
  std::vector<std::string> names = {"", "subjects/", "subjects/A", "x/y", "subjects/a b",
                                    std::string(300, 'z'), "subjects/\xff\xfe",
                                    "subjects/supervisor/apiKeys/", "subjects/ok-name"};
  std::vector<grpc::StatusCode> codes;
  for (const std::string& n : names) {
    v1::Subject s;
    v1::ApiKey k;
    v1::GetSubjectRequest g;
    g.set_name(n);
    codes.push_back(stub_->GetSubject(Ctx(token).get(), g, &s).error_code());
    v1::UpdateSubjectRequest u;
    u.mutable_subject()->set_name(n);
    u.mutable_subject()->set_display_name(n);
    u.mutable_update_mask()->add_paths(n);
    codes.push_back(stub_->UpdateSubject(Ctx(token).get(), u, &s).error_code());
    v1::SuspendSubjectRequest su;
    su.set_name(n);
    su.set_reason(n);
    codes.push_back(stub_->SuspendSubject(Ctx(token).get(), su, &s).error_code());
    v1::RevokeApiKeyRequest r;
    r.set_name(n);
    codes.push_back(stub_->RevokeApiKey(Ctx(token).get(), r, &k).error_code());
    v1::CreateSubjectRequest c;
    c.set_subject_id(n);
    c.mutable_subject()->set_display_name(n);
    c.mutable_subject()->add_roles(static_cast<Role>(99));
    c.mutable_subject()->set_credit_code(n);
    c.mutable_subject()->set_affiliation(n);
    codes.push_back(stub_->CreateSubject(Ctx(token).get(), c, &s).error_code());
    v1::LoginRequest l;
    l.set_subject(n);
    l.set_api_key(n);
    v1::LoginResponse lr;
    codes.push_back(stub_->Login(Ctx("").get(), l, &lr).error_code());
    v1::ListSubjectsRequest ls;
    ls.set_filter(n);
    ls.set_page_token(n);
    ls.set_page_size(-5);
    v1::ListSubjectsResponse lsr;
    codes.push_back(stub_->ListSubjects(Ctx(token).get(), ls, &lsr).error_code());
  }
  for (grpc::StatusCode code : codes) {
    EXPECT_NE(code, grpc::StatusCode::OK);  // every request above is malformed somewhere
    EXPECT_NE(code, grpc::StatusCode::INTERNAL);
    EXPECT_NE(code, grpc::StatusCode::UNKNOWN);
  }
}

// ---- The per-RPC JSON log line. ----

// Runs `calls` with RPC logging on and returns what they wrote to stderr. The
// line is written before the response is sent, so it is there once a call
// returns.
std::string CaptureRpcLog(const std::function<void()>& calls) {
  server::SetRpcLogging(true);
  ::testing::internal::CaptureStderr();
  calls();
  std::string out = ::testing::internal::GetCapturedStderr();
  server::SetRpcLogging(false);
  return out;
}

// The JSON objects of the "rpc" lines in `log`.
std::vector<nlohmann::json> RpcLines(const std::string& log) {
  std::vector<nlohmann::json> out;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.value("msg", "") == "rpc") out.push_back(j);
  }
  return out;
}

TEST_F(IdentityServiceTest, EachRpcLogsOneJsonLineWithMethodCodeAndLatency) {
  std::string token = Login(supervisor_, supervisor_password_);
  std::string log = CaptureRpcLog([&] {
    v1::WhoAmIResponse who;
    EXPECT_TRUE(stub_->WhoAmI(Ctx(token).get(), v1::WhoAmIRequest(), &who).ok());
    v1::GetSubjectRequest get;
    get.set_name("subjects/nobody");
    v1::Subject s;
    EXPECT_EQ(stub_->GetSubject(Ctx(token).get(), get, &s).error_code(),
              grpc::StatusCode::NOT_FOUND);
  });
  std::vector<nlohmann::json> lines = RpcLines(log);
  ASSERT_EQ(lines.size(), 2u) << log;
  EXPECT_EQ(lines[0]["method"], "/market.identity.v1.IdentityService/WhoAmI");
  EXPECT_EQ(lines[0]["code"], "OK");
  EXPECT_EQ(lines[0]["subject"], supervisor_);
  EXPECT_EQ(lines[1]["method"], "/market.identity.v1.IdentityService/GetSubject");
  EXPECT_EQ(lines[1]["code"], "NOT_FOUND");
  for (const nlohmann::json& line : lines) {
    ASSERT_TRUE(line.contains("latency_ms") && line["latency_ms"].is_number()) << line;
    EXPECT_GE(line["latency_ms"].get<double>(), 0) << line;
  }
}

TEST_F(IdentityServiceTest, RpcLogNeverHoldsPasswordsOrTokens) {
  std::string token;
  std::string log = CaptureRpcLog([&] {
    token = Login(supervisor_, supervisor_password_);
    v1::LoginRequest wrong;
    wrong.set_subject(supervisor_);
    wrong.set_password("wrong-Password-123");
    v1::LoginResponse resp;
    EXPECT_EQ(stub_->Login(Ctx("").get(), wrong, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    v1::WhoAmIResponse who;
    EXPECT_TRUE(stub_->WhoAmI(Ctx(token).get(), v1::WhoAmIRequest(), &who).ok());
  });
  ASSERT_EQ(RpcLines(log).size(), 3u) << log;
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(log.find(supervisor_password_), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong-Password-123"), std::string::npos) << log;
  // The signature alone is enough to replay nothing, but the whole token and
  // each of its parts must stay out.
  for (absl::string_view part : absl::StrSplit(token, '.')) {
    EXPECT_EQ(log.find(std::string(part)), std::string::npos) << log;
  }
}

// ---- Role matrix: every RPC × every role. ----

enum class Expect { kAllowed, kDenied, kUnauthenticated };

struct MatrixRow {
  std::string rpc;
  // Expected outcome for: PUB (no token), SUP, OPR, SEL, BUY, FIRM, APR, SVC.
  std::vector<Expect> expect;
};

constexpr Expect A = Expect::kAllowed;
constexpr Expect D = Expect::kDenied;
constexpr Expect U = Expect::kUnauthenticated;

class RoleMatrixTest : public IdentityServiceTest {
 protected:
  // Calls `rpc` against a subject owned by nobody in the matrix.
  grpc::Status Call(const std::string& rpc, const std::string& token) {
    std::string target = AddSubject(absl::StrCat("target-", n_++), {common::v1::BUYER});
    auto ctx = Ctx(token);
    v1::Subject s;
    if (rpc == "CreateSubject") {
      auto req = PersonRequest("new buyer", common::v1::BUYER);
      req.mutable_subject()->clear_id_number();
      return stub_->CreateSubject(ctx.get(), req, &s);
    }
    if (rpc == "CreateSubject(OPERATOR)") {
      return stub_->CreateSubject(ctx.get(), PersonRequest("new op", common::v1::OPERATOR), &s);
    }
    if (rpc == "GetSubject") {
      v1::GetSubjectRequest req;
      req.set_name(target);
      return stub_->GetSubject(ctx.get(), req, &s);
    }
    if (rpc == "ListSubjects") {
      v1::ListSubjectsResponse resp;
      return stub_->ListSubjects(ctx.get(), v1::ListSubjectsRequest(), &resp);
    }
    if (rpc == "UpdateSubject") {
      v1::UpdateSubjectRequest req;
      req.mutable_subject()->set_name(target);
      req.mutable_subject()->set_phone("13700000000");
      req.mutable_update_mask()->add_paths("phone");
      return stub_->UpdateSubject(ctx.get(), req, &s);
    }
    if (rpc == "SuspendSubject") {
      v1::SuspendSubjectRequest req;
      req.set_name(target);
      req.set_reason("matrix");
      return stub_->SuspendSubject(ctx.get(), req, &s);
    }
    if (rpc == "ReinstateSubject") {
      v1::ReinstateSubjectRequest req;
      req.set_name(target);
      return stub_->ReinstateSubject(ctx.get(), req, &s);  // FAILED_PRECONDITION when allowed
    }
    if (rpc == "Login") {
      v1::LoginRequest req;
      req.set_subject(target);
      req.set_password(kPassword);
      v1::LoginResponse resp;
      return stub_->Login(ctx.get(), req, &resp);
    }
    if (rpc == "CreateApiKey") {
      v1::CreateApiKeyRequest req;
      req.set_parent(target);
      v1::CreateApiKeyResponse resp;
      return stub_->CreateApiKey(ctx.get(), req, &resp);
    }
    if (rpc == "RevokeApiKey") {
      v1::RevokeApiKeyRequest req;
      req.set_name(target + "/apiKeys/nokey");  // NOT_FOUND when allowed
      v1::ApiKey resp;
      return stub_->RevokeApiKey(ctx.get(), req, &resp);
    }
    if (rpc == "GetSigningKeys") {
      v1::GetSigningKeysResponse resp;
      return stub_->GetSigningKeys(ctx.get(), v1::GetSigningKeysRequest(), &resp);
    }
    if (rpc == "WhoAmI") {
      v1::WhoAmIResponse resp;
      return stub_->WhoAmI(ctx.get(), v1::WhoAmIRequest(), &resp);
    }
    if (rpc == "ChangePassword") {
      v1::ChangePasswordRequest req;
      req.set_name(target);  // someone else's password: nobody may
      req.set_old_password(kPassword);
      req.set_new_password("a brand new passphrase");
      v1::ChangePasswordResponse resp;
      return stub_->ChangePassword(ctx.get(), req, &resp);
    }
    if (rpc == "ResetPassword") {
      v1::ResetPasswordRequest req;
      req.set_name(target);
      req.set_new_password("one-time passphrase");
      return stub_->ResetPassword(ctx.get(), req, &s);
    }
    if (rpc == "ClearLoginThrottle") {
      v1::ClearLoginThrottleRequest req;
      req.set_subject(target);
      v1::ClearLoginThrottleResponse resp;
      return stub_->ClearLoginThrottle(ctx.get(), req, &resp);
    }
    if (rpc == "ListAuthEvents") {
      v1::ListAuthEventsRequest req;
      req.set_subject(target);  // someone else's events: a supervisor only
      v1::ListAuthEventsResponse resp;
      return stub_->ListAuthEvents(ctx.get(), req, &resp);
    }
    ADD_FAILURE() << "no call for " << rpc;
    return grpc::Status::OK;
  }
  int n_ = 0;
};

const std::vector<MatrixRow>& Matrix() {
  //                                       PUB SUP OPR SEL BUY FIRM APR SVC
  static const auto* rows = new std::vector<MatrixRow>{
      {"CreateSubject", {A, A, A, A, A, A, A, A}},
      {"CreateSubject(OPERATOR)", {D, A, D, D, D, D, D, D}},
      {"GetSubject", {U, A, A, A, A, A, A, A}},
      {"ListSubjects", {U, A, A, A, A, A, A, A}},
      {"UpdateSubject", {U, A, D, D, D, D, D, D}},
      {"SuspendSubject", {U, A, D, D, D, D, D, D}},
      {"ReinstateSubject", {U, A, D, D, D, D, D, D}},
      {"Login", {A, A, A, A, A, A, A, A}},
      {"CreateApiKey", {U, A, D, D, D, D, D, D}},
      {"RevokeApiKey", {U, A, D, D, D, D, D, D}},
      {"GetSigningKeys", {A, A, A, A, A, A, A, A}},
      {"WhoAmI", {U, A, A, A, A, A, A, A}},
      {"ChangePassword", {U, D, D, D, D, D, D, D}},
      {"ResetPassword", {U, A, D, D, D, D, D, D}},
      {"ClearLoginThrottle", {U, A, D, D, D, D, D, D}},
      {"ListAuthEvents", {U, A, D, D, D, D, D, D}},
  };
  return *rows;
}

TEST_F(RoleMatrixTest, MatrixCoversEveryRpc) {
  std::set<std::string> covered;
  for (const auto& row : Matrix()) covered.insert(row.rpc.substr(0, row.rpc.find('(')));
  const auto* service = v1::Subject::descriptor()->file()->FindServiceByName("IdentityService");
  for (int i = 0; i < service->method_count(); ++i) {
    EXPECT_TRUE(covered.contains(service->method(i)->name())) << service->method(i)->name();
  }
}

TEST_F(RoleMatrixTest, EveryRpcTimesEveryRole) {
  const std::vector<Role> roles = {common::v1::SUPERVISOR,     common::v1::OPERATOR,
                                   common::v1::SELLER,         common::v1::BUYER,
                                   common::v1::APPRAISAL_FIRM, common::v1::APPRAISER,
                                   common::v1::SERVICE};
  std::vector<std::string> tokens = {""};
  for (Role r : roles) {
    std::string subject = AddSubject(absl::StrCat("caller-", common::v1::Role_Name(r).size(), "-",
                                                  static_cast<int>(r)),
                                      {r});
    tokens.push_back(Token(subject, {r}));
  }
  for (const MatrixRow& row : Matrix()) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      grpc::Status s = Call(row.rpc, tokens[i]);
      std::string where = absl::StrCat(row.rpc, " as role #", i, ": ", s.error_message());
      switch (row.expect[i]) {
        case Expect::kAllowed:
          EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
          EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
          EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL) << where;
          break;
        case Expect::kDenied:
          EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
          break;
        case Expect::kUnauthenticated:
          EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
          break;
      }
    }
  }
}

TEST_F(RoleMatrixTest, ExpiredTokenIsUnauthenticatedForEveryProtectedRpc) {
  std::string token = SupervisorToken();
  clock_.Advance(absl::Hours(2));
  for (const MatrixRow& row : Matrix()) {
    if (row.expect[0] != Expect::kUnauthenticated) continue;
    EXPECT_EQ(Call(row.rpc, token).error_code(), grpc::StatusCode::UNAUTHENTICATED) << row.rpc;
  }
}

TEST_F(RoleMatrixTest, TokenSignedByAnotherKeyIsUnauthenticatedForEveryRpc) {
  v1::GetSigningKeysResponse keys;
  ASSERT_TRUE(stub_->GetSigningKeys(Ctx("").get(), v1::GetSigningKeysRequest(), &keys).ok());
  auth::TokenSigner forger(keys.keys(0).key_id(), *Ed25519PrivateKey::Generate());
  std::string token = *forger.Issue(supervisor_, {common::v1::SUPERVISOR}, clock_.Now(),
                                    absl::Hours(1));
  for (const MatrixRow& row : Matrix()) {
    // A token, when sent, must be valid even for public RPCs.
    EXPECT_EQ(Call(row.rpc, token).error_code(), grpc::StatusCode::UNAUTHENTICATED) << row.rpc;
  }
}

}  // namespace
}  // namespace market::identity
