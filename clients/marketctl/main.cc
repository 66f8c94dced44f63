// marketctl: the command-line client every user group uses.
#include <unistd.h>

#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "clients/marketctl/app.h"
#include "clients/marketctl/client.h"
#include "clients/marketctl/suggest.h"
#include "common/server/binary.h"

int main(int argc, char** argv) {
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
  return run ? run() : market::ctl::kExitUsage;
}
