// "Did you mean" for marketctl: finds the first word of a command line that is
// not a command where one is expected, and the nearest command name to it.
// Pure functions of the CLI11 tree; call before CLI::App::parse.
#ifndef MARKET_CLIENTS_MARKETCTL_SUGGEST_H_
#define MARKET_CLIENTS_MARKETCTL_SUGGEST_H_

#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace market::ctl {

// Levenshtein distance of two byte strings.
int EditDistance(const std::string& a, const std::string& b);

// When `args` (argv without the program name) name a command that does not
// exist under `app` — a word where `app` or one of its subcommands expects a
// subcommand — returns "unknown command 'serch'" followed by " (did you mean
// 'search'?)" when a sibling is within two edits, else std::nullopt.
// Option values (`--server HOST`) are skipped; stops at "--help".
std::optional<std::string> UnknownCommand(const CLI::App& app,
                                          const std::vector<std::string>& args);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_SUGGEST_H_
