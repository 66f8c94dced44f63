// market-identity: the identity service alone.
#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/retention/retention.h"
#include "common/server/binary.h"
#include "services/identity/identity_module.h"

namespace {

namespace server = market::server;

int Serve(const server::BinaryOptions& flags, const market::Clock* clock, server::Metrics& metrics,
          const market::retention::RetentionOptions& retention) {
  auto verifier = std::make_shared<market::auth::TokenVerifier>();
  auto identity = market::identity::OpenIdentityModule(flags.data_dir, clock, verifier, &metrics);
  if (!identity.ok()) return server::FailStart(identity.status());
  auto bootstrap = market::identity::BootstrapIfEmpty(*identity->service, flags.data_dir);
  if (!bootstrap.ok()) return server::FailStart(bootstrap.status());

  server::ServerRunner runner(flags.server, &metrics);
  runner.AddService(identity->service.get(), "market.identity.v1.IdentityService");
  return server::ServeUntilSignal(
      runner, [&] { identity->retention->Start(retention); }, [&] { identity->retention->Stop(); });
}

}  // namespace

int main(int argc, char** argv) {
  market::retention::RetentionOptions retention;
  return market::server::RunSingleServiceBinary(
      argc, argv,
      {.description = "market-identity: subjects, credentials and access tokens",
       .service = "identity",
       .data_help = "Folder for identity.db and secrets",
       .add_flags = [&](CLI::App& app) { market::retention::AddRetentionFlags(app, &retention); }},
      [&](const market::server::BinaryOptions& flags, const market::Clock* clock,
          market::server::Metrics& metrics) { return Serve(flags, clock, metrics, retention); });
}
