#include "services/stats/export_table.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "xlsxwriter.h"

namespace market::stats {

StatsTable TradeTable(const v1::QueryTradeResponse& resp, const std::string& filters) {
  StatsTable t;
  t.from_date = resp.from_date();
  t.to_date = resp.to_date();
  t.title = absl::StrCat(kTradeTitle, " ", resp.from_date(), " 至 ", resp.to_date(),
                         filters.empty() ? "" : " · ", filters);
  t.header = {"分组",     "下单数",   "成交数",   "取消数",         "互换成交数",
              "成交额(元)", "均价(元)", "中位价(元)", "新建挂牌数",     "上架数",
              "下架数",     "售出天数中位数", "售出天数均值"};
  for (const auto& r : resp.rows()) {
    std::string key = r.key().empty() ? "合计" : r.key();
    if (r.suppressed()) {
      std::vector<StatsCell> stars = {key};
      stars.resize(t.header.size(), StatsCell(std::string("*")));
      t.rows.push_back(std::move(stars));
      continue;
    }
    auto yuan = [](int64_t fen) { return static_cast<double>(fen) / 100.0; };
    t.rows.push_back({key, static_cast<double>(r.orders_placed()),
                      static_cast<double>(r.orders_completed()),
                      static_cast<double>(r.orders_cancelled()),
                      static_cast<double>(r.swaps_completed()), yuan(r.gross_fen()),
                      yuan(r.mean_price_fen()), yuan(r.median_price_fen()),
                      static_cast<double>(r.listings_created()),
                      static_cast<double>(r.listings_published()),
                      static_cast<double>(r.listings_removed()),
                      static_cast<double>(r.median_days_to_sale()),
                      static_cast<double>(r.mean_days_to_sale())});
  }
  return t;
}

std::string FigureHeader(const std::string& column) {
  static const auto* names = new std::map<std::string, std::string>{
      {"claims_filed", "受理投诉数"},
      {"refund_claims", "退货"},
      {"exchange_claims", "换货"},
      {"repair_claims", "维修"},
      {"upheld", "裁定支持"},
      {"dismissed", "裁定驳回"},
      {"replies_on_time", "按时答复"},
      {"replies_missed", "逾期未答复"},
      {"resolved", "已解决"},
      {"median_days_to_resolution", "解决天数中位数"},
      {"reports_filed", "鉴定报告数"},
      {"disputes_raised", "异议数"},
      {"disputes_ruled", "异议已裁定"},
      {"overturned", "鉴定被推翻"},
      {"overturn_permille", "推翻率(‰)"},
      {"listings_created", "新建挂牌数"},
      {"listings_published", "上架数"},
      {"listings_removed", "下架数"},
      {"listings_sold", "售出数"},
      {"median_days_to_sale", "售出天数中位数"},
      {"mean_days_to_sale", "售出天数均值"},
      {"active_markets", "活跃市场数"},
      {"active_sellers", "活跃卖家数"},
      {"new_sellers", "新增卖家数"},
      // QueryCredit
      {"records", "新增信用记录"},
      {"positive_records", "守信记录"},
      {"minor_records", "轻微失信"},
      {"general_records", "一般失信"},
      {"serious_records", "严重失信"},
      {"records_trade_completed", "交易完成"},
      {"records_claim_resolved_on_time", "投诉按时解决"},
      {"records_claim_upheld", "投诉成立"},
      {"records_claim_reply_missed", "投诉逾期未答复"},
      {"records_claim_unfounded", "不实投诉"},
      {"records_appraisal_overturned", "鉴定被推翻"},
      {"records_listing_removed", "违规下架"},
      {"records_counterfeit_confirmed", "售假"},
      {"records_fraud_confirmed", "欺诈"},
      {"records_mileage_rollback_confirmed", "篡改里程"},
      {"records_unlicensed_operation", "无证经营"},
      {"records_commendation", "表彰"},
      {"records_sanction_other", "其他处罚"},
      {"records_credit_repaired", "信用修复"},
      {"records_record_expired", "记录到期"},
      {"records_record_withdrawn", "记录撤销"},
      {"subjects_level_a", "A级主体"},
      {"subjects_level_b", "B级主体"},
      {"subjects_level_c", "C级主体"},
      {"subjects_level_d", "D级主体"},
      {"blacklisted", "黑名单"},
      {"redlisted", "红名单"},
  };
  auto it = names->find(column);
  if (it != names->end()) return it->second;
  absl::string_view type = column;
  if (absl::ConsumePrefix(&type, "records_")) return "记录·" + absl::AsciiStrToUpper(type);
  return column;
}

StatsTable FiguresTable(const v1::QueryFiguresResponse& resp, const std::string& family,
                        const std::string& filters) {
  StatsTable t;
  t.from_date = resp.from_date();
  t.to_date = resp.to_date();
  t.title = absl::StrCat(family, " ", resp.from_date(), " 至 ", resp.to_date(),
                         filters.empty() ? "" : " · ", filters);
  t.header = {"分组"};
  for (const std::string& c : resp.columns()) t.header.push_back(FigureHeader(c));
  for (const auto& r : resp.rows()) {
    std::vector<StatsCell> row = {r.key().empty() ? std::string("合计") : r.key()};
    for (int64_t v : r.values()) {
      row.push_back(r.suppressed() ? StatsCell(std::string("*"))
                                   : StatsCell(static_cast<double>(v)));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string CellText(const StatsCell& cell) {
  if (const auto* s = std::get_if<std::string>(&cell)) return *s;
  double v = std::get<double>(cell);
  if (v == static_cast<double>(static_cast<int64_t>(v)))
    return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrFormat("%.2f", v);
}

namespace {
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}
}  // namespace

std::string ToCsv(const StatsTable& table) {
  std::string out = "\xEF\xBB\xBF" + CsvField(table.title) + "\r\n";
  for (size_t i = 0; i < table.header.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", CsvField(table.header[i]));
  }
  out += "\r\n";
  for (const auto& row : table.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", CsvField(CellText(row[i])));
    }
    out += "\r\n";
  }
  return out;
}

namespace {
// Midnight UTC of the day `date` ("YYYY-MM-DD"); 1 (not 0, which libxlsxwriter
// replaces by the current time) when it is not a date.
time_t CreatedTime(const std::string& date) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(date, &day)) return 1;
  return absl::ToTimeT(absl::FromCivil(day, absl::UTCTimeZone()));
}
}  // namespace

