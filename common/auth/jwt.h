// Access tokens: JWTs (RFC 7519) signed with EdDSA over Ed25519 (RFC 8037).
// TokenSigner issues them; TokenVerifier checks them against a rotating set of
// public keys by key id (`kid`). Both are thread-safe.
#ifndef MARKET_COMMON_AUTH_JWT_H_
#define MARKET_COMMON_AUTH_JWT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/crypto/crypto.h"
#include "market/common/v1/common.pb.h"

namespace market::auth {

using Role = ::market::common::v1::Role;

// The verified content of a token.
struct Claims {
  std::string issuer;
  std::string subject;  // "subjects/{subject}"
  std::vector<Role> roles;
  std::string key_id;
  std::string token_id;  // jti
  absl::Time issue_time;
  absl::Time expire_time;
};

inline constexpr char kIssuer[] = "market-identity";

// Signs tokens with one private key. The key id travels in the JWT header.
class TokenSigner {
 public:
  TokenSigner(std::string key_id, Ed25519PrivateKey key)
      : key_id_(std::move(key_id)), key_(std::move(key)) {}
  // Issues a token for `subject` with `roles`, valid from `now` for `ttl`.
  absl::StatusOr<std::string> Issue(const std::string& subject, const std::vector<Role>& roles,
                                    absl::Time now, absl::Duration ttl) const;
  const std::string& key_id() const { return key_id_; }

 private:
  std::string key_id_;
  Ed25519PrivateKey key_;
};

// Verifies tokens against the public keys it knows. Keys may be added and
// removed at any time (rotation); a token whose kid is unknown is refused.
//
// Verified tokens are cached by the SHA-256 of the token until their expiry,
// so a repeat caller costs a hash and a look-up instead of an Ed25519 verify
// and two JSON parses. The cache is split in shards, each under its own
// reader lock; at most `cache_capacity` tokens are kept (a full shard drops
// its expired entries, then all of them). A cached token is still refused
// once expired, and every key change (add, remove, replace) empties the
// cache. Suspension is not the verifier's concern: callers check it on every
// call, cached or not (auth::Authorizer).
class TokenVerifier {
 public:
  static constexpr size_t kDefaultCacheCapacity = 65536;
  explicit TokenVerifier(size_t cache_capacity = kDefaultCacheCapacity);
  ~TokenVerifier();
  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;

  void AddKey(const std::string& key_id, Ed25519PublicKey key) ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveKey(const std::string& key_id) ABSL_LOCKS_EXCLUDED(mu_);
  // Makes `keys` the whole key set (a refresh from the identity service: keys
  // it no longer publishes stop verifying).
  void ReplaceKeys(std::map<std::string, Ed25519PublicKey> keys) ABSL_LOCKS_EXCLUDED(mu_);
  bool HasKey(const std::string& key_id) const ABSL_LOCKS_EXCLUDED(mu_);
  // `fetch` is called (outside the lock, on the verifying thread) when a token
  // names a key this verifier does not know, before the token is refused: a
  // remote verifier reloads the identity service's keys there (rate-limited
  // by its owner), so a key rotated in moments ago verifies at once. Set
  // before the verifier is shared.
  void SetKeyFetcher(std::function<void()> fetch) { fetch_ = std::move(fetch); }
  // Returns the claims, or UNAUTHENTICATED naming what failed (malformed,
  // unknown key, bad signature, expired, issued in the future).
  absl::StatusOr<Claims> Verify(absl::string_view token, absl::Time now) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Signature verifications done so far (cache misses that reached the key):
  // for tests and benchmarks.
  int64_t signature_checks() const { return signature_checks_.load(std::memory_order_relaxed); }

 private:
  class Cache;
  using KeyMap = std::map<std::string, Ed25519PublicKey>;
  absl::StatusOr<Claims> VerifyUncached(absl::string_view token, absl::Time now) const
      ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<const Ed25519PublicKey> FindKey(const std::string& key_id) const
      ABSL_LOCKS_EXCLUDED(mu_);
  void KeysChanged();

  mutable absl::Mutex mu_;
  // Immutable snapshots: a verify copies the pointer under the lock and checks
  // the signature outside it.
  std::map<std::string, std::shared_ptr<const Ed25519PublicKey>> keys_ ABSL_GUARDED_BY(mu_);
  std::function<void()> fetch_;
  std::unique_ptr<Cache> cache_;
  mutable std::atomic<int64_t> signature_checks_{0};
};

}  // namespace market::auth

#endif  // MARKET_COMMON_AUTH_JWT_H_
