#include "services/listing/listing_csv.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace market::listing {
namespace {

using ::market::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;
using v1::Listing;

using Violation = std::pair<std::string, std::string>;

constexpr char kImei[] = "355383063760236";
constexpr char kVin[] = "1M8GDM9AXKP042788";
const std::string kShaA(64, 'a');
const std::string kShaB(64, 'b');

MATCHER_P(EqualsProto, text, "") {
  Listing want;
  if (!google::protobuf::TextFormat::ParseFromString(text, &want)) {
    *result_listener << "bad expected text";
    return false;
  }
  if (google::protobuf::util::MessageDifferencer::Equals(arg, want)) return true;
  *result_listener << "got {" << arg.ShortDebugString() << "}, want {" << want.ShortDebugString()
                   << "}";
  return false;
}

// The one field the whole-file error names.
std::vector<std::string> ErrorFields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(status)) fields.push_back(v.field);
  return fields;
}

TEST(ListingCsvTest, ParsesPhoneRow) {
  const std::string csv = absl::StrCat(
      "seller,category,title,price.amount_fen,price.currency,declared_condition.level,"
      "phone.imei,phone.brand,phone.storage_gb,phone.battery_health_pct,phone.data_wiped,"
      "phone.locked\n"
      "subjects/alice,PHONE,Mate 60,399900,CNY,95新,",
      kImei, ",Huawei,256,91,true,no\n");
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv(csv));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_EQ(rows[0].row, 1);
  EXPECT_THAT(rows[0].violations, IsEmpty());
  EXPECT_THAT(rows[0].listing, EqualsProto(R"pb(seller: "subjects/alice"
                                                category: PHONE
                                                title: "Mate 60"
                                                price { amount_fen: 399900 currency: "CNY" }
                                                declared_condition {
                                                  scheme: "general-condition-v1"
                                                  version: 1
                                                  level: "95新"
                                                }
                                                phone {
                                                  imei: "355383063760236"
                                                  brand: "Huawei"
                                                  storage_gb: 256
                                                  battery_health_pct: 91
                                                  data_wiped: true
                                                  locked: false
                                                })pb"));
}

TEST(ListingCsvTest, ParsesVehicleRow) {
  const std::string csv = absl::StrCat(
      "category,title,vehicle.vin,vehicle.engine_number,vehicle.mileage_km,"
      "vehicle.use_nature,vehicle.first_registration_date,vehicle.accident_declared,"
      "warranty_policy.repair_km\n"
      "vehicle,BYD Qin,",
      kVin, ",EN123,86000,family,2019-05-01,0,20000\n");
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv(csv));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_THAT(rows[0].violations, IsEmpty());
  EXPECT_THAT(rows[0].listing, EqualsProto(R"pb(category: VEHICLE
                                                title: "BYD Qin"
                                                vehicle {
                                                  vin: "1M8GDM9AXKP042788"
                                                  engine_number: "EN123"
                                                  mileage_km: 86000
                                                  use_nature: FAMILY
                                                  first_registration_date: "2019-05-01"
                                                  accident_declared: false
                                                }
                                                warranty_policy { repair_km: 20000 })pb"));
}

TEST(ListingCsvTest, ParsesApplianceRow) {
  const std::string csv =
      "category,appliance.brand,appliance.model,appliance.serial_number,appliance.kind,"
      "appliance.manufacture_year,appliance.energy_label,appliance.working_hours\n"
      "Appliance,Haier,BCD-470,SN0001,refrigerator,2019,1,12000\n";
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv(csv));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_THAT(rows[0].violations, IsEmpty());
  EXPECT_THAT(rows[0].listing, EqualsProto(R"pb(category: APPLIANCE
                                                appliance {
                                                  brand: "Haier"
                                                  model: "BCD-470"
                                                  serial_number: "SN0001"
                                                  kind: "refrigerator"
                                                  manufacture_year: 2019
                                                  energy_label: 1
                                                  working_hours: 12000
                                                })pb"));
}

TEST(ListingCsvTest, ParsesFurnitureWithDimensions) {
  const std::string csv =
      "category,furniture.kind,furniture.material,furniture.dimensions_cm.width,"
      "furniture.dimensions_cm.depth,furniture.dimensions_cm.height\n"
      "FURNITURE,sofa,solid wood,210,90,85\n";
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv(csv));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_THAT(rows[0].violations, IsEmpty());
  EXPECT_THAT(rows[0].listing, EqualsProto(R"pb(category: FURNITURE
                                                furniture {
                                                  kind: "sofa"
                                                  material: "solid wood"
                                                  dimensions_cm { width: 210 depth: 90 height: 85 }
                                                })pb"));
}

