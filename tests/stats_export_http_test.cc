// The statistics downloads (README "Statistics", GET /stats/export/…) of a real
// marketd on loopback: orders and listings made through the HTTP/JSON API in
// two markets, then the CSV and the XLSX (unzipped, its sheet XML read back)
// hold the numbers the same query returns over gRPC; `marketctl stats … --format
// csv|xlsx` writes the same bytes; and the errors: 401 (forged token), 403
// (the access rules of the RPC), 400 naming the parameter, 404 (unknown family).
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sqlite/sqlite_testing.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "market/stats/v1/stats.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/marketd/marketd.h"
#include "tests/marketd_testing.h"
#include "tests/process_helpers.h"

namespace market {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
namespace sv1 = ::market::stats::v1;

using Cells = std::vector<std::vector<std::string>>;

// The CSV's cells (after the BOM), row by row (no field here needs quoting).
Cells CsvCells(const std::string& csv) {
  Cells rows;
  for (absl::string_view line :
       absl::StrSplit(absl::StripPrefix(csv, "\xEF\xBB\xBF"), "\r\n", absl::SkipEmpty())) {
    rows.push_back(absl::StrSplit(line, ','));
  }
  return rows;
}

// The cells of the XLSX's first sheet, read back with Debian's unzip:
// inline strings and numbers, row by row.
Cells XlsxCells(const std::string& xlsx, const std::string& dir) {
  const std::string path = dir + "/download.xlsx";
  std::ofstream(path, std::ios::binary) << xlsx;
  testing::RunResult test = testing::Run({"/usr/bin/unzip", "-t", path});
  EXPECT_THAT(test.out, HasSubstr("No errors detected"));
  std::string sheet = testing::Run({"/usr/bin/unzip", "-p", path, "xl/worksheets/sheet1.xml"}).out;
  EXPECT_THAT(sheet, HasSubstr("<worksheet"));
  std::regex cell(
      R"re(<c r="([A-Z]+)(\d+)"[^>]*>(?:<is><t[^>]*>([^<]*)</t></is>|<v>([^<]*)</v>)</c>)re");
  std::map<int, std::vector<std::string>> rows;
  for (auto it = std::sregex_iterator(sheet.begin(), sheet.end(), cell);
       it != std::sregex_iterator(); ++it) {
    rows[std::stoi((*it)[2].str())].push_back((*it)[3].matched ? (*it)[3].str() : (*it)[4].str());
  }
  Cells out;
  for (auto& [row, cells] : rows) out.push_back(std::move(cells));
  return out;
}

// A cell that must hold the number `want` (counts; yuan with fen).
void ExpectNumber(const std::string& cell, double want, const std::string& where) {
  char* end = nullptr;
  double got = std::strtod(cell.c_str(), &end);
  ASSERT_TRUE(end != cell.c_str() && *end == '\0') << where << ": not a number: " << cell;
  EXPECT_NEAR(got, want, 0.001) << where;
}

class StatsExportHttpTest : public marketd::testing::SharedMarketdTest<StatsExportHttpTest> {
 protected:
  void SetUp() override {
    SharedMarketdTest::SetUp();
    if (HasFatalFailure()) return;
    stub_ = sv1::StatisticsService::NewStub(marketd::testing::Channel(*marketd_));
    ASSERT_NO_FATAL_FAILURE(Trade());
  }

  std::string Svc(const std::string& service, const std::string& method) {
    return absl::StrCat("/market.", service, "/", method);
  }

  std::string Subject(const std::string& id, const json& subject) {
    return CreateSubject(supervisor_, id, subject);
  }

