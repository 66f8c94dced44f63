// Grading schemes as data and the report content rules, without a server.
#include "services/appraisal/appraisal_rules.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "services/appraisal/grading_schemes.h"
#include "services/listing/listing_events.h"

namespace market::appraisal {
namespace {

// A fixed "now": the rules take the time as an argument, so no test reads the
// real clock.
const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

const SchemeDefinition& Builtin(const std::string& id) {
  static const auto* all = new std::vector<SchemeDefinition>(*LoadSchemes(""));
  for (const auto& d : *all) {
    if (d.scheme.scheme() == id) return d;
  }
  static const SchemeDefinition none;
  return none;
}

common::v1::GradeRef Grade(const std::string& scheme, const std::string& level) {
  common::v1::GradeRef g;
  g.set_scheme(scheme);
  g.set_version(1);
  g.set_level(level);
  return g;
}

TEST(GradingSchemesTest, BuiltinsAreTheFourSchemesOfDomainSection4) {
  absl::StatusOr<std::vector<SchemeDefinition>> all = LoadSchemes("");
  ASSERT_OK(all);
  std::vector<std::string> names;
  for (const auto& d : *all) names.push_back(d.scheme.name());
  EXPECT_EQ(names, (std::vector<std::string>{"gradingSchemes/phone-cosmetic-v1/versions/1",
                                             "gradingSchemes/phone-function-v1/versions/1",
                                             "gradingSchemes/vehicle-gbt30323/versions/1",
                                             "gradingSchemes/general-condition-v1/versions/1"}));
  const SchemeDefinition& vehicle = Builtin("vehicle-gbt30323");
  EXPECT_TRUE(vehicle.scheme.scored());
  EXPECT_EQ(vehicle.accident_level, "五级");
  EXPECT_EQ(vehicle.scheme.levels(0).min_score(), 90);
  EXPECT_EQ(vehicle.scheme.levels(3).max_score(), 19);
}

TEST(GradingSchemesTest, GeneralConditionLevelsMatchTheListingRules) {
  const SchemeDefinition& general = Builtin("general-condition-v1");
  std::vector<std::string> codes;
  for (const auto& l : general.scheme.levels()) codes.push_back(l.code());
  std::vector<std::string> listing;
  for (absl::string_view l : listing::ConditionLevels()) listing.emplace_back(l);
  EXPECT_EQ(codes, listing);
}

TEST(GradingSchemesTest, VehicleLevelFollowsTheScoreUnlessAccident) {
  const SchemeDefinition& v = Builtin("vehicle-gbt30323");
  EXPECT_OK(CheckGrade(v, Grade("vehicle-gbt30323", "一级"), common::v1::VEHICLE, 95, false, "g"));
  EXPECT_OK(CheckGrade(v, Grade("vehicle-gbt30323", "三级"), common::v1::VEHICLE, 20, false, "g"));
  EXPECT_OK(CheckGrade(v, Grade("vehicle-gbt30323", "四级"), common::v1::VEHICLE, 0, false, "g"));
  absl::Status wrong =
      CheckGrade(v, Grade("vehicle-gbt30323", "二级"), common::v1::VEHICLE, 95, false, "g");
  EXPECT_EQ(ReasonOf(wrong), "GRADE_SCORE_MISMATCH");
  EXPECT_OK(CheckGrade(v, Grade("vehicle-gbt30323", "五级"), common::v1::VEHICLE, 95, true, "g"));
  EXPECT_EQ(ReasonOf(CheckGrade(v, Grade("vehicle-gbt30323", "一级"), common::v1::VEHICLE, 95, true,
                                "g")),
            "GRADE_SCORE_MISMATCH");
  EXPECT_EQ(ReasonOf(CheckGrade(v, Grade("vehicle-gbt30323", "五级"), common::v1::VEHICLE, 95,
                                false, "g")),
            "GRADE_SCORE_MISMATCH");
  EXPECT_EQ(ReasonOf(CheckGrade(v, Grade("vehicle-gbt30323", "一级"), common::v1::VEHICLE,
                                std::nullopt, false, "g")),
            "GRADE_SCORE_MISMATCH");
}

TEST(GradingSchemesTest, UnknownLevelOrCategoryIsUnknownGrade) {
  const SchemeDefinition& p = Builtin("phone-cosmetic-v1");
  absl::Status s = CheckGrade(p, Grade("phone-cosmetic-v1", "98新"), common::v1::PHONE,
                              std::nullopt, false, "content.grades[0]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(s), "UNKNOWN_GRADE");
  ASSERT_EQ(FieldViolationsOf(s).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(s)[0].field, "content.grades[0].level");
  EXPECT_EQ(ReasonOf(CheckGrade(p, Grade("phone-cosmetic-v1", "99新"), common::v1::VEHICLE,
                                std::nullopt, false, "g")),
            "UNKNOWN_GRADE");
}

TEST(GradingSchemesTest, MalformedSchemesAreRejected) {
  EXPECT_FALSE(ParseSchemes("{", "x").ok());
  EXPECT_FALSE(ParseSchemes(R"({"scheme":"Bad Id","version":1,"categories":["PHONE"],
      "levels":[{"code":"a"}]})",
                            "x")
                   .ok());
  EXPECT_FALSE(ParseSchemes(R"({"scheme":"s","version":1,"categories":["PHONE"],
      "levels":[{"code":"a"},{"code":"a"}]})",
                            "x")
                   .ok());
  EXPECT_FALSE(ParseSchemes(R"({"scheme":"s","version":1,"categories":["BOAT"],
      "levels":[{"code":"a"}]})",
                            "x")
                   .ok());
  // A scored scheme whose bands leave 50-59 uncovered.
  EXPECT_FALSE(ParseSchemes(R"({"scheme":"s","version":1,"categories":["PHONE"],"scored":true,
      "levels":[{"code":"a","min_score":60,"max_score":100},
                {"code":"b","min_score":0,"max_score":49}]})",
                            "x")
                   .ok());
  EXPECT_FALSE(ParseSchemes(R"({"scheme":"s","version":"one","categories":["PHONE"],
      "levels":[{"code":"a"}]})",
                            "x")
                   .ok());
}

