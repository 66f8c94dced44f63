#include "common/validate/identifiers.h"

#include <array>
#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace market {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }

// 'c' quoted, with non-printable bytes escaped.
std::string Quote(char c) {
  return absl::StrCat("'", absl::CHexEscape(absl::string_view(&c, 1)), "'");
}

absl::Status WrongLength(absl::string_view what, absl::string_view value, size_t want) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " has ", value.size(), " characters, want ", want));
}

// `i` is 0-based; messages use 1-based positions.
absl::Status BadCharacter(absl::string_view value, size_t i, absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat("character ", Quote(value[i]), " at position ",
                                                 i + 1, " is not allowed, want ", want));
}

absl::Status WrongCheck(char got, char want) {
  return absl::InvalidArgumentError(
      absl::StrCat("check character is ", Quote(got), ", want ", Quote(want)));
}

// ---- VIN ----

constexpr size_t kVinLength = 17;
constexpr size_t kVinCheckIndex = 8;
constexpr std::array<int, kVinLength> kVinWeights = {8, 7, 6, 5, 4, 3, 2, 10, 0,
                                                     9, 8, 7, 6, 5, 4, 3, 2};

// Transliterated value of a VIN character, or -1 if it is not allowed.
int VinValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'A' && c <= 'H') return c - 'A' + 1;
  if (c >= 'J' && c <= 'N') return c - 'J' + 1;
  if (c == 'P') return 7;
  if (c == 'R') return 9;
  if (c >= 'S' && c <= 'Z') return c - 'S' + 2;
  return -1;  // I, O, Q, lower case, anything else.
}

// ---- USCC ----

constexpr size_t kUsccLength = 18;
constexpr absl::string_view kUsccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr std::array<int, kUsccLength - 1> kUsccWeights = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                                           29, 25, 13, 8,  24, 10, 30, 28};

// ---- ID number ----

constexpr size_t kIdLength = 18;
constexpr std::array<int, kIdLength - 1> kIdWeights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                       3, 7, 9,  10, 5, 8, 4, 2};
constexpr absl::string_view kIdCheckChars = "10X98765432";
constexpr size_t kIdBirthDateIndex = 6;

int ParseDigits(absl::string_view digits) {
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

// Identity documents are issued in China, so "today" is the date in UTC+8.
absl::CivilDay TodayInChina(absl::Time now) {
  return absl::ToCivilDay(now, absl::FixedTimeZone(8 * 60 * 60));
}

}  // namespace

absl::Status ValidateImei(absl::string_view imei) {
  constexpr size_t kImeiLength = 15;
  if (imei.size() != kImeiLength) return WrongLength("IMEI", imei, kImeiLength);
  for (size_t i = 0; i < imei.size(); ++i) {
    if (!IsDigit(imei[i])) return BadCharacter(imei, i, "a digit");
  }
  int sum = 0;
  for (size_t i = 0; i < kImeiLength - 1; ++i) {
    int d = imei[i] - '0';
    if (i % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  const char want = static_cast<char>('0' + (10 - sum % 10) % 10);
  if (imei.back() != want) return WrongCheck(imei.back(), want);
  return absl::OkStatus();
}

absl::Status ValidateVinFormat(absl::string_view vin) {
  if (vin.size() != kVinLength) return WrongLength("VIN", vin, kVinLength);
  for (size_t i = 0; i < vin.size(); ++i) {
    if (VinValue(vin[i]) < 0) {
      if (IsLower(vin[i])) return BadCharacter(vin, i, "an upper-case letter or digit");
      return BadCharacter(vin, i, "a digit or an upper-case letter other than I, O, Q");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateVin(absl::string_view vin) {
  if (absl::Status s = ValidateVinFormat(vin); !s.ok()) return s;
  int sum = 0;
  for (size_t i = 0; i < kVinLength; ++i) sum += VinValue(vin[i]) * kVinWeights[i];
  const int remainder = sum % 11;
  const char want = remainder == 10 ? 'X' : static_cast<char>('0' + remainder);
  if (vin[kVinCheckIndex] != want) return WrongCheck(vin[kVinCheckIndex], want);
  return absl::OkStatus();
}

absl::Status ValidateUscc(absl::string_view uscc) {
  if (uscc.size() != kUsccLength) return WrongLength("credit code", uscc, kUsccLength);
  for (size_t i = 0; i < uscc.size(); ++i) {
    if (kUsccAlphabet.find(uscc[i]) == absl::string_view::npos) {
      if (IsLower(uscc[i])) return BadCharacter(uscc, i, "an upper-case letter or digit");
      return BadCharacter(uscc, i, "a digit or an upper-case letter other than I, O, Z, S, V");
    }
  }
  int sum = 0;
  for (size_t i = 0; i < kUsccLength - 1; ++i) {
    sum += static_cast<int>(kUsccAlphabet.find(uscc[i])) * kUsccWeights[i];
  }
  const int check = (31 - sum % 31) % 31;
  const char want = kUsccAlphabet[check];
  if (uscc.back() != want) return WrongCheck(uscc.back(), want);
  return absl::OkStatus();
}

absl::Status ValidateIdNumber(absl::string_view id_number, absl::Time now) {
  if (id_number.size() != kIdLength) return WrongLength("ID number", id_number, kIdLength);
  for (size_t i = 0; i < kIdLength - 1; ++i) {
    if (!IsDigit(id_number[i])) return BadCharacter(id_number, i, "a digit");
  }
  char last = id_number.back();
  if (last == 'x') last = 'X';
  if (!IsDigit(last) && last != 'X') return BadCharacter(id_number, kIdLength - 1, "a digit or X");

  const absl::string_view date = id_number.substr(kIdBirthDateIndex, 8);
  const int year = ParseDigits(date.substr(0, 4));
  const int month = ParseDigits(date.substr(4, 2));
  const int day = ParseDigits(date.substr(6, 2));
  const absl::CivilDay birth(year, month, day);  // Normalises out-of-range fields.
  if (birth.year() != year || birth.month() != month || birth.day() != day) {
    return absl::InvalidArgumentError(
        "birth date (digits 7-14) is not a calendar date (want YYYYMMDD)");
  }
  if (year < kMinIdBirthYear) {
    return absl::InvalidArgumentError(
        absl::StrCat("birth year ", year, " is before ", kMinIdBirthYear));
  }
  if (birth > TodayInChina(now)) {
    return absl::InvalidArgumentError("birth date (digits 7-14) is in the future");
  }

  int sum = 0;
  for (size_t i = 0; i < kIdLength - 1; ++i) sum += (id_number[i] - '0') * kIdWeights[i];
  const char want = kIdCheckChars[sum % 11];
  if (last != want) return WrongCheck(id_number.back(), want);
  return absl::OkStatus();
}

std::string MaskIdNumber(absl::string_view id_number) {
  constexpr size_t kMinMaskable = 15;
  if (id_number.size() < kMinMaskable) return std::string(id_number.size(), '*');
  return absl::StrCat(id_number.substr(0, 4), std::string(10, '*'),
                      id_number.substr(id_number.size() - 4));
}

std::string MaskPhone(absl::string_view phone) {
  constexpr size_t kMinMaskable = 11;
  if (phone.size() < kMinMaskable) return std::string(phone.size(), '*');
  return absl::StrCat(phone.substr(0, 3), std::string(phone.size() - 7, '*'),
                      phone.substr(phone.size() - 4));
}

}  // namespace market