  // Once per suite: two markets of one operator; seller-li sells in both,
  // buyer-wang buys; east: 120000 and 80050 fen completed, one placed; west:
  // 50000 completed, one cancelled. Then waits for the outbox relay to bring
  // the figures to the statistics ledger.
  void Trade() {
    if (!supervisor_.empty()) return;
    supervisor_ = BootstrapSupervisor();
    operator_ = Subject("east-op", {{"kind", "ORGANIZATION"},
                                    {"roles", {"OPERATOR"}},
                                    {"displayName", "东城市场管理处"},
                                    {"creditCode", "91350100M000100Y43"}});
    seller_ = Subject("seller-li", {{"kind", "PERSON"},
                                    {"roles", {"SELLER"}},
                                    {"displayName", "李四"},
                                    {"idNumber", "11010519491231002X"}});
    std::string buyer = Subject("buyer-wang", {{"kind", "PERSON"},
                                               {"roles", {"BUYER"}},
                                               {"displayName", "王五"},
                                               {"idNumber", "440524188001010014"}});
    for (const char* id : {"east", "west"}) {
      Ok(Svc("listing.v1.MarketService", "CreateMarket"),
         {{"market",
           {{"kind", "FLEA_MARKET"},
            {"displayName", absl::StrCat("社区跳蚤市场 ", id)},
            {"regionCode", std::string(id) == "east" ? "350102" : "350211"},
            {"address", "一街 1 号"}}},
          {"marketId", id}},
         operator_);
      Ok(Svc("listing.v1.MarketService", "AddSeller"),
         {{"market", absl::StrCat("markets/", id)}, {"seller", "subjects/seller-li"}}, operator_);
    }
    struct Sale {
      const char* market;
      int64_t price;
      int fate;  // 0 placed, 1 completed, 2 cancelled
    };
    int serial = 0;
    for (const Sale& s : {Sale{"east", 120000, 1}, Sale{"east", 80050, 1}, Sale{"east", 99900, 0},
                          Sale{"west", 50000, 1}, Sale{"west", 30000, 2}}) {
      json listing =
          Ok(Svc("listing.v1.ListingService", "CreateListing"),
             {{"parent", absl::StrCat("markets/", s.market)},
              {"listing",
               {{"category", "APPLIANCE"},
                {"title", "海尔双门冰箱"},
                {"price", {{"amountFen", absl::StrCat(s.price)}}},
                {"declaredCondition",
                 {{"scheme", "general-condition-v1"}, {"version", 1}, {"level", "9成新"}}},
                {"appliance",
                 {{"brand", "Haier"},
                  {"model", "BCD-216"},
                  {"serialNumber", absl::StrCat("SN-", ++serial)}}}}}},
             seller_);
      Ok(Svc("listing.v1.ListingService", "PublishListing"), {{"name", listing["name"]}}, seller_);
      json order =
          Ok(Svc("listing.v1.OrderService", "PlaceOrder"), {{"listing", listing["name"]}}, buyer);
      if (s.fate == 1) {
        Ok(Svc("listing.v1.OrderService", "ConfirmDelivery"), {{"name", order["name"]}}, buyer);
        Ok(Svc("listing.v1.OrderService", "CompleteOrder"), {{"name", order["name"]}}, buyer);
      } else if (s.fate == 2) {
        Ok(Svc("listing.v1.OrderService", "CancelOrder"), {{"name", order["name"]}}, buyer);
      }
    }
    today_ = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 3600));
    // The relay delivers the events asynchronously: wait for all of them.
    absl::Time deadline = absl::Now() + absl::Seconds(60);
    for (;;) {
      sv1::QueryTradeResponse trade = QueryTrade();
      sv1::QueryFiguresResponse entities =
          QueryFigures(&sv1::StatisticsService::Stub::QueryEntities);
      int64_t placed = 0, completed = 0, cancelled = 0, sold = 0;
      for (const auto& r : trade.rows()) {
        placed += r.orders_placed();
        completed += r.orders_completed();
        cancelled += r.orders_cancelled();
      }
      for (const auto& r : entities.rows()) sold += r.values(3);  // listings_sold
      if (placed == 5 && completed == 3 && cancelled == 1 && sold == 3) break;
      ASSERT_LT(absl::Now(), deadline) << "figures not relayed: " << trade.DebugString();
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + supervisor_);
    return ctx;
  }
  sv1::QueryFiguresRequest Query() {
    sv1::QueryFiguresRequest req;
    req.set_period(sv1::MONTH);
    req.set_from_date(today_);
    req.set_group_by(sv1::MARKET);
    return req;
  }
  sv1::QueryTradeResponse QueryTrade() {
    sv1::QueryTradeRequest req;
    req.set_period(sv1::MONTH);
    req.set_from_date(today_);
    req.set_group_by(sv1::MARKET);
    sv1::QueryTradeResponse resp;
    grpc::Status s = stub_->QueryTrade(Ctx().get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  using FiguresRpc = grpc::Status (sv1::StatisticsService::Stub::*)(grpc::ClientContext*,
                                                                    const sv1::QueryFiguresRequest&,
                                                                    sv1::QueryFiguresResponse*);
  sv1::QueryFiguresResponse QueryFigures(FiguresRpc rpc) {
    sv1::QueryFiguresResponse resp;
    grpc::Status s = ((*stub_).*rpc)(Ctx().get(), Query(), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  // GET /stats/export/{file} with `token` ("" = none) and the month-by-market query.
  httplib::Result Download(const std::string& file, const std::string& token,
                           const std::string& query = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    std::string q =
        query.empty() ? absl::StrCat("period=MONTH&from=", today_, "&group_by=MARKET") : query;
    return http_->Get(absl::StrCat("/stats/export/", file, "?", q).c_str(), headers);
  }
  std::string Body(const std::string& file) {
    auto r = Download(file, supervisor_);
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 200) << r->body;
    return r->body;
  }

  // The rows of a downloaded table by group key (title and header dropped).
  static std::map<std::string, std::vector<std::string>> ByKey(const Cells& cells) {
    std::map<std::string, std::vector<std::string>> rows;
    for (size_t i = 2; i < cells.size(); ++i) rows[cells[i][0]] = cells[i];
    return rows;
  }

  static std::string supervisor_, operator_, seller_, today_;
  std::unique_ptr<sv1::StatisticsService::Stub> stub_;
};

std::string StatsExportHttpTest::supervisor_, StatsExportHttpTest::operator_,
    StatsExportHttpTest::seller_, StatsExportHttpTest::today_;

// Every trade figure of every market row, in the CSV and in the XLSX, is the
// gRPC query's (amounts in yuan).
TEST_F(StatsExportHttpTest, TradeCsvAndXlsxHoldTheQuerysNumbers) {
  auto csv = Download("trade.csv", supervisor_);
  ASSERT_TRUE(csv);
  ASSERT_EQ(csv->status, 200) << csv->body;
  EXPECT_EQ(csv->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv->body.substr(0, 3), "\xEF\xBB\xBF");
  sv1::QueryTradeResponse want = QueryTrade();
  EXPECT_EQ(csv->get_header_value("Content-Disposition"),
            absl::StrCat("attachment; filename=\"stats-trade-", want.from_date(), "_",
                         want.to_date(), ".csv\""));
  Cells cells = CsvCells(csv->body);
  ASSERT_GE(cells.size(), 2u);
  EXPECT_EQ(cells[0][0],
            absl::StrCat("交易统计 ", want.from_date(), " 至 ", want.to_date(), " · 按市场"));
  EXPECT_EQ(cells[1][1], "下单数");
  sqlite::testing::ScopedTempDir tmp;
  Cells xlsx = XlsxCells(Body("trade.xlsx"), tmp.path());
  ASSERT_EQ(xlsx.size(), cells.size());
  EXPECT_EQ(xlsx[0], cells[0]);
  EXPECT_EQ(xlsx[1], cells[1]);
  ASSERT_EQ(want.rows_size(), 2);
  for (const Cells* table : {&cells, &xlsx}) {
    auto rows = ByKey(*table);
    ASSERT_EQ(rows.size(), 2u);
    for (const sv1::TradeRow& r : want.rows()) {
      ASSERT_TRUE(rows.count(r.key())) << r.key();
      const std::vector<std::string>& got = rows[r.key()];
      ASSERT_EQ(got.size(), 13u);
      std::vector<double> figures = {
          double(r.orders_placed()),       double(r.orders_completed()),
          double(r.orders_cancelled()),    double(r.swaps_completed()),
          r.gross_fen() / 100.0,           r.mean_price_fen() / 100.0,
          r.median_price_fen() / 100.0,    double(r.listings_created()),
          double(r.listings_published()),  double(r.listings_removed()),
          double(r.median_days_to_sale()), double(r.mean_days_to_sale())};
      for (size_t i = 0; i < figures.size(); ++i) {
        ExpectNumber(got[i + 1], figures[i], absl::StrCat(r.key(), " column ", i + 1));
      }
    }
  }
  // And the figures are the orders made: east 2000.50 yuan completed, west 500.
  EXPECT_EQ(ByKey(cells)["markets/east"][5], "2000.50");
  EXPECT_EQ(ByKey(cells)["markets/west"][5], "500");
}

// The figure families: every column of every row, CSV and XLSX, is the
// gRPC query's value.
TEST_F(StatsExportHttpTest, FigureFamiliesCsvAndXlsxHoldTheQuerysValues) {
  struct Family {
    const char* name;
    FiguresRpc rpc;
  };
  sqlite::testing::ScopedTempDir tmp;
  for (const Family& f : {Family{"entities", &sv1::StatisticsService::Stub::QueryEntities},
                          Family{"claims", &sv1::StatisticsService::Stub::QueryAfterSales}}) {
    SCOPED_TRACE(f.name);
    sv1::QueryFiguresResponse want = QueryFigures(f.rpc);
    Cells csv = CsvCells(Body(absl::StrCat(f.name, ".csv")));
    Cells xlsx = XlsxCells(Body(absl::StrCat(f.name, ".xlsx")), tmp.path());
    ASSERT_EQ(csv.size(), static_cast<size_t>(want.rows_size()) + 2);
    ASSERT_EQ(xlsx.size(), csv.size());
    EXPECT_EQ(xlsx[1], csv[1]);
    for (const Cells* table : {&csv, &xlsx}) {
      auto rows = ByKey(*table);
      for (const sv1::FigureRow& r : want.rows()) {
        const std::vector<std::string>& got = rows[r.key()];
        ASSERT_EQ(got.size(), static_cast<size_t>(r.values_size()) + 1) << r.key();
        for (int i = 0; i < r.values_size(); ++i) {
          ExpectNumber(got[i + 1], double(r.values(i)),
                       absl::StrCat(r.key(), " ", want.columns(i)));
        }
      }
    }
  }
  // listings_sold per market: east 2, west 1.
  Cells entities = CsvCells(Body("entities.csv"));
  EXPECT_EQ(entities[1][4], "售出数");
  EXPECT_EQ(ByKey(entities)["markets/east"][4], "2");
  EXPECT_EQ(ByKey(entities)["markets/west"][4], "1");
}

// The Chinese headers a QueryFiguresResponse carries (column_titles, what the
// web console shows) are the downloads' headers, column for column.
TEST_F(StatsExportHttpTest, ColumnTitlesAreTheDownloadsHeaders) {
  const std::pair<std::string, FiguresRpc> families[] = {
      {"entities", &sv1::StatisticsService::Stub::QueryEntities},
      {"claims", &sv1::StatisticsService::Stub::QueryAfterSales}};
  for (const auto& [name, rpc] : families) {
    SCOPED_TRACE(name);
    sv1::QueryFiguresResponse want = QueryFigures(rpc);
    ASSERT_EQ(want.column_titles_size(), want.columns_size());
    std::vector<std::string> header = {"分组"};
    header.insert(header.end(), want.column_titles().begin(), want.column_titles().end());
    EXPECT_EQ(CsvCells(Body(name + ".csv"))[1], header);
  }
}

// marketctl's --format csv|xlsx and the HTTP download are one code path: the
// same query gives the same bytes.
TEST_F(StatsExportHttpTest, MarketctlWritesTheSameBytes) {
  sqlite::testing::ScopedTempDir tmp;
  for (const char* format : {"csv", "xlsx"}) {
    const std::string file = absl::StrCat(tmp.path(), "/trade.", format);
    testing::RunResult r = testing::Run(
        {MARKETCTL_BIN, "--server", absl::StrCat("127.0.0.1:", marketd_->grpc_port()), "--token",
         supervisor_, "--credentials", tmp.path() + "/none.json", "stats", "trade", "--period",
         "month", "--from", today_, "--group-by", "market", "--format", format, "-o", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(testing::ReadWholeFile(file), Body(absl::StrCat("trade.", format))) << format;
  }
}

// The RPC's own access rules: the public gets months by category with small
// cells as *, anything else 403; an operator sees its markets.
TEST_F(StatsExportHttpTest, AccessRulesAreTheRpcs) {
  auto by_market = Download("trade.csv", "");
  ASSERT_TRUE(by_market);
  EXPECT_EQ(by_market->status, 403) << by_market->body;
  json status = json::parse(by_market->body, nullptr, false);
  EXPECT_EQ(status["code"], 7);  // PERMISSION_DENIED
  auto seller = Download("entities.xlsx", seller_);
  ASSERT_TRUE(seller);
  EXPECT_EQ(seller->status, 403);
  auto public_month =
      Download("trade.csv", "", absl::StrCat("period=MONTH&from=", today_, "&group_by=CATEGORY"));
  ASSERT_TRUE(public_month);
  ASSERT_EQ(public_month->status, 200) << public_month->body;
  Cells cells = CsvCells(public_month->body);
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[2][0], "APPLIANCE");
  EXPECT_EQ(cells[2][1], "*");  // one seller and one buyer: suppressed
  auto op = Download("trade.csv", operator_);
  ASSERT_TRUE(op);
  EXPECT_EQ(op->status, 200) << op->body;
}

TEST_F(StatsExportHttpTest, ForgedTokenIs401) {
  auto r = Download("trade.csv", "not-a-token");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json::parse(r->body, nullptr, false)["code"], 16);  // UNAUTHENTICATED
}

TEST_F(StatsExportHttpTest, BadPeriodIs400NamingTheField) {
  auto r = Download("trade.xlsx", supervisor_, absl::StrCat("period=FORTNIGHT&from=", today_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  json status = json::parse(r->body, nullptr, false);
  EXPECT_EQ(status["code"], 3);  // INVALID_ARGUMENT
  ASSERT_TRUE(status["details"].is_array()) << r->body;
  EXPECT_EQ(status["details"][0]["fieldViolations"][0]["field"], "period") << r->body;
}

TEST_F(StatsExportHttpTest, BadDateIs400FromTheRpc) {
  auto r = Download("claims.csv", supervisor_, "period=MONTH&from=2026-13-40");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("from_date"));
}

TEST_F(StatsExportHttpTest, UnknownFamilyIs404) {
  auto r = Download("orders.csv", supervisor_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body, nullptr, false)["code"], 5);  // NOT_FOUND
}

}  // namespace
}  // namespace market
