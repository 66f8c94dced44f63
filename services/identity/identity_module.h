// Wires the identity service over its SQLite file in a data dir; used by
// marketd and market-identity so both start it the same way.
#ifndef MARKET_SERVICES_IDENTITY_IDENTITY_MODULE_H_
#define MARKET_SERVICES_IDENTITY_IDENTITY_MODULE_H_

#include <memory>
#include <string>

#include "common/auth/jwt.h"
#include "common/auth/suspension.h"
#include "common/client/peer.h"
#include "common/clock/clock.h"
#include "common/retention/retention.h"
#include "common/server/metrics.h"
#include "services/identity/identity_service.h"
#include "services/identity/sqlite_identity_store.h"

namespace market::identity {

struct IdentityModule {
  std::unique_ptr<SqliteIdentityStore> store;
  std::shared_ptr<auth::SuspensionChecker> suspension;  // shared with other services
  std::unique_ptr<IdentityServiceImpl> service;
  // Purges request ids (and delivered outbox events, where the database has
  // an outbox) past their retention; gauges registered. Started by the binary.
  std::unique_ptr<retention::TablePurger> retention;
};

// Opens `data_dir`/identity.db and the identity secrets (`data_dir`/identity/,
// mode 0600), registering the token keys with `verifier`.
absl::StatusOr<IdentityModule> OpenIdentityModule(const std::string& data_dir, const Clock* clock,
                                                  std::shared_ptr<auth::TokenVerifier> verifier,
                                                  server::Metrics* metrics,
                                                  IdentityOptions options = {});

// On an empty identity store: creates the first supervisor and writes
// `data_dir`/bootstrap-admin.json (mode 0600) with {"subject", "password"}
// and logs one JSON line (level warn, msg "bootstrap supervisor credentials
// written", path, subject; never the password); returns the file's path, or
// "" when subjects already existed.
absl::StatusOr<std::string> BootstrapIfEmpty(IdentityServiceImpl& service,
                                             const std::string& data_dir);

// Creates `name` as an active ORGANIZATION holding only the SERVICE role (no
// password, no API key) when it does not exist yet: the account marketd's
// in-process relays call other services as, with tokens from the module's
// TokenAuthority. An existing subject is left as it is.
absl::Status EnsureServiceAccount(IdentityStore& store, const std::string& name,
                                  const std::string& display_name, absl::Time now);

// Tokens of the SERVICE account `subject` issued by `module`'s own token
// authority (marketd's in-process callers), reused until five minutes before
// they expire. Thread-safe.
client::TokenSource InProcessServiceToken(const IdentityModule& module, const std::string& subject,
                                          const Clock* clock);

}  // namespace market::identity

#endif  // MARKET_SERVICES_IDENTITY_IDENTITY_MODULE_H_
