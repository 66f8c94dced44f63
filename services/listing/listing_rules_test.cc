#include "services/listing/listing_rules.h"

#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::listing {
namespace {

using common::v1::Category;
using ::market::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using v1::Listing;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2025, 6, 1, 12, 0, 0), absl::FixedTimeZone(8 * 3600));

constexpr char kImei[] = "355383063760236";
constexpr char kImei2[] = "490154203237518";
constexpr char kBadLuhnImei[] = "352099081234563";
constexpr char kVin[] = "1M8GDM9AXKP042788";
// kVin with a wrong check digit at position 9.
constexpr char kVinBadCheck[] = "1M8GDM9A1KP042788";
const std::string kSha(64, 'a');

Listing Base(Category category) {
  Listing l;
  l.set_seller("subjects/alice");
  l.set_category(category);
  l.set_title("二手好物");
  l.set_description("成色不错");
  l.mutable_price()->set_amount_fen(100000);
  l.mutable_price()->set_currency("CNY");
  l.mutable_declared_condition()->set_scheme("general-condition-v1");
  l.mutable_declared_condition()->set_version(1);
  l.mutable_declared_condition()->set_level("9成新");
  l.add_disclosed_defects("屏幕右上角划痕");
  l.add_photos()->set_sha256(kSha);
  return l;
}

Listing Phone() {
  Listing l = Base(common::v1::PHONE);
  auto* p = l.mutable_phone();
  p->set_imei(kImei);
  p->set_imei2(kImei2);
  p->set_brand("Huawei");
  p->set_model("Mate 60 Pro");
  p->set_storage_gb(256);
  p->set_battery_health_pct(88);
  p->set_data_wiped(true);
  return l;
}

Listing Appliance() {
  Listing l = Base(common::v1::APPLIANCE);
  auto* a = l.mutable_appliance();
  a->set_brand("Haier");
  a->set_model("BCD-216");
  a->set_serial_number("SN0001");
  a->set_kind("refrigerator");
  a->set_manufacture_year(2019);
  a->set_energy_label(2);
  a->set_working_hours(1200);
  return l;
}

Listing Furniture() {
  Listing l = Base(common::v1::FURNITURE);
  auto* f = l.mutable_furniture();
  f->set_kind("sofa");
  f->set_material("solid wood");
  f->mutable_dimensions_cm()->set_width(200);
  f->mutable_dimensions_cm()->set_depth(90);
  f->mutable_dimensions_cm()->set_height(80);
  f->set_brand("宜家");
  return l;
}

Listing Vehicle() {
  Listing l = Base(common::v1::VEHICLE);
  auto* v = l.mutable_vehicle();
  v->set_vin(kVin);
  v->set_engine_number("E123456");
  v->set_make("BYD");
  v->set_model("Qin PLUS");
  v->set_first_registration_date("2019-03-15");
  v->set_mileage_km(56000);
  v->set_transfer_count(1);
  v->set_use_nature(v1::VehicleDetails::FAMILY);
  return l;
}

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> out;
  for (const auto& f : FieldViolationsOf(status)) out.push_back(f.field);
  return out;
}

std::string DescriptionOf(const absl::Status& status, const std::string& field) {
  for (const auto& f : FieldViolationsOf(status)) {
    if (f.field == field) return f.description;
  }
  return "";
}

absl::Status Create(const Listing& l) { return ValidateListingForCreate(l, kNow); }

google::protobuf::FieldMask Mask(std::vector<std::string> paths) {
  google::protobuf::FieldMask mask;
  for (auto& p : paths) mask.add_paths(p);
  return mask;
}

// ---------------------------------------------------------------------------
// Valid listings

TEST(ValidateListingForCreateTest, ValidPhonePasses) { EXPECT_OK(Create(Phone())); }
TEST(ValidateListingForCreateTest, ValidAppliancePasses) { EXPECT_OK(Create(Appliance())); }
TEST(ValidateListingForCreateTest, ValidFurniturePasses) { EXPECT_OK(Create(Furniture())); }
TEST(ValidateListingForCreateTest, ValidVehiclePasses) { EXPECT_OK(Create(Vehicle())); }

TEST(ValidateListingForCreateTest, SparseDraftWithOnlyCategoryPasses) {
  Listing l;
  l.set_category(common::v1::FURNITURE);
  EXPECT_OK(Create(l));
}

TEST(ValidateListingForCreateTest, OutputOnlyFieldsAreIgnored) {
  Listing l = Phone();
  l.set_state(Listing::SOLD);
  l.set_name("garbage");
  l.set_item("items/whatever");
  EXPECT_OK(Create(l));
}

// ---------------------------------------------------------------------------
// Common fields

