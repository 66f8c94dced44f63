// market-identity: the identity service alone.
#include <iostream>

#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/config/files.h"
#include "common/server/log.h"
#include "common/server/runner.h"
#include "services/identity/identity_module.h"

int main(int argc, char** argv) {
  CLI::App app{"market-identity: subjects, credentials and access tokens"};
  std::string data_dir = "./var";
  market::server::ServerOptions options;
  app.add_option("--data-dir", data_dir, "Folder for identity.db and secrets")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "gRPC HOST:PORT")->capture_default_str();
  app.add_option("--http-listen", options.http_listen, "/metrics and /healthz HOST:PORT")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  market::server::BlockShutdownSignals();

  auto fail = [](const absl::Status& s) {
    market::server::LogJson("error", "start-up failed", {{"error", s.ToString()}});
    return 1;
  };
  if (auto s = market::config::EnsureDir(data_dir); !s.ok()) return fail(s);
  market::server::Metrics metrics;
  auto verifier = std::make_shared<market::auth::TokenVerifier>();
  auto identity = market::identity::OpenIdentityModule(data_dir, market::RealClock(), verifier,
                                                       &metrics);
  if (!identity.ok()) return fail(identity.status());
  auto bootstrap = market::identity::BootstrapIfEmpty(*identity->service, data_dir);
  if (!bootstrap.ok()) return fail(bootstrap.status());
  if (!bootstrap->empty()) std::cout << "bootstrap supervisor credentials: " << *bootstrap << "\n";

  market::server::ServerRunner runner(options, &metrics);
  runner.AddService(identity->service.get(), "market.identity.v1.IdentityService");
  if (auto s = runner.Start(); !s.ok()) return fail(s);
  market::server::WaitForShutdownSignal();
  runner.Shutdown();
  return 0;
}