absl::Status WriteXlsx(const StatsTable& table, const std::string& path) {
  lxw_workbook_options options = {};
  options.constant_memory = LXW_TRUE;  // rows streamed; strings written inline
  lxw_workbook* wb = workbook_new_opt(path.c_str(), &options);
  if (wb == nullptr) return absl::UnavailableError(absl::StrCat("cannot create ", path));
  // Fixed document properties: the same table always makes the same bytes
  // (libxlsxwriter's zip entries carry a fixed date too).
  lxw_doc_properties properties = {};
  std::string title = table.title;
  properties.title = title.data();
  properties.created = CreatedTime(table.to_date);
  workbook_set_properties(wb, &properties);
  lxw_worksheet* ws = workbook_add_worksheet(wb, "统计");
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  worksheet_write_string(ws, 0, 0, table.title.c_str(), bold);
  for (size_t i = 0; i < table.header.size(); ++i) {
    worksheet_write_string(ws, 1, static_cast<lxw_col_t>(i), table.header[i].c_str(), bold);
  }
  for (size_t r = 0; r < table.rows.size(); ++r) {
    for (size_t c = 0; c < table.rows[r].size(); ++c) {
      const StatsCell& cell = table.rows[r][c];
      auto row = static_cast<lxw_row_t>(r + 2);
      auto col = static_cast<lxw_col_t>(c);
      if (const auto* s = std::get_if<std::string>(&cell)) {
        worksheet_write_string(ws, row, col, s->c_str(), nullptr);
      } else {
        worksheet_write_number(ws, row, col, std::get<double>(cell), nullptr);
      }
    }
  }
  lxw_error err = workbook_close(wb);
  if (err != LXW_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", lxw_strerror(err)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> XlsxBytes(const StatsTable& table) {
  std::string path = (std::filesystem::temp_directory_path() / "market-stats-XXXXXX").string();
  int fd = mkstemp(path.data());
  if (fd < 0) return absl::UnavailableError("cannot create a temporary file for the XLSX");
  close(fd);
  absl::Status written = WriteXlsx(table, path);
  std::string bytes;
  if (written.ok()) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in.good() && !in.eof()) written = absl::UnavailableError("cannot read back the XLSX");
    bytes = std::move(buffer).str();
  }
  std::remove(path.c_str());
  if (!written.ok()) return written;
  return bytes;
}

const std::vector<FiguresFamily>& FiguresFamilies() {
  using Stub = v1::StatisticsService::StubInterface;
  static const auto* families = new std::vector<FiguresFamily>{
      {"claims", "售后统计", &Stub::QueryAfterSales},
      {"appraisals", "鉴定统计", &Stub::QueryAppraisals},
      {"entities", "市场主体统计", &Stub::QueryEntities},
      {"credit", "信用统计", &Stub::QueryCredit},
  };
  return *families;
}

std::string GroupName(v1::GroupBy g) {
  switch (g) {
    case v1::CATEGORY: return "按类别";
    case v1::MARKET: return "按市场";
    case v1::COUNTY: return "按区县";
    case v1::CITY: return "按地市";
    case v1::PROVINCE: return "按省份";
    case v1::SELLER: return "按卖家";
    case v1::FIRM: return "按鉴定机构";
    case v1::SUBJECT_ROLE: return "按主体角色";
    default: return "合计";
  }
}

v1::QueryTradeRequest TradeRequestOf(const v1::QueryFiguresRequest& req) {
  v1::QueryTradeRequest trade;
  trade.set_period(req.period());
  trade.set_from_date(req.from_date());
  trade.set_to_date(req.to_date());
  trade.set_group_by(req.group_by());
  *trade.mutable_markets() = req.markets();
  trade.set_region(req.region());
  trade.set_category(req.category());
  return trade;
}

}  // namespace market::stats
