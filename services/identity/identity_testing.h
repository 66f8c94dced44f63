// Test helpers for services that need identity subjects and tokens: subjects
// written straight into the identity store and tokens issued by the module's
// TokenAuthority. For tests only.
#ifndef MARKET_SERVICES_IDENTITY_IDENTITY_TESTING_H_
#define MARKET_SERVICES_IDENTITY_IDENTITY_TESTING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
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

}  // namespace market::identity::testing

#endif  // MARKET_SERVICES_IDENTITY_IDENTITY_TESTING_H_