TEST(ValidateListingForCreateTest, MissingCategoryIsRequired) {
  Listing l = Phone();
  l.clear_details();
  l.set_category(common::v1::CATEGORY_UNSPECIFIED);
  absl::Status s = Create(l);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(s), ElementsAre("listing.category"));
}

TEST(ValidateListingForCreateTest, DetailsNotMatchingCategoryNamesTheDetails) {
  Listing l = Phone();
  l.set_category(common::v1::VEHICLE);
  absl::Status s = Create(l);
  EXPECT_THAT(Fields(s), ElementsAre("listing.phone"));
  EXPECT_THAT(DescriptionOf(s, "listing.phone"), HasSubstr("vehicle for category VEHICLE"));
}

TEST(ValidateListingForCreateTest, TitleOf100ChineseCharactersPasses) {
  Listing l = Phone();
  std::string title;
  for (int i = 0; i < 100; ++i) title += "好";
  l.set_title(title);
  EXPECT_OK(Create(l));
}

TEST(ValidateListingForCreateTest, TitleOf101CharactersIsRejected) {
  Listing l = Phone();
  std::string title;
  for (int i = 0; i < 101; ++i) title += "好";
  l.set_title(title);
  absl::Status s = Create(l);
  EXPECT_THAT(Fields(s), ElementsAre("listing.title"));
  EXPECT_THAT(DescriptionOf(s, "listing.title"), HasSubstr("101 characters, want <= 100"));
}

TEST(ValidateListingForCreateTest, TitleWithInvalidUtf8IsRejected) {
  Listing l = Phone();
  l.set_title("bad \xC0\xAF");
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.title"));
}

TEST(ValidateListingForCreateTest, DescriptionOver5000CharactersIsRejected) {
  Listing l = Phone();
  l.set_description(std::string(5001, 'x'));
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.description"));
  l.set_description(std::string(5000, 'x'));
  EXPECT_OK(Create(l));
}

TEST(ValidateListingForCreateTest, NegativePriceNamesAmountFen) {
  Listing l = Phone();
  l.mutable_price()->set_amount_fen(-5);
  absl::Status s = Create(l);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("listing.price.amount_fen: -5, want >= 0")));
}

TEST(ValidateListingForCreateTest, ZeroPriceIsAllowed) {
  Listing l = Phone();
  l.mutable_price()->set_amount_fen(0);
  EXPECT_OK(Create(l));
}

TEST(ValidateListingForCreateTest, EmptyCurrencyMeansCny) {
  Listing l = Phone();
  l.mutable_price()->clear_currency();
  EXPECT_OK(Create(l));
}

TEST(ValidateListingForCreateTest, NonCnyCurrencyIsRejected) {
  Listing l = Phone();
  l.mutable_price()->set_currency("USD");
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.price.currency"));
}

TEST(ValidateListingForCreateTest, MalformedSellerIsRejected) {
  Listing l = Phone();
  l.set_seller("alice");
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.seller"));
}

TEST(ValidateListingForCreateTest, ConditionOutsideGeneralSchemeIsRejected) {
  Listing l = Phone();
  l.mutable_declared_condition()->set_scheme("phone-cosmetic-v1");
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.declared_condition.scheme"));
}

TEST(ValidateListingForCreateTest, UnknownConditionLevelIsRejected) {
  Listing l = Appliance();
  l.mutable_declared_condition()->set_level("85新");  // a phone-cosmetic level only
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.declared_condition.level"));
}

TEST(ValidateListingForCreateTest, EveryGeneralConditionLevelIsAccepted) {
  for (absl::string_view level : ConditionLevels()) {
    Listing l = Furniture();
    l.mutable_declared_condition()->set_level(std::string(level));
    EXPECT_OK(Create(l)) << level;
  }
  EXPECT_EQ(ConditionLevels().size(), 8u);
}

TEST(ValidateListingForCreateTest, WrongConditionVersionIsRejected) {
  Listing l = Phone();
  l.mutable_declared_condition()->set_version(2);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.declared_condition.version"));
}

TEST(ValidateListingForCreateTest, RepairedPhoneCannotDeclareBetterThan7ChengXin) {
  Listing l = Phone();
  l.mutable_phone()->add_repaired_parts(v1::PhoneDetails::SCREEN);
  l.mutable_declared_condition()->set_level("9成新");
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.declared_condition.level"));
  l.mutable_declared_condition()->set_level("7成新");
  EXPECT_OK(Create(l));
}

TEST(ValidateListingForCreateTest, BlankDefectIsRejected) {
  Listing l = Phone();
  l.add_disclosed_defects("  ");
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.disclosed_defects[1]"));
}

TEST(ValidateListingForCreateTest, DefectOver200CharactersIsRejected) {
  Listing l = Phone();
  l.add_disclosed_defects(std::string(201, 'x'));
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.disclosed_defects[1]"));
}

