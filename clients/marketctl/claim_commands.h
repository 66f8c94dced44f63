// marketctl commands for after-sales warranty claims (三包):
// `claim check|file|respond|repair|escalate|rule|resolve|get|list`.
#ifndef MARKET_CLIENTS_MARKETCTL_CLAIM_COMMANDS_H_
#define MARKET_CLIENTS_MARKETCTL_CLAIM_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "clients/marketctl/client.h"

namespace market::ctl {

void AddClaimCommands(CLI::App& app, Client& client, std::function<int()>* run);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_CLAIM_COMMANDS_H_
