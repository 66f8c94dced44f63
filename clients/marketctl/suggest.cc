#include "clients/marketctl/suggest.h"

#include <algorithm>

namespace market::ctl {
namespace {

// Whether the option `token` (e.g. "--server", "-o") of `app` or a parent
// takes a value in the next argument.
bool TakesSeparateValue(const CLI::App* app, const std::string& token) {
  if (token.find('=') != std::string::npos) return false;
  for (; app != nullptr; app = app->get_parent()) {
    const CLI::Option* opt = app->get_option_no_throw(token);
    if (opt != nullptr) return opt->get_expected_max() > 0;
  }
  return false;
}

}  // namespace

int EditDistance(const std::string& a, const std::string& b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> UnknownCommand(const CLI::App& app,
                                          const std::vector<std::string>& args) {
  const CLI::App* current = &app;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--help" || word == "-h" || word == "--") return std::nullopt;
    if (!word.empty() && word[0] == '-') {
      if (TakesSeparateValue(current, word)) ++i;
      continue;
    }
    std::vector<const CLI::App*> commands = current->get_subcommands({});
    if (commands.empty()) return std::nullopt;  // a positional argument of a leaf command
    auto match = std::find_if(commands.begin(), commands.end(),
                              [&](const CLI::App* c) { return c->check_name(word); });
    if (match != commands.end()) {
      current = *match;
      continue;
    }
    std::string message = "unknown command '" + word + "'";
    const CLI::App* nearest = nullptr;
    int best = 3;  // within two edits
    for (const CLI::App* c : commands) {
      int d = EditDistance(word, c->get_name());
      if (d < best) best = d, nearest = c;
    }
    if (nearest != nullptr) message += " (did you mean '" + nearest->get_name() + "'?)";
    return message;
  }
  return std::nullopt;
}

}  // namespace market::ctl