TEST(ValidateListingForCreateTest, MoreThan50DefectsIsRejected) {
  Listing l = Phone();
  for (int i = 0; i < 50; ++i) l.add_disclosed_defects("划痕");
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.disclosed_defects"));
}

TEST(ValidateListingForCreateTest, UpperCaseOrShortPhotoHashIsRejected) {
  Listing l = Phone();
  l.add_photos()->set_sha256(std::string(64, 'A'));
  l.add_photos()->set_sha256(std::string(63, 'a'));
  EXPECT_THAT(Fields(Create(l)),
              ElementsAre("listing.photos[1].sha256", "listing.photos[2].sha256"));
}

TEST(ValidateListingForCreateTest, MoreThan30PhotosIsRejected) {
  Listing l = Phone();
  for (int i = 0; i < 30; ++i) l.add_photos()->set_sha256(kSha);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.photos"));
}

TEST(ValidateListingForCreateTest, SeveralViolationsAreReportedTogether) {
  Listing l = Phone();
  l.mutable_price()->set_amount_fen(-1);
  l.mutable_phone()->set_imei(kBadLuhnImei);
  l.mutable_phone()->set_battery_health_pct(101);
  l.mutable_declared_condition()->set_level("崭新");
  absl::Status s = Create(l);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(s), UnorderedElementsAre("listing.price.amount_fen", "listing.phone.imei",
                                              "listing.phone.battery_health_pct",
                                              "listing.declared_condition.level"));
}

// ---------------------------------------------------------------------------
// Phones

TEST(PhoneRulesTest, DomainImeiVectorsAreValid) {
  for (const char* imei : {"355383063760236", "490154203237518"}) {
    Listing l = Phone();
    l.mutable_phone()->set_imei(imei);
    l.mutable_phone()->clear_imei2();
    EXPECT_OK(Create(l)) << imei;
  }
}

TEST(PhoneRulesTest, BadLuhnImeiIsRejected) {
  Listing l = Phone();
  l.mutable_phone()->set_imei(kBadLuhnImei);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.phone.imei"));
}

TEST(PhoneRulesTest, MissingImeiIsRequired) {
  Listing l = Phone();
  l.mutable_phone()->clear_imei();
  absl::Status s = Create(l);
  EXPECT_THAT(Fields(s), ElementsAre("listing.phone.imei")) << s;
  EXPECT_EQ(DescriptionOf(s, "listing.phone.imei"), "required");
}

TEST(PhoneRulesTest, Imei2IsOptional) {
  Listing l = Phone();
  l.mutable_phone()->clear_imei2();
  EXPECT_OK(Create(l));
}

TEST(PhoneRulesTest, InvalidImei2IsRejected) {
  Listing l = Phone();
  l.mutable_phone()->set_imei2(kBadLuhnImei);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.phone.imei2"));
}

TEST(PhoneRulesTest, Imei2EqualToImeiIsRejected) {
  Listing l = Phone();
  l.mutable_phone()->set_imei2(kImei);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.phone.imei2"));
}

TEST(PhoneRulesTest, BatteryHealthOutside0To100IsRejected) {
  for (int pct : {-1, 101}) {
    Listing l = Phone();
    l.mutable_phone()->set_battery_health_pct(pct);
    EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.phone.battery_health_pct")) << pct;
  }
  for (int pct : {0, 100}) {
    Listing l = Phone();
    l.mutable_phone()->set_battery_health_pct(pct);
    EXPECT_OK(Create(l)) << pct;
  }
}

TEST(PhoneRulesTest, NegativeStorageIsRejected) {
  Listing l = Phone();
  l.mutable_phone()->set_storage_gb(-64);
  EXPECT_THAT(Create(l), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("listing.phone.storage_gb: -64, want >= 0")));
}

TEST(PhoneRulesTest, UnspecifiedRepairedPartIsRejected) {
  Listing l = Phone();
  l.mutable_declared_condition()->set_level("7成新");
  l.mutable_phone()->add_repaired_parts(v1::PhoneDetails::BATTERY);
  l.mutable_phone()->add_repaired_parts(v1::PhoneDetails::PART_UNSPECIFIED);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.phone.repaired_parts[1]"));
}

// ---------------------------------------------------------------------------
// Vehicles

TEST(VehicleRulesTest, DomainVinVectorsAreValid) {
  for (const char* vin : {"1M8GDM9AXKP042788", "JHMCM56557C404453", "11111111111111111"}) {
    Listing l = Vehicle();
    l.mutable_vehicle()->set_vin(vin);
    EXPECT_OK(Create(l)) << vin;
  }
}

