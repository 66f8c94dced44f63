// marketctl: the command-line client every user group uses.
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "clients/marketctl/app.h"
#include "clients/marketctl/client.h"
#include "clients/marketctl/suggest.h"
#include "common/server/binary.h"
#include "grpc/support/log.h"

namespace {
// gRPC core writes its own lines (a failed TLS handshake, a closed socket) to
// stderr; marketctl reports failures itself, in one readable line.
void DropGrpcLog(gpr_log_func_args*) {}
}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function(DropGrpcLog);
  CLI::App app{"marketctl: the second-hand market services from the command line"};
  market::server::AddVersionFlag(app, "marketctl");
  market::ctl::GlobalFlags flags;
  market::ctl::Client client(flags, std::cout, std::cerr, isatty(STDERR_FILENO) == 1);
  std::function<int()> run;
  market::ctl::BuildApp(app, &flags, client, &run);
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
  if (absl::Status tls = client.LoadTls(); !tls.ok()) {
    std::cerr << "error: " << tls.message() << "\n";
    return market::ctl::kExitLocal;
  }
  return run ? run() : market::ctl::kExitUsage;
}
