// market-identity: the identity service alone.
#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/config/files.h"
#include "common/retention/retention.h"
#include "common/server/binary.h"
#include "services/identity/identity_module.h"

int main(int argc, char** argv) {
  namespace server = market::server;
  CLI::App app{"market-identity: subjects, credentials and access tokens"};
  server::BinaryOptions flags;
  server::AddBinaryFlags(app, "identity", "Folder for identity.db and secrets", {}, &flags);
  market::retention::RetentionOptions retention;
  market::retention::AddRetentionFlags(app, &retention);
  CLI11_PARSE(app, argc, argv);
  server::BlockShutdownSignals();

  if (auto s = market::config::EnsureDir(flags.data_dir); !s.ok()) return server::FailStart(s);
  server::Metrics metrics;
  auto verifier = std::make_shared<market::auth::TokenVerifier>();
  auto identity = market::identity::OpenIdentityModule(flags.data_dir, server::BinaryClock(flags),
                                                       verifier, &metrics);
  if (!identity.ok()) return server::FailStart(identity.status());
  auto bootstrap = market::identity::BootstrapIfEmpty(*identity->service, flags.data_dir);
  if (!bootstrap.ok()) return server::FailStart(bootstrap.status());

  server::ServerRunner runner(flags.server, &metrics);
  runner.AddService(identity->service.get(), "market.identity.v1.IdentityService");
  return server::ServeUntilSignal(
      runner, [&] { identity->retention->Start(retention); }, [&] { identity->retention->Stop(); });
}
