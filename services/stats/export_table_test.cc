// The statistics exports: the XLSX opens (read back with unzip and its sheet
// XML parsed) and holds the same title, headers and numbers as the CSV.
#include "services/stats/export_table.h"

#include <unistd.h>

#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "market/credit/v1/credit.pb.h"

namespace market::stats {
namespace {

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

v1::QueryTradeResponse Sample() {
  v1::QueryTradeResponse resp;
  resp.set_from_date("2026-03-01");
  resp.set_to_date("2026-03-31");
  auto* a = resp.add_rows();
  a->set_key("PHONE");
  a->set_orders_placed(12);
  a->set_orders_completed(9);
  a->set_orders_cancelled(2);
  a->set_gross_fen(1234550);
  a->set_mean_price_fen(137172);
  a->set_median_price_fen(120000);
  auto* b = resp.add_rows();
  b->set_key("VEHICLE");
  b->set_suppressed(true);
  return resp;
}

// The cells of the CSV (after the BOM), row by row.
std::vector<std::vector<std::string>> CsvCells(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  for (absl::string_view line :
       absl::StrSplit(absl::StripPrefix(csv, "\xEF\xBB\xBF"), "\r\n", absl::SkipEmpty())) {
    rows.push_back(absl::StrSplit(line, ','));
  }
  return rows;
}

TEST(StatsExportTest, CsvHasTitleChineseHeadersAndFigures) {
  auto rows = CsvCells(ToCsv(TradeTable(Sample(), "按类别")));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][0], "交易统计 2026-03-01 至 2026-03-31 · 按类别");
  EXPECT_EQ(rows[1][0], "分组");
  EXPECT_EQ(rows[1][5], "成交额(元)");
  EXPECT_THAT(rows[2], ::testing::ElementsAre("PHONE", "12", "9", "2", "0", "12345.50", "1371.72", "1200",
                                            "0", "0", "0", "0", "0"));
  EXPECT_EQ(rows[3][1], "*");
}

// Writes `table` as XLSX and checks it opens and holds the CSV's cells.
void ExpectXlsxMatchesCsv(const StatsTable& table) {
  sqlite::testing::ScopedTempDir dir;
  const std::string path = dir.path() + "/stats.xlsx";
  ASSERT_OK(WriteXlsx(table, path));
  // unzip -t checks every member's CRC: the file is a sound zip archive.
  EXPECT_THAT(RunCommand("unzip -t '" + path + "' 2>&1"), ::testing::HasSubstr("No errors detected"));
  std::string sheet = RunCommand("unzip -p '" + path + "' xl/worksheets/sheet1.xml");
  ASSERT_THAT(sheet, ::testing::HasSubstr("<worksheet"));
  // Cells in document order: inline strings (<is><t>) and numbers (<v>).
  std::regex cell(R"re(<c r="([A-Z]+)(\d+)"[^>]*>(?:<is><t[^>]*>([^<]*)</t></is>|<v>([^<]*)</v>)</c>)re");
  std::map<int, std::vector<std::string>> xlsx;
  for (auto it = std::sregex_iterator(sheet.begin(), sheet.end(), cell); it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    std::string text = m[3].matched ? m[3].str() : m[4].str();
    if (m[4].matched) text = CellText(std::stod(text));
    xlsx[std::stoi(m[2].str())].push_back(text);
  }
  auto csv = CsvCells(ToCsv(table));
  ASSERT_EQ(xlsx.size(), csv.size());
  for (size_t r = 0; r < csv.size(); ++r) EXPECT_EQ(xlsx[r + 1], csv[r]) << "row " << r + 1;
}

TEST(StatsExportTest, XlsxOpensAndHoldsTheCsvNumbers) {
  ExpectXlsxMatchesCsv(TradeTable(Sample(), "按类别"));
}

