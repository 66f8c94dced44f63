// market-credit: the credit ledger alone. Tokens are verified with the
// identity service's public keys; subjects are looked up through a SERVICE
// account (see README, "Multi-process").
#include <cstdlib>
#include <iostream>

#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/config/files.h"
#include "common/server/log.h"
#include "common/server/runner.h"
#include "nlohmann/json.hpp"
#include "services/credit/credit_module.h"
#include "services/identity/identity_service.h"
#include "services/identity/remote_identity.h"

namespace {

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v ? v : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"market-credit: the verifiable credit ledger, credit profiles and lists"};
  std::string data_dir = "./var";
  std::string identity_addr = Env("MARKET_IDENTITY_ADDR", "127.0.0.1:7400");
  std::string credentials_file = Env("MARKET_SERVICE_CREDENTIALS", "");
  market::server::ServerOptions options;
  options.listen = "127.0.0.1:7450";
  options.http_listen = "127.0.0.1:7451";
  app.add_option("--data-dir", data_dir, "Folder for credit.db and the ledger key")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "gRPC HOST:PORT")->capture_default_str();
  app.add_option("--http-listen", options.http_listen, "/metrics and /healthz HOST:PORT")
      ->capture_default_str();
  app.add_option("--identity-addr", identity_addr,
                 "Identity service HOST:PORT ($MARKET_IDENTITY_ADDR)")
      ->capture_default_str();
  app.add_option("--service-credentials", credentials_file,
                 "JSON file {\"subject\", \"api_key\"} of this service's SERVICE account "
                 "($MARKET_SERVICE_CREDENTIALS)")
      ->required();
  CLI11_PARSE(app, argc, argv);
  market::server::BlockShutdownSignals();

  auto fail = [](const absl::Status& s) {
    market::server::LogJson("error", "start-up failed", {{"error", s.ToString()}});
    return 1;
  };
  auto connected = market::identity::ConnectIdentity(identity_addr, credentials_file);
  if (!connected.ok()) return fail(connected.status());
  auto [verifier, identity, suspension] = *connected;
  if (auto s = market::config::EnsureDir(data_dir); !s.ok()) return fail(s);
  market::server::Metrics metrics;
  market::credit::SubjectDirectory directory =
      [identity](const std::string& subject)
      -> absl::StatusOr<std::optional<market::credit::SubjectInfo>> {
    auto found = identity->GetSubject(subject);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return std::nullopt;
    return market::credit::SubjectInfo{(*found)->display_name(), (*found)->affiliation()};
  };
  auto credit = market::credit::OpenCreditModule(data_dir, market::RealClock(), directory,
                                                 verifier, suspension, &metrics);
  if (!credit.ok()) return fail(credit.status());
  credit->credit->StartScheduler(absl::Minutes(1));

  market::server::ServerRunner runner(options, &metrics);
  runner.AddService(credit->credit.get(), "market.credit.v1.CreditService");
  runner.AddService(credit->ledger.get(), "market.credit.v1.LedgerService");
  if (auto s = runner.Start(); !s.ok()) return fail(s);
  market::server::WaitForShutdownSignal();
  runner.Shutdown();
  return 0;
}
