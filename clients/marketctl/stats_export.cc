#include "clients/marketctl/stats_export.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "xlsxwriter.h"

namespace market::ctl {

StatsTable TradeTable(const stats::v1::QueryTradeResponse& resp, const std::string& filters) {
  StatsTable t;
  t.title = absl::StrCat("交易统计 ", resp.from_date(), " 至 ", resp.to_date(),
                         filters.empty() ? "" : " · ", filters);
  t.header = {"分组", "下单数", "成交数", "取消数", "互换成交数", "成交额(元)", "均价(元)", "中位价(元)"};
  for (const auto& r : resp.rows()) {
    std::string key = r.key().empty() ? "合计" : r.key();
    if (r.suppressed()) {
      t.rows.push_back({key, "*", "*", "*", "*", "*", "*", "*"});
      continue;
    }
    auto yuan = [](int64_t fen) { return static_cast<double>(fen) / 100.0; };
    t.rows.push_back({key, static_cast<double>(r.orders_placed()),
                      static_cast<double>(r.orders_completed()),
                      static_cast<double>(r.orders_cancelled()),
                      static_cast<double>(r.swaps_completed()), yuan(r.gross_fen()),
                      yuan(r.mean_price_fen()), yuan(r.median_price_fen())});
  }
  return t;
}

std::string CellText(const StatsCell& cell) {
  if (const auto* s = std::get_if<std::string>(&cell)) return *s;
  double v = std::get<double>(cell);
  if (v == static_cast<double>(static_cast<int64_t>(v))) return absl::StrCat(static_cast<int64_t>(v));
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

absl::Status WriteXlsx(const StatsTable& table, const std::string& path) {
  lxw_workbook_options options = {};
  options.constant_memory = LXW_TRUE;  // rows streamed; strings written inline
  lxw_workbook* wb = workbook_new_opt(path.c_str(), &options);
  if (wb == nullptr) return absl::UnavailableError(absl::StrCat("cannot create ", path));
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

}  // namespace market::ctl
