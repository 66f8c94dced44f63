// Check-digit validation of the identifiers the market records (IMEI, VIN,
// unified social credit code, resident ID number) and masking of personal
// identifiers for display and logs. Algorithms: DOMAIN.md §3.
// Thread-safe: everything here is a pure function.
//
// Every Validate* function returns OK or INVALID_ARGUMENT whose message says
// what is wrong (length, bad character at a 1-based position, check digit is
// X want Y) without naming a field; callers attach the field name, e.g.
// InvalidField("device.imei", status.message()). Input is never trimmed.
// Letters must be upper-case in VINs and credit codes (lower-case letters are
// rejected, not folded); the ID number's final check character may be 'X' or
// 'x'.
#ifndef MARKET_COMMON_VALIDATE_IDENTIFIERS_H_
#define MARKET_COMMON_VALIDATE_IDENTIFIERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace market {

// Earliest birth year ValidateIdNumber accepts. DOMAIN.md's own test vector
// 440524188001010014 is born in 1880, so the floor is 1800 rather than 1900.
inline constexpr int kMinIdBirthYear = 1800;

// IMEI: exactly 15 ASCII digits whose last digit is the Luhn check digit of
// the first 14. INVALID_ARGUMENT otherwise.
absl::Status ValidateImei(absl::string_view imei);

// VIN (ISO 3779 / GB 16735): exactly 17 characters from 0-9 and A-Z without
// I, O, Q, and position 9 is the weighted mod-11 check character ('X' = 10).
// INVALID_ARGUMENT otherwise.
absl::Status ValidateVin(absl::string_view vin);

// Like ValidateVin but skips the check digit: for the audited override of old
// or imported vehicles whose VIN carries no valid check digit.
absl::Status ValidateVinFormat(absl::string_view vin);

// Unified social credit code (GB 32100-2015): exactly 18 characters from
// "0123456789ABCDEFGHJKLMNPQRTUWXY" whose last is the mod-31 check character.
// INVALID_ARGUMENT otherwise.
absl::Status ValidateUscc(absl::string_view uscc);

// Resident ID number (GB 11643): 17 digits and a mod-11 check character
// (0-9 or X, 'x' accepted). Digits 7-14 must be a real calendar date
// YYYYMMDD with year >= kMinIdBirthYear and not after today's date in China
// (UTC+8) at `now`. INVALID_ARGUMENT otherwise.
absl::Status ValidateIdNumber(absl::string_view id_number, absl::Time now);

// Display form of an ID number: first 4 characters, ten '*', last 4
// ("5131**********0014"). Input shorter than 15 characters (no plausible ID)
// becomes '*' repeated to its length.
std::string MaskIdNumber(absl::string_view id_number);

// Display form of a phone number: first 3 and last 4 characters kept, the
// rest '*' ("138****5678"). Input shorter than 11 characters becomes '*'
// repeated to its length.
std::string MaskPhone(absl::string_view phone);

}  // namespace market

#endif  // MARKET_COMMON_VALIDATE_IDENTIFIERS_H_
