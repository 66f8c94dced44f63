#include <memory>

#include "absl/strings/ascii.h"
#include "clients/marketctl/command_helpers.h"
#include "clients/marketctl/commands.h"
#include "market/listing/v1/listing.grpc.pb.h"

namespace market::ctl {
namespace {

namespace v1 = ::market::listing::v1;
using Stub = v1::MarketService::Stub;

}  // namespace

void AddMarketCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* market = AddGroup(&app, "market", "Flea markets, trading zones, online platforms");

  auto* create = market->add_subcommand("create", "Create a market (OPERATOR, SUPERVISOR)")
                     ->footer(
                         "Example:\n  marketctl market create --id east-flea --kind "
                         "FLEA_MARKET --display-name '东城社区跳蚤市场' \\\n      --region "
                         "350102 --address '鼓楼区东街 1 号'");
  auto req = std::make_shared<v1::CreateMarketRequest>();
  auto kind = std::make_shared<std::string>("FLEA_MARKET");
  auto op = std::make_shared<std::string>();
  auto categories = std::make_shared<std::vector<std::string>>();
  create->add_option("--id", *req->mutable_market_id(), "Market id (default: generated)");
  create->add_option("--kind", *kind, "FLEA_MARKET, TRADING_ZONE or ONLINE_PLATFORM")
      ->capture_default_str();
  create->add_option("--display-name", *req->mutable_market()->mutable_display_name(), "Name")
      ->required();
  create
      ->add_option("--region", *req->mutable_market()->mutable_region_code(),
                   "6-digit region code (GB/T 2260)")
      ->required();
  create->add_option("--address", *req->mutable_market()->mutable_address(), "Street address");
  create->add_option("--operator", *op, "Operating subject (supervisors; default: you)");
  create->add_option("--category", *categories, "Categories traded (default: all)");
  create->add_option("--request-id", *req->mutable_request_id(), "Idempotency key");
  OnRun(create, run, [&client, req, kind, op, categories] {
    v1::Market::Kind k;
    if (!v1::Market::Kind_Parse(absl::AsciiStrToUpper(*kind), &k)) {
      client.err() << "error: --kind: want FLEA_MARKET, TRADING_ZONE or ONLINE_PLATFORM\n";
      return kExitUsage;
    }
    req->mutable_market()->set_kind(k);
    if (!op->empty()) req->mutable_market()->set_operator_(Prefixed(*op, "subjects"));
    if (!ParseCategories(client, *categories, req->mutable_market()->mutable_categories()))
      return kExitUsage;
    return CallAndPrint(client, &Stub::CreateMarket, *req);
  });

  AddCallByName(market->add_subcommand("get", "Show a market")
                    ->footer("Example:\n  marketctl market get east-flea"),
                client, run, &Stub::GetMarket, "name", "markets/{id} or {id}", "markets");

  auto* list = market->add_subcommand("list", "List markets")
                   ->footer(
                       "Example:\n  marketctl market list --filter 'region=\"3501\" AND "
                       "kind=FLEA_MARKET'");
  AddFilteredList(list, client, run, &Stub::ListMarkets,
                  "kind=, operator=, region= (2/4/6 digits), category=",
                  [](const auto& p) -> const auto& { return p.markets(); },
                  {"name", "kind", "display_name", "region_code", "operator"});

