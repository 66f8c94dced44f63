// IdentityClient and RemoteIdentity against a real identity server on
// 127.0.0.1:0: look-ups, NOT_FOUND, the server down (UNAVAILABLE, mapped once)
// and the key reload for a token signed by a key rotated in moments ago.
#include "services/identity/identity_client.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/server/log.h"
#include "common/server/runner.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/identity/identity_testing.h"

namespace market::identity {
namespace {

using common::v1::Role;

class IdentityClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::SetRpcLogging(false);
    dir_ = ::testing::TempDir() + "identity_client_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    IdentityOptions options;
    options.password_log2_n = 10;
    ASSERT_OK_AND_ASSIGN(identity_, OpenIdentityModule(dir_, &clock_, verifier_, nullptr, options));
    runner_ = std::make_unique<server::ServerRunner>(
        server::ServerOptions{.listen = "127.0.0.1:0", .http_listen = ""}, nullptr);
    runner_->AddService(identity_.service.get(), "market.identity.v1.IdentityService");
    ASSERT_OK(runner_->Start());
    service_ = testing::AddTestSubject(identity_, clock_.Now(), "svc-test", {Role::SERVICE});
  }
  void TearDown() override {
    runner_->Shutdown(absl::ZeroDuration());
    std::filesystem::remove_all(dir_);
  }
  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", runner_->grpc_port()),
                               grpc::InsecureChannelCredentials());
  }
  IdentityClient Client() {
    return IdentityClient(Channel(), [this] {
      return absl::StatusOr<std::string>(testing::TestToken(identity_, service_));
    });
  }

  FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  std::string dir_;
  std::shared_ptr<auth::TokenVerifier> verifier_ = std::make_shared<auth::TokenVerifier>();
  IdentityModule identity_;
  std::unique_ptr<server::ServerRunner> runner_;
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
  IdentityClient client(Channel(), [] { return absl::StatusOr<std::string>("not-a-token"); });
  EXPECT_TRUE(absl::IsUnavailable(client.GetSubject(service_).status()));
}

TEST_F(IdentityClientTest, RemoteVerifierReloadsKeysForAnUnknownKeyId) {
  auto remote_verifier = std::make_shared<auth::TokenVerifier>();
  auto remote = std::make_shared<RemoteIdentity>(Channel(), service_, "", remote_verifier, &clock_);
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

}  // namespace
}  // namespace market::identity