TEST(ListingCsvTest, QuotedCellKeepsCommaNewlineAndEscapedQuote) {
  const std::string csv =
      "title,description,price.amount_fen\n"
      "\"Sofa, 3 seats\",\"line one\nline \"\"two\"\"\",100\n"
      "next,row,200\n";
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv(csv));
  ASSERT_THAT(rows, SizeIs(2));
  EXPECT_EQ(rows[0].listing.title(), "Sofa, 3 seats");
  EXPECT_EQ(rows[0].listing.description(), "line one\nline \"two\"");
  EXPECT_EQ(rows[0].listing.price().amount_fen(), 100);
  EXPECT_EQ(rows[1].row, 2);
  EXPECT_EQ(rows[1].listing.title(), "next");
}

TEST(ListingCsvTest, AcceptsCrlfLineEndings) {
  const std::string csv = "title,price.amount_fen\r\nA,1\r\nB,2\r\n";
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv(csv));
  ASSERT_THAT(rows, SizeIs(2));
  EXPECT_EQ(rows[0].listing.title(), "A");
  EXPECT_EQ(rows[0].listing.price().amount_fen(), 1);
  EXPECT_EQ(rows[1].listing.title(), "B");
  EXPECT_EQ(rows[1].listing.price().amount_fen(), 2);
  EXPECT_THAT(rows[1].violations, IsEmpty());
}

TEST(ListingCsvTest, SkipsLeadingBom) {
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv("\xEF\xBB\xBFtitle\nA\n"));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_EQ(rows[0].listing.title(), "A");
}

TEST(ListingCsvTest, KeepsChineseText) {
  ASSERT_OK_AND_ASSIGN(auto rows,
                       ParseListingsCsv("title,description\n九成新沙发,\"客厅用，无破损\"\n"));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_EQ(rows[0].listing.title(), "九成新沙发");
  EXPECT_EQ(rows[0].listing.description(), "客厅用，无破损");
}

TEST(ListingCsvTest, SplitsRepeatedFieldsOnSemicolon) {
  const std::string csv = absl::StrCat(
      "disclosed_defects,phone.repaired_parts,photos\n"
      "\"屏幕划痕; 电池鼓包 ;;\",screen;Battery,",
      kShaA, ";", kShaB, "\n");
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv(csv));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_THAT(rows[0].violations, IsEmpty());
  EXPECT_THAT(rows[0].listing.disclosed_defects(), ElementsAre("屏幕划痕", "电池鼓包"));
  EXPECT_THAT(rows[0].listing.phone().repaired_parts(),
              ElementsAre(v1::PhoneDetails::SCREEN, v1::PhoneDetails::BATTERY));
  ASSERT_THAT(rows[0].listing.photos(), SizeIs(2));
  EXPECT_EQ(rows[0].listing.photos(0).sha256(), kShaA);
  EXPECT_EQ(rows[0].listing.photos(1).sha256(), kShaB);
}

TEST(ListingCsvTest, EmptyCellLeavesFieldUnset) {
  ASSERT_OK_AND_ASSIGN(auto rows,
                       ParseListingsCsv("title,appliance.working_hours,price.amount_fen\nA,,\n"));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_THAT(rows[0].listing, EqualsProto(R"pb(title: "A")pb"));
  EXPECT_FALSE(rows[0].listing.has_appliance());
  EXPECT_FALSE(rows[0].listing.has_price());
}

TEST(ListingCsvTest, TrimsUnquotedCellsButNotQuotedOnes) {
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv(" title , description\n  A  ,\"  B  \"\n"));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_EQ(rows[0].listing.title(), "A");
  EXPECT_EQ(rows[0].listing.description(), "  B  ");
}

TEST(ListingCsvTest, QuotedNumberIgnoresSpaces) {
  ASSERT_OK_AND_ASSIGN(auto rows,
                       ParseListingsCsv("price.amount_fen,category\n\" 500 \",\" phone\"\n"));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_THAT(rows[0].violations, IsEmpty());
  EXPECT_EQ(rows[0].listing.price().amount_fen(), 500);
  EXPECT_EQ(rows[0].listing.category(), common::v1::PHONE);
}

TEST(ListingCsvTest, BlankLinesAreSkippedAndNotNumbered) {
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv("\ntitle,description\n\nA,x\n\r\n,\nB,y"));
  ASSERT_THAT(rows, SizeIs(2));
  EXPECT_EQ(rows[0].row, 1);
  EXPECT_EQ(rows[1].row, 2);
  EXPECT_EQ(rows[1].listing.title(), "B");
  EXPECT_EQ(rows[1].listing.description(), "y");
}

