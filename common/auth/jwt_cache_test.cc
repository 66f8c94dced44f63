// TokenVerifier's cache of verified tokens: a repeat token costs no signature
// check, yet expiry, key changes and suspension still refuse it.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/auth/jwt.h"
#include "common/auth/policy.h"
#include "common/auth/suspension.h"
#include "common/clock/clock.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "market/identity/v1/identity.grpc.pb.h"

namespace market::auth {
namespace {

using ::market::common::v1::BUYER;
using ::market::testing::StatusIs;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

Ed25519PrivateKey NewKey() {
  auto key = Ed25519PrivateKey::Generate();
  EXPECT_TRUE(key.ok());
  return *std::move(key);
}

Ed25519PublicKey PublicOf(const std::string& raw) {
  auto pub = Ed25519PublicKey::FromRaw(raw);
  EXPECT_TRUE(pub.ok());
  return *std::move(pub);
}

class TokenCacheTest : public ::testing::Test {
 protected:
  TokenCacheTest() : signer_(NewSigner()) { verifier_.AddKey("k1", PublicOf(public_raw_)); }
  TokenSigner NewSigner() {
    Ed25519PrivateKey key = NewKey();
    public_raw_ = key.PublicKeyRaw();
    return TokenSigner("k1", std::move(key));
  }
  std::string Issue(const std::string& subject, absl::Duration ttl = absl::Hours(1)) {
    auto token = signer_.Issue(subject, {BUYER}, kStart, ttl);
    EXPECT_TRUE(token.ok());
    return *token;
  }
  std::string public_raw_;
  TokenSigner signer_;
  TokenVerifier verifier_;
};

TEST_F(TokenCacheTest, RepeatTokenVerifiesWithoutSignatureCheck) {
  std::string token = Issue("subjects/a");
  ASSERT_OK(verifier_.Verify(token, kStart));
  ASSERT_EQ(verifier_.signature_checks(), 1);
  ASSERT_OK_AND_ASSIGN(Claims claims, verifier_.Verify(token, kStart + absl::Minutes(1)));
  EXPECT_EQ(claims.subject, "subjects/a");
  EXPECT_EQ(claims.roles, std::vector<Role>{BUYER});
  EXPECT_EQ(verifier_.signature_checks(), 1);
}

TEST_F(TokenCacheTest, CachedTokenIsRefusedOnceExpired) {
  std::string token = Issue("subjects/a", absl::Minutes(10));
  ASSERT_OK(verifier_.Verify(token, kStart));
  EXPECT_THAT(verifier_.Verify(token, kStart + absl::Minutes(10)),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(verifier_.signature_checks(), 1);
}

TEST_F(TokenCacheTest, RefusedTokenIsNotCached) {
  std::string token = Issue("subjects/a");
  std::string forged = token.substr(0, token.rfind('.') + 1) + std::string(86, 'A');
  EXPECT_THAT(verifier_.Verify(forged, kStart), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(verifier_.Verify(forged, kStart), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(verifier_.signature_checks(), 2);
}

TEST_F(TokenCacheTest, RemovedKeyRefusesCachedToken) {
  std::string token = Issue("subjects/a");
  ASSERT_OK(verifier_.Verify(token, kStart));
  verifier_.RemoveKey("k1");
  EXPECT_THAT(verifier_.Verify(token, kStart), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(TokenCacheTest, ReplacingKeysWithTheSameKeepsTheCache) {
  std::string token = Issue("subjects/a");
  ASSERT_OK(verifier_.Verify(token, kStart));
  verifier_.ReplaceKeys({{"k1", PublicOf(public_raw_)}});
  ASSERT_OK(verifier_.Verify(token, kStart));
  EXPECT_EQ(verifier_.signature_checks(), 1);
}

TEST_F(TokenCacheTest, FullCacheStillVerifiesEveryToken) {
  TokenVerifier small(/*cache_capacity=*/16);
  small.AddKey("k1", PublicOf(public_raw_));
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) tokens.push_back(Issue("subjects/s" + std::to_string(i)));
  for (const std::string& t : tokens) ASSERT_OK(small.Verify(t, kStart));
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK_AND_ASSIGN(Claims c, small.Verify(tokens[i], kStart));
    EXPECT_EQ(c.subject, "subjects/s" + std::to_string(i));
  }
  EXPECT_GT(small.signature_checks(), 100);  // evicted entries were checked again
}

TEST(TokenCacheAuthorizerTest, SuspendedSubjectsCachedTokenIsRefusedWithinTheDelay) {
  FakeClock clock(kStart);
  auto verifier = std::make_shared<TokenVerifier>();
  Ed25519PrivateKey key = NewKey();
  verifier->AddKey("k1", PublicOf(key.PublicKeyRaw()));
  TokenSigner signer("k1", std::move(key));
  std::set<std::string> suspended;
  auto suspension = std::make_shared<SuspensionChecker>(
      [&](const std::string& s) -> absl::StatusOr<SubjectStatus> {
        SubjectStatus status;
        status.blocked = suspended.contains(s);
        status.roles = {BUYER};
        return status;
      },
      &clock, absl::Seconds(2));
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      "market.identity.v1.IdentityService");
  std::vector<RpcPolicy> table;
  for (int i = 0; i < service->method_count(); ++i) {
    table.push_back({.method = service->method(i)->name(), .any_authenticated = true});
  }
  ASSERT_OK_AND_ASSIGN(auto authorizer,
                       Authorizer::Create(service, table, verifier, suspension, &clock));
  ASSERT_OK_AND_ASSIGN(std::string token,
                       signer.Issue("subjects/b", {BUYER}, kStart, absl::Hours(1)));
  identity::v1::WhoAmIRequest request;
  ASSERT_OK(authorizer->Authorize("WhoAmI", "Bearer " + token, request));
  ASSERT_OK(authorizer->Authorize("WhoAmI", "Bearer " + token, request));
  ASSERT_EQ(verifier->signature_checks(), 1);  // the second call came from the cache
  suspended.insert("subjects/b");
  clock.Advance(absl::Seconds(3));
  EXPECT_THAT(authorizer->Authorize("WhoAmI", "Bearer " + token, request),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

}  // namespace
}  // namespace market::auth