// Found by grading_schemes_fuzz: a version beyond int's range (a double to
// the JSON parser) must be refused, never converted.
TEST(GradingSchemesTest, VersionMustBeAnIntegerThatFits) {
  for (const char* version : {"21111111111111111111111111111111", "1.5", "3000000000", "-1e3"}) {
    absl::Status s = ParseSchemes(absl::StrCat(R"({"scheme":"s","version":)", version,
                                               R"(,"categories":["PHONE"],"levels":[{"code":"a"}]})"),
                                  "x")
                         .status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << version;
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr(".version")) << version;
  }
}

TEST(GradingSchemesTest, ExtraSchemesComeFromAFolderWithoutCodeChanges) {
  std::string dir = ::testing::TempDir() + "schemes_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/ebike.json") << R"({"schemes":[{"scheme":"ebike-condition-v1",
      "version":1,"categories":["VEHICLE"],"display_name":"E-bike","levels":[
      {"code":"A","description":"good"},{"code":"B","description":"worn"}]}]})";
  std::ofstream(dir + "/notes.txt") << "ignored";
  absl::StatusOr<std::vector<SchemeDefinition>> all = LoadSchemes(dir);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ(all->back().scheme.name(), "gradingSchemes/ebike-condition-v1/versions/1");
  std::ofstream(dir + "/dup.json") << R"({"scheme":"phone-function-v1","version":1,
      "categories":["PHONE"],"levels":[{"code":"0"}]})";
  EXPECT_EQ(LoadSchemes(dir).status().code(), absl::StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

v1::AppraisalContent PhoneContent(absl::Time now) {
  v1::AppraisalContent c;
  c.set_report_number("R-1");
  c.set_firm("firms/acme");
  c.set_firm_credit_code("91350100M000100Y43");
  c.set_appraiser("subjects/zhang");
  c.set_appraiser_qualification_number("Q-1");
  c.set_category(common::v1::PHONE);
  c.mutable_identifiers()->set_imei("355383063760236");
  *c.add_grades() = Grade("phone-cosmetic-v1", "95新");
  *c.add_grades() = Grade("phone-function-v1", "0");
  *c.mutable_inspected_time() = ToTimestamp(now - absl::Hours(1));
  *c.mutable_valid_until() = ToTimestamp(now + absl::Hours(24 * 30));
  return c;
}

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(s)) out.push_back(v.field);
  return out;
}

TEST(AppraisalRulesTest, ValidPhoneContentPassesAndNamesItsItem) {
  absl::Time now = kNow;
  v1::AppraisalContent c = PhoneContent(now);
  EXPECT_OK(ValidateContent(c, now));
  EXPECT_EQ(ItemOf(c), "items/PHONE:355383063760236");
}

