// The identity service's token signing keys: loads them from the store,
// creates the first one, rotates the active key after `rotation`, issues
// tokens with the active key and keeps a TokenVerifier in step with every key
// whose tokens may still be valid. Thread-safe.
#ifndef MARKET_SERVICES_IDENTITY_TOKEN_AUTHORITY_H_
#define MARKET_SERVICES_IDENTITY_TOKEN_AUTHORITY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/jwt.h"
#include "common/clock/clock.h"
#include "services/identity/identity_store.h"

namespace market::identity {

class TokenAuthority {
 public:
  // Loads keys from `store` (creating or rotating the active key as needed)
  // and registers them with `verifier`.
  static absl::StatusOr<std::unique_ptr<TokenAuthority>> Create(
      IdentityStore* store, const Clock* clock, std::shared_ptr<auth::TokenVerifier> verifier,
      absl::Duration token_ttl, absl::Duration rotation);

  // Issues a token for `subject` with `roles`; returns it and its expiry.
  absl::StatusOr<std::pair<std::string, absl::Time>> Issue(
      const std::string& subject, const std::vector<auth::Role>& roles) ABSL_LOCKS_EXCLUDED(mu_);
  // Rotates now if the active key is older than the rotation period.
  absl::Status MaybeRotate() ABSL_LOCKS_EXCLUDED(mu_);
  // Forces a new active key (tests, operators).
  absl::Status Rotate() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  TokenAuthority(IdentityStore* store, const Clock* clock,
                 std::shared_ptr<auth::TokenVerifier> verifier, absl::Duration token_ttl,
                 absl::Duration rotation)
      : store_(store),
        clock_(clock),
        verifier_(std::move(verifier)),
        token_ttl_(token_ttl),
        rotation_(rotation) {}
  absl::Status Reload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RotateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  IdentityStore* store_;
  const Clock* clock_;
  std::shared_ptr<auth::TokenVerifier> verifier_;
  absl::Duration token_ttl_;
  absl::Duration rotation_;
  absl::Mutex mu_;
  std::unique_ptr<auth::TokenSigner> signer_ ABSL_GUARDED_BY(mu_);
  absl::Time active_since_ ABSL_GUARDED_BY(mu_);
};

}  // namespace market::identity

#endif  // MARKET_SERVICES_IDENTITY_TOKEN_AUTHORITY_H_
