#include "services/stats/export_http.h"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/server/json_gateway.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "services/stats/export_table.h"

namespace market::stats {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(60);
constexpr char kParameters[] = "period, from, to, group_by, market, region or category";

const FiguresFamily* FindFamily(absl::string_view name) {
  for (const FiguresFamily& f : FiguresFamilies()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::string FamilyNames() {
  std::string names = kTradeFamily;
  for (const FiguresFamily& f : FiguresFamilies()) absl::StrAppend(&names, ", ", f.name);
  return names;
}

// The stub, created from the channel factory on first use (the in-process
// channel exists only once the server has started).
class LazyStub {
 public:
  explicit LazyStub(std::function<std::shared_ptr<grpc::Channel>()> channel)
      : channel_(std::move(channel)) {}
  v1::StatisticsService::Stub& Get() {
    std::call_once(once_, [this] { stub_ = v1::StatisticsService::NewStub(channel_()); });
    return *stub_;
  }

 private:
  std::function<std::shared_ptr<grpc::Channel>()> channel_;
  std::once_flag once_;
  std::unique_ptr<v1::StatisticsService::Stub> stub_;
};

server::HttpReply ErrorReply(const absl::Status& status) {
  return server::StatusReply(ToGrpcStatus(status));
}

}  // namespace

absl::StatusOr<ExportRequest> ParseExportRequest(const std::string& path,
                                                 const std::map<std::string, std::string>& query) {
  absl::string_view file = path;
  ExportRequest out;
  std::vector<std::string> parts;
  if (absl::ConsumePrefix(&file, kExportPathPrefix)) parts = absl::StrSplit(file, '.');
  if (parts.size() != 2 || (parts[1] != "csv" && parts[1] != "xlsx") ||
      (parts[0] != kTradeFamily && FindFamily(parts[0]) == nullptr)) {
    return NotFound(
        absl::StrCat(path, " (want ", kExportPathPrefix, "{", FamilyNames(), "}.{csv|xlsx})"));
  }
  out.family = parts[0];
  out.format = parts[1];
  std::vector<FieldViolation> bad;
  auto param = [&](const char* name) {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  };
  for (const auto& [name, value] : query) {
    static const auto* known = new std::vector<std::string>{
        "period", "from", "to", "group_by", "market", "region", "category"};
    if (std::find(known->begin(), known->end(), name) == known->end()) {
      bad.push_back({name, absl::StrCat("unknown parameter; want ", kParameters)});
    }
  }
  v1::Period period;
  if (!v1::Period_Parse(absl::AsciiStrToUpper(param("period")), &period) ||
      period == v1::PERIOD_UNSPECIFIED) {
    bad.push_back({"period", "want DAY, WEEK, MONTH, QUARTER, YEAR or CUSTOM"});
  }
  out.query.set_period(period);
  if (param("from").empty()) bad.push_back({"from", "required: a day of the period, YYYY-MM-DD"});
  out.query.set_from_date(param("from"));
  out.query.set_to_date(param("to"));
  if (std::string g = param("group_by"); !g.empty()) {
    v1::GroupBy group;
    if (!v1::GroupBy_Parse(absl::AsciiStrToUpper(g), &group) || group == v1::GROUP_BY_UNSPECIFIED) {
      bad.push_back(
          {"group_by",
           "want CATEGORY, MARKET, COUNTY, CITY, PROVINCE, SELLER, FIRM or SUBJECT_ROLE"});
    } else {
      out.query.set_group_by(group);
    }
  }
  for (absl::string_view m : absl::StrSplit(param("market"), ',', absl::SkipWhitespace())) {
    m = absl::StripAsciiWhitespace(m);
    out.query.add_markets(absl::StartsWith(m, "markets/") ? std::string(m)
                                                          : absl::StrCat("markets/", m));
  }
  out.query.set_region(param("region"));
  if (std::string c = param("category"); !c.empty()) {
    common::v1::Category category;
    if (!common::v1::Category_Parse(absl::AsciiStrToUpper(c), &category) ||
        category == common::v1::CATEGORY_UNSPECIFIED) {
      bad.push_back({"category", "want PHONE, APPLIANCE, FURNITURE or VEHICLE"});
    } else {
      out.query.set_category(category);
    }
  }
  if (!bad.empty()) return InvalidFields(bad);
  return out;
}

server::HttpReply ServeExport(v1::StatisticsService::StubInterface& stub,
                              const server::HttpRequest& request) {
  absl::StatusOr<ExportRequest> req = ParseExportRequest(request.path, request.query);
  if (!req.ok()) return ErrorReply(req.status());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kDeadline));
  if (std::string auth = request.Header("authorization"); !auth.empty()) {
    ctx.AddMetadata("authorization", auth);
  }
  StatsTable table;
  grpc::Status s;
  if (req->family == kTradeFamily) {
    v1::QueryTradeRequest trade = TradeRequestOf(req->query);
    v1::QueryTradeResponse resp;
    s = stub.QueryTrade(&ctx, trade, &resp);
    if (s.ok()) table = TradeTable(resp, QueryFilters(trade));
  } else {
    const FiguresFamily* family = FindFamily(req->family);
    v1::QueryFiguresResponse resp;
    s = (stub.*family->rpc)(&ctx, req->query, &resp);
    if (s.ok()) table = FiguresTable(resp, family->title, QueryFilters(req->query));
  }
  if (!s.ok()) return server::StatusReply(s);
  server::HttpReply reply;
  reply.cache_control = "no-store";  // the figures change and depend on the caller
  if (req->format == "csv") {
    reply.content_type = "text/csv; charset=utf-8";
    reply.body = ToCsv(table);
  } else {
    absl::StatusOr<std::string> bytes = XlsxBytes(table);
    if (!bytes.ok()) return ErrorReply(bytes.status());
    reply.content_type = kXlsxContentType;
    reply.body = *std::move(bytes);
  }
  // The resolved period, e.g. stats-trade-2026-11-01_2026-11-30.csv.
  reply.headers = {{"Content-Disposition",
                    absl::StrCat("attachment; filename=\"stats-", req->family, "-", table.from_date,
                                 "_", table.to_date, ".", req->format, "\"")},
                   {"X-Content-Type-Options", "nosniff"}};
  return reply;
}

void AddStatsExportRoute(server::ServerRunner& runner,
                         std::function<std::shared_ptr<grpc::Channel>()> channel) {
  auto stub = std::make_shared<LazyStub>(std::move(channel));
  runner.AddHttpHandler(
      "GET", absl::StrCat(kExportPathPrefix, "[^/]*"), 0,
      [stub](const server::HttpRequest& r) { return ServeExport(stub->Get(), r); });
}

}  // namespace market::stats
