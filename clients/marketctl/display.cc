#include "clients/marketctl/display.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "utf8proc.h"

namespace market::ctl {

int DisplayWidth(absl::string_view utf8) {
  int width = 0;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(utf8.data());
  auto left = static_cast<utf8proc_ssize_t>(utf8.size());
  while (left > 0) {
    utf8proc_int32_t code_point = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &code_point);
    if (n <= 0) {  // not UTF-8: the terminal shows a replacement, one column
      width += 1;
      n = 1;
    } else {
      width += utf8proc_charwidth(code_point);
    }
    p += n;
    left -= n;
  }
  return width;
}

std::string PadToWidth(absl::string_view text, int width) {
  return absl::StrCat(text, std::string(std::max(0, width - DisplayWidth(text)), ' '));
}

std::string AlignColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<int> widths;
  for (const auto& row : rows) {
    if (row.size() > widths.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i + 1 < row.size(); ++i)
      absl::StrAppend(&out, PadToWidth(row[i], widths[i] + 2));
    if (!row.empty()) out.append(row.back());
    out.push_back('\n');
  }
  return out;
}

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> all;
  all.reserve(rows.size() + 1);
  all.push_back(header);
  all.insert(all.end(), rows.begin(), rows.end());
  return AlignColumns(all);
}

std::string FormatKeyValues(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(pairs.size());
  for (const auto& [key, value] : pairs) rows.push_back({key, value});
  return AlignColumns(rows);
}

}  // namespace market::ctl