TEST(VehicleRulesTest, VinWithIOrOOrQIsRejected) {
  for (const char* vin : {"IM8GDM9AXKP042788", "1M8GDM9AXKP04278O", "1M8GDMQAXKP042788"}) {
    Listing l = Vehicle();
    l.mutable_vehicle()->set_vin(vin);
    EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.vehicle.vin")) << vin;
  }
}

TEST(VehicleRulesTest, WrongCheckDigitIsRejectedWithoutOverride) {
  Listing l = Vehicle();
  l.mutable_vehicle()->set_vin(kVinBadCheck);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.vehicle.vin"));
}

TEST(VehicleRulesTest, OverrideReasonSkipsTheCheckDigit) {
  Listing l = Vehicle();
  l.mutable_vehicle()->set_vin(kVinBadCheck);
  l.mutable_vehicle()->set_vin_override_reason("1985 年进口车，VIN 无校验位");
  EXPECT_OK(Create(l));
}

TEST(VehicleRulesTest, OverrideStillRejectsIllegalLetters) {
  Listing l = Vehicle();
  l.mutable_vehicle()->set_vin("IM8GDM9AXKP042788");
  l.mutable_vehicle()->set_vin_override_reason("imported");
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.vehicle.vin"));
}

TEST(VehicleRulesTest, BlankOrOverlongOverrideReasonIsRejected) {
  Listing l = Vehicle();
  l.mutable_vehicle()->set_vin_override_reason("   ");
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.vehicle.vin_override_reason"));
  l.mutable_vehicle()->set_vin_override_reason(std::string(201, 'x'));
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.vehicle.vin_override_reason"));
}

TEST(VehicleRulesTest, MissingEngineNumberIsRequired) {
  Listing l = Vehicle();
  l.mutable_vehicle()->clear_engine_number();
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.vehicle.engine_number"));
}

TEST(VehicleRulesTest, NegativeMileageAndTransferCountAreRejected) {
  Listing l = Vehicle();
  l.mutable_vehicle()->set_mileage_km(-1);
  l.mutable_vehicle()->set_transfer_count(-2);
  EXPECT_THAT(Fields(Create(l)),
              ElementsAre("listing.vehicle.mileage_km", "listing.vehicle.transfer_count"));
}

TEST(VehicleRulesTest, MalformedOrImpossibleRegistrationDateIsRejected) {
  for (const char* date : {"2019/03/15", "2019-02-30", "19-03-15", "2019-3-15"}) {
    Listing l = Vehicle();
    l.mutable_vehicle()->set_first_registration_date(date);
    EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.vehicle.first_registration_date")) << date;
  }
}

TEST(VehicleRulesTest, FutureOrAncientRegistrationDateIsRejected) {
  for (const char* date : {"2025-06-02", "1899-12-31"}) {
    Listing l = Vehicle();
    l.mutable_vehicle()->set_first_registration_date(date);
    EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.vehicle.first_registration_date")) << date;
  }
  Listing today = Vehicle();
  today.mutable_vehicle()->set_first_registration_date("2025-06-01");
  EXPECT_OK(Create(today));
}

// ---------------------------------------------------------------------------
// Appliances and furniture

TEST(ApplianceRulesTest, BrandModelAndSerialAreRequired) {
  Listing l = Appliance();
  l.mutable_appliance()->clear_brand();
  l.mutable_appliance()->set_model(" ");
  l.mutable_appliance()->clear_serial_number();
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.appliance.brand", "listing.appliance.model",
                                             "listing.appliance.serial_number"));
}

TEST(ApplianceRulesTest, EnergyLabelOutside0To5IsRejected) {
  Listing l = Appliance();
  l.mutable_appliance()->set_energy_label(6);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.appliance.energy_label"));
}

TEST(ApplianceRulesTest, FutureManufactureYearIsRejected) {
  Listing l = Appliance();
  l.mutable_appliance()->set_manufacture_year(2026);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.appliance.manufacture_year"));
  l.mutable_appliance()->set_manufacture_year(0);
  EXPECT_OK(Create(l));
}

TEST(ApplianceRulesTest, NegativeWorkingHoursAreRejected) {
  Listing l = Appliance();
  l.mutable_appliance()->set_working_hours(-1);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.appliance.working_hours"));
}

TEST(ApplianceRulesTest, UpperCaseKindIsRejected) {
  Listing l = Appliance();
  l.mutable_appliance()->set_kind("Refrigerator");
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.appliance.kind"));
}

TEST(FurnitureRulesTest, NonPositiveDimensionsAreRejected) {
  Listing l = Furniture();
  l.mutable_furniture()->mutable_dimensions_cm()->set_width(0);
  l.mutable_furniture()->mutable_dimensions_cm()->set_height(-3);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.furniture.dimensions_cm.width",
                                             "listing.furniture.dimensions_cm.height"));
}

