// The whole marketctl command line: global flags and every command group, so
// that main() and the tests build the same CLI11 tree. Not thread-safe.
#ifndef MARKET_CLIENTS_MARKETCTL_APP_H_
#define MARKET_CLIENTS_MARKETCTL_APP_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "clients/marketctl/client.h"

namespace market::ctl {

// Registers on `app` the footer (first steps, exit codes), the global flags
// bound to `*flags` and every command group; the command parsed sets `*run`.
// `flags`, `client` and `run` must outlive `app`.
void BuildApp(CLI::App& app, GlobalFlags* flags, Client& client, std::function<int()>* run);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_APP_H_