v1::QueryFiguresResponse ClaimsSample() {
  v1::QueryFiguresResponse resp;
  resp.set_from_date("2026-03-01");
  resp.set_to_date("2026-03-31");
  for (const char* c : {"claims_filed", "refund_claims", "median_days_to_resolution"}) {
    resp.add_columns(c);
  }
  auto* a = resp.add_rows();
  a->set_key("markets/east");
  for (int64_t v : {7, 2, 3}) a->add_values(v);
  auto* b = resp.add_rows();
  b->set_key("markets/west");
  for (int i = 0; i < 3; ++i) b->add_values(0);
  b->set_suppressed(true);
  return resp;
}

TEST(StatsExportTest, FiguresTableHasChineseHeadersAndStarsForSuppressedCells) {
  auto rows = CsvCells(ToCsv(FiguresTable(ClaimsSample(), "售后统计", "按市场")));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][0], "售后统计 2026-03-01 至 2026-03-31 · 按市场");
  EXPECT_THAT(rows[1], ::testing::ElementsAre("分组", "受理投诉数", "退货", "解决天数中位数"));
  EXPECT_THAT(rows[2], ::testing::ElementsAre("markets/east", "7", "2", "3"));
  EXPECT_THAT(rows[3], ::testing::ElementsAre("markets/west", "*", "*", "*"));
}

TEST(StatsExportTest, AfterSalesXlsxHoldsTheCsvNumbers) {
  ExpectXlsxMatchesCsv(FiguresTable(ClaimsSample(), "售后统计", "按市场"));
}

TEST(StatsExportTest, EveryCreditRecordTypeColumnHasAChineseHeader) {
  // QueryCredit has a records_<type> column per record type (stats.proto).
  const auto* types = credit::v1::Record::Type_descriptor();
  for (int i = 1; i < types->value_count(); ++i) {
    const std::string column = "records_" + absl::AsciiStrToLower(types->value(i)->name());
    EXPECT_NE(FigureHeader(column), column) << column;
  }
}

TEST(StatsExportTest, CreditTableHasPerRoleRowsAndLevelHeaders) {
  stats::v1::QueryFiguresResponse resp;
  resp.set_from_date("2026-03-01");
  resp.set_to_date("2026-03-31");
  for (const char* c : {"records", "serious_records", "subjects_level_d", "blacklisted"}) {
    resp.add_columns(c);
  }
  auto* seller = resp.add_rows();
  seller->set_key("SELLER");
  for (int64_t v : {12, 2, 3, 2}) seller->add_values(v);
  auto rows = CsvCells(ToCsv(FiguresTable(resp, "信用统计", "按主体角色")));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "信用统计 2026-03-01 至 2026-03-31 · 按主体角色");
  EXPECT_THAT(rows[1], ::testing::ElementsAre("分组", "新增信用记录", "严重失信", "D级主体", "黑名单"));
  EXPECT_THAT(rows[2], ::testing::ElementsAre("SELLER", "12", "2", "3", "2"));
}

// The same figures make the same bytes whenever they are written (marketctl
// and the HTTP export agree byte for byte): no clock in the workbook. The
// zip's DOS times have a 2-second resolution, hence the pause.
TEST(StatsExportTest, XlsxBytesDependOnlyOnTheTable) {
  StatsTable table = TradeTable(Sample(), "按类别");
  ASSERT_OK_AND_ASSIGN(std::string first, XlsxBytes(table));
  sleep(2);
  ASSERT_OK_AND_ASSIGN(std::string second, XlsxBytes(table));
  EXPECT_EQ(first, second);
  EXPECT_EQ(first.substr(0, 2), "PK");
  table.rows[0][1] = 13.0;
  ASSERT_OK_AND_ASSIGN(std::string changed, XlsxBytes(table));
  EXPECT_NE(changed, first);
}

// A record type added after this table still gets a readable header.
TEST(StatsExportTest, UnknownCreditRecordTypeColumnGetsAHeader) {
  EXPECT_EQ(FigureHeader("records_counterfeit_confirmed"), "售假");
  EXPECT_EQ(FigureHeader("records_some_future_type"), "记录·SOME_FUTURE_TYPE");
  EXPECT_EQ(FigureHeader("something_new"), "something_new");
}

}  // namespace
}  // namespace market::stats