TEST(FurnitureRulesTest, UnknownDimensionsAreAllowed) {
  Listing l = Furniture();
  l.mutable_furniture()->clear_dimensions_cm();
  EXPECT_OK(Create(l));
}

// ---------------------------------------------------------------------------
// Warranty

TEST(WarrantyTest, DefaultsFollowDomainTable) {
  auto phone = DefaultWarranty(common::v1::PHONE);
  EXPECT_EQ(std::tuple(phone.refund_days(), phone.exchange_days(), phone.repair_days(),
                       phone.battery_days()),
            std::tuple(7, 15, 180, 90));
  auto appliance = DefaultWarranty(common::v1::APPLIANCE);
  EXPECT_EQ(std::tuple(appliance.refund_days(), appliance.exchange_days(), appliance.repair_days()),
            std::tuple(7, 15, 365));
  auto furniture = DefaultWarranty(common::v1::FURNITURE);
  EXPECT_EQ(std::tuple(furniture.refund_days(), furniture.exchange_days(), furniture.repair_days()),
            std::tuple(7, 15, 90));
  auto vehicle = DefaultWarranty(common::v1::VEHICLE);
  EXPECT_EQ(std::tuple(vehicle.refund_days(), vehicle.exchange_days(), vehicle.exchange_km(),
                       vehicle.repair_days(), vehicle.repair_km()),
            std::tuple(7, 60, int64_t{3000}, 90, int64_t{5000}));
}

TEST(WarrantyTest, UnsetFieldsTakeVehicleDefaults) {
  common::v1::WarrantyPolicy offered;
  offered.set_repair_days(120);
  auto w = EffectiveWarranty(common::v1::VEHICLE, offered);
  EXPECT_EQ(w.refund_days(), 7);
  EXPECT_EQ(w.exchange_days(), 60);
  EXPECT_EQ(w.exchange_km(), 3000);
  EXPECT_EQ(w.repair_days(), 120);
  EXPECT_EQ(w.repair_km(), 5000);
}

TEST(WarrantyTest, UnsetVehiclePolicyIsValid) {
  Listing l = Vehicle();
  l.clear_warranty_policy();
  EXPECT_OK(Create(l));
  l.mutable_warranty_policy();  // set but all zero: every field takes its default
  EXPECT_OK(Create(l));
}

TEST(WarrantyTest, VehicleTermsBelowStatutoryMinimumAreRejected) {
  Listing l = Vehicle();
  auto* w = l.mutable_warranty_policy();
  w->set_exchange_days(30);
  w->set_repair_km(4999);
  absl::Status s = Create(l);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(s), ElementsAre("listing.warranty_policy.exchange_days",
                                     "listing.warranty_policy.repair_km"));
  EXPECT_THAT(DescriptionOf(s, "listing.warranty_policy.exchange_days"), HasSubstr("want >= 60"));
}

TEST(WarrantyTest, VehicleTermsAboveMinimumAreAccepted) {
  Listing l = Vehicle();
  auto* w = l.mutable_warranty_policy();
  w->set_refund_days(14);
  w->set_exchange_days(90);
  w->set_exchange_km(5000);
  w->set_repair_days(365);
  w->set_repair_km(20000);
  EXPECT_OK(Create(l));
}

TEST(WarrantyTest, NonVehicleMayOfferShorterTerms) {
  Listing l = Furniture();
  l.mutable_warranty_policy()->set_repair_days(30);
  EXPECT_OK(Create(l));
}

TEST(WarrantyTest, NegativeTermIsRejected) {
  Listing l = Phone();
  l.mutable_warranty_policy()->set_battery_days(-1);
  EXPECT_THAT(Fields(Create(l)), ElementsAre("listing.warranty_policy.battery_days"));
}

// ---------------------------------------------------------------------------
// Publishing

TEST(CheckPublishableTest, CompleteListingsArePublishable) {
  for (const Listing& l : {Phone(), Appliance(), Furniture(), Vehicle()}) {
    EXPECT_OK(CheckPublishable(l)) << l.category();
  }
}

TEST(CheckPublishableTest, PhoneWithoutDataWipeNeedsAttestation) {
  Listing l = Phone();
  l.mutable_phone()->set_data_wiped(false);
  absl::Status s = CheckPublishable(l);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(s), "DATA_WIPE_REQUIRED");
}

TEST(CheckPublishableTest, MissingTitlePriceDetailsAndConditionAreIncomplete) {
  Listing l;
  l.set_category(common::v1::VEHICLE);
  l.set_title("  ");
  absl::Status s = CheckPublishable(l);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                          HasSubstr("missing title, price, vehicle, declared_condition")));
  EXPECT_EQ(ReasonOf(s), "LISTING_INCOMPLETE");
}

