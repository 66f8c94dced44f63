// IdentityClient and RemoteIdentity against a real identity server on
// 127.0.0.1:0: look-ups, NOT_FOUND, the server down (UNAVAILABLE, mapped once)
// and the key reload for a token signed by a key rotated in moments ago.
#include "services/identity/identity_client.h"

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/identity/identity_testing.h"

namespace market::identity {
namespace {

using common::v1::Role;

class IdentityClientTest : public testing::ServiceTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    ASSERT_OK(StartServer({{identity_.service.get(), "market.identity.v1.IdentityService"}}));
    service_ = AddSubject("svc-test", Role::SERVICE);
  }
  IdentityClient Client() {
    return IdentityClient(NewChannel(),
                          [this] { return absl::StatusOr<std::string>(Token(service_)); });
  }

  std::string service_;
};

TEST_F(IdentityClientTest, GetSubjectReturnsTheSubject) {
  std::string seller =
      testing::AddTestSubject(identity_, clock_.Now(), "seller-a", {Role::SELLER}, "subjects/op");
  ASSERT_OK_AND_ASSIGN(std::optional<v1::Subject> got, Client().GetSubject(seller));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->name(), seller);
  EXPECT_EQ(got->display_name(), "seller-a");
  EXPECT_EQ(got->affiliation(), "subjects/op");
  EXPECT_THAT(got->roles(), ::testing::ElementsAre(Role::SELLER));
}

TEST_F(IdentityClientTest, UnknownSubjectIsNullopt) {
  ASSERT_OK_AND_ASSIGN(std::optional<v1::Subject> got, Client().GetSubject("subjects/nobody"));
  EXPECT_FALSE(got.has_value());
}

TEST_F(IdentityClientTest, ServerDownIsUnavailableNamingTheCall) {
  IdentityClient client = Client();
  runner_->Shutdown(absl::ZeroDuration());
  absl::Status s = client.GetSubject(service_).status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("identity service GetSubject"));
}

TEST_F(IdentityClientTest, RefusedTokenIsUnavailableNotTheCallersFault) {
  IdentityClient client(NewChannel(), [] { return absl::StatusOr<std::string>("not-a-token"); });
  EXPECT_TRUE(absl::IsUnavailable(client.GetSubject(service_).status()));
}

TEST_F(IdentityClientTest, RemoteVerifierReloadsKeysForAnUnknownKeyId) {
  auto remote_verifier = std::make_shared<auth::TokenVerifier>();
  auto remote =
      std::make_shared<RemoteIdentity>(NewChannel(), service_, "", remote_verifier, &clock_);
  std::weak_ptr<RemoteIdentity> weak = remote;
  remote_verifier->SetKeyFetcher([weak] {
    if (auto r = weak.lock()) r->ReloadKeysForUnknownKey();
  });
  ASSERT_OK(remote->Start(absl::Hours(1)));
  // A rotation the remote's periodic refresh has not seen yet.
  clock_.Advance(absl::Hours(24 * 40));
  ASSERT_OK(identity_.service->token_authority()->MaybeRotate());
  std::string token = testing::TestToken(identity_, service_);
  EXPECT_OK(remote_verifier->Verify(token, clock_.Now()).status());
}

// RemoteIdentity logged in as service_ with a fresh API key; keys loaded.
class RemoteIdentityTokenTest : public IdentityClientTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(IdentityClientTest::SetUp());
    v1::CreateApiKeyRequest req;
    req.set_parent(service_);
    v1::CreateApiKeyResponse created;
    grpc::Status s = v1::IdentityService::NewStub(NewChannel())
                         ->CreateApiKey(Ctx(service_).get(), req, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    remote_ = std::make_unique<RemoteIdentity>(NewChannel(), service_, created.key(),
                                               std::make_shared<auth::TokenVerifier>(), &clock_);
  }
  std::unique_ptr<RemoteIdentity> remote_;
};

// The fake clock is months behind real time, so a token fresh by the fake
// clock has long expired by absl::Now().
TEST_F(RemoteIdentityTokenTest, TokenFreshByTheInjectedClockIsReused) {
  ASSERT_OK_AND_ASSIGN(std::string first, remote_->Token());
  clock_.Advance(absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(std::string second, remote_->Token());
  EXPECT_EQ(second, first);
}

TEST_F(RemoteIdentityTokenTest, TokenNearExpiryByTheInjectedClockIsReplaced) {
  ASSERT_OK_AND_ASSIGN(std::string first, remote_->Token());
  ASSERT_OK_AND_ASSIGN(auth::Claims claims, verifier_->Verify(first, clock_.Now()));
  clock_.Advance(claims.expire_time - clock_.Now() - absl::Minutes(4));
  ASSERT_OK_AND_ASSIGN(std::string second, remote_->Token());
  EXPECT_NE(second, first);
}

}  // namespace
}  // namespace market::identity
