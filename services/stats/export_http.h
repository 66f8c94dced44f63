// The statistics tables as downloads on the stats service's HTTP port
// (marketd and market-stats):
//   GET /stats/export/{trade|claims|appraisals|entities|credit}.{csv|xlsx}
//       ?period=MONTH&from=2026-11-01[&to=…][&group_by=CATEGORY]
//       [&market=east,markets/west][&region=35][&category=PHONE]
// with the caller's `Authorization: Bearer` token. The handler calls the
// family's Query RPC through the server's in-process channel, so the access
// rules, validation and small-cell suppression are exactly the RPC's, and
// renders its answer with export_table.h (the bytes `marketctl stats … --format
// csv|xlsx` writes for the same query). Errors are google.rpc.Status JSON as
// on the HTTP/JSON API: an unknown family or format 404, a bad or unknown
// parameter 400 naming it, 401/403 from the RPC.
#ifndef MARKET_SERVICES_STATS_EXPORT_HTTP_H_
#define MARKET_SERVICES_STATS_EXPORT_HTTP_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/server/runner.h"
#include "market/stats/v1/stats.grpc.pb.h"

namespace market::stats {

inline constexpr char kExportPathPrefix[] = "/stats/export/";
inline constexpr char kXlsxContentType[] =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

// A parsed export request.
struct ExportRequest {
  std::string family;             // "trade" or a FiguresFamilies() name
  std::string format;             // "csv" or "xlsx"
  v1::QueryFiguresRequest query;  // trade: converted by TradeRequestOf
};

// Parses the path and query parameters: NOT_FOUND for an unknown family or
// format; INVALID_ARGUMENT naming the parameter (period, from, to, group_by,
// market, region, category, or an unknown one). Dates are checked by the RPC.
absl::StatusOr<ExportRequest> ParseExportRequest(const std::string& path,
                                                 const std::map<std::string, std::string>& query);

// Answers one GET through `stub`, forwarding `authorization`.
server::HttpReply ServeExport(v1::StatisticsService::StubInterface& stub,
                              const server::HttpRequest& request);

// Adds the route to `runner`; `channel` (called on first use, after Start)
// reaches the StatisticsService, normally runner.InProcessChannel().
void AddStatsExportRoute(server::ServerRunner& runner,
                         std::function<std::shared_ptr<grpc::Channel>()> channel);

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_EXPORT_HTTP_H_