// ---------------------------------------------------------------------------
// Updates

TEST(ValidateListingUpdateTest, PriceChangeOnPublishedListingPasses) {
  Listing current = Phone();
  current.set_state(Listing::PUBLISHED);
  Listing patch;
  patch.mutable_price()->set_amount_fen(90000);
  ASSERT_OK_AND_ASSIGN(Listing merged, ApplyListingUpdate(current, patch, Mask({"price"}), kNow));
  EXPECT_EQ(merged.price().amount_fen(), 90000);
  EXPECT_EQ(merged.price().currency(), "");
  EXPECT_EQ(merged.title(), current.title());
}

TEST(ValidateListingUpdateTest, SubPathReplacesOneDetail) {
  Listing current = Vehicle();
  current.set_state(Listing::PUBLISHED);
  Listing patch;
  patch.mutable_vehicle()->set_mileage_km(57000);
  ASSERT_OK_AND_ASSIGN(Listing merged,
                       ApplyListingUpdate(current, patch, Mask({"vehicle.mileage_km"}), kNow));
  EXPECT_EQ(merged.vehicle().mileage_km(), 57000);
  EXPECT_EQ(merged.vehicle().vin(), kVin);
}

TEST(ValidateListingUpdateTest, EmptyMaskIsRejected) {
  EXPECT_THAT(Fields(ValidateListingUpdate(Phone(), Listing(), Mask({}), kNow)),
              ElementsAre("update_mask"));
}

TEST(ValidateListingUpdateTest, UnknownOrImmutablePathsAreRejected) {
  absl::Status s = ValidateListingUpdate(
      Phone(), Listing(), Mask({"category", "seller", "state", "nope", "photos.sha256"}), kNow);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Fields(s).size(), 5u);
  EXPECT_THAT(Fields(s), Contains("update_mask"));
}

TEST(ValidateListingUpdateTest, ImeiMayChangeInDraft) {
  Listing current = Phone();
  current.set_state(Listing::DRAFT);
  Listing patch;
  patch.mutable_phone()->set_imei("490154203237518");
  patch.mutable_phone()->set_data_wiped(true);
  EXPECT_OK(ValidateListingUpdate(current, patch, Mask({"phone"}), kNow));
}

TEST(ValidateListingUpdateTest, ImeiMayNotChangeWhenPublished) {
  Listing current = Phone();
  current.mutable_phone()->clear_imei2();
  current.set_state(Listing::PUBLISHED);
  Listing patch;
  patch.mutable_phone()->set_imei("490154203237518");
  absl::Status s = ValidateListingUpdate(current, patch, Mask({"phone.imei"}), kNow);
  EXPECT_THAT(Fields(s), ElementsAre("listing.phone.imei")) << s;
}

TEST(ValidateListingUpdateTest, ClearingTitleOfPublishedListingIsRejected) {
  Listing current = Phone();
  current.set_state(Listing::PUBLISHED);
  EXPECT_THAT(Fields(ValidateListingUpdate(current, Listing(), Mask({"title"}), kNow)),
              ElementsAre("listing.title"));
  current.set_state(Listing::DRAFT);
  EXPECT_OK(ValidateListingUpdate(current, Listing(), Mask({"title"}), kNow));
}

TEST(ValidateListingUpdateTest, PatchIsValidatedLikeCreate) {
  Listing current = Vehicle();
  current.set_state(Listing::PUBLISHED);
  Listing patch;
  patch.mutable_price()->set_amount_fen(-5);
  patch.mutable_warranty_policy()->set_exchange_days(10);
  absl::Status s = ValidateListingUpdate(current, patch, Mask({"price", "warranty_policy"}), kNow);
  EXPECT_THAT(Fields(s), UnorderedElementsAre("listing.price.amount_fen",
                                              "listing.warranty_policy.exchange_days"));
}

TEST(ValidateListingUpdateTest, SwitchingDetailsToAnotherCategoryIsRejected) {
  Listing current = Phone();
  current.set_state(Listing::DRAFT);
  Listing patch = Vehicle();
  absl::Status s = ValidateListingUpdate(current, patch, Mask({"vehicle"}), kNow);
  EXPECT_THAT(Fields(s), Contains("listing.vehicle"));
}

TEST(CheckEditableTest, OnlyDraftAndPublishedAreEditable) {
  EXPECT_OK(CheckEditable(Listing::DRAFT));
  EXPECT_OK(CheckEditable(Listing::PUBLISHED));
  for (auto state : {Listing::RESERVED, Listing::SOLD, Listing::WITHDRAWN, Listing::REMOVED}) {
    absl::Status s = CheckEditable(state);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition)) << state;
    EXPECT_EQ(ReasonOf(s), "LISTING_NOT_EDITABLE");
  }
}

