// Answers "is this subject suspended, and which roles does it hold now?" with a
// short-lived cache, so every service refuses a suspended subject's tokens, and
// stops honouring a role taken away, within `ttl` (seconds, not hours) without
// asking the identity store on every call. Thread-safe.
#ifndef MARKET_COMMON_AUTH_SUSPENSION_H_
#define MARKET_COMMON_AUTH_SUSPENSION_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "market/common/v1/common.pb.h"

namespace market::auth {

// The current standing of a subject.
struct SubjectStatus {
  bool blocked = true;  // suspended or unknown
  std::vector<common::v1::Role> roles;  // roles held now
  // Tokens issued before this (whole seconds, as the JWT iat) are refused:
  // set by a password change, a password reset and a suspension.
  absl::Time tokens_valid_after = absl::InfinitePast();
  // The subject's password must be changed first: its tokens serve only
  // ChangePassword and WhoAmI (Authorizer::Authorize).
  bool password_change_required = false;
};

class SuspensionChecker {
 public:
  // Source of truth for a subject's current status.
  using Source = std::function<absl::StatusOr<SubjectStatus>(const std::string& subject)>;

  SuspensionChecker(Source source, const Clock* clock, absl::Duration ttl)
      : source_(std::move(source)), clock_(clock), ttl_(ttl) {}

  // Cached answer, refreshed from the source when older than ttl. Source errors
  // pass through (UNAVAILABLE when the identity service cannot be reached).
  absl::StatusOr<SubjectStatus> Lookup(const std::string& subject) ABSL_LOCKS_EXCLUDED(mu_);
  // Drops the cached answer for `subject` (the identity service calls this on
  // suspend/reinstate so that, in-process, the change is immediate).
  void Invalidate(const std::string& subject) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    SubjectStatus status;
    absl::Time fetched;
  };
  Source source_;
  const Clock* clock_;
  absl::Duration ttl_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace market::auth

#endif  // MARKET_COMMON_AUTH_SUSPENSION_H_
