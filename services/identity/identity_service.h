// gRPC handlers of market.identity.v1.IdentityService: validate the request,
// apply the policy table, then call the store. Thread-safe.
#ifndef MARKET_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
#define MARKET_SERVICES_IDENTITY_IDENTITY_SERVICE_H_

#include <algorithm>
#include <memory>
#include <semaphore>
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

// Password hashing (scrypt), behind an interface so that a test can count the
// work a request costs. Implementations are thread-safe.
class PasswordHasher {
 public:
  virtual ~PasswordHasher() = default;
  virtual absl::StatusOr<std::string> Hash(const std::string& password) = 0;
  virtual absl::StatusOr<bool> Verify(const std::string& password, const std::string& hash) = 0;
};

// The production hasher: scrypt with N = 2^log2_n (common/crypto).
std::shared_ptr<PasswordHasher> ScryptHasher(int log2_n);

// Exponential back-off of failed logins: `free_attempts` failures cost
// nothing, then failure n (n >= free_attempts) blocks further logins for
// base_delay * 2^(n - free_attempts), at most max_delay. Counted per subject
// and, with the more generous peer_free_attempts (one address may carry many
// people behind NAT), per client address.
struct LoginThrottlePolicy {
  int free_attempts = 5;
  int peer_free_attempts = 20;
  absl::Duration base_delay = absl::Seconds(1);
  absl::Duration max_delay = absl::Minutes(15);
  // A key with no failure for this long starts counting from zero again (so
  // an office behind one address is not throttled forever by old typos).
  absl::Duration forget_after = absl::Hours(24);

  // The block after the `failures`-th failure under a key allowing `free`.
  absl::Duration Backoff(int64_t failures, int free) const;
  // The least total wait an attacker needs for `attempts` guesses at one
  // subject (the sum of the back-offs it must sit out).
  absl::Duration MinimumTimeFor(int attempts) const;
};

struct IdentityOptions {
  std::string id_hash_key;        // HMAC key for ID numbers (>= 32 random bytes)
  std::string page_token_secret;  // HMAC key for page tokens (>= 16 random bytes)
  absl::Duration token_ttl = absl::Hours(1);
  absl::Duration key_rotation = absl::Hours(24 * 30);
  int password_log2_n = 15;  // scrypt cost of new password hashes
  // Hashes passwords; ScryptHasher(password_log2_n) when null.
  std::shared_ptr<PasswordHasher> hasher;
  // Password hashes computed at once (each scrypt takes 32 MiB and ~0.1 s at
  // the default cost); further logins wait, so a flood cannot starve the CPU.
  int max_concurrent_hashes = 2;
  LoginThrottlePolicy throttle;
  // bootstrap-admin.json: deleted when the bootstrap supervisor changes its
  // password ("" for none).
  std::string bootstrap_file;
};

// The subject the bootstrap supervisor is created as.
inline constexpr char kBootstrapSupervisor[] = "subjects/supervisor";

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
  grpc::Status ChangePassword(grpc::ServerContext*, const v1::ChangePasswordRequest*,
                              v1::ChangePasswordResponse*) override;
  grpc::Status ResetPassword(grpc::ServerContext*, const v1::ResetPasswordRequest*,
                             v1::Subject*) override;
  grpc::Status ClearLoginThrottle(grpc::ServerContext*, const v1::ClearLoginThrottleRequest*,
                                  v1::ClearLoginThrottleResponse*) override;
  grpc::Status ListAuthEvents(grpc::ServerContext*, const v1::ListAuthEventsRequest*,
                              v1::ListAuthEventsResponse*) override;

 private:
  IdentityServiceImpl(IdentityStore* store, const Clock* clock, IdentityOptions options,
                      std::shared_ptr<auth::SuspensionChecker> suspension)
      : store_(store),
        clock_(clock),
        options_(std::move(options)),
        pages_(options_.page_token_secret),
        suspension_(std::move(suspension)),
        hash_slots_(std::clamp(options_.max_concurrent_hashes, 1, 64)) {}

  // Throttle keys of a login for `subject` from `peer`.
  struct ThrottleKeys {
    std::string subject;
    std::string peer;
  };
  ThrottleKeys KeysFor(const std::string& subject, const std::string& peer_address) const;
  // RESOURCE_EXHAUSTED LOGIN_THROTTLED with RetryInfo while either key is
  // blocked, else OK. Costs no hashing.
  absl::Status CheckThrottle(const ThrottleKeys& keys) const;
  // Counts a failed login under both keys, audits it (and the start of a
  // throttle) and logs it; returns `denied`.
  absl::Status FailLogin(const ThrottleKeys& keys, const std::string& subject,
                         const std::string& peer, const std::string& reason,
                         absl::Status denied);
  // Appends an audit event; a failure to audit is logged, not returned (the
  // change it describes is already made).
  void Audit(v1::AuthEvent::Type type, const std::string& subject, const std::string& actor,
             const std::string& peer, const std::string& reason);
  // Hashing through options_.hasher, at most max_concurrent_hashes at once.
  absl::StatusOr<std::string> HashPassword(const std::string& password);
  absl::StatusOr<bool> CheckPassword(const std::string& password, const std::string& hash);

  // Subject as `caller` may see it.
  Subject View(const SubjectRow& row, const auth::Caller& caller) const;
  Subject ViewSubject(Subject s, const auth::Caller& caller) const;
  absl::StatusOr<Subject> SetState(const auth::Caller& caller, const std::string& method,
                                   const std::string& name, const std::string& etag,
                                   const std::string& request_id, Subject::State state,
                                   const std::string& reason, const std::string& peer);

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
  std::counting_semaphore<64> hash_slots_;
};

}  // namespace market::identity

#endif  // MARKET_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
