#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/status/status_matchers.h"
#include "common/validate/identifiers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market {
namespace {

using ::market::testing::StatusIs;
using ::testing::HasSubstr;

// 2024-06-01 12:00 in UTC+8. Every ID vector rejected for its birth date below
// has a correct check character, so the date is the only fault.
const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2024, 6, 1, 12, 0, 0), absl::FixedTimeZone(8 * 3600));

// ---- IMEI ----

TEST(ValidateImeiTest, AcceptsDomainVectors) {
  EXPECT_OK(ValidateImei("355383063760236"));
  EXPECT_OK(ValidateImei("490154203237518"));
}

TEST(ValidateImeiTest, RejectsWrongCheckDigitNamingExpected) {
  EXPECT_THAT(ValidateImei("352099081234563"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("check character is '3'")));
}

TEST(ValidateImeiTest, RejectsAlteredCheckDigit) {
  EXPECT_THAT(ValidateImei("355383063760237"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("want '6'")));
}

TEST(ValidateImeiTest, RejectsWrongLength) {
  EXPECT_THAT(ValidateImei("35538306376023"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("14 characters, want 15")));
  EXPECT_THAT(ValidateImei(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValidateImeiTest, RejectsNonDigitWithPosition) {
  EXPECT_THAT(ValidateImei("3553830637602A6"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'A' at position 14")));
}

// ---- VIN ----

TEST(ValidateVinTest, AcceptsDomainVectors) {
  EXPECT_OK(ValidateVin("1M8GDM9AXKP042788"));
  EXPECT_OK(ValidateVin("JHMCM56557C404453"));
  EXPECT_OK(ValidateVin("11111111111111111"));
}

TEST(ValidateVinTest, RejectsAlteredCheckDigit) {
  EXPECT_THAT(
      ValidateVin("JHMCM56567C404453"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("check character is '6', want '5'")));
}

TEST(ValidateVinTest, RejectsAlteredBodyCharacter) {
  EXPECT_THAT(ValidateVin("1M8GDM9AXKP042789"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValidateVinTest, RejectsLettersIOQ) {
  EXPECT_THAT(ValidateVin("I1111111111111111"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'I' at position 1")));
  EXPECT_THAT(ValidateVin("1O111111111111111"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'O' at position 2")));
  EXPECT_THAT(ValidateVin("11111111111111Q11"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'Q' at position 15")));
}

TEST(ValidateVinTest, RejectsLowerCase) {
  EXPECT_THAT(ValidateVin("jhmcm56557c404453"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("upper-case")));
}

TEST(ValidateVinTest, RejectsWrongLength) {
  EXPECT_THAT(ValidateVin("1M8GDM9AXKP04278"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("16 characters, want 17")));
}

TEST(ValidateVinFormatTest, AcceptsBadCheckDigitButNotBadCharacters) {
  EXPECT_OK(ValidateVinFormat("JHMCM56567C404453"));
  EXPECT_THAT(ValidateVinFormat("JHMCM5656IC404453"), StatusIs(absl::StatusCode::kInvalidArgument));
}

// ---- USCC ----

TEST(ValidateUsccTest, AcceptsDomainVectors) {
  EXPECT_OK(ValidateUscc("91350100M000100Y43"));
  EXPECT_OK(ValidateUscc("91350200776049653A"));
  EXPECT_OK(ValidateUscc("91440101MA5CJQ4N59"));
}

TEST(ValidateUsccTest, RejectsAlteredCheckCharacter) {
  EXPECT_THAT(
      ValidateUscc("91350200776049653B"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("check character is 'B', want 'A'")));
}

TEST(ValidateUsccTest, RejectsCharacterOutsideAlphabet) {
  EXPECT_THAT(ValidateUscc("91350100M000100I43"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'I' at position 16")));
}

TEST(ValidateUsccTest, RejectsLowerCase) {
  EXPECT_THAT(ValidateUscc("91440101ma5cjq4n59"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("upper-case")));
}

TEST(ValidateUsccTest, RejectsWrongLength) {
  EXPECT_THAT(ValidateUscc("91350100M000100Y4"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("17 characters, want 18")));
}

// ---- ID number ----

TEST(ValidateIdNumberTest, AcceptsDomainVectors) {
  EXPECT_OK(ValidateIdNumber("11010519491231002X", kNow));
  EXPECT_OK(ValidateIdNumber("440524188001010014", kNow));
}

TEST(ValidateIdNumberTest, AcceptsLowerCaseX) {
  EXPECT_OK(ValidateIdNumber("11010519491231002x", kNow));
}

TEST(ValidateIdNumberTest, WallClockNowAcceptsValidNumber) {
  EXPECT_OK(ValidateIdNumber("11010519491231002X", absl::Now()));
}

TEST(ValidateIdNumberTest, RejectsAlteredCheckCharacter) {
  EXPECT_THAT(
      ValidateIdNumber("110105194912310021", kNow),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("check character is '1', want 'X'")));
}

TEST(ValidateIdNumberTest, RejectsWrongLength) {
  EXPECT_THAT(ValidateIdNumber("11010519491231002", kNow),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("17 characters, want 18")));
}

TEST(ValidateIdNumberTest, RejectsNonDigitInBody) {
  EXPECT_THAT(ValidateIdNumber("1101051949123100X2", kNow),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'X' at position 17")));
}

TEST(ValidateIdNumberTest, RejectsBadLastCharacter) {
  EXPECT_THAT(ValidateIdNumber("11010519491231002Y", kNow),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'Y' at position 18")));
}

TEST(ValidateIdNumberTest, RejectsFebruary30) {
  EXPECT_THAT(
      ValidateIdNumber("11010519900230001X", kNow),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a calendar date")));
}

// Messages end up in logs: they must not repeat the birth date.
TEST(ValidateIdNumberTest, MessageDoesNotRepeatBirthDate) {
  absl::Status s = ValidateIdNumber("11010519900230001X", kNow);
  EXPECT_THAT(std::string(s.message()), ::testing::Not(HasSubstr("19900230")));
}

TEST(ValidateIdNumberTest, RejectsMonth13) {
  EXPECT_THAT(ValidateIdNumber("110105199013010018", kNow),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a calendar date")));
}

TEST(ValidateIdNumberTest, RejectsFebruary29InNonLeapYear) {
  EXPECT_THAT(ValidateIdNumber("110105190002290017", kNow),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a calendar date")));
}

TEST(ValidateIdNumberTest, RejectsYearBeforeMinimum) {
  EXPECT_THAT(ValidateIdNumber("110105179912310016", kNow),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("before 1800")));
}

TEST(ValidateIdNumberTest, RejectsBirthDateAfterNow) {
  // Born 2024-06-02, one day after kNow.
  EXPECT_THAT(ValidateIdNumber("110105202406020019", kNow),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("in the future")));
}

TEST(ValidateIdNumberTest, AcceptsBirthDateToday) {
  EXPECT_OK(ValidateIdNumber("110105202406010013", kNow));
}

// ---- Masking ----

TEST(MaskIdNumberTest, KeepsFirstAndLastFour) {
  EXPECT_EQ(MaskIdNumber("513101199001010014"), "5131**********0014");
}

TEST(MaskIdNumberTest, ShortInputIsAllStars) { EXPECT_EQ(MaskIdNumber("1234567"), "*******"); }

TEST(MaskPhoneTest, KeepsFirstThreeAndLastFour) {
  EXPECT_EQ(MaskPhone("13812345678"), "138****5678");
}

TEST(MaskPhoneTest, ShortInputIsAllStars) {
  EXPECT_EQ(MaskPhone("5678"), "****");
  EXPECT_EQ(MaskPhone(""), "");
}

}  // namespace
}  // namespace market
