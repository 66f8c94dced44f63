// marketctl commands for the credit ledger: `ledger checkpoint|proof|verify`
// and `credit profile|records|record|repair|blacklist|redlist|access-log`.
#ifndef MARKET_CLIENTS_MARKETCTL_CREDIT_COMMANDS_H_
#define MARKET_CLIENTS_MARKETCTL_CREDIT_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "clients/marketctl/client.h"

namespace market::ctl {

void AddLedgerCommands(CLI::App& app, Client& client, std::function<int()>* run);
void AddCreditCommands(CLI::App& app, Client& client, std::function<int()>* run);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_CREDIT_COMMANDS_H_
