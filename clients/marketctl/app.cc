#include "clients/marketctl/app.h"

#include "clients/marketctl/commands.h"

namespace market::ctl {

void BuildApp(CLI::App& app, GlobalFlags* flags, Client& client, std::function<int()>* run) {
  // Set before the groups are added: CLI11 copies it to each as their default.
  app.footer(
      "Start with:\n"
      "  marketctl login --bootstrap var/bootstrap-admin.json --new-password-file new.pw\n"
      "  marketctl whoami\n"
      "Money: tables show yuan (1299.50元); -o json keeps the API's fen (amount_fen: "
      "\"129950\").\n"
      "Exit codes: 0 ok; 1-16 the gRPC status code of a failed call; 64 usage; 65 local error;\n"
      "66 verification failed (ledger verify, appraisal verify, admin restore-check).");
  flags->credentials = DefaultCredentialsPath();
  app.add_option("--server", flags->server,
                 "HOST:PORT of marketd (default: $MARKET_SERVER, the login's server, "
                 "127.0.0.1:7400)");
  app.add_option("--token", flags->token, "Access token (default: $MARKET_TOKEN or the login)");
  app.add_option("--credentials", flags->credentials, "Credentials file written by login")
      ->capture_default_str();
  app.add_option("--output,-o", flags->output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--tls-ca", flags->tls_ca,
                 "Use TLS, trusting this CA certificate (PEM) ($MARKET_TLS_CA)")
      ->envname("MARKET_TLS_CA");
  app.add_option("--tls-cert", flags->tls_cert,
                 "Client certificate (PEM) for a server that requires one (mTLS) "
                 "($MARKETCTL_TLS_CERT)")
      ->envname("MARKETCTL_TLS_CERT");
  app.add_option("--tls-key", flags->tls_key,
                 "Private key (PEM, mode 0600) of --tls-cert ($MARKETCTL_TLS_KEY)")
      ->envname("MARKETCTL_TLS_KEY");
  app.require_subcommand(1);
  app.fallthrough();  // global flags also work after the subcommand

  AddIdentityCommands(app, client, run);
  AddMarketCommands(app, client, run);
  AddListingCommands(app, client, run);
  AddOrderCommands(app, client, run);
  AddItemCommands(app, client, run);
  AddLedgerCommands(app, client, run);
  AddCreditCommands(app, client, run);
  AddAppraisalCommands(app, client, run);
  AddClaimCommands(app, client, run);
  AddAdminCommands(app, client, run);
  AddStatsCommands(app, client, run);
  AddCaseCommands(app, client, run);
  AddWebhookCommands(app, client, run);
}

}  // namespace market::ctl
