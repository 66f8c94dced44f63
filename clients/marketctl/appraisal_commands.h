// marketctl commands for appraisals: `appraisal keygen|register-key|retire-key|
// keys|file|get|list|verify|schemes`, `appraisal accreditation grant|suspend|
// revoke|list` and `appraisal dispute file|get|list|rule`. Reports are signed
// locally: the private key never leaves the firm's machine.
#ifndef MARKET_CLIENTS_MARKETCTL_APPRAISAL_COMMANDS_H_
#define MARKET_CLIENTS_MARKETCTL_APPRAISAL_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "clients/marketctl/client.h"

namespace market::ctl {

void AddAppraisalCommands(CLI::App& app, Client& client, std::function<int()>* run);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_APPRAISAL_COMMANDS_H_