// ---------------------------------------------------------------------------
// State machine

struct Move {
  Listing::State from;
  Listing::State to;
  Actor actor;
  bool operator<(const Move& o) const {
    return std::tie(from, to, actor) < std::tie(o.from, o.to, o.actor);
  }
};

// The whole contract, stated independently of the implementation.
const std::set<Move>& AllowedMoves() {
  static const auto* allowed = new std::set<Move>{
      {Listing::DRAFT, Listing::PUBLISHED, Actor::kSeller},
      {Listing::WITHDRAWN, Listing::PUBLISHED, Actor::kSeller},
      {Listing::PUBLISHED, Listing::RESERVED, Actor::kSystem},
      {Listing::RESERVED, Listing::PUBLISHED, Actor::kSystem},
      {Listing::RESERVED, Listing::SOLD, Actor::kSystem},
      {Listing::DRAFT, Listing::WITHDRAWN, Actor::kSeller},
      {Listing::PUBLISHED, Listing::WITHDRAWN, Actor::kSeller},
      {Listing::DRAFT, Listing::REMOVED, Actor::kOperator},
      {Listing::DRAFT, Listing::REMOVED, Actor::kSupervisor},
      {Listing::PUBLISHED, Listing::REMOVED, Actor::kOperator},
      {Listing::PUBLISHED, Listing::REMOVED, Actor::kSupervisor},
      {Listing::RESERVED, Listing::REMOVED, Actor::kOperator},
      {Listing::RESERVED, Listing::REMOVED, Actor::kSupervisor},
      {Listing::WITHDRAWN, Listing::REMOVED, Actor::kOperator},
      {Listing::WITHDRAWN, Listing::REMOVED, Actor::kSupervisor},
  };
  return *allowed;
}

// Who may ever move a listing into each state (roles are checked first).
std::set<Actor> EntryActors(Listing::State to) {
  switch (to) {
    case Listing::PUBLISHED:
      return {Actor::kSeller, Actor::kSystem};
    case Listing::RESERVED:
    case Listing::SOLD:
      return {Actor::kSystem};
    case Listing::WITHDRAWN:
      return {Actor::kSeller};
    case Listing::REMOVED:
      return {Actor::kOperator, Actor::kSupervisor};
    default:
      return {};
  }
}

TEST(CheckTransitionTest, EveryStatePairAndActor) {
  const std::vector<Listing::State> states = {Listing::STATE_UNSPECIFIED,
                                              Listing::DRAFT,
                                              Listing::PUBLISHED,
                                              Listing::RESERVED,
                                              Listing::SOLD,
                                              Listing::WITHDRAWN,
                                              Listing::REMOVED};
  const std::vector<Actor> actors = {Actor::kSeller, Actor::kOperator, Actor::kSupervisor,
                                     Actor::kSystem};
  int allowed = 0;
  for (auto from : states) {
    for (auto to : states) {
      for (Actor actor : actors) {
        const Move move{from, to, actor};
        const std::string label = absl::StrCat(Listing::State_Name(from), " → ",
                                               Listing::State_Name(to), " by ", ActorName(actor));
        absl::Status s = CheckTransition(from, to, actor);
        if (AllowedMoves().count(move)) {
          ++allowed;
          EXPECT_OK(s) << label;
          continue;
        }
        bool edge_for_other_actor = false;
        for (Actor other : actors) {
          edge_for_other_actor = edge_for_other_actor || AllowedMoves().count({from, to, other});
        }
        const std::set<Actor> entry = EntryActors(to);
        if (edge_for_other_actor || (!entry.empty() && !entry.count(actor))) {
          EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << label;
        } else {
          EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition)) << label;
          EXPECT_THAT(ReasonOf(s), Not(IsEmpty())) << label;
        }
      }
    }
  }
  EXPECT_EQ(allowed, 15);
}

TEST(CheckTransitionTest, IllegalTransitionNamesBothStates) {
  absl::Status s = CheckTransition(Listing::RESERVED, Listing::DRAFT, Actor::kSupervisor);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                          HasSubstr("RESERVED → DRAFT is not allowed")));
  EXPECT_EQ(ReasonOf(s), "ILLEGAL_STATE_TRANSITION");
}

TEST(CheckTransitionTest, ReservedListingCannotBeWithdrawn) {
  absl::Status s = CheckTransition(Listing::RESERVED, Listing::WITHDRAWN, Actor::kSeller);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReasonOf(s), "LISTING_RESERVED");
}

