// What other services need of the identity service, owned by it:
// IdentityClient answers subject look-ups (display names, roles, suspension)
// as a SERVICE subject over whatever channel it is given — the in-process
// channel under marketd, a TCP (later TLS) channel in split mode — so both
// deployments run the same code; RemoteIdentity keeps a single-service
// binary's token verifier loaded with identity's signing keys and logs its
// SERVICE account in. Thread-safe.
#ifndef MARKET_SERVICES_IDENTITY_IDENTITY_CLIENT_H_
#define MARKET_SERVICES_IDENTITY_IDENTITY_CLIENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/jwt.h"
#include "common/auth/suspension.h"
#include "common/client/peer.h"
#include "common/clock/clock.h"
#include "common/server/binary.h"
#include "grpcpp/channel.h"
#include "market/identity/v1/identity.grpc.pb.h"

namespace market::identity {

// Looks a subject up; std::nullopt when unknown (IdentityClient::GetSubject).
using SubjectLookup =
    std::function<absl::StatusOr<std::optional<v1::Subject>>(const std::string& name)>;

class IdentityClient {
 public:
  IdentityClient(std::shared_ptr<grpc::Channel> channel, client::TokenSource token);

  // The subject as identity shows it to a SERVICE caller; std::nullopt when
  // identity says NOT_FOUND (or the name is malformed); UNAVAILABLE for every
  // other failure (client::PeerError).
  absl::StatusOr<std::optional<v1::Subject>> GetSubject(const std::string& name) const;

 private:
  client::TokenSource token_;
  std::unique_ptr<v1::IdentityService::Stub> stub_;
};

class RemoteIdentity {
 public:
  // `subject` / `api_key`: the SERVICE account this binary logs in as.
  RemoteIdentity(std::shared_ptr<grpc::Channel> channel, std::string subject, std::string api_key,
                 std::shared_ptr<auth::TokenVerifier> verifier, const Clock* clock);
  ~RemoteIdentity();

  // Loads the signing keys once (UNAVAILABLE when identity cannot be reached),
  // then refreshes them every `period` in the background.
  absl::Status Start(absl::Duration period = absl::Minutes(1));

  // Reloads the signing keys unless that was done in the last two seconds:
  // the TokenVerifier's key fetcher for tokens naming an unknown key.
  void ReloadKeysForUnknownKey() ABSL_LOCKS_EXCLUDED(reload_mu_);

  // A bearer token of the SERVICE account, logging in again shortly before
  // the current one expires; UNAVAILABLE when the login fails.
  absl::StatusOr<std::string> Token() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status RefreshKeys();

  std::unique_ptr<v1::IdentityService::Stub> stub_;
  std::string subject_;
  std::string api_key_;
  std::shared_ptr<auth::TokenVerifier> verifier_;
  const Clock* clock_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time token_expiry_ ABSL_GUARDED_BY(mu_);
  absl::Mutex reload_mu_;
  absl::Time last_reload_ ABSL_GUARDED_BY(reload_mu_) = absl::InfinitePast();
  std::atomic<bool> stop_{false};
  std::thread refresher_;
};

// What a single-service binary (market-credit, market-listing, …) gets from
// the identity service: the token verifier with identity's signing keys, the
// SERVICE account's token source, subject look-ups, and the suspension
// checker (5 s cache).
struct IdentityConnection {
  std::shared_ptr<auth::TokenVerifier> verifier;
  std::shared_ptr<RemoteIdentity> remote;
  client::TokenSource token;
  std::shared_ptr<IdentityClient> subjects;
  std::shared_ptr<auth::SuspensionChecker> suspension;
};

// Reads `credentials_file` ({"subject", "api_key"} of the binary's SERVICE
// account; INVALID_ARGUMENT when malformed), connects through `channel` and
// loads the signing keys (UNAVAILABLE when identity cannot be reached).
absl::StatusOr<IdentityConnection> ConnectIdentity(std::shared_ptr<grpc::Channel> channel,
                                                   const std::string& credentials_file,
                                                   const Clock* clock);

// ConnectIdentity with a single-service binary's --identity-addr (its
// PeerChannel, TLS with --peer-ca) and --service-credentials.
absl::StatusOr<IdentityConnection> ConnectIdentity(const server::BinaryOptions& flags,
                                                   const Clock* clock);

}  // namespace market::identity

#endif  // MARKET_SERVICES_IDENTITY_IDENTITY_CLIENT_H_