TEST(AppraisalRulesTest, BadIdentifiersAndMissingPhoneGradesAreNamed) {
  absl::Time now = kNow;
  v1::AppraisalContent c = PhoneContent(now);
  c.mutable_identifiers()->set_imei("352099081234563");
  c.set_firm_credit_code("91350100M000100Y44");
  c.mutable_grades()->RemoveLast();
  *c.mutable_inspected_time() = ToTimestamp(now + absl::Hours(1));
  std::vector<std::string> fields = Fields(ValidateContent(c, now));
  for (const char* want :
       {"appraisal.signed_content.identifiers.imei", "appraisal.signed_content.firm_credit_code",
        "appraisal.signed_content.grades", "appraisal.signed_content.inspected_time"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), want), fields.end()) << want;
  }
}

TEST(AppraisalRulesTest, VehicleNeedsAllThirteenPointsAndConsistentAccidentFlag) {
  absl::Time now = kNow;
  v1::AppraisalContent c;
  c.set_report_number("V-1");
  c.set_firm("firms/acme");
  c.set_firm_credit_code("91350100M000100Y43");
  c.set_appraiser("subjects/zhang");
  c.set_appraiser_qualification_number("Q-1");
  c.set_category(common::v1::VEHICLE);
  c.mutable_identifiers()->set_vin("1M8GDM9AXKP042788");
  c.mutable_identifiers()->set_engine_number("E1");
  c.set_mileage_km(1000);
  c.mutable_tradability_checks();
  *c.add_grades() = Grade("vehicle-gbt30323", "一级");
  c.set_score(92);
  *c.mutable_inspected_time() = ToTimestamp(now - absl::Hours(1));
  for (int p = 1; p <= 12; ++p) {
    c.add_structural_points()->set_point(static_cast<v1::StructuralPoint::Point>(p));
  }
  EXPECT_EQ(Fields(ValidateContent(c, now)),
            std::vector<std::string>{"appraisal.signed_content.structural_points"});
  c.add_structural_points()->set_point(v1::StructuralPoint::SHOCK_TOWER_REAR_RIGHT);
  EXPECT_OK(ValidateContent(c, now));
  EXPECT_EQ(EffectiveValidUntil(c), FromTimestamp(c.inspected_time()) + absl::Hours(24 * 90));
  c.mutable_structural_points(2)->add_defect_codes("GH");
  EXPECT_EQ(Fields(ValidateContent(c, now)),
            std::vector<std::string>{"appraisal.signed_content.accident_found"});
  c.set_accident_found(true);
  EXPECT_OK(ValidateContent(c, now));
  *c.mutable_valid_until() = ToTimestamp(now + absl::Hours(24 * 91));
  EXPECT_EQ(Fields(ValidateContent(c, now)),
            std::vector<std::string>{"appraisal.signed_content.valid_until"});
  c.clear_valid_until();
  c.mutable_tradability_checks()->set_stolen(true);
  EXPECT_EQ(ReasonOf(CheckTradable(c)), "VEHICLE_NOT_TRADABLE");
}

TEST(AppraisalRulesTest, AccreditationCoverageAndDerivedState) {
  absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  v1::Accreditation a;
  a.add_categories(common::v1::PHONE);
  *a.mutable_valid_from() = ToTimestamp(t0);
  *a.mutable_valid_until() = ToTimestamp(t0 + absl::Hours(100));
  a.set_state(v1::Accreditation::ACTIVE);
  EXPECT_TRUE(CoversAt(a, std::nullopt, common::v1::PHONE, t0));
  EXPECT_FALSE(CoversAt(a, std::nullopt, common::v1::VEHICLE, t0));
  EXPECT_FALSE(CoversAt(a, std::nullopt, common::v1::PHONE, t0 + absl::Hours(100)));
  EXPECT_FALSE(CoversAt(a, t0 + absl::Hours(1), common::v1::PHONE, t0 + absl::Hours(2)));
  EXPECT_TRUE(CoversAt(a, t0 + absl::Hours(1), common::v1::PHONE, t0));
  EXPECT_EQ(EffectiveState(a, t0 + absl::Hours(100)), v1::Accreditation::EXPIRED);
  a.set_state(v1::Accreditation::REVOKED);
  EXPECT_EQ(EffectiveState(a, t0 + absl::Hours(100)), v1::Accreditation::REVOKED);
}

}  // namespace
}  // namespace market::appraisal
