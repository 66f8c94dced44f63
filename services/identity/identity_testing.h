// Test helpers for services that need identity subjects and tokens: subjects
// written straight into the identity store, tokens issued by the module's
// TokenAuthority, and ServiceTest, the fixture base of the service tests that
// serve over gRPC. For tests only; not thread-safe.
#ifndef MARKET_SERVICES_IDENTITY_IDENTITY_TESTING_H_
#define MARKET_SERVICES_IDENTITY_IDENTITY_TESTING_H_

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"
#include "common/clock/clock.h"
#include "common/server/runner.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/identity/identity_module.h"

namespace market::identity::testing {

// Creates ACTIVE `subjects/{id}` (display name = id) holding `roles`;
// returns its name. Fails the current test when the store refuses.
std::string AddTestSubject(IdentityModule& identity, absl::Time now, const std::string& id,
                           const std::vector<common::v1::Role>& roles,
                           const std::string& affiliation = "",
                           Subject::Kind kind = Subject::ORGANIZATION);

// A bearer token for `subject` carrying `roles`, or every role it holds when
// `roles` is empty.
std::string TestToken(IdentityModule& identity, const std::string& subject,
                      const std::vector<common::v1::Role>& roles = {});

// Looks subjects up in the module's store (std::nullopt when unknown), the
// shape every service's subject lookup has.
absl::StatusOr<std::optional<v1::Subject>> LookupTestSubject(IdentityModule& identity,
                                                             const std::string& subject);

// The bootstrap supervisor's first login and password change (to
// `new_password`) over `stub`, as every client does before anything else;
// returns the fresh token. Fails the current test on an error.
std::string ChangeFirstPassword(v1::IdentityService::Stub& stub, const std::string& subject,
                                const std::string& old_password,
                                const std::string& new_password);

// Fixture base for a service test: a fresh temp dir, a FakeClock, a
// TokenVerifier, the identity module over the dir (subjects, tokens,
// suspensions) and, once StartServer() ran, a ServerRunner on 127.0.0.1:0.
// A derived fixture calls ServiceTest::SetUp() first in its SetUp() and
// ServiceTest::TearDown() last in its TearDown().
class ServiceTest : public ::testing::Test {
 protected:
  // A gRPC service to serve and the name health checks report it under.
  using Served = std::pair<grpc::Service*, std::string>;

  // The clock starts at `start`.
  explicit ServiceTest(absl::Time start = absl::FromUnixSeconds(1'790'000'000));

  // Turns RPC logging off, creates an empty dir_ (unique per test) and opens
  // the identity module in it (scrypt cost 2^10, registering keys with
  // verifier_). A fatal failure when the module does not open.
  void SetUp() override;
  // Shuts down and destroys the runner (before the derived fixture's
  // services go), then removes dir_.
  void TearDown() override;

  // `name` inside dir_.
  std::string TempPath(const std::string& name) const;

  // Creates ACTIVE `subjects/{id}` of kind subject_kind_ holding `role` (or
  // `roles`), with `affiliation`; returns its name.
  std::string AddSubject(const std::string& id, common::v1::Role role,
                         const std::string& affiliation = "");
  std::string AddSubject(const std::string& id, const std::vector<common::v1::Role>& roles,
                         const std::string& affiliation = "");

  // A bearer token for `subject` carrying `role`, or `roles`, or every role
  // it holds when `roles` is empty.
  std::string Token(const std::string& subject, common::v1::Role role);
  std::string Token(const std::string& subject, const std::vector<common::v1::Role>& roles = {});

  // A client context for a call as `who`: "" sends no credentials; a subject
  // name ("subjects/…") sends a fresh token with every role it holds; any
  // other string is sent as the bearer token itself.
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& who);

  // Looks subjects up in identity_'s store (LookupTestSubject); the lookup
  // every service takes. Valid while the fixture lives.
  std::function<absl::StatusOr<std::optional<v1::Subject>>(const std::string&)> TestSubjectLookup();

  // Serves `services` (not owned; they must outlive TearDown()) on
  // 127.0.0.1:0 with HTTP disabled; returns a channel to it. Once per test.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> StartServer(
      std::initializer_list<Served> services);

  // A new channel to the running server.
  std::shared_ptr<grpc::Channel> NewChannel() const;

  // Options the identity module opens with (scrypt cost 2^10 is forced); a
  // derived fixture may set them in its constructor (e.g. a counting hasher).
  IdentityOptions identity_options_;
  FakeClock clock_;
  std::string dir_;
  std::shared_ptr<auth::TokenVerifier> verifier_ = std::make_shared<auth::TokenVerifier>();
  IdentityModule identity_;
  // The kind AddSubject() creates.
  Subject::Kind subject_kind_ = Subject::ORGANIZATION;
  std::unique_ptr<server::ServerRunner> runner_;
};

}  // namespace market::identity::testing

#endif  // MARKET_SERVICES_IDENTITY_IDENTITY_TESTING_H_
