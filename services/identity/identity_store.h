// Storage interface of the identity service: subjects, API keys, token signing
// keys. Implementations are thread-safe. Every mutating call takes a
// RequestKey; when its request_id is set, the call's response is stored in the
// same transaction as the change and a retry gets the stored response back.
#ifndef MARKET_SERVICES_IDENTITY_IDENTITY_STORE_H_
#define MARKET_SERVICES_IDENTITY_IDENTITY_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/idempotency/idempotency.h"
#include "market/identity/v1/identity.pb.h"

namespace market::identity {

using v1::ApiKey;
using v1::Subject;

// Identifies one client request for idempotent replay.

// A subject with the secrets that never leave the store.
struct SubjectRow {
  Subject subject;             // id_number and initial_api_key are never set
  std::string id_number_hash;  // keyed hash of the ID number; "" for organisations
  std::string password_hash;   // "" when the subject has no password
  int64_t version = 0;         // etag source; bumped by every update
};

struct ApiKeyRow {
  ApiKey key;
  std::string subject;      // owner, "subjects/{s}"
  std::string secret_hash;  // SHA-256 of the secret part
};

struct SigningKeyRow {
  std::string key_id;
  std::string private_pem;
  std::string public_raw;
  absl::Time create_time;
  bool active = false;
};

// Failed logins counted under one key ("subject:subjects/x" or
// "peer:ipv4:10.1.2.3") and the time before which logins under it are refused.
struct LoginThrottle {
  int64_t failures = 0;
  absl::Time blocked_until = absl::InfinitePast();
  absl::Time last_failure = absl::InfinitePast();
};

struct SubjectFilter {
  std::optional<common::v1::Role> role;
  std::optional<Subject::State> state;
};

class IdentityStore {
 public:
  virtual ~IdentityStore() = default;

  // Inserts `row` (name set by the caller) and, in the same transaction, its
  // `initial_key` if given. ALREADY_EXISTS when the name, credit code or ID
  // number is taken. Returns the stored subject with its etag; for a retry the
  // stored response, with *replayed (if non-null) set to true.
  virtual absl::StatusOr<Subject> CreateSubject(const SubjectRow& row,
                                                const std::optional<ApiKeyRow>& initial_key,
                                                const RequestKey& key, absl::Time now,
                                                bool* replayed) = 0;
  // NOT_FOUND when absent.
  virtual absl::StatusOr<SubjectRow> GetSubject(const std::string& name) = 0;
  // Up to `limit` subjects with name > `after`, in name order.
  virtual absl::StatusOr<std::vector<SubjectRow>> ListSubjects(const SubjectFilter& filter,
                                                               const std::string& after,
                                                               int limit) = 0;
  // Reads the row, applies `mutate` (which may refuse with its own error, e.g.
  // ABORTED for a stale etag) and writes it back (password_hash included) with
  // version+1, atomically, with `audit` events (create_time = now) appended in
  // the same transaction. NOT_FOUND when absent.
  virtual absl::StatusOr<Subject> UpdateSubject(const std::string& name, const RequestKey& key,
                                                absl::Time now,
                                                const std::function<absl::Status(SubjectRow&)>& mutate,
                                                const std::vector<v1::AuthEvent>& audit = {}) = 0;
  // A stored response for `key` (replay), if any.
  virtual absl::StatusOr<std::optional<std::string>> LookupReplay(const RequestKey& key) = 0;

  // Inserts an API key; the replay stores the key resource only.
  virtual absl::StatusOr<ApiKey> CreateApiKey(const ApiKeyRow& row, const RequestKey& key,
                                              absl::Time now) = 0;
  // NOT_FOUND when absent.
  virtual absl::StatusOr<ApiKeyRow> GetApiKey(const std::string& name) = 0;
  // Sets revoke_time. NOT_FOUND; FAILED_PRECONDITION ALREADY_REVOKED.
  virtual absl::StatusOr<ApiKey> RevokeApiKey(const std::string& name, const RequestKey& key,
                                              absl::Time now) = 0;

  // All signing keys, newest first.
  virtual absl::StatusOr<std::vector<SigningKeyRow>> ListSigningKeys() = 0;
  // Adds `row` as the active key; every other key becomes inactive.
  virtual absl::Status AddSigningKey(const SigningKeyRow& row) = 0;
  // Deletes inactive keys created before `cutoff`.
  virtual absl::Status DeleteSigningKeysBefore(absl::Time cutoff) = 0;

  // Number of subjects (bootstrap decides on an empty store).
  virtual absl::StatusOr<int64_t> CountSubjects() = 0;

  // The throttle state under `key` (zero failures when none is stored).
  virtual absl::StatusOr<LoginThrottle> GetLoginThrottle(const std::string& key) = 0;
  // In one transaction: counts one more failure under each of `keys` (from
  // zero when the last one is `forget_after` old), sets blocked_until = now +
  // backoff(failures) for each, and appends `events`. Returns the new state
  // of each key, in order.
  virtual absl::StatusOr<std::vector<LoginThrottle>> RecordLoginFailure(
      const std::vector<std::string>& keys, absl::Time now, absl::Duration forget_after,
      const std::function<absl::Duration(int64_t failures)>& backoff,
      const std::vector<v1::AuthEvent>& events) = 0;
  // Forgets the state under `key` and appends `event` (if its type is set),
  // in one transaction; returns the failures it had.
  virtual absl::StatusOr<int64_t> ClearLoginThrottle(const std::string& key,
                                                     const v1::AuthEvent& event,
                                                     absl::Time now) = 0;

  // Appends an audit event (its name and create_time are set by the store
  // from its row id and `now`).
  virtual absl::Status AppendAuthEvent(const v1::AuthEvent& event, absl::Time now) = 0;
  // Up to `limit` events with row id < `before` (0: from the newest),
  // newest first; only `subject`'s when it is not empty.
  virtual absl::StatusOr<std::vector<v1::AuthEvent>> ListAuthEvents(const std::string& subject,
                                                                    int64_t before, int limit) = 0;
};

}  // namespace market::identity

#endif  // MARKET_SERVICES_IDENTITY_IDENTITY_STORE_H_
