// The statistics tables marketctl prints and exports and the stats service's
// HTTP port serves (export_http.h): a title row naming the period and
// filters, Chinese column headers, one row per group; written as CSV (RFC
// 4180, UTF-8 with BOM so spreadsheet programs read the Chinese text) or XLSX
// (libxlsxwriter; numbers as numbers, amounts in yuan). One code path for
// both, so the same query gives the same bytes from either.
#ifndef MARKET_SERVICES_STATS_EXPORT_TABLE_H_
#define MARKET_SERVICES_STATS_EXPORT_TABLE_H_

#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "market/stats/v1/stats.grpc.pb.h"

namespace market::stats {

// One cell: text, or a number (counts; yuan with fen precision).
using StatsCell = std::variant<std::string, double>;

struct StatsTable {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<StatsCell>> rows;
  // The resolved period ("YYYY-MM-DD", inclusive); the last day is the XLSX's
  // creation date, so that the same figures always make the same bytes.
  std::string from_date, to_date;
};

// The trade figures of `resp` as a table; `filters` describes the query
// ("按类别 · 市场 markets/m1") for the title.
StatsTable TradeTable(const v1::QueryTradeResponse& resp, const std::string& filters);

// The figures of a QueryAfterSales/QueryAppraisals/QueryEntities/QueryCredit
// response; `family` names it in the title ("售后统计"), columns get Chinese
// headers.
StatsTable FiguresTable(const v1::QueryFiguresResponse& resp, const std::string& family,
                        const std::string& filters);
// The Chinese header of a QueryFiguresResponse column; a credit record type
// column ("records_counterfeit_confirmed") is "记录·COUNTERFEIT_CONFIRMED";
// any other unknown column keeps its name.
std::string FigureHeader(const std::string& column);

// A cell as printed and in CSV: numbers without trailing zeros beyond fen.
std::string CellText(const StatsCell& cell);

std::string ToCsv(const StatsTable& table);
// Writes `table` to `path` as an XLSX workbook with one sheet "统计".
absl::Status WriteXlsx(const StatsTable& table, const std::string& path);
// The XLSX workbook's bytes (written through a private temporary file).
absl::StatusOr<std::string> XlsxBytes(const StatsTable& table);

// The figure families besides trade, by their export name.
using FiguresRpc = grpc::Status (v1::StatisticsService::StubInterface::*)(
    grpc::ClientContext*, const v1::QueryFiguresRequest&, v1::QueryFiguresResponse*);
struct FiguresFamily {
  const char* name;   // "claims", "appraisals", "entities", "credit"
  const char* title;  // "售后统计" …
  FiguresRpc rpc;
};
const std::vector<FiguresFamily>& FiguresFamilies();
// The trade family's export name and title.
inline constexpr char kTradeFamily[] = "trade";
inline constexpr char kTradeTitle[] = "交易统计";

// The Chinese name of a grouping for the title ("按类别"; "合计" for none).
std::string GroupName(v1::GroupBy g);

// The title's description of a QueryTradeRequest's or QueryFiguresRequest's
// group and filters: "按类别 · 市场 markets/a、markets/b · 区域 35 · 类别 PHONE".
template <typename Request>
std::string QueryFilters(const Request& req) {
  std::vector<std::string> filters = {GroupName(req.group_by())};
  if (!req.markets().empty()) filters.push_back("市场 " + absl::StrJoin(req.markets(), "、"));
  if (!req.region().empty()) filters.push_back("区域 " + req.region());
  if (req.category() != common::v1::CATEGORY_UNSPECIFIED) {
    filters.push_back("类别 " + common::v1::Category_Name(req.category()));
  }
  return absl::StrJoin(filters, " · ");
}

// A QueryTradeRequest with the same period, group and filters as `req` (the
// two request messages have the same fields).
v1::QueryTradeRequest TradeRequestOf(const v1::QueryFiguresRequest& req);

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_EXPORT_TABLE_H_
