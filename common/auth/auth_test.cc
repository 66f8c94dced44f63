#include <map>
#include <memory>

#include "common/auth/jwt.h"
#include "common/auth/policy.h"
#include "common/auth/suspension.h"
#include "common/clock/clock.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "market/identity/v1/identity.grpc.pb.h"

namespace market::auth {
namespace {

using ::market::common::v1::BUYER;
using ::market::common::v1::SELLER;
using ::market::common::v1::SUPERVISOR;
using ::market::testing::StatusIs;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

TokenSigner NewSigner(const std::string& kid, TokenVerifier* verifier) {
  auto key = Ed25519PrivateKey::Generate();
  EXPECT_TRUE(key.ok());
  auto pub = Ed25519PublicKey::FromRaw(key->PublicKeyRaw());
  EXPECT_TRUE(pub.ok());
  if (verifier != nullptr) verifier->AddKey(kid, *std::move(pub));
  return TokenSigner(kid, *std::move(key));
}

TEST(JwtTest, IssuedTokenVerifiesWithClaims) {
  TokenVerifier verifier;
  TokenSigner signer = NewSigner("k1", &verifier);
  ASSERT_OK_AND_ASSIGN(std::string token,
                       signer.Issue("subjects/alice", {SELLER, BUYER}, kStart, absl::Hours(1)));
  ASSERT_OK_AND_ASSIGN(Claims claims, verifier.Verify(token, kStart + absl::Minutes(5)));
  EXPECT_EQ(claims.subject, "subjects/alice");
  EXPECT_EQ(claims.roles, (std::vector<Role>{SELLER, BUYER}));
  EXPECT_EQ(claims.key_id, "k1");
  EXPECT_EQ(claims.expire_time, kStart + absl::Hours(1));
}

TEST(JwtTest, ExpiredTokenIsUnauthenticated) {
  TokenVerifier verifier;
  TokenSigner signer = NewSigner("k1", &verifier);
  ASSERT_OK_AND_ASSIGN(std::string token, signer.Issue("subjects/a", {BUYER}, kStart,
                                                       absl::Hours(1)));
  EXPECT_THAT(verifier.Verify(token, kStart + absl::Hours(1)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(JwtTest, TokenFromUnknownKeyIsUnauthenticated) {
  TokenVerifier verifier;
  NewSigner("k1", &verifier);
  TokenSigner other = NewSigner("k1", nullptr);  // same kid, different key
  ASSERT_OK_AND_ASSIGN(std::string token, other.Issue("subjects/a", {SUPERVISOR}, kStart,
                                                      absl::Hours(1)));
  EXPECT_THAT(verifier.Verify(token, kStart), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(JwtTest, AlteredPayloadIsUnauthenticated) {
  TokenVerifier verifier;
  TokenSigner signer = NewSigner("k1", &verifier);
  ASSERT_OK_AND_ASSIGN(std::string token, signer.Issue("subjects/a", {BUYER}, kStart,
                                                       absl::Hours(1)));
  ASSERT_OK_AND_ASSIGN(std::string forged_token, signer.Issue("subjects/a", {SUPERVISOR}, kStart,
                                                              absl::Hours(1)));
  // Splice the SUPERVISOR payload onto the BUYER token's signature.
  auto dot1 = token.find('.');
  auto dot2 = token.rfind('.');
  auto fdot1 = forged_token.find('.');
  auto fdot2 = forged_token.rfind('.');
  std::string spliced = token.substr(0, dot1) +
                        forged_token.substr(fdot1, fdot2 - fdot1) + token.substr(dot2);
  EXPECT_THAT(verifier.Verify(spliced, kStart), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(JwtTest, GarbageIsUnauthenticated) {
  TokenVerifier verifier;
  EXPECT_THAT(verifier.Verify("not-a-token", kStart),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(verifier.Verify("a.b.c", kStart), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(JwtTest, HeaderWithWrongTypesIsUnauthenticated) {
  TokenVerifier verifier;
  NewSigner("k1", &verifier);
  for (const char* header : {"{\"alg\":1}", "{\"alg\":\"EdDSA\",\"kid\":1}", "[]"}) {
    std::string token = Base64UrlEncode(header) + ".e30.AA";
    EXPECT_THAT(verifier.Verify(token, kStart), StatusIs(absl::StatusCode::kUnauthenticated))
        << header;
  }
}

TEST(JwtTest, RotationKeepsOldKeyUntilRemoved) {
  TokenVerifier verifier;
  TokenSigner old_signer = NewSigner("k1", &verifier);
  TokenSigner new_signer = NewSigner("k2", &verifier);
  ASSERT_OK_AND_ASSIGN(std::string old_token, old_signer.Issue("subjects/a", {BUYER}, kStart,
                                                               absl::Hours(1)));
  ASSERT_OK_AND_ASSIGN(std::string new_token, new_signer.Issue("subjects/a", {BUYER}, kStart,
                                                               absl::Hours(1)));
  EXPECT_OK(verifier.Verify(old_token, kStart));
  EXPECT_OK(verifier.Verify(new_token, kStart));
  verifier.RemoveKey("k1");
  EXPECT_THAT(verifier.Verify(old_token, kStart), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_OK(verifier.Verify(new_token, kStart));
}

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    verifier_ = std::make_shared<TokenVerifier>();
    signer_ = std::make_unique<TokenSigner>(NewSigner("k1", verifier_.get()));
    suspension_ = std::make_shared<SuspensionChecker>(
        [this](const std::string& s) -> absl::StatusOr<SubjectStatus> {
          SubjectStatus status;
          status.blocked = suspended_.contains(s);
          if (valid_after_.contains(s)) status.tokens_valid_after = valid_after_[s];
          status.password_change_required = must_change_.contains(s);
          status.roles = current_roles_.contains(s)
                             ? current_roles_[s]
                             : std::vector<Role>{SUPERVISOR, SELLER, BUYER};
          return status;
        },
        &clock_, absl::Seconds(2));
    std::vector<RpcPolicy> table;
    for (int i = 0; i < Service()->method_count(); ++i) {
      RpcPolicy p{.method = Service()->method(i)->name(), .roles = {SUPERVISOR}};
      if (p.method == "Login") p.public_access = true;
      if (p.method == "WhoAmI") p.any_authenticated = true;
      if (p.method == "UpdateSubject") p.owner_field = "subject.name";
      table.push_back(p);
    }
    auto authorizer = Authorizer::Create(Service(), table, verifier_, suspension_, &clock_);
    ASSERT_OK(authorizer);
    authorizer_ = *std::move(authorizer);
  }
  static const google::protobuf::ServiceDescriptor* Service() {
    return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
        "market.identity.v1.IdentityService");
  }
  std::string Bearer(const std::string& subject, std::vector<Role> roles) {
    auto token = signer_->Issue(subject, roles, clock_.Now(), absl::Hours(1));
    EXPECT_TRUE(token.ok());
    return "Bearer " + *token;
  }

  FakeClock clock_{kStart};
  std::set<std::string> suspended_;
  std::set<std::string> must_change_;
  std::map<std::string, absl::Time> valid_after_;
  std::map<std::string, std::vector<Role>> current_roles_;
  std::shared_ptr<TokenVerifier> verifier_;
  std::unique_ptr<TokenSigner> signer_;
  std::shared_ptr<SuspensionChecker> suspension_;
  std::unique_ptr<Authorizer> authorizer_;
  identity::v1::WhoAmIRequest empty_;
};

TEST_F(AuthorizerTest, CreateRejectsTableMissingAMethod) {
  std::vector<RpcPolicy> table = {{.method = "Login", .public_access = true}};
  EXPECT_THAT(Authorizer::Create(Service(), table, verifier_, suspension_, &clock_),
              StatusIs(absl::StatusCode::kInternal));
}

TEST_F(AuthorizerTest, PublicMethodAllowsAnonymous) {
  ASSERT_OK_AND_ASSIGN(Caller c, authorizer_->Authorize("Login", "", empty_));
  EXPECT_FALSE(c.authenticated());
}

TEST_F(AuthorizerTest, ProtectedMethodWithoutTokenIsUnauthenticated) {
  EXPECT_THAT(authorizer_->Authorize("WhoAmI", "", empty_),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AuthorizerTest, WrongRoleIsPermissionDenied) {
  EXPECT_THAT(authorizer_->Authorize("SuspendSubject", Bearer("subjects/b", {BUYER}), empty_),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(AuthorizerTest, AllowedRolePasses) {
  EXPECT_OK(authorizer_->Authorize("SuspendSubject", Bearer("subjects/s", {SUPERVISOR}), empty_));
}

TEST_F(AuthorizerTest, OwnerFieldAllowsOwnResourceOnly) {
  identity::v1::UpdateSubjectRequest own;
  own.mutable_subject()->set_name("subjects/b");
  EXPECT_OK(authorizer_->Authorize("UpdateSubject", Bearer("subjects/b", {BUYER}), own));
  identity::v1::UpdateSubjectRequest other;
  other.mutable_subject()->set_name("subjects/bb");
  EXPECT_THAT(authorizer_->Authorize("UpdateSubject", Bearer("subjects/b", {BUYER}), other),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(AuthorizerTest, SuspendedCallerRefusedAfterCacheTtl) {
  std::string bearer = Bearer("subjects/b", {BUYER});
  EXPECT_OK(authorizer_->Authorize("WhoAmI", bearer, empty_));
  suspended_.insert("subjects/b");
  clock_.Advance(absl::Seconds(3));
  EXPECT_THAT(authorizer_->Authorize("WhoAmI", bearer, empty_),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AuthorizerTest, RoleTakenAwayStopsCountingAfterCacheTtl) {
  std::string bearer = Bearer("subjects/s2", {SUPERVISOR});
  EXPECT_OK(authorizer_->Authorize("SuspendSubject", bearer, empty_));
  current_roles_["subjects/s2"] = {BUYER};
  clock_.Advance(absl::Seconds(3));
  EXPECT_THAT(authorizer_->Authorize("SuspendSubject", bearer, empty_),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(AuthorizerTest, TokenIssuedBeforeACredentialsChangeIsRefusedAfterCacheTtl) {
  std::string old_bearer = Bearer("subjects/c", {BUYER});
  EXPECT_OK(authorizer_->Authorize("WhoAmI", old_bearer, empty_));
  clock_.Advance(absl::Seconds(3));
  valid_after_["subjects/c"] = clock_.Now();
  EXPECT_THAT(authorizer_->Authorize("WhoAmI", old_bearer, empty_),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_OK(authorizer_->Authorize("WhoAmI", Bearer("subjects/c", {BUYER}), empty_));
}

TEST_F(AuthorizerTest, PasswordChangeRequiredLeavesOnlyChangePasswordAndWhoAmI) {
  must_change_.insert("subjects/boot");
  std::string bearer = Bearer("subjects/boot", {SUPERVISOR});
  absl::Status refused = authorizer_->Authorize("SuspendSubject", bearer, empty_).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(refused), "PASSWORD_CHANGE_REQUIRED");
  EXPECT_OK(authorizer_->Authorize("WhoAmI", bearer, empty_));
  EXPECT_OK(authorizer_->Authorize("ChangePassword", bearer, empty_));
}

TEST_F(AuthorizerTest, MalformedAuthorizationHeaderIsUnauthenticated) {
  EXPECT_THAT(authorizer_->Authorize("Login", "Basic abc", empty_),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(CallerTest, OwnsSelfAndChildrenOnly) {
  Caller c{.subject = "subjects/a"};
  EXPECT_TRUE(c.Owns("subjects/a"));
  EXPECT_TRUE(c.Owns("subjects/a/apiKeys/k"));
  EXPECT_FALSE(c.Owns("subjects/ab"));
  EXPECT_FALSE(c.Owns(""));
}

}  // namespace
}  // namespace market::auth
