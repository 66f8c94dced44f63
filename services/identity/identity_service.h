// gRPC handlers of market.identity.v1.IdentityService: validate the request,
// apply the policy table, then call the store. Thread-safe.
#ifndef MARKET_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
#define MARKET_SERVICES_IDENTITY_IDENTITY_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "common/auth/policy.h"
#include "common/auth/suspension.h"
#include "common/clock/clock.h"
#include "common/pagination/page_token.h"
#include "common/server/handler.h"
#include "market/identity/v1/identity.grpc.pb.h"
#include "services/identity/identity_store.h"
#include "services/identity/token_authority.h"

namespace market::identity {

struct IdentityOptions {
  std::string id_hash_key;        // HMAC key for ID numbers (>= 32 random bytes)
  std::string page_token_secret;  // HMAC key for page tokens (>= 16 random bytes)
  absl::Duration token_ttl = absl::Hours(1);
  absl::Duration key_rotation = absl::Hours(24 * 30);
  int password_log2_n = 15;  // scrypt cost of new password hashes
};

// A subject's current standing, as every service's authorizer needs it.
auth::SubjectStatus StatusOf(const Subject& subject);

// The policy table of IdentityService (exposed for the role-matrix test).
std::vector<auth::RpcPolicy> IdentityPolicies();

// Validates CreateSubjectRequest at `now` (who may create what is the
// handler's check): OK or one INVALID_ARGUMENT whose BadRequest names every
// bad field ("subject.kind", "subject.credit_code", "subject.id_number", …).
// Pure; exposed for the request fuzzer (fuzz/identity_request_fuzz.cc).
absl::Status ValidateCreateSubject(const v1::CreateSubjectRequest& req, absl::Time now);

class IdentityServiceImpl final : public v1::IdentityService::Service {
 public:
  // Builds the service; `verifier` receives the signing keys and `suspension`
  // is invalidated on suspend/reinstate. Neither pointer is owned except the
  // shared ones.
  static absl::StatusOr<std::unique_ptr<IdentityServiceImpl>> Create(
      IdentityStore* store, const Clock* clock, IdentityOptions options,
      std::shared_ptr<auth::TokenVerifier> verifier,
      std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics);

  // The suspension source every service uses in-process: true when the
  // subject is suspended or unknown.
  static auth::SuspensionChecker::Source SuspensionSource(IdentityStore* store);

  // Creates the first supervisor if the store has no subject yet; returns its
  // name and a fresh random password, or std::nullopt when subjects exist.
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>> BootstrapSupervisor();

  TokenAuthority* token_authority() { return tokens_.get(); }

  grpc::Status CreateSubject(grpc::ServerContext*, const v1::CreateSubjectRequest*,
                             v1::Subject*) override;
  grpc::Status GetSubject(grpc::ServerContext*, const v1::GetSubjectRequest*,
                          v1::Subject*) override;
  grpc::Status ListSubjects(grpc::ServerContext*, const v1::ListSubjectsRequest*,
                            v1::ListSubjectsResponse*) override;
  grpc::Status UpdateSubject(grpc::ServerContext*, const v1::UpdateSubjectRequest*,
                             v1::Subject*) override;
  grpc::Status SuspendSubject(grpc::ServerContext*, const v1::SuspendSubjectRequest*,
                              v1::Subject*) override;
  grpc::Status ReinstateSubject(grpc::ServerContext*, const v1::ReinstateSubjectRequest*,
                                v1::Subject*) override;
  grpc::Status Login(grpc::ServerContext*, const v1::LoginRequest*,
                     v1::LoginResponse*) override;
  grpc::Status CreateApiKey(grpc::ServerContext*, const v1::CreateApiKeyRequest*,
                            v1::CreateApiKeyResponse*) override;
  grpc::Status RevokeApiKey(grpc::ServerContext*, const v1::RevokeApiKeyRequest*,
                            v1::ApiKey*) override;
  grpc::Status GetSigningKeys(grpc::ServerContext*, const v1::GetSigningKeysRequest*,
                              v1::GetSigningKeysResponse*) override;
  grpc::Status WhoAmI(grpc::ServerContext*, const v1::WhoAmIRequest*,
                      v1::WhoAmIResponse*) override;

 private:
  IdentityServiceImpl(IdentityStore* store, const Clock* clock, IdentityOptions options,
                      std::shared_ptr<auth::SuspensionChecker> suspension)
      : store_(store),
        clock_(clock),
        options_(std::move(options)),
        pages_(options_.page_token_secret),
        suspension_(std::move(suspension)) {}

  // Subject as `caller` may see it.
  Subject View(const SubjectRow& row, const auth::Caller& caller) const;
  Subject ViewSubject(Subject s, const auth::Caller& caller) const;
  absl::StatusOr<Subject> SetState(const auth::Caller& caller, const std::string& method,
                                   const std::string& name, const std::string& etag,
                                   const std::string& request_id, Subject::State state,
                                   const std::string& reason);

  IdentityStore* store_;
  const Clock* clock_;
  IdentityOptions options_;
  PageTokenCodec pages_;
  std::shared_ptr<auth::SuspensionChecker> suspension_;
  std::unique_ptr<TokenAuthority> tokens_;
  // Verified against when a login names no usable credential, so that a
  // wrong password and an unknown subject take the same time.
  std::string dummy_password_hash_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
};

}  // namespace market::identity

#endif  // MARKET_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
