// Declarative per-service authorization: a table RPC → roles allowed →
// ownership rule, enforced by Authorizer for every RPC before its handler body
// runs. Authorizer is thread-safe once constructed.
#ifndef MARKET_COMMON_AUTH_POLICY_H_
#define MARKET_COMMON_AUTH_POLICY_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"
#include "common/auth/suspension.h"
#include "common/clock/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace market::auth {

// Who is calling: empty subject for an anonymous (public) caller.
struct Caller {
  std::string subject;
  std::vector<Role> roles;
  absl::Time token_expire_time;

  bool authenticated() const { return !subject.empty(); }
  bool HasRole(Role role) const;
  // True when `resource` is the caller itself or lies below it
  // ("subjects/a" owns "subjects/a" and "subjects/a/apiKeys/k").
  bool Owns(absl::string_view resource) const;
};

// One row of a policy table.
struct RpcPolicy {
  // Short method name, e.g. "CreateSubject".
  std::string method;
  // Anyone may call, with or without a token (a token, if sent, must be valid).
  bool public_access = false;
  // Any authenticated caller may call (finer rules, e.g. which fields are
  // visible, are the handler's).
  bool any_authenticated = false;
  // Callers holding one of these roles may call.
  std::set<Role> roles;
  // Ownership rule: callers that own the resource named by this request field
  // (dotted path, e.g. "subject.name") may call regardless of role.
  std::string owner_field;
};

// Enforces one service's policy table.
class Authorizer {
 public:
  // Fails (INTERNAL at start-up, a programming error) unless `policies` has
  // exactly one row per method of `service`.
  static absl::StatusOr<std::unique_ptr<Authorizer>> Create(
      const google::protobuf::ServiceDescriptor* service, std::vector<RpcPolicy> policies,
      std::shared_ptr<const TokenVerifier> verifier,
      std::shared_ptr<SuspensionChecker> suspension, const Clock* clock);

  // Authenticates `authorization` (the raw metadata value, "Bearer <jwt>", or
  // empty) and applies the method's row to `request`. UNAUTHENTICATED for a
  // missing/invalid token, a suspended caller or a token issued before the
  // caller's credentials changed; FAILED_PRECONDITION PASSWORD_CHANGE_REQUIRED
  // when the caller must change its password first (every method but
  // ChangePassword and WhoAmI); PERMISSION_DENIED for a role or ownership
  // failure.
  absl::StatusOr<Caller> Authorize(absl::string_view method, absl::string_view authorization,
                                   const google::protobuf::Message& request) const;

  // Authentication alone (no policy row): for callers outside the table
  // (which a caller that must change its password may not use either).
  absl::StatusOr<Caller> Authenticate(absl::string_view authorization) const;

  const RpcPolicy* Find(absl::string_view method) const;

 private:
  Authorizer(std::map<std::string, RpcPolicy, std::less<>> table,
             std::shared_ptr<const TokenVerifier> verifier,
             std::shared_ptr<SuspensionChecker> suspension, const Clock* clock)
      : table_(std::move(table)),
        verifier_(std::move(verifier)),
        suspension_(std::move(suspension)),
        clock_(clock) {}

  // Authenticate, letting a caller whose password must be changed through
  // when `password_change_exempt`.
  absl::StatusOr<Caller> AuthenticateFor(absl::string_view authorization,
                                         bool password_change_exempt) const;

  std::map<std::string, RpcPolicy, std::less<>> table_;
  std::shared_ptr<const TokenVerifier> verifier_;
  std::shared_ptr<SuspensionChecker> suspension_;
  const Clock* clock_;
};

// Reads a string field by dotted path ("subject.name") through reflection;
// "" when a step is missing or not a string/message.
std::string StringFieldByPath(const google::protobuf::Message& message, absl::string_view path);

}  // namespace market::auth

#endif  // MARKET_COMMON_AUTH_POLICY_H_
