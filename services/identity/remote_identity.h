// What a single-service binary needs from a remote identity service: the
// token signing keys (refreshed periodically) and, through a SERVICE account's
// API key, subject look-ups for suspension checks and display names.
// Thread-safe.
#ifndef MARKET_SERVICES_IDENTITY_REMOTE_IDENTITY_H_
#define MARKET_SERVICES_IDENTITY_REMOTE_IDENTITY_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/jwt.h"
#include "common/auth/suspension.h"
#include "grpcpp/channel.h"
#include "market/identity/v1/identity.grpc.pb.h"

namespace market::identity {

class RemoteIdentity {
 public:
  // `subject` / `api_key`: the SERVICE account this binary logs in as.
  RemoteIdentity(std::shared_ptr<grpc::Channel> channel, std::string subject, std::string api_key,
                 std::shared_ptr<auth::TokenVerifier> verifier);
  ~RemoteIdentity();

  // Loads the signing keys once (UNAVAILABLE when identity cannot be reached),
  // then refreshes them every `period` in the background.
  absl::Status Start(absl::Duration period = absl::Minutes(1));

  // The subject, or std::nullopt when identity says NOT_FOUND.
  absl::StatusOr<std::optional<v1::Subject>> GetSubject(const std::string& name);

  // A bearer token of the SERVICE account, logging in again shortly before
  // the current one expires; for calls to other services (outbox relays).
  absl::StatusOr<std::string> Token() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status RefreshKeys();

  std::unique_ptr<v1::IdentityService::Stub> stub_;
  std::string subject_;
  std::string api_key_;
  std::shared_ptr<auth::TokenVerifier> verifier_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time token_expiry_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  std::thread refresher_;
};

// What a single-service binary (market-credit, market-listing, …) gets from
// the identity service: the token verifier with identity's signing keys, the
// RemoteIdentity (subject look-ups, the SERVICE account's token) and the
// suspension checker (5 s cache).
struct IdentityClient {
  std::shared_ptr<auth::TokenVerifier> verifier;
  std::shared_ptr<RemoteIdentity> identity;
  std::shared_ptr<auth::SuspensionChecker> suspension;
};

// Reads `credentials_file` ({"subject", "api_key"} of the binary's SERVICE
// account; INVALID_ARGUMENT when malformed), connects to `identity_addr` and
// loads the signing keys (UNAVAILABLE when identity cannot be reached).
absl::StatusOr<IdentityClient> ConnectIdentity(const std::string& identity_addr,
                                               const std::string& credentials_file);

}  // namespace market::identity

#endif  // MARKET_SERVICES_IDENTITY_REMOTE_IDENTITY_H_
