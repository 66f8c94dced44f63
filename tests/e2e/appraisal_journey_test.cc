// The appraisal firm's journey (issue 7): the bootstrap supervisor creates an
// appraisal firm and its appraiser and accredits the firm for PHONE and
// VEHICLE; the firm generates a signing key and registers it; the appraiser
// files a signed report on a seller's phone listing and the firm one on a
// vehicle listing; the listing shows the grade; an outsider verifies the
// report without logging in; a report altered after signing or signed with
// another key is refused; the buyer of the phone and the seller of the car
// dispute the reports, the supervisor upholds both, APPRAISAL_OVERTURNED lands
// in the firm's credit records, its score and then its level drop, and the
// ledger still verifies. Everything through the marketctl binary.
#include <sys/stat.h>

#include <chrono>
#include <ctime>

#include "absl/strings/escaping.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "tests/e2e/journey_fixture.h"

namespace market::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kImei[] = "355383063760236";
constexpr char kVin[] = "1M8GDM9AXKP042788";
constexpr char kFirmUscc[] = "91350102MA0000050N";
constexpr char kPhoneListing[] = "markets/east-flea/listings/mate60";
constexpr char kCarListing[] = "markets/east-flea/listings/byd-qin";
constexpr char kKey[] = "firms/minjian/keys/minjian-2026";

using Clock = std::chrono::system_clock;

