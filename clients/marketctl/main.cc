// marketctl: the command-line client every user group uses.
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "clients/marketctl/client.h"
#include "clients/marketctl/commands.h"
#include "clients/marketctl/suggest.h"
#include "common/server/binary.h"

int main(int argc, char** argv) {
  CLI::App app{"marketctl: the second-hand market services from the command line"};
  app.footer(
      "Start with:\n"
      "  marketctl login --bootstrap var/bootstrap-admin.json\n"
      "  marketctl whoami\n"
      "Exit codes: 0 ok; 1-16 the gRPC status code of a failed call; 64 usage; 65 local error;\n"
      "66 verification failed (ledger verify, appraisal verify).");
  market::server::AddVersionFlag(app, "marketctl");
  market::ctl::GlobalFlags flags;
  flags.credentials = market::ctl::DefaultCredentialsPath();
  app.add_option("--server", flags.server,
                 "HOST:PORT of marketd (default: $MARKET_SERVER, the login's server, "
                 "127.0.0.1:7400)");
  app.add_option("--token", flags.token, "Access token (default: $MARKET_TOKEN or the login)");
  app.add_option("--credentials", flags.credentials, "Credentials file written by login")
      ->capture_default_str();
  app.add_option("--output,-o", flags.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--tls-ca", flags.tls_ca, "Use TLS, trusting this CA certificate (PEM)");
  app.require_subcommand(1);
  app.fallthrough();  // global flags also work after the subcommand

  market::ctl::Client client(flags, std::cout, std::cerr);
  std::function<int()> run;
  market::ctl::AddIdentityCommands(app, client, &run);
  market::ctl::AddMarketCommands(app, client, &run);
  market::ctl::AddListingCommands(app, client, &run);
  market::ctl::AddOrderCommands(app, client, &run);
  market::ctl::AddItemCommands(app, client, &run);
  market::ctl::AddLedgerCommands(app, client, &run);
  market::ctl::AddCreditCommands(app, client, &run);
  market::ctl::AddAppraisalCommands(app, client, &run);
  market::ctl::AddClaimCommands(app, client, &run);
  if (auto unknown =
          market::ctl::UnknownCommand(app, std::vector<std::string>(argv + 1, argv + argc));
      unknown.has_value()) {
    std::cerr << *unknown << "\nRun with --help for more information.\n";
    return market::ctl::kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : market::ctl::kExitUsage;
  }
  for (const CLI::App* group : app.get_subcommands()) client.RouteCommandGroup(group->get_name());
  return run ? run() : market::ctl::kExitUsage;
}
