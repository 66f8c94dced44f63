// marketctl commands for the identity service: login, whoami, subject ….
#ifndef MARKET_CLIENTS_MARKETCTL_IDENTITY_COMMANDS_H_
#define MARKET_CLIENTS_MARKETCTL_IDENTITY_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "clients/marketctl/client.h"

namespace market::ctl {

// Registers the commands on `app`; the chosen one sets `*run`, which returns
// the process exit code when called after parsing.
void AddIdentityCommands(CLI::App& app, Client& client, std::function<int()>* run);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_IDENTITY_COMMANDS_H_