TEST(CheckTransitionTest, SoldListingIsNotWithdrawable) {
  EXPECT_EQ(ReasonOf(CheckTransition(Listing::SOLD, Listing::WITHDRAWN, Actor::kSeller)),
            "LISTING_NOT_WITHDRAWABLE");
}

TEST(CheckTransitionTest, SoldListingIsNotRemovable) {
  EXPECT_EQ(ReasonOf(CheckTransition(Listing::SOLD, Listing::REMOVED, Actor::kSupervisor)),
            "LISTING_NOT_REMOVABLE");
  EXPECT_EQ(ReasonOf(CheckTransition(Listing::REMOVED, Listing::REMOVED, Actor::kOperator)),
            "LISTING_NOT_REMOVABLE");
}

TEST(CheckTransitionTest, PublishingFromWrongStateIsNotPublishable) {
  EXPECT_EQ(ReasonOf(CheckTransition(Listing::SOLD, Listing::PUBLISHED, Actor::kSeller)),
            "LISTING_NOT_PUBLISHABLE");
  EXPECT_EQ(ReasonOf(CheckTransition(Listing::PUBLISHED, Listing::PUBLISHED, Actor::kSeller)),
            "LISTING_NOT_PUBLISHABLE");
}

TEST(CheckTransitionTest, ReservingAnUnpublishedListingIsNotAvailable) {
  EXPECT_EQ(ReasonOf(CheckTransition(Listing::DRAFT, Listing::RESERVED, Actor::kSystem)),
            "LISTING_NOT_AVAILABLE");
}

TEST(CheckTransitionTest, SellerCannotRemove) {
  EXPECT_THAT(CheckTransition(Listing::PUBLISHED, Listing::REMOVED, Actor::kSeller),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(CheckTransitionTest, OperatorCannotCancelAnOrderOnTheListing) {
  EXPECT_THAT(CheckTransition(Listing::RESERVED, Listing::PUBLISHED, Actor::kOperator),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

// ---------------------------------------------------------------------------
// Item names

TEST(ItemNameTest, PhoneUsesFirstImei) {
  EXPECT_EQ(ItemName(Phone()), "items/PHONE:355383063760236");
}

TEST(ItemNameTest, VehicleUsesUpperCaseVin) {
  Listing l = Vehicle();
  l.mutable_vehicle()->set_vin(" 1m8gdm9axkp042788 ");
  EXPECT_EQ(ItemName(l), "items/VEHICLE:1M8GDM9AXKP042788");
}

TEST(ItemNameTest, ApplianceJoinsBrandModelSerialEncoded) {
  Listing l = Appliance();
  l.mutable_appliance()->set_brand("海尔");
  l.mutable_appliance()->set_model("BCD-216 sdn");
  l.mutable_appliance()->set_serial_number("sn~01");
  EXPECT_EQ(ItemName(l), "items/APPLIANCE:%E6%B5%B7%E5%B0%94~BCD-216%20SDN~SN%7E01");
}

TEST(ItemNameTest, FurnitureWithSerialHasAName) {
  Listing l = Furniture();
  l.mutable_furniture()->set_brand("ikea");
  l.mutable_furniture()->set_serial_number("x.1_2");
  EXPECT_EQ(ItemName(l), "items/FURNITURE:IKEA~X.1_2");
}

TEST(ItemNameTest, FurnitureWithoutSerialHasNoIdentity) { EXPECT_EQ(ItemName(Furniture()), ""); }

TEST(ItemNameTest, NoDetailsOrMismatchedDetailsHaveNoIdentity) {
  Listing l = Phone();
  l.set_category(common::v1::VEHICLE);
  EXPECT_EQ(ItemName(l), "");
  l.clear_details();
  EXPECT_EQ(ItemName(l), "");
}

// ---------------------------------------------------------------------------
// Mileage rollback

struct RollbackCase {
  std::string name;
  int64_t km;
  std::vector<int64_t> earlier_km;
  bool rollback;
};

TEST(IsMileageRollbackTest, Table) {
  const RollbackCase cases[] = {
      {"no earlier reading", 0, {}, false},
      {"first reading of a driven car", 120000, {}, false},
      {"higher than the only earlier reading", 30001, {30000}, false},
      {"equal to the highest earlier reading", 30000, {30000}, false},
      {"one km below the only earlier reading", 29999, {30000}, true},
      {"below the highest of several", 40000, {10000, 45000, 20000}, true},
      {"above every earlier reading", 45001, {10000, 45000, 20000}, false},
      {"reset to zero", 0, {12}, true},
      {"equal to the highest, below none", 45000, {45000, 44999}, false},
  };
  for (const RollbackCase& c : cases) {
    EXPECT_EQ(IsMileageRollback(c.km, c.earlier_km), c.rollback) << c.name;
  }
}

}  // namespace
}  // namespace market::listing
