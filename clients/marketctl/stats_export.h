// The statistics tables marketctl prints and exports: a title row naming the
// period and filters, Chinese column headers, one row per group; written as
// CSV (RFC 4180, UTF-8 with BOM so spreadsheet programs read the Chinese
// text) or XLSX (libxlsxwriter; numbers as numbers, amounts in yuan).
#ifndef MARKET_CLIENTS_MARKETCTL_STATS_EXPORT_H_
#define MARKET_CLIENTS_MARKETCTL_STATS_EXPORT_H_

#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "market/stats/v1/stats.pb.h"

namespace market::ctl {

// One cell: text, or a number (counts; yuan with fen precision).
using StatsCell = std::variant<std::string, double>;

struct StatsTable {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<StatsCell>> rows;
};

// The trade figures of `resp` as a table; `filters` describes the query
// ("按类别 · 市场 markets/m1") for the title.
StatsTable TradeTable(const stats::v1::QueryTradeResponse& resp, const std::string& filters);

// The figures of a QueryAfterSales/QueryAppraisals/QueryEntities/QueryCredit response;
// `family` names it in the title ("售后统计"), columns get Chinese headers.
StatsTable FiguresTable(const stats::v1::QueryFiguresResponse& resp, const std::string& family,
                        const std::string& filters);
// The Chinese header of a QueryFiguresResponse column (the name if unknown).
std::string FigureHeader(const std::string& column);

// A cell as printed and in CSV: numbers without trailing zeros beyond fen.
std::string CellText(const StatsCell& cell);

std::string ToCsv(const StatsTable& table);
// Writes `table` to `path` as an XLSX workbook with one sheet.
absl::Status WriteXlsx(const StatsTable& table, const std::string& path);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_STATS_EXPORT_H_
