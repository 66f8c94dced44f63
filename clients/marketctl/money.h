// Money as marketctl reads and shows it. On the wire and in -o json an amount
// is fen (Money.amount_fen, 1/100 yuan); tables and key/value output show yuan
// as "1299.50元"; flags and filter terms take yuan written with a 元 (or
// "yuan") suffix. Pure functions; thread-safe.
#ifndef MARKET_CLIENTS_MARKETCTL_MONEY_H_
#define MARKET_CLIENTS_MARKETCTL_MONEY_H_

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "market/common/v1/common.pb.h"

namespace market::ctl {

// The unit shown after yuan amounts.
inline constexpr char kYuanUnit[] = "元";

// Yuan to fen: "1299.50" → 129950, "12元" → 1200, "0.5 yuan" → 50. An optional
// 元 or "yuan" suffix (any case, spaces allowed before it) is dropped.
// INVALID_ARGUMENT "\"TEXT\": why" for anything but digits with at most two
// decimals (negative, "1.234", "1.", ".5", "1e3", "¥12", empty) and for
// amounts that overflow int64 fen.
absl::StatusOr<int64_t> ParseYuan(absl::string_view text);

// ParseYuan for the value of `flag`; the error message starts with the flag:
// "--price \"1.234元\": more than two decimals (1 fen = 0.01 yuan)".
absl::StatusOr<int64_t> ParseYuanFlag(absl::string_view flag, absl::string_view text);

// Fen as yuan with two decimals: 129950 → "1299.50", -105 → "-1.05".
std::string FormatFen(int64_t fen);

// Fen as yuan with the unit: 129950 → "1299.50元". No thousands separators, so
// that a shown amount can be typed back (--price 1299.50元, price>=1299.50元).
std::string FormatYuan(int64_t fen);

// A Money for display: FormatYuan for CNY (or no currency), else "12.00 USD".
std::string FormatMoney(const ::market::common::v1::Money& money);

// Rewrites the terms of a filter (`key OP value` joined by " AND ", as in
// common/pagination/filter.h) whose key is `money_key` and whose value names
// its unit: "1000元" / "1000 yuan" → fen ("100000"), "500分" / "500 fen" →
// "500". A bare number is left as it is (the server reads it as fen); other
// terms are kept as written. INVALID_ARGUMENT for a malformed amount:
// "\"price>=1.234元\": more than two decimals (1 fen = 0.01 yuan)".
absl::StatusOr<std::string> MoneyFilterToFen(absl::string_view filter, absl::string_view money_key);

// A CLI11 transform for a --filter option: MoneyFilterToFen on the value, so
// the request carries fen; a malformed amount fails parsing (exit 64) with
// "--filter: \"price>=1.234元\": more than two decimals (1 fen = 0.01 yuan)".
CLI::Validator MoneyFilterTransform(const std::string& money_key);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_MONEY_H_