TEST(ListingCsvTest, HeaderOnlyGivesNoRows) {
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv("title,price.amount_fen\n"));
  EXPECT_THAT(rows, IsEmpty());
}

TEST(ListingCsvTest, DeclaredConditionKeepsGivenScheme) {
  ASSERT_OK_AND_ASSIGN(
      auto rows,
      ParseListingsCsv(
          "declared_condition.scheme,declared_condition.version,declared_condition.level\n"
          "other-scheme,,A\n"));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_THAT(rows[0].listing,
              EqualsProto(R"pb(declared_condition { scheme: "other-scheme" level: "A" })pb"));
}

TEST(ListingCsvTest, UnknownColumnIsInvalidArgumentNamingCsvData) {
  auto result = ParseListingsCsv("title,colour\nA,red\n");
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"colour\"")));
  EXPECT_THAT(ErrorFields(result.status()), ElementsAre("csv_data"));
}

TEST(ListingCsvTest, DuplicateColumnIsRejected) {
  auto result = ParseListingsCsv("title,price.amount_fen, title\nA,1,B\n");
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("column 3: duplicated column \"title\" (also column 1)")));
  EXPECT_THAT(ErrorFields(result.status()), ElementsAre("csv_data"));
}

TEST(ListingCsvTest, OutputOnlyColumnIsRejected) {
  for (const char* column :
       {"state", "etag", "create_time.seconds", "latest_appraisal.name", "item", "removal_cause"}) {
    auto result = ParseListingsCsv(absl::StrCat("title,", column, "\nA,x\n"));
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("output only")))
        << column;
    EXPECT_THAT(ErrorFields(result.status()), ElementsAre("csv_data")) << column;
  }
}

TEST(ListingCsvTest, MessageColumnIsRejected) {
  EXPECT_THAT(ParseListingsCsv("price\n1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("price.amount_fen")));
}

TEST(ListingCsvTest, ColumnsListWritableFieldsOnly) {
  const auto& columns = ListingsCsvColumns();
  EXPECT_THAT(columns, Contains("furniture.dimensions_cm.width"));
  EXPECT_THAT(columns, Contains("phone.repaired_parts"));
  EXPECT_THAT(columns, Contains("photos"));
  EXPECT_THAT(columns, Not(Contains("state")));
  EXPECT_THAT(columns, Not(Contains("photos.sha256")));
  EXPECT_THAT(columns, Not(Contains("update_time.seconds")));
}

std::string Rows(int n) {
  std::string csv = "category,title,price.amount_fen,phone.imei\n";
  for (int i = 0; i < n; ++i)
    absl::StrAppend(&csv, "PHONE,\"手机, 编号 ", i, "\",", i, ",", kImei, "\n");
  return csv;
}

TEST(ListingCsvTest, MoreThanMaxRowsIsRejected) {
  auto result = ParseListingsCsv(Rows(kMaxCsvRows + 1));
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("10000 data rows")));
  EXPECT_THAT(ErrorFields(result.status()), ElementsAre("csv_data"));
}

TEST(ListingCsvTest, MaxRowsParse) {
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv(Rows(kMaxCsvRows)));
  ASSERT_THAT(rows, SizeIs(kMaxCsvRows));
  EXPECT_EQ(rows.back().row, kMaxCsvRows);
  EXPECT_EQ(rows.back().listing.price().amount_fen(), kMaxCsvRows - 1);
  EXPECT_THAT(rows.back().violations, IsEmpty());
}

TEST(ListingCsvTest, LargerThanMaxBytesIsRejected) {
  std::string csv = "title\n";
  csv.append(kMaxCsvBytes, 'a');
  auto result = ParseListingsCsv(csv);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("4 MiB")));
  EXPECT_THAT(ErrorFields(result.status()), ElementsAre("csv_data"));
}

TEST(ListingCsvTest, WrongCellCountIsRowViolationAndNextRowsParse) {
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv("title,description\nA\nB,b\nC,c,extra\n"));
  ASSERT_THAT(rows, SizeIs(3));
  EXPECT_THAT(rows[0].violations, ElementsAre(Pair("csv_data", HasSubstr("1 cells, want 2"))));
  EXPECT_THAT(rows[0].listing, EqualsProto(""));
  EXPECT_THAT(rows[1].violations, IsEmpty());
  EXPECT_EQ(rows[1].listing.title(), "B");
  EXPECT_THAT(rows[2].violations, ElementsAre(Pair("csv_data", HasSubstr("3 cells, want 2"))));
}