// RFC 3339 in UTC, as a report author types it.
std::string Rfc3339(Clock::time_point t) {
  std::time_t secs = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Clock::time_point HoursFromNow(int hours) { return Clock::now() + std::chrono::hours(hours); }

// AppraisalContent as proto JSON: a phone inspected two hours ago.
nlohmann::json PhoneReport(const std::string& report_number) {
  return {
      {"report_number", report_number},
      {"firm", "firms/minjian"},
      {"firm_credit_code", kFirmUscc},
      {"appraiser", "subjects/appraiser-chen"},
      {"appraiser_qualification_number", "ZG-2026-0042"},
      {"listing", kPhoneListing},
      {"category", "PHONE"},
      {"identifiers", {{"imei", kImei}, {"brand", "Huawei"}, {"model", "Mate 60 Pro"}}},
      {"inspection_items",
       {{{"code", "screen"}, {"result", "DEFECT"}, {"defect_code", "HH"}, {"degree", 1}},
        {{"code", "battery"}, {"result", "NORMAL"}}}},
      {"grades",
       {{{"scheme", "phone-cosmetic-v1"}, {"version", 1}, {"level", "95新"}},
        {{"scheme", "phone-function-v1"}, {"version", 1}, {"level", "0"}}}},
      {"disclosed_defects", {"屏幕轻微划痕"}},
      {"appraised_value_min", {{"amount_fen", 300000}, {"currency", "CNY"}}},
      {"appraised_value_max", {{"amount_fen", 340000}, {"currency", "CNY"}}},
      {"inspected_time", Rfc3339(HoursFromNow(-2))},
      {"valid_until", Rfc3339(HoursFromNow(30 * 24))},
  };
}

// A GB/T 30323 vehicle report: 13 structural points, 8 tradability checks;
// welding on the left A pillar makes it an accident vehicle (五级).
nlohmann::json VehicleReport(const std::string& report_number) {
  static const char* kPoints[] = {
      "BODY_SYMMETRY",          "A_PILLAR_LEFT",          "A_PILLAR_RIGHT",
      "B_PILLAR_LEFT",          "B_PILLAR_RIGHT",         "C_PILLAR_LEFT",
      "C_PILLAR_RIGHT",         "FRONT_RAIL_LEFT",        "FRONT_RAIL_RIGHT",
      "SHOCK_TOWER_FRONT_LEFT", "SHOCK_TOWER_FRONT_RIGHT", "SHOCK_TOWER_REAR_LEFT",
      "SHOCK_TOWER_REAR_RIGHT"};
  nlohmann::json points = nlohmann::json::array();
  for (const char* p : kPoints) {
    nlohmann::json point = {{"point", p}};
    if (std::string(p) == "A_PILLAR_LEFT") point["defect_codes"] = {"SH"};
    points.push_back(point);
  }
  return {
      {"report_number", report_number},
      {"firm", "firms/minjian"},
      {"firm_credit_code", kFirmUscc},
      {"appraiser", "subjects/appraiser-chen"},
      {"appraiser_qualification_number", "ZG-2026-0042"},
      {"listing", kCarListing},
      {"category", "VEHICLE"},
      {"identifiers", {{"vin", kVin}, {"engine_number", "E123456"}, {"brand", "BYD"}}},
      {"inspection_items",
       {{{"code", "body.front_bumper"}, {"result", "DEFECT"}, {"defect_code", "AX"},
         {"degree", 2}}}},
      {"score", 85},
      {"grades", {{{"scheme", "vehicle-gbt30323"}, {"version", 1}, {"level", "五级"}}}},
      {"mileage_km", 56000},
      {"tradability_checks",
       {{"scrapped", false},
        {"mortgaged_or_customs_supervised", false},
        {"seized", false},
        {"stolen", false},
        {"engine_number_mismatch", false},
        {"vin_mismatch", false},
        {"smuggled_or_illegally_assembled", false},
        {"otherwise_prohibited", false}}},
      {"structural_points", points},
      {"accident_found", true},
      {"findings_note", "左A柱有烧焊痕迹"},
      {"inspected_time", Rfc3339(HoursFromNow(-1))},
  };
}

int LevelRank(const nlohmann::json& profile) {
  const std::string level = profile.value("level", "");
  return level.size() == 1 && level[0] >= 'A' && level[0] <= 'D' ? level[0] - 'A' : -1;
}

// Runs against marketd and against the five processes of deploy/multiprocess.sh.
class AppraisalJourneyTest : public JourneyTest {
 protected:
  // Files `report` as `user`, signed with `private_key`; returns the result.
  RunResult File(const std::string& user, const std::string& file_name,
                 const nlohmann::json& report, const std::string& private_key,
                 const std::vector<std::string>& extra = {}) {
    std::string path = WriteFile(file_name, report.dump(2));
    std::vector<std::string> args = {"--output", "json", "appraisal",  "file", path,
                                     "--key",    kKey,   "--private-key", private_key};
    args.insert(args.end(), extra.begin(), extra.end());
    return Ctl(user, args);
  }
  // Polls the firm's own credit records until one APPRAISAL_OVERTURNED record
  // references each of `appraisals`.
  bool OverturnedRecordsFor(const std::string& user, const std::vector<std::string>& appraisals) {
    return Eventually([&] {
      RunResult r = Ctl(user, {"--output", "json", "credit", "records", "--all"});
      if (r.exit_code != 0) return false;
      nlohmann::json records = nlohmann::json::parse(r.out, nullptr, false);
      if (!records.is_array()) return false;
      for (const std::string& a : appraisals) {
        bool found = false;
        for (const auto& rec : records) {
          found = found || (rec.value("type", "") == "APPRAISAL_OVERTURNED" &&
                            rec.value("reference", "") == a && rec.value("tier", "") == "GENERAL");
        }
        if (!found) return false;
      }
      return true;
    });
  }
};

TEST_P(AppraisalJourneyTest, AccreditKeygenFileShowVerifyDisputeAndCreditDrops) {
  // ---- The supervisor sets up the firm and its appraiser. ----
  CreateAndLogin("minjian", {"--kind", "organization", "--role", "APPRAISAL_FIRM",
                             "--display-name", "闽鉴二手商品鉴定有限公司", "--credit-code",
                             kFirmUscc});
  CreateAndLogin("appraiser-chen", {"--role", "APPRAISER", "--display-name", "陈鉴定",
                                    "--id-number", "11010519491231002X", "--affiliation",
                                    "minjian"});
  nlohmann::json chen = Json("supervisor", {"subject", "get", "appraiser-chen"});
  EXPECT_EQ(chen["affiliation"], "subjects/minjian") << chen.dump();

  nlohmann::json acc = Json(
      "supervisor", {"appraisal", "accreditation", "grant", "minjian", "--category", "PHONE",
                     "--category", "VEHICLE", "--from", Rfc3339(HoursFromNow(-30 * 24)), "--until",
                     Rfc3339(HoursFromNow(3 * 365 * 24)), "--certificate", "闽鉴字 2026-001",
                     "--id", "minjian-2026"});
  EXPECT_EQ(acc["name"], "firms/minjian/accreditations/minjian-2026");
  EXPECT_EQ(acc["state"], "ACTIVE");
  EXPECT_EQ(acc["categories"], nlohmann::json({"PHONE", "VEHICLE"}));
  // Accreditations are public.
  nlohmann::json accs = Json("", {"appraisal", "accreditation", "list", "minjian"});
  ASSERT_EQ(accs.size(), 1u) << accs.dump();

  // ---- The firm generates its signing key and registers it. ----
  std::string pem = dir_ + "/minjian.pem";
  RunResult keygen = Ctl("minjian", {"appraisal", "keygen", "--out", pem});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  EXPECT_THAT(keygen.out, HasSubstr("BEGIN PUBLIC KEY"));
  EXPECT_THAT(keygen.err, HasSubstr("mode 0600"));
  struct stat st{};
  ASSERT_EQ(stat(pem.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  nlohmann::json key = Json("minjian", {"appraisal", "register-key", "minjian",
                                        "--private-key", pem, "--id", "minjian-2026"});
  EXPECT_EQ(key["name"], kKey);
  EXPECT_EQ(key["state"], "ACTIVE");
  EXPECT_EQ(std::string(key.value("fingerprint", "")).size(), 64u);
  // The public key is public.
  nlohmann::json keys = Json("", {"appraisal", "keys", "minjian"});
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0]["name"], kKey);

  // ---- An operator, a market, a seller with a phone and a car, a buyer. ----
  CreateAndLogin("east-op", {"--kind", "organization", "--role", "OPERATOR", "--display-name",
                             "东城跳蚤市场管理处", "--credit-code", "91350100M000100Y43"});
  CreateAndLogin("seller-lin", {"--role", "SELLER", "--display-name", "林七", "--id-number",
                                "440524188001010014"});
  CreateAndLogin("buyer-zhao", {"--role", "BUYER", "--display-name", "赵六"});
  ASSERT_EQ(Ctl("east-op", {"market", "create", "--id", "east-flea", "--display-name",
                            "东城社区跳蚤市场", "--region", "350102", "--address",
                            "鼓楼区东街 1 号"})
                .exit_code,
            0);
  ASSERT_EQ(Ctl("east-op", {"market", "add-seller", "east-flea", "seller-lin"}).exit_code, 0);
  nlohmann::json phone = Json(
      "seller-lin", {"listing", "create", "--market", "east-flea", "--id", "mate60", "--category",
                     "PHONE", "--title", "华为 Mate 60 Pro 512G", "--price", "3299.00",
                     "--condition", "9成新", "--defect", "屏幕轻微划痕", "--imei", kImei,
                     "--brand", "Huawei", "--model", "Mate 60 Pro", "--storage-gb", "512",
                     "--data-wiped"});
  ASSERT_EQ(phone["name"], kPhoneListing) << phone.dump();
  EXPECT_EQ(Json("seller-lin", {"listing", "publish", kPhoneListing})["state"], "PUBLISHED");
  nlohmann::json car = Json(
      "seller-lin", {"listing", "create", "--market", "east-flea", "--id", "byd-qin",
                     "--category", "VEHICLE", "--title", "比亚迪秦 2019 款", "--price",
                     "68000", "--vin", kVin, "--engine-number", "E123456", "--make", "BYD",
                     "--model", "Qin", "--mileage-km", "56000", "--first-registration",
                     "2019-05-01"});
  ASSERT_EQ(car["name"], kCarListing) << car.dump();

  // The firm's credit before any report: a fresh subject.
  nlohmann::json before = Json("minjian", {"credit", "profile", "minjian"});
  ASSERT_TRUE(before.contains("score")) << before.dump();
  ASSERT_GE(LevelRank(before), 0) << before.dump();

  // ---- The appraiser files a signed phone report; the firm a vehicle report. ----
  RunResult filed = File("appraiser-chen", "phone-report.json", PhoneReport("MJ-2026-P-0001"),
                         pem, {"--id", "mate60-report"});
  ASSERT_EQ(filed.exit_code, 0) << filed.err;
  nlohmann::json report = nlohmann::json::parse(filed.out);
  const std::string appraisal = report["name"];
  EXPECT_EQ(appraisal, "appraisals/mate60-report");
  EXPECT_EQ(report["state"], "FILED");
  EXPECT_EQ(report["item"], std::string("items/PHONE:") + kImei);
  EXPECT_EQ(report["filer"], "subjects/appraiser-chen");
  EXPECT_EQ(report["key"], kKey);

  RunResult car_filed = File("minjian", "car-report.json", VehicleReport("MJ-2026-V-0001"), pem,
                             {"--id", "byd-qin-report"});
  ASSERT_EQ(car_filed.exit_code, 0) << car_filed.err;
  nlohmann::json car_report = nlohmann::json::parse(car_filed.out);
  const std::string car_appraisal = car_report["name"];
  EXPECT_EQ(car_report["item"], std::string("items/VEHICLE:") + kVin);
  EXPECT_EQ(car_report["filer"], "subjects/minjian");
  EXPECT_EQ(car_report["content"]["grades"][0]["level"], "五级");
  EXPECT_TRUE(car_report["content"].contains("valid_until"));  // defaulted: +90 days

  // The same report number twice is refused.
  RunResult again = File("appraiser-chen", "phone-again.json", PhoneReport("MJ-2026-P-0001"), pem);
  EXPECT_EQ(again.exit_code, 6) << again.err;  // ALREADY_EXISTS

  // ---- The listing shows the grade (through the outbox). ----
  nlohmann::json shown;
  EXPECT_TRUE(Eventually([&] {
    RunResult r = Ctl("", {"--output", "json", "listing", "get", kPhoneListing});
    shown = nlohmann::json::parse(r.out, nullptr, false);
    return r.exit_code == 0 && shown.is_object() && shown.contains("latest_appraisal") &&
           shown["latest_appraisal"].value("name", "") == appraisal;
  })) << shown.dump();
  ASSERT_TRUE(shown.contains("latest_appraisal"));
  const nlohmann::json& grades = shown["latest_appraisal"]["grades"];
  ASSERT_EQ(grades.size(), 2u) << shown.dump();
  EXPECT_EQ(grades[0]["scheme"], "phone-cosmetic-v1");
  EXPECT_EQ(grades[0]["level"], "95新");
  EXPECT_EQ(grades[1]["scheme"], "phone-function-v1");
  EXPECT_EQ(grades[1]["level"], "0");
  // The car listing is still a DRAFT: its seller sees the grade.
  EXPECT_TRUE(Eventually([&] {
    RunResult r = Ctl("seller-lin", {"--output", "json", "listing", "get", kCarListing});
    return r.exit_code == 0 && absl::StrContains(r.out, car_appraisal) &&
           absl::StrContains(r.out, "五级");
  })) << Ctl("seller-lin", {"listing", "get", kCarListing}).out;
  RunResult table = Ctl("", {"listing", "get", kPhoneListing});
  EXPECT_THAT(table.out, HasSubstr("95新"));

  // ---- An outsider (no login) verifies the report. ----
  nlohmann::json verified = Json("", {"appraisal", "verify", appraisal});
  EXPECT_EQ(verified.value("valid", false), true) << verified.dump();
  EXPECT_EQ(verified.value("signature_valid", false), true);
  EXPECT_EQ(verified.value("accreditation_valid", false), true);
  EXPECT_EQ(verified["accreditation"], "firms/minjian/accreditations/minjian-2026");
  EXPECT_EQ(verified["key_state"], "ACTIVE");
  EXPECT_EQ(verified["appraisal_state"], "FILED");
  EXPECT_EQ(verified["content"]["report_number"], "MJ-2026-P-0001");
  // The public does not see who filed it.
  nlohmann::json public_view = Json("", {"appraisal", "get", appraisal});
  EXPECT_FALSE(public_view.contains("filer")) << public_view.dump();
  // From the raw bytes and signature as printed on the report (QR code).
  std::string signed_bytes;
  ASSERT_TRUE(absl::Base64Unescape(std::string(public_view["signed_content"]), &signed_bytes));
  const std::string signature = public_view["signature"];
  std::string raw = WriteFile("report.bin", signed_bytes);
  RunResult raw_ok =
      Ctl("", {"appraisal", "verify", "--content", raw, "--signature", signature, "--key", kKey});
  EXPECT_EQ(raw_ok.exit_code, 0) << raw_ok.out << raw_ok.err;

  // ---- The printed certificate: its QR code's verify URL checks out. ----
  RunResult cert = Ctl("", {"appraisal", "certificate", appraisal, "-o", dir_ + "/mate60.svg"});
  ASSERT_EQ(cert.exit_code, 0) << cert.err;
  EXPECT_TRUE(absl::StartsWith(ReadWholeFile(dir_ + "/mate60.svg"), "<?xml"));
  const std::string verify_url(absl::StripAsciiWhitespace(cert.out));
  EXPECT_THAT(verify_url, HasSubstr("/verify?report=" + appraisal + "&sha256="));
  RunResult valid_url = Ctl("", {"appraisal", "verify", "--url", verify_url});
  EXPECT_EQ(valid_url.exit_code, 0) << valid_url.err;
  EXPECT_THAT(valid_url.out, HasSubstr("verdict: VALID"));

  // ---- Failing case 1: the bytes altered after signing (95新 → 99新). ----
  std::string altered = signed_bytes;
  size_t at = altered.find("95新");
  ASSERT_NE(at, std::string::npos);
  altered[at + 1] = '9';
  std::string altered_path = WriteFile("report-altered.bin", altered);
  RunResult forged = Ctl("", {"--output", "json", "appraisal", "verify", "--content",
                              altered_path, "--signature", signature, "--key", kKey});
  EXPECT_NE(forged.exit_code, 0);
  EXPECT_THAT(forged.err, HasSubstr("BAD_SIGNATURE"));
  nlohmann::json forged_json = nlohmann::json::parse(forged.out, nullptr, false);
  EXPECT_EQ(forged_json.value("valid", false), false);
  EXPECT_THAT(forged_json["problems"], Contains("BAD_SIGNATURE")) << forged.out;
  EXPECT_THAT(forged_json["problems"], Contains("NOT_FILED")) << forged.out;

  // ---- Failing case 2: a report signed with a key the firm never registered. ----
  std::string stranger = dir_ + "/stranger.pem";
  ASSERT_EQ(Ctl("", {"appraisal", "keygen", "--out", stranger}).exit_code, 0);
  RunResult wrong_key = File("appraiser-chen", "phone-report-2.json",
                             PhoneReport("MJ-2026-P-0002"), stranger);
  EXPECT_EQ(wrong_key.exit_code, 3) << wrong_key.err;  // INVALID_ARGUMENT
  EXPECT_THAT(wrong_key.err, HasSubstr("reason: SIGNATURE_INVALID"));
  EXPECT_THAT(wrong_key.err, HasSubstr("bad field: appraisal.signature"));
  // Nothing was filed: the listing still shows the first report.
  EXPECT_EQ(Json("", {"listing", "get", kPhoneListing})["latest_appraisal"]["name"], appraisal);

  // ---- The buyer orders the phone, then disputes the grade. ----
  nlohmann::json order =
      Json("buyer-zhao", {"order", "place", kPhoneListing, "--ack-defects"});
  ASSERT_FALSE(order.value("name", "").empty()) << order.dump();
  nlohmann::json dispute = Json("buyer-zhao", {"appraisal", "dispute", "file", appraisal,
                                               "--reason", "屏幕有明显划痕，不是95新"});
  const std::string dispute_name = dispute.value("name", "");
  ASSERT_TRUE(absl::StartsWith(dispute_name, appraisal + "/disputes/")) << dispute.dump();
  EXPECT_EQ(dispute["state"], "OPEN");
  EXPECT_EQ(dispute["raiser_role"], "BUYER");
  EXPECT_EQ(Json("", {"appraisal", "get", appraisal})["state"], "DISPUTED");
  // The firm sees the dispute against its report.
  nlohmann::json firm_disputes = Json("minjian", {"appraisal", "dispute", "list", appraisal});
  ASSERT_EQ(firm_disputes.size(), 1u) << firm_disputes.dump();

  nlohmann::json ruled =
      Json("supervisor", {"appraisal", "dispute", "rule", dispute_name, "--outcome", "UPHELD",
                          "--reason", "复检结论与原报告不符", "--decision",
                          "闽市监鉴裁〔2026〕7号"});
  EXPECT_EQ(ruled["state"], "UPHELD");
  EXPECT_TRUE(absl::StartsWith(ruled.value("ruled_by", ""), "subjects/")) << ruled.dump();
  EXPECT_EQ(Json("", {"appraisal", "get", appraisal})["state"], "OVERTURNED");
  RunResult overturned = Ctl("", {"--output", "json", "appraisal", "verify", appraisal});
  EXPECT_EQ(overturned.exit_code, 66);  // verification failed, not a gRPC code
  EXPECT_THAT(overturned.out, HasSubstr("OVERTURNED"));
  RunResult overturned_url = Ctl("", {"appraisal", "verify", "--url", verify_url});
  EXPECT_EQ(overturned_url.exit_code, 66);
  EXPECT_THAT(overturned_url.out, HasSubstr("verdict: OVERTURNED"));
  // The listing no longer shows the overturned grade.
  EXPECT_TRUE(Eventually([&] {
    RunResult r = Ctl("", {"--output", "json", "listing", "get", kPhoneListing});
    return r.exit_code == 0 && !absl::StrContains(r.out, "latest_appraisal");
  }));

  // APPRAISAL_OVERTURNED reaches the firm's (and the appraiser's) records.
  EXPECT_TRUE(OverturnedRecordsFor("minjian", {appraisal}))
      << Ctl("minjian", {"credit", "records"}).out;
  EXPECT_TRUE(OverturnedRecordsFor("appraiser-chen", {appraisal}))
      << Ctl("appraiser-chen", {"credit", "records"}).out;
  nlohmann::json after_one = Json("minjian", {"credit", "profile", "minjian"});
  EXPECT_LT(after_one.value("score", 0), before.value("score", 0)) << after_one.dump();
  EXPECT_GE(LevelRank(after_one), LevelRank(before)) << after_one.dump();
  EXPECT_EQ(after_one.value("general_count", 0), 1);

  // ---- The seller disputes the car's accident grading; upheld too. ----
  nlohmann::json car_dispute =
      Json("seller-lin", {"appraisal", "dispute", "file", car_appraisal, "--reason",
                          "左A柱为原厂焊点，非事故维修，4S 店记录可查"});
  EXPECT_EQ(car_dispute["raiser_role"], "SELLER") << car_dispute.dump();
  nlohmann::json car_ruled =
      Json("supervisor", {"appraisal", "dispute", "rule", car_dispute.value("name", ""),
                          "--outcome", "UPHELD", "--reason", "复检确认无结构性损伤"});
  EXPECT_EQ(car_ruled["state"], "UPHELD");
  EXPECT_TRUE(OverturnedRecordsFor("minjian", {appraisal, car_appraisal}))
      << Ctl("minjian", {"credit", "records"}).out;

  // Two GENERAL records: the firm's level is now worse than before.
  nlohmann::json after = Json("minjian", {"credit", "profile", "minjian"});
  EXPECT_GT(LevelRank(after), LevelRank(before))
      << "before " << before.dump() << "\nafter " << after.dump();
  EXPECT_LT(after.value("score", 0), after_one.value("score", 0));
  EXPECT_EQ(after.value("general_count", 0), 2);
  // The public sees the level too (not the score).
  nlohmann::json seen = Json("", {"credit", "profile", "minjian"});
  EXPECT_EQ(seen["level"], after["level"]);
  EXPECT_FALSE(seen.contains("score"));

  // ---- The ledger still verifies. ----
  RunResult verify = Ctl("", {"ledger", "verify", "--state", dir_ + "/ledger-state.json",
                                  "--http-server", http_server_});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

INSTANTIATE_JOURNEY(AppraisalJourneyTest);

}  // namespace
}  // namespace market::testing
