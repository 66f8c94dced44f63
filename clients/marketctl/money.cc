#include "clients/marketctl/money.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace market::ctl {
namespace {

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// Removes a trailing unit (`symbol` or `word`, the word in any case) and the
// spaces before it; false when `text` has neither.
bool ConsumeUnit(absl::string_view* text, absl::string_view symbol, absl::string_view word) {
  if (!absl::ConsumeSuffix(text, symbol)) {
    if (text->size() < word.size() ||
        !absl::EqualsIgnoreCase(text->substr(text->size() - word.size()), word)) {
      return false;
    }
    text->remove_suffix(word.size());
  }
  *text = absl::StripTrailingAsciiWhitespace(*text);
  return true;
}

// Yuan digits (no unit) to fen; the error says only why.
absl::StatusOr<int64_t> YuanDigitsToFen(absl::string_view text) {
  if (absl::StartsWith(text, "-")) return absl::InvalidArgumentError("negative, want >= 0");
  const size_t dot = text.find('.');
  const absl::string_view whole = text.substr(0, dot);
  const absl::string_view frac =
      dot == absl::string_view::npos ? absl::string_view() : text.substr(dot + 1);
  if (!AllDigits(whole) || (dot != absl::string_view::npos && !AllDigits(frac))) {
    return absl::InvalidArgumentError(
        "want yuan as digits with at most two decimals, e.g. 1299.50元");
  }
  if (frac.size() > 2) {
    return absl::InvalidArgumentError("more than two decimals (1 fen = 0.01 yuan)");
  }
  int64_t yuan = 0;
  constexpr int64_t kMaxYuan = (std::numeric_limits<int64_t>::max() - 99) / 100;
  if (whole.size() > 18 || !absl::SimpleAtoi(whole, &yuan) || yuan > kMaxYuan) {
    return absl::InvalidArgumentError("too large");
  }
  int64_t fen = 0;
  if (!frac.empty()) fen += (frac[0] - '0') * 10;
  if (frac.size() == 2) fen += frac[1] - '0';
  return yuan * 100 + fen;
}

// A filter value with its unit as fen digits; "" when it names no unit (left
// to the server). The error says only why.
absl::StatusOr<std::string> FilterValueToFen(absl::string_view value) {
  absl::string_view number = value;
  if (ConsumeUnit(&number, kYuanUnit, "yuan")) {
    auto fen = YuanDigitsToFen(number);
    if (!fen.ok()) return fen.status();
    return absl::StrCat(*fen);
  }
  if (ConsumeUnit(&number, "分", "fen")) {
    if (!AllDigits(number)) {
      return absl::InvalidArgumentError("want whole fen, e.g. 500分 (or yuan: 5.00元)");
    }
    return std::string(number);
  }
  return std::string();
}

}  // namespace

absl::StatusOr<int64_t> ParseYuan(absl::string_view text) {
  absl::string_view number = absl::StripAsciiWhitespace(text);
  ConsumeUnit(&number, kYuanUnit, "yuan");
  auto fen = YuanDigitsToFen(number);
  if (!fen.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\": ", fen.status().message()));
  }
  return *fen;
}

absl::StatusOr<int64_t> ParseYuanFlag(absl::string_view flag, absl::string_view text) {
  auto fen = ParseYuan(text);
  if (!fen.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", fen.status().message()));
  }
  return *fen;
}

std::string FormatFen(int64_t fen) {
  const bool negative = fen < 0;
  const uint64_t abs = negative ? 0 - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  const uint64_t cents = abs % 100;
  return absl::StrCat(negative ? "-" : "", abs / 100, cents < 10 ? ".0" : ".", cents);
}

std::string FormatYuan(int64_t fen) { return absl::StrCat(FormatFen(fen), kYuanUnit); }

std::string FormatMoney(const ::market::common::v1::Money& money) {
  if (money.currency().empty() || money.currency() == "CNY") return FormatYuan(money.amount_fen());
  return absl::StrCat(FormatFen(money.amount_fen()), " ", money.currency());
}

absl::StatusOr<std::string> MoneyFilterToFen(absl::string_view filter,
                                             absl::string_view money_key) {
  std::vector<std::string> terms;
  for (absl::string_view raw : absl::StrSplit(filter, " AND ")) {
    const absl::string_view t = absl::StripAsciiWhitespace(raw);
    const size_t at = t.find_first_of("<>=!");
    if (at == absl::string_view::npos || at == 0 ||
        absl::StripAsciiWhitespace(t.substr(0, at)) != money_key) {
      terms.emplace_back(raw);  // not a money term; the server judges it
      continue;
    }
    size_t end = t.find_first_not_of("<>=!", at);
    if (end == absl::string_view::npos) end = t.size();
    absl::string_view value = absl::StripAsciiWhitespace(t.substr(end));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = absl::StripAsciiWhitespace(value.substr(1, value.size() - 2));
    }
    auto fen = FilterValueToFen(value);
    if (!fen.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("\"", t, "\": ", fen.status().message()));
    }
    if (fen->empty()) {
      terms.emplace_back(raw);  // a bare number: fen, as the server reads it
      continue;
    }
    const size_t lead = static_cast<size_t>(t.data() - raw.data());
    terms.push_back(absl::StrCat(raw.substr(0, lead), money_key, t.substr(at, end - at), *fen,
                                 raw.substr(lead + t.size())));
  }
  return absl::StrJoin(terms, " AND ");
}

CLI::Validator MoneyFilterTransform(const std::string& money_key) {
  return CLI::Validator(
      [money_key](std::string& value) -> std::string {
        auto fen = MoneyFilterToFen(value, money_key);
        if (!fen.ok()) return std::string(fen.status().message());
        value = *fen;
        return "";
      },
      "", "MONEY_FILTER");
}

}  // namespace market::ctl
