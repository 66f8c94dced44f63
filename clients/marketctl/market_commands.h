// marketctl commands for markets: `market create|get|list|add-seller|remove-seller`.
#ifndef MARKET_CLIENTS_MARKETCTL_MARKET_COMMANDS_H_
#define MARKET_CLIENTS_MARKETCTL_MARKET_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "clients/marketctl/client.h"

namespace market::ctl {

void AddMarketCommands(CLI::App& app, Client& client, std::function<int()>* run);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_MARKET_COMMANDS_H_
