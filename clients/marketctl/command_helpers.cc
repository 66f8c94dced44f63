#include "clients/marketctl/command_helpers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/marketctl/listing_commands.h"

namespace market::ctl {

void OnRun(CLI::App* cmd, std::function<int()>* run, std::function<int()> body) {
  cmd->callback([run, body = std::move(body)] { *run = body; });
}

std::string Prefixed(const std::string& name, const char* collection) {
  return absl::StartsWith(name, absl::StrCat(collection, "/"))
             ? name
             : absl::StrCat(collection, "/", name);
}

CLI::App* AddGroup(CLI::App* parent, const std::string& name, const std::string& help,
                   const std::string& footer) {
  CLI::App* group = parent->add_subcommand(name, help);
  if (!footer.empty()) group->footer(footer);  // else the parent's footer, as CLI11 copies it
  group->require_subcommand(1);
  return group;
}

bool ParseCategories(Client& client, const std::vector<std::string>& texts,
                     google::protobuf::RepeatedField<int>* out) {
  for (const auto& text : texts) {
    common::v1::Category category;
    if (!common::v1::Category_Parse(absl::AsciiStrToUpper(text), &category)) {
      client.err() << "error: --category: want PHONE, APPLIANCE, FURNITURE or VEHICLE\n";
      return false;
    }
    out->Add(category);
  }
  return true;
}

std::shared_ptr<PageFlags> AddPageFlags(CLI::App* cmd, const std::string& page_size_help) {
  auto paging = std::make_shared<PageFlags>();
  cmd->add_option("--page-size", paging->page_size, page_size_help);
  cmd->add_option("--page-token", paging->page_token, "From a previous page");
  cmd->add_flag("--all", paging->all, "Follow next_page_token to the end");
  return paging;
}

PageFlags EveryPage() {
  PageFlags paging;
  paging.all = true;
  paging.next_page_hint = false;
  return paging;
}

std::optional<std::string> ResolveChild(Client& client, const std::string& arg,
                                        const std::string& market, const std::string& collection) {
  auto full = internal::ChildName(arg, market, collection);
  if (!full.ok()) {
    client.err() << "error: " << full.status().message() << "\n";
    return std::nullopt;
  }
  return *full;
}

std::shared_ptr<ChildArg> AddChildArg(CLI::App* cmd, const std::string& positional,
                                      const std::string& kind) {
  auto arg = std::make_shared<ChildArg>();
  arg->collection = kind + "s";
  cmd->add_option(
         positional, arg->name,
         absl::StrCat("markets/{market}/", arg->collection, "/{id}, or {id} with --market"))
      ->required();
  cmd->add_option("--market", arg->market, absl::StrCat("Market of a bare ", kind, " id"));
  return arg;
}

}  // namespace market::ctl
