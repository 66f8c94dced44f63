// The marketctl command groups. Each Add*Commands registers its commands on
// `app`; the one parsed sets `*run`, which returns the process exit code when
// called after parsing. `client` must outlive `app`. Not thread-safe.
#ifndef MARKET_CLIENTS_MARKETCTL_COMMANDS_H_
#define MARKET_CLIENTS_MARKETCTL_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "clients/marketctl/client.h"

namespace market::ctl {

// `login`, `whoami`, `subject create|get|list|suspend|reinstate|update|api-key|signing-keys`.
void AddIdentityCommands(CLI::App& app, Client& client, std::function<int()>* run);
// `market create|get|list|update|add-seller|remove-seller`.
void AddMarketCommands(CLI::App& app, Client& client, std::function<int()>* run);
// `listing create|get|update|publish|withdraw|remove|search|import|photo upload`.
void AddListingCommands(CLI::App& app, Client& client, std::function<int()>* run);
// `order place|cancel|deliver|complete|get|list`.
void AddOrderCommands(CLI::App& app, Client& client, std::function<int()>* run);
// `item history|observe`.
void AddItemCommands(CLI::App& app, Client& client, std::function<int()>* run);
// `ledger checkpoint|proof|verify`.
void AddLedgerCommands(CLI::App& app, Client& client, std::function<int()>* run);
// `credit profile|records|record|repair|blacklist|redlist|access-log`.
void AddCreditCommands(CLI::App& app, Client& client, std::function<int()>* run);
// `appraisal keygen|register-key|retire-key|keys|file|get|list|verify|schemes`,
// `appraisal accreditation grant|suspend|revoke|list` and `appraisal dispute
// file|get|list|rule`. Reports are signed locally: the private key never
// leaves the firm's machine.
void AddAppraisalCommands(CLI::App& app, Client& client, std::function<int()>* run);
// After-sales warranty claims (三包): `claim
// check|file|respond|repair|escalate|rule|resolve|get|list`.
void AddClaimCommands(CLI::App& app, Client& client, std::function<int()>* run);
// `admin backup|restore-check`: on the server host, files only (no RPC).
void AddAdminCommands(CLI::App& app, Client& client, std::function<int()>* run);
void AddStatsCommands(CLI::App& app, Client& client, std::function<int()>* run);
// The supervision case queue: `case list|get|assign|note|close|open|report`.
void AddCaseCommands(CLI::App& app, Client& client, std::function<int()>* run);
// `webhook add|list|delete|test|deliveries` (served by the credit process).
void AddWebhookCommands(CLI::App& app, Client& client, std::function<int()>* run);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_COMMANDS_H_