TEST(ListingCsvTest, BadIntIsRowViolation) {
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv("title,price.amount_fen,phone.storage_gb\n"
                                                   "A,12.5,256\n"
                                                   "B,+5,99999999999\n"
                                                   "C,-7,\n"));
  ASSERT_THAT(rows, SizeIs(3));
  EXPECT_THAT(rows[0].violations,
              ElementsAre(Pair("price.amount_fen", "\"12.5\" is not a decimal int64")));
  EXPECT_EQ(rows[0].listing.title(), "A");
  EXPECT_EQ(rows[0].listing.phone().storage_gb(), 256);
  EXPECT_THAT(rows[1].violations,
              ElementsAre(Pair("price.amount_fen", HasSubstr("not a decimal")),
                          Pair("phone.storage_gb", "\"99999999999\" is out of range for int32")));
  // Negative numbers parse; ValidateListingForCreate rejects them.
  EXPECT_THAT(rows[2].violations, IsEmpty());
  EXPECT_EQ(rows[2].listing.price().amount_fen(), -7);
}

TEST(ListingCsvTest, BadBoolIsRowViolation) {
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv("phone.data_wiped\nYES\nmaybe\n"));
  ASSERT_THAT(rows, SizeIs(2));
  EXPECT_TRUE(rows[0].listing.phone().data_wiped());
  EXPECT_THAT(rows[1].violations, ElementsAre(Pair("phone.data_wiped", HasSubstr("not a bool"))));
}

TEST(ListingCsvTest, BadEnumIsRowViolation) {
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv("category,phone.repaired_parts\n"
                                                   "laptop,screen\n"
                                                   "CATEGORY_UNSPECIFIED,\n"
                                                   "1,\n"
                                                   "phone,screen;lens\n"));
  ASSERT_THAT(rows, SizeIs(4));
  EXPECT_THAT(rows[0].violations,
              ElementsAre(Pair("category",
                               "\"laptop\" is not a Category (want one of PHONE, "
                               "APPLIANCE, FURNITURE, VEHICLE)")));
  EXPECT_THAT(rows[1].violations, ElementsAre(Pair("category", HasSubstr("not a Category"))));
  EXPECT_THAT(rows[2].violations, ElementsAre(Pair("category", HasSubstr("not a Category"))));
  EXPECT_THAT(rows[3].violations, ElementsAre(Pair("phone.repaired_parts", HasSubstr("\"lens\""))));
  EXPECT_EQ(rows[3].listing.phone().repaired_parts_size(), 0);
}

TEST(ListingCsvTest, TwoCategoriesInOneRowIsRowViolation) {
  ASSERT_OK_AND_ASSIGN(
      auto rows, ParseListingsCsv(absl::StrCat("phone.imei,vehicle.vin,vehicle.make\n", kImei, ",",
                                               kVin, ",BYD\n")));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_THAT(rows[0].violations,
              ElementsAre(Pair("vehicle.vin", "details: cells for phone and vehicle in one row"),
                          Pair("vehicle.make", "details: cells for phone and vehicle in one row")));
  EXPECT_EQ(rows[0].listing.phone().imei(), kImei);
  EXPECT_FALSE(rows[0].listing.has_vehicle());
}

TEST(ListingCsvTest, TextAfterClosingQuoteIsRowViolation) {
  ASSERT_OK_AND_ASSIGN(auto rows, ParseListingsCsv("title,description\n\"A\"x,b\n"));
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_THAT(rows[0].violations, ElementsAre(Pair("title", HasSubstr("closing quote"))));
  EXPECT_EQ(rows[0].listing.description(), "b");
}

TEST(ListingCsvTest, UnterminatedQuoteIsRejected) {
  auto result = ParseListingsCsv("title,description\nA,b\nB,\"never closed\nC,d\n");
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("line 3: quoted field not terminated")));
  EXPECT_THAT(ErrorFields(result.status()), ElementsAre("csv_data"));
}

TEST(ListingCsvTest, InvalidUtf8IsRejected) {
  auto result = ParseListingsCsv("title\nA\n\xC3\x28\n");
  EXPECT_THAT(result,
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not valid UTF-8 (line 3")));
  EXPECT_THAT(ErrorFields(result.status()), ElementsAre("csv_data"));
}

TEST(ListingCsvTest, EmptyFileIsRejected) {
  for (const char* csv : {"", "\xEF\xBB\xBF", "\n\r\n"}) {
    auto result = ParseListingsCsv(csv);
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no header row")));
    EXPECT_THAT(ErrorFields(result.status()), ElementsAre("csv_data"));
  }
}

}  // namespace
}  // namespace market::listing