  auto* update =
      market
          ->add_subcommand("update",
                           "Change a market (its OPERATOR; region and operator: "
                           "SUPERVISOR)")
          ->footer(
              "Examples:\n  marketctl market update east-flea --display-name '东城周末市集'\n"
              "  marketctl market update east-flea --swap-weekly 6,7 --swap-hours 08:00-12:00\n"
              "  marketctl market update east-flea --no-swap-days");
  auto ureq = std::make_shared<v1::UpdateMarketRequest>();
  auto ucats = std::make_shared<std::vector<std::string>>();
  auto uop = std::make_shared<std::string>();
  auto weekly = std::make_shared<std::vector<int>>();
  auto hours = std::make_shared<std::string>("08:00-17:00");
  auto no_swap = std::make_shared<bool>(false);
  update->add_option("name", *ureq->mutable_market()->mutable_name(), "markets/{id} or {id}")
      ->required();
  auto* udisplay = update->add_option("--display-name",
                                      *ureq->mutable_market()->mutable_display_name(), "New name");
  auto* uaddr =
      update->add_option("--address", *ureq->mutable_market()->mutable_address(), "New address");
  auto* uregion = update->add_option("--region", *ureq->mutable_market()->mutable_region_code(),
                                     "6-digit region code (SUPERVISOR)");
  auto* uoper = update->add_option("--operator", *uop, "New operator (SUPERVISOR)");
  auto* ucat = update->add_option("--category", *ucats, "The complete set of categories traded");
  auto* uweekly =
      update->add_option("--swap-weekly", *weekly, "Swap days, ISO weekdays 1 (Mon)..7 (Sun)")
          ->delimiter(',');
  update->add_option("--swap-hours", *hours, "Swap-day opening hours HH:MM-HH:MM")
      ->capture_default_str();
  update->add_flag("--no-swap-days", *no_swap, "Remove the swap schedule");
  update->add_option("--etag", *ureq->mutable_market()->mutable_etag(), "Expected etag");
  update->add_option("--request-id", *ureq->mutable_request_id(), "Idempotency key");
  OnRun(update, run,
        [&client, ureq, ucats, uop, weekly, hours, no_swap, udisplay, uaddr, uregion, uoper, ucat,
         uweekly] {
          v1::UpdateMarketRequest req = *ureq;
          v1::Market* m = req.mutable_market();
          m->set_name(Prefixed(m->name(), "markets"));
          auto* mask = req.mutable_update_mask();
          if (udisplay->count() > 0) mask->add_paths("display_name");
          if (uaddr->count() > 0) mask->add_paths("address");
          if (uregion->count() > 0) mask->add_paths("region_code");
          if (uoper->count() > 0) {
            mask->add_paths("operator");
            m->set_operator_(Prefixed(*uop, "subjects"));
          }
          if (ucat->count() > 0) {
            mask->add_paths("categories");
            if (!ParseCategories(client, *ucats, m->mutable_categories())) return kExitUsage;
          }
          if (uweekly->count() > 0 || *no_swap) {
            mask->add_paths("swap_schedule");
            if (!*no_swap) {
              size_t dash = hours->find('-');
              if (dash == std::string::npos) {
                client.err() << "error: --swap-hours: want HH:MM-HH:MM\n";
                return kExitUsage;
              }
              auto* sched = m->mutable_swap_schedule();
              sched->set_frequency(v1::SwapSchedule::WEEKLY);
              for (int d : *weekly) sched->add_days_of_week(d);
              sched->set_start_time_of_day(hours->substr(0, dash));
              sched->set_end_time_of_day(hours->substr(dash + 1));
            }
          }
          if (mask->paths().empty()) {
            client.err() << "error: nothing to update\n";
            return kExitUsage;
          }
          return CallAndPrint(client, &Stub::UpdateMarket, req);
        });

  for (bool add : {true, false}) {
    auto* cmd = market->add_subcommand(
        add ? "add-seller" : "remove-seller",
        add ? "Admit a seller to a market (its OPERATOR)" : "Stop a seller listing in a market");
    cmd->footer(add ? "Example:\n  marketctl market add-seller east-flea zhang-san --request-id "
                      "admit-zhang-san"
                    : "Example:\n  marketctl market remove-seller markets/east-flea "
                      "subjects/zhang-san");
    auto m = std::make_shared<std::string>();
    auto seller = std::make_shared<std::string>();
    auto request_id = std::make_shared<std::string>();
    cmd->add_option("market", *m, "markets/{id} or {id}")->required();
    cmd->add_option("seller", *seller, "subjects/{id} or {id}")->required();
    cmd->add_option("--request-id", *request_id, "Idempotency key");
    OnRun(cmd, run, [&client, add, m, seller, request_id] {
      auto call = [&](auto req, auto rpc) {
        req.set_market(Prefixed(*m, "markets"));
        req.set_seller(Prefixed(*seller, "subjects"));
        req.set_request_id(*request_id);
        return CallAndPrint(client, rpc, req);
      };
      return add ? call(v1::AddSellerRequest(), &Stub::AddSeller)
                 : call(v1::RemoveSellerRequest(), &Stub::RemoveSeller);
    });
  }
}

}  // namespace market::ctl
