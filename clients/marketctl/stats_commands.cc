// marketctl stats: the statistics ledger (统计台账) as aligned tables, CSV or
// XLSX, and the rebuild check.
#include <fstream>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "clients/marketctl/command_helpers.h"
#include "clients/marketctl/commands.h"
#include "clients/marketctl/display.h"
#include "market/stats/v1/stats.grpc.pb.h"
#include "services/stats/export_table.h"

namespace market::ctl {
namespace {

namespace v1 = ::market::stats::v1;
using Stub = v1::StatisticsService::Stub;
using stats::StatsCell;
using stats::StatsTable;

struct TradeFlags {
  std::string period = "month";
  std::string from, to, group_by, region, category, format = "table", output_file;
  std::vector<std::string> markets;
};

// Fills the period, group and filters of a QueryTradeRequest or
// QueryFiguresRequest from the flags; false (after a usage message) when bad.
template <typename Request>
bool FillQuery(Client& client, const TradeFlags& f, Request& req) {
  v1::Period period;
  if (!v1::Period_Parse(absl::AsciiStrToUpper(f.period), &period) || period == v1::PERIOD_UNSPECIFIED) {
    client.err() << "error: --period: want day, week, month, quarter, year or custom\n";
    return false;
  }
  req.set_period(period);
  req.set_from_date(f.from);
  req.set_to_date(f.to);
  if (!f.group_by.empty()) {
    v1::GroupBy g;
    if (!v1::GroupBy_Parse(absl::AsciiStrToUpper(f.group_by), &g) || g == v1::GROUP_BY_UNSPECIFIED) {
      client.err()
          << "error: --group-by: want category, market, county, city, province, seller, firm or "
             "subject_role\n";
      return false;
    }
    req.set_group_by(g);
  }
  for (const std::string& m : f.markets) req.add_markets(Prefixed(m, "markets"));
  req.set_region(f.region);
  if (!f.category.empty()) {
    google::protobuf::RepeatedField<int> categories;
    if (!ParseCategories(client, {f.category}, &categories)) return false;
    req.set_category(static_cast<common::v1::Category>(categories[0]));
  }
  if ((f.format == "csv" || f.format == "xlsx") == f.output_file.empty()) {
    client.err() << "error: --format csv|xlsx needs -o FILE (and -o needs one of them)\n";
    return false;
  }
  return true;
}

// Prints `table` or writes it as --format csv|xlsx to -o FILE.
int Emit(Client& client, const TradeFlags& f, const StatsTable& table) {
  if (f.format == "csv") {
    std::ofstream out(f.output_file, std::ios::binary | std::ios::trunc);
    out << stats::ToCsv(table);
    if (!out.good()) return client.Fail(absl::UnavailableError("cannot write " + f.output_file));
  } else if (f.format == "xlsx") {
    if (absl::Status w = stats::WriteXlsx(table, f.output_file); !w.ok()) return client.Fail(w);
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : table.rows) {
      std::vector<std::string> cells;
      for (const StatsCell& cell : row) cells.push_back(stats::CellText(cell));
      rows.push_back(std::move(cells));
    }
    client.out() << table.title << "\n";
    client.PrintTable(table.header, rows);
    return 0;
  }
  client.out() << "wrote " << table.rows.size() << " rows to " << f.output_file << "\n";
  return 0;
}

int RunTrade(Client& client, const TradeFlags& f) {
  v1::QueryTradeRequest req;
  if (!FillQuery(client, f, req)) return kExitUsage;
  v1::QueryTradeResponse resp;
  grpc::Status s = Invoke(client, &Stub::QueryTrade, req, &resp);
  if (!s.ok()) return client.Fail(s);
  if (client.flags().output == "json") {
    client.Print(resp);
    return 0;
  }
  return Emit(client, f, stats::TradeTable(resp, stats::QueryFilters(req)));
}

int RunFigures(Client& client, const TradeFlags& f, const stats::FiguresFamily& family) {
  v1::QueryFiguresRequest req;
  if (!FillQuery(client, f, req)) return kExitUsage;
  v1::QueryFiguresResponse resp;
  Stub stub(client.Channel());
  grpc::Status s = (stub.*family.rpc)(client.Context(true).get(), req, &resp);
  if (!s.ok()) return client.Fail(s);
  if (client.flags().output == "json") {
    client.Print(resp);
    return 0;
  }
  return Emit(client, f, stats::FiguresTable(resp, family.title, stats::QueryFilters(req)));
}

// The period, group, filter and format options every query command has.
void AddQueryOptions(CLI::App* cmd, TradeFlags* f) {
  cmd->add_option("--period", f->period, "day, week (ISO), month, quarter, year or custom")
      ->capture_default_str();
  cmd->add_option("--from", f->from, "A day of the period, YYYY-MM-DD (custom: first day)")
      ->required();
  cmd->add_option("--to", f->to, "custom only: last day, YYYY-MM-DD");
  cmd->add_option("--group-by", f->group_by,
                  "category, market, county, city, province, seller, firm or subject_role "
                  "(default: one total)");
  cmd->add_option("--market", f->markets, "Only these markets (repeatable)");
  cmd->add_option("--region", f->region, "Only regions under this 2-, 4- or 6-digit code");
  cmd->add_option("--category", f->category, "Only PHONE, APPLIANCE, FURNITURE or VEHICLE");
  cmd->add_option("--format", f->format, "table, csv or xlsx")
      ->check(CLI::IsMember({"table", "csv", "xlsx"}))
      ->capture_default_str();
  cmd->add_option("-o,--output-file", f->output_file, "File for --format csv|xlsx");
}

}  // namespace

void AddStatsCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* stats = AddGroup(&app, "stats", "The statistics ledger (统计台账): trade, after-sales, appraisal, entity and credit figures");
  auto* trade =
      stats->add_subcommand("trade", "Orders placed/completed/cancelled, gross, mean and median price")
          ->footer(
              "Periods are China time (UTC+8). SUPERVISOR: everything; OPERATOR: its own markets;\n"
              "anyone else: --period month --group-by category, county level, small cells shown *.\n"
              "Examples:\n"
              "  marketctl stats trade --period month --from 2026-03-01 --group-by category\n"
              "  marketctl stats trade --period year --from 2026-01-01 --group-by market \\\n"
              "      --format xlsx -o 2026.xlsx");
  auto f = std::make_shared<TradeFlags>();
  AddQueryOptions(trade, f.get());
  OnRun(trade, run, [&client, f] { return RunTrade(client, *f); });

  // The help of each figure family (stats::FiguresFamilies(): the same
  // families and titles as the HTTP export).
  struct FamilyHelp {
    std::string help;
    std::string rules = "Same periods, groups, filters, access rules and formats as `stats trade`.";
    // The --group-by of the help's example.
    std::string example_group = "market";
  };
  static const std::map<std::string, FamilyHelp> kHelp = {
      {"claims",
       {"After-sales: claims filed by kind, upheld/dismissed, replies on time/missed, days to "
        "resolution"}},
      {"appraisals", {"Appraisal reports, disputes and overturns (--group-by firm: per firm)"}},
      {"entities",
       {"Listings created/published/removed/sold, days to sale, active markets, active and new "
        "sellers"}},
      {"credit",
       {"Credit records appended by tier and type; at the period's end subjects per level A-D and "
        "black/red list sizes (--group-by subject_role; no market, region or category filter; an "
        "OPERATOR sees none)",
        "Same periods and formats as `stats trade`. SUPERVISOR: everything; OPERATOR: nothing;\n"
        "anyone else: --period month totals, a row from fewer than 5 subjects shown *.",
        "subject_role"}},
  };
  for (const stats::FiguresFamily& family : stats::FiguresFamilies()) {
    auto it = kHelp.find(family.name);
    const FamilyHelp help = it == kHelp.end() ? FamilyHelp{family.title} : it->second;
    auto* cmd = stats->add_subcommand(family.name, help.help)
                    ->footer(help.rules + "\nExample:\n  marketctl stats " +
                             std::string(family.name) +
                             " --period quarter --from 2026-01-01 --group-by " +
                             help.example_group);
    auto ff = std::make_shared<TradeFlags>();
    AddQueryOptions(cmd, ff.get());
    OnRun(cmd, run, [&client, ff, &family] { return RunFigures(client, *ff, family); });
  }

  auto* rebuild =
      stats->add_subcommand("rebuild", "Recompute every counter from the order facts; list differences")
          ->footer("SUPERVISOR. Exit code 1 when a counter differed (and was not repaired).\n"
                   "Example:\n  marketctl stats rebuild --repair");
  auto repair = std::make_shared<bool>(false);
  rebuild->add_flag("--repair", *repair, "Replace the counters by the recomputed ones");
  OnRun(rebuild, run, [&client, repair] {
    v1::RebuildTradeRequest req;
    req.set_repair(*repair);
    v1::RebuildTradeResponse resp;
    grpc::Status s = Invoke(client, &Stub::RebuildTrade, req, &resp);
    if (!s.ok()) return client.Fail(s);
    if (client.flags().output == "json") {
      client.Print(resp);
    } else {
      client.out() << "checked " << resp.counters_checked() << " counters, "
                   << resp.differences_size() << " differ" << (resp.repaired() ? " (repaired)" : "")
                   << "\n";
      std::vector<std::vector<std::string>> rows;
      for (const auto& d : resp.differences()) {
        rows.push_back({d.counter(), absl::StrCat(d.stored()), absl::StrCat(d.recomputed())});
      }
      if (!rows.empty()) client.PrintTable({"counter", "stored", "recomputed"}, rows);
    }
    return resp.differences_size() > 0 && !resp.repaired() ? 1 : 0;
  });
}

}  // namespace market::ctl
