// What marketctl commands share beyond the Client, so that each command
// states only its own flags and request: running a body after parsing,
// calling a unary RPC and printing the response, one paging path for List
// RPCs (--page-size, --page-token, --all), list printing, and the common
// option groups. Not thread-safe (one command per process).
#ifndef MARKET_CLIENTS_MARKETCTL_COMMAND_HELPERS_H_
#define MARKET_CLIENTS_MARKETCTL_COMMAND_HELPERS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "clients/marketctl/client.h"
#include "grpcpp/grpcpp.h"
#include "market/common/v1/common.pb.h"

namespace market::ctl {

// ---- Commands and names ----

// A stub's synchronous unary method, e.g. &ListingService::Stub::GetListing.
template <typename Stub, typename Req, typename Resp>
using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

// Makes `body` the process's work (`*run`) when `cmd` is the command parsed.
void OnRun(CLI::App* cmd, std::function<int()>* run, std::function<int()> body);

// Adds the command group `name` to `parent`: a subcommand is required. An
// empty `footer` keeps the one CLI11 copies from the parent.
CLI::App* AddGroup(CLI::App* parent, const std::string& name, const std::string& help,
                   const std::string& footer = "");

// "alice" → "subjects/alice" for collection "subjects"; full names pass through.
std::string Prefixed(const std::string& name, const char* collection);
inline std::string SubjectName(const std::string& s) { return Prefixed(s, "subjects"); }

// Appends the categories named by `texts` (--category values, any case) to
// `out`; false after printing the accepted names when one names none.
bool ParseCategories(Client& client, const std::vector<std::string>& texts,
                     google::protobuf::RepeatedField<int>* out);

// ---- Unary calls ----

// Calls `rpc` once on a new stub, with a context carrying the access token
// unless `with_token` is false.
template <typename Stub, typename Req, typename Resp>
grpc::Status Invoke(Client& client, Rpc<Stub, Req, Resp> rpc, const Req& req, Resp* resp,
                    bool with_token = true) {
  Stub stub(client.Channel());
  return (stub.*rpc)(client.Context(with_token).get(), req, resp);
}

// Calls `rpc` and prints the response in the chosen --output. Returns 0, or
// the failed call's exit code after printing the error.
template <typename Stub, typename Req, typename Resp>
int CallAndPrint(Client& client, Rpc<Stub, Req, Resp> rpc, const Req& req, bool with_token = true) {
  Resp resp;
  grpc::Status s = Invoke(client, rpc, req, &resp, with_token);
  if (!s.ok()) return client.Fail(s);
  client.Print(resp);
  return 0;
}

// Calls `rpc` with the request's name set to `name` and prints the
// response; kExitUsage when `name` is nullopt (the error already printed).
template <typename Stub, typename Req, typename Resp>
int CallByName(Client& client, Rpc<Stub, Req, Resp> rpc, const std::optional<std::string>& name) {
  if (!name) return kExitUsage;
  Req req;
  req.set_name(*name);
  return CallAndPrint(client, rpc, req);
}

// Adds to `cmd` the required positional `positional` (described by `help`)
// and runs `rpc` with the request's name set to it, with `collection`
// prefixed unless null or already there, printing the response.
template <typename Stub, typename Req, typename Resp>
void AddCallByName(CLI::App* cmd, Client& client, std::function<int()>* run,
                   Rpc<Stub, Req, Resp> rpc, const std::string& positional, const std::string& help,
                   const char* collection = nullptr) {
  auto name = std::make_shared<std::string>();
  cmd->add_option(positional, *name, help)->required();
  OnRun(cmd, run, [&client, rpc, name, collection] {
    return CallByName(client, rpc, collection == nullptr ? *name : Prefixed(*name, collection));
  });
}

// The full name of a market's child in `collection` ("listings", "orders")
// given as internal::ChildName takes it, or nullopt after printing why (the
// caller exits kExitUsage).
std::optional<std::string> ResolveChild(Client& client, const std::string& arg,
                                        const std::string& market, const std::string& collection);

// A market's child resource (a listing, an order) as given: a full name,
// {market}/{collection}/{id}, or a bare id with --market.
struct ChildArg {
  std::string collection;  // "listings" or "orders"
  std::string name;
  std::string market;
  // The full name, or nullopt after printing why (the caller exits kExitUsage).
  std::optional<std::string> Resolve(Client& client) const {
    return ResolveChild(client, name, market, collection);
  }
};

// Adds the positional `positional` naming a `kind` ("listing", "order") and
// --market for a bare id.
std::shared_ptr<ChildArg> AddChildArg(CLI::App* cmd, const std::string& positional,
                                      const std::string& kind);

// Adds to `cmd` the name of a `kind` ("listing", "order") with --market, and
// runs `rpc` with the full name, printing the response.
template <typename Stub, typename Req, typename Resp>
void AddCallByChildName(CLI::App* cmd, Client& client, std::function<int()>* run,
                        Rpc<Stub, Req, Resp> rpc, const std::string& kind) {
  auto arg = AddChildArg(cmd, "name", kind);
  OnRun(cmd, run, [&client, rpc, arg] { return CallByName(client, rpc, arg->Resolve(client)); });
}

// ---- Printing lists ----

// Pointers to the items `field` returns of each page ("field" is a lambda such
// as [](const auto& p) -> const auto& { return p.claims(); }), in order.
template <typename Page, typename Field>
auto ItemsOf(const std::vector<Page>& pages, Field field) {
  using Item =
      typename std::remove_cvref_t<decltype(field(std::declval<const Page&>()))>::value_type;
  std::vector<const Item*> items;
  for (const auto& page : pages) {
    for (const auto& item : field(page)) items.push_back(&item);
  }
  return items;
}

// Prints `items` as a JSON array (--output json), or as a table of the
// `row(item)` cells under `header` (for cells PrintList cannot format).
template <typename T, typename Row>
void PrintRows(Client& client, const std::vector<const T*>& items,
               const std::vector<std::string>& header, Row row) {
  if (client.flags().output == "json") {
    client.PrintList({items.begin(), items.end()}, {});
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const T* item : items) rows.push_back(row(*item));
  client.PrintTable(header, rows);
}

// A ListAndPrint printer: Client::PrintList with `columns`.
inline auto PrintColumns(Client& client, std::vector<std::string> columns) {
  return [&client, columns = std::move(columns)](const auto& items) {
    client.PrintList({items.begin(), items.end()}, columns);
  };
}

// Calls `rpc`, whose response is one list, and prints the `field` items as a
// table with `columns` (or JSON). Returns 0 or the failed call's exit code.
template <typename Stub, typename Req, typename Resp, typename Field>
int CallAndPrintList(Client& client, Rpc<Stub, Req, Resp> rpc, const Req& req, Field field,
                     const std::vector<std::string>& columns, bool with_token = true) {
  std::vector<Resp> pages(1);
  grpc::Status s = Invoke(client, rpc, req, &pages[0], with_token);
  if (!s.ok()) return client.Fail(s);
  auto items = ItemsOf(pages, field);
  client.PrintList({items.begin(), items.end()}, columns);
  return 0;
}

// ---- Paging ----

// How a List command pages: from --page-size and --page-token, one page or
// (--all) every page; `next_page_hint` prints the next page's token under a
// table that stopped early.
struct PageFlags {
  int32_t page_size = 0;
  std::string page_token;
  bool all = false;
  bool next_page_hint = true;
};

// Adds --page-size (described by `page_size_help`), --page-token and --all.
std::shared_ptr<PageFlags> AddPageFlags(CLI::App* cmd, const std::string& page_size_help);

// Flags of a command that reads every page: no paging flags, no hint.
PageFlags EveryPage();

// Calls `rpc` from `req` for one page, or every page when `all`, appending
// them to `*pages`. Returns 0, or the failed call's exit code.
template <typename Stub, typename Req, typename Resp>
int FetchPages(Client& client, Rpc<Stub, Req, Resp> rpc, Req req, bool all,
               std::vector<Resp>* pages) {
  Stub stub(client.Channel());
  do {
    pages->emplace_back();
    grpc::Status s = (stub.*rpc)(client.Context().get(), req, &pages->back());
    if (!s.ok()) return client.Fail(s);
    req.set_page_token(pages->back().next_page_token());
  } while (all && !req.page_token().empty());
  return 0;
}

// A List command's work: the pages `paging` asks for, their `field` items
// handed to `print`, then (table output, more pages) the next page's token.
template <typename Stub, typename Req, typename Resp, typename Field, typename Print>
int ListAndPrint(Client& client, Rpc<Stub, Req, Resp> rpc, Req req, const PageFlags& paging,
                 Field field, Print print) {
  req.set_page_size(paging.page_size);
  req.set_page_token(paging.page_token);
  std::vector<Resp> pages;
  if (int rc = FetchPages(client, rpc, std::move(req), paging.all, &pages); rc != 0) return rc;
  print(ItemsOf(pages, field));
  const std::string& next = pages.back().next_page_token();
  if (paging.next_page_hint && !paging.all && !next.empty() && client.flags().output != "json") {
    client.out() << "next page: --page-token " << next << "\n";
  }
  return 0;
}

// ListAndPrint with the items printed by Client::PrintList with `columns`.
template <typename Stub, typename Req, typename Resp, typename Field>
int ListAndPrint(Client& client, Rpc<Stub, Req, Resp> rpc, Req req, const PageFlags& paging,
                 Field field, const std::vector<std::string>& columns) {
  return ListAndPrint(client, rpc, std::move(req), paging, field, PrintColumns(client, columns));
}

// A paged List command: --page-size (described by `page_size_help`),
// --page-token and --all, then ListAndPrint of `rpc` from `*req` (whose
// fields the caller binds to its flags; `prepare`, if any, sets the rest),
// the `field` items handed to `print`.
template <typename Stub, typename Req, typename Resp, typename Field, typename Print>
void AddPagedList(CLI::App* cmd, Client& client, std::function<int()>* run,
                  Rpc<Stub, Req, Resp> rpc, std::shared_ptr<Req> req,
                  const std::string& page_size_help, Field field, Print print,
                  std::type_identity_t<std::function<void(Req*)>> prepare = {}) {
  auto paging = AddPageFlags(cmd, page_size_help);
  OnRun(cmd, run, [&client, rpc, req, paging, field, print, prepare] {
    Req r = *req;
    if (prepare) prepare(&r);
    return ListAndPrint(client, rpc, std::move(r), *paging, field, print);
  });
}

// A List command reading every page of `rpc`: --filter (described by
// `filter_help`) sets the request's filter, `prepare` (if any) the rest; the
// `field` items print as a table with `columns` (or JSON).
template <typename Stub, typename Req, typename Resp, typename Field>
void AddFilteredList(CLI::App* cmd, Client& client, std::function<int()>* run,
                     Rpc<Stub, Req, Resp> rpc, const std::string& filter_help, Field field,
                     std::vector<std::string> columns,
                     std::type_identity_t<std::function<void(Req*)>> prepare = {}) {
  auto req = std::make_shared<Req>();
  cmd->add_option("--filter", *req->mutable_filter(), filter_help);
  OnRun(cmd, run, [&client, rpc, req, field, columns, prepare] {
    Req r = *req;
    if (prepare) prepare(&r);
    return ListAndPrint(client, rpc, std::move(r), EveryPage(), field, columns);
  });
}

// An enum flag parsed case-insensitively with the generated `parse`
// (Kind_Parse, ...); nullopt after printing `want` (exit kExitUsage).
template <typename E, typename Parse>
std::optional<E> EnumFlag(Client& client, const char* flag, const std::string& text, Parse parse,
                          const char* want) {
  E value{};
  if (parse(absl::AsciiStrToUpper(text), &value) && static_cast<int>(value) != 0) return value;
  client.err() << "error: " << flag << " \"" << text << "\": want " << want << "\n";
  return std::nullopt;
}

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_COMMAND_HELPERS_H_
