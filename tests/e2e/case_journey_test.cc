// The supervision case queue (issue 14) against real servers, in both
// deployments (marketd; one process per service with the case queue in
// market-credit), everything through the marketctl binary: an odometer
// reading below an earlier one opens exactly one MILEAGE_ROLLBACK case (a
// replayed observation opens no second) and closing it confirmed appends
// MILEAGE_ROLLBACK_CONFIRMED; a buyer's violation report opens a case that
// closing dismissed leaves without a record; an escalated claim opens a case.
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "tests/e2e/journey_fixture.h"

namespace market::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kVin[] = "1M8GDM9AXKP042788";
constexpr char kImei[] = "355383063760236";
const std::string kSeller = "subjects/seller-wu";

class CaseJourneyTest : public JourneyTest {
 protected:
  // The supervisor's view of the cases matching `filter`.
  nlohmann::json Cases(const std::string& filter) {
    RunResult r =
        Ctl("supervisor", {"--output", "json", "case", "list", "--filter", filter, "--all"});
    if (r.exit_code != 0) return nlohmann::json::array();
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_array() ? j : nlohmann::json::array();
  }
  // The seller's own records of `type`.
  int CountRecords(const std::string& type) {
    RunResult r = Ctl("seller-wu", {"--output", "json", "credit", "records", "--all"});
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    int n = 0;
    if (!j.is_array()) return -1;
    for (const auto& rec : j) n += rec.value("type", "") == type ? 1 : 0;
    return n;
  }
  void Observe(const std::string& km, const std::string& time, const std::string& request_id) {
    RunResult r = Ctl("svc-odometer", {"item", "observe", std::string("VEHICLE:") + kVin,
                                       "--source", "inspections/annual-2026", "--observed-time",
                                       time, "--mileage-km", km, "--request-id", request_id});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
};

TEST_P(CaseJourneyTest, RollbackReportAndEscalationOpenCasesThatSupervisorsDecide) {
  // ---- Set-up: an operator's market, a seller, a buyer, an odometer service. ----
  CreateAndLogin("gulou-op", {"--kind", "organization", "--role", "OPERATOR", "--display-name",
                              "鼓楼二手车市场", "--credit-code", "91350100M000100Y43"});
  CreateAndLogin("seller-wu", {"--role", "SELLER", "--display-name", "吴九", "--id-number",
                               "11010519491231002X"});
  CreateAndLogin("buyer-zheng", {"--role", "BUYER", "--display-name", "郑十"});
  CreateAndLogin("buyer-other", {"--role", "BUYER", "--display-name", "王五"});
  CreateAndLogin("svc-odometer", {"--kind", "organization", "--role", "SERVICE",
                                  "--display-name", "年检里程上报", "--credit-code",
                                  "91440101MA5CJQ4N59"});
  ASSERT_EQ(Ctl("gulou-op", {"market", "create", "--id", "gulou-cars", "--display-name",
                             "鼓楼二手车市场", "--region", "350102", "--address", "鼓楼区北街 3 号"})
                .exit_code,
            0);
  ASSERT_EQ(Ctl("gulou-op", {"market", "add-seller", "gulou-cars", "seller-wu"}).exit_code, 0);
  nlohmann::json car = Json(
      "seller-wu", {"listing", "create", "--market", "gulou-cars", "--id", "byd-han",
                    "--category", "VEHICLE", "--title", "比亚迪汉 2020 款", "--price", "128000",
                    "--vin", kVin, "--engine-number", "E778899", "--make", "BYD", "--model",
                    "Han", "--mileage-km", "80000", "--first-registration", "2020-06-01"});
  ASSERT_EQ(car.value("name", ""), "markets/gulou-cars/listings/byd-han") << car.dump();

  // ---- 80,000 km, then 50,000 km a year later: one rollback case. ----
  ASSERT_NO_FATAL_FAILURE(Observe("80000", "2025-06-01T10:00:00+08:00", "evt-odo-1"));
  ASSERT_NO_FATAL_FAILURE(Observe("50000", "2026-06-01T10:00:00+08:00", "evt-odo-2"));
  nlohmann::json rollbacks;
  ASSERT_TRUE(Eventually([&] {
    rollbacks = Cases("kind=MILEAGE_ROLLBACK");
    return rollbacks.size() == 1;
  })) << rollbacks.dump();
  nlohmann::json rollback = rollbacks[0];
  EXPECT_EQ(rollback["resource"], std::string("items/VEHICLE:") + kVin);
  EXPECT_EQ(rollback["state"], "OPEN");
  EXPECT_EQ(rollback["market"], "markets/gulou-cars");
  EXPECT_EQ(rollback["region_code"], "350102");
  EXPECT_EQ(rollback["subjects"][0]["subject"], kSeller);
  // The sender replays its observation: still one case.
  ASSERT_NO_FATAL_FAILURE(Observe("50000", "2026-06-01T10:00:00+08:00", "evt-odo-2"));
  EXPECT_EQ(Cases("kind=MILEAGE_ROLLBACK").size(), 1u);
  EXPECT_EQ(Cases("region=3501 AND state=OPEN").size(), 1u);

  // ---- Before the ruling: the seller sells a phone (reported below). ----
  nlohmann::json phone = Json(
      "seller-wu", {"listing", "create", "--market", "gulou-cars", "--id", "mate60", "--category",
                    "PHONE", "--title", "华为 Mate 60 Pro 512G", "--price", "3299.00",
                    "--condition", "9成新", "--imei", kImei, "--brand", "Huawei", "--model",
                    "Mate 60 Pro", "--storage-gb", "512", "--data-wiped"});
  ASSERT_EQ(Json("seller-wu", {"listing", "publish", phone.value("name", "")})["state"],
            "PUBLISHED");
  nlohmann::json order = Json("buyer-zheng", {"order", "place", phone.value("name", "")});
  const std::string order_name = order.value("name", "");
  ASSERT_FALSE(order_name.empty()) << order.dump();
  // ---- The supervisor takes it, notes, and confirms it. ----
  const std::string name = rollback["name"];
  EXPECT_EQ(Json("supervisor", {"case", "assign", name})["state"], "IN_REVIEW");
  EXPECT_EQ(Json("supervisor", {"case", "note", name, "--text", "已调取 4S 店保养记录"})["notes"]
                .size(),
            1u);
  ASSERT_EQ(CountRecords("MILEAGE_ROLLBACK_CONFIRMED"), 0);
  nlohmann::json closed =
      Json("supervisor", {"case", "close", name, "--outcome", "confirmed", "--decision-document",
                          "榕市监处〔2026〕88号", "--reason", "里程表被人为回调"});
  EXPECT_EQ(closed["state"], "CLOSED") << closed.dump();
  EXPECT_THAT(closed["decision"].value("record", ""), HasSubstr("ledgers/main/records/"));
  EXPECT_EQ(CountRecords("MILEAGE_ROLLBACK_CONFIRMED"), 1);
  // A SERIOUS record puts the seller on the black list: a new listing is not
  // published (restriction-policy-v1); the order placed before goes on.
  nlohmann::json later = Json(
      "seller-wu", {"listing", "create", "--market", "gulou-cars", "--id", "huawei-p40", "--category",
                    "PHONE", "--title", "华为 P40 128G", "--price", "899.00", "--condition",
                    "8成新", "--imei", "490154203237518", "--brand", "Huawei", "--model", "P40",
                    "--storage-gb", "128", "--data-wiped"});
  RunResult refused = Ctl("seller-wu", {"listing", "publish", later.value("name", "")});
  EXPECT_EQ(refused.exit_code, 9) << refused.err;  // FAILED_PRECONDITION
  EXPECT_THAT(refused.err, HasSubstr("SUBJECT_BLACKLISTED"));

  // ---- A buyer reports a counterfeit phone it bought (the order was placed
  //      before the rollback was confirmed): a case, dismissed. ----
  RunResult stranger = Ctl("buyer-other", {"case", "report", order_name, "--violation",
                                           "counterfeit", "--description", "不是我买的"});
  EXPECT_EQ(stranger.exit_code, 7) << stranger.err;  // PERMISSION_DENIED
  nlohmann::json report =
      Json("buyer-zheng", {"case", "report", order_name, "--violation", "counterfeit",
                           "--description", "序列号与官网查询不符"});
  EXPECT_EQ(report["kind"], "SUSPECTED_VIOLATION") << report.dump();
  EXPECT_EQ(report["resource"], order_name);
  EXPECT_EQ(report["subjects"][0]["subject"], kSeller);
  EXPECT_EQ(report["region_code"], "350102");
  const std::string report_name = report.value("name", "");
  EXPECT_EQ(Json("buyer-zheng", {"case", "get", report_name})["state"], "OPEN");
  EXPECT_EQ(Ctl("buyer-other", {"case", "get", report_name}).exit_code, 7);
  nlohmann::json dismissed =
      Json("supervisor", {"case", "close", report_name, "--outcome", "dismissed", "--reason",
                          "经检测为正品"});
  EXPECT_EQ(dismissed["state"], "CLOSED");
  EXPECT_EQ(CountRecords("COUNTERFEIT_CONFIRMED"), 0);
  EXPECT_EQ(Cases("state=CLOSED").size(), 2u);

  // ---- A claim rejected by the seller and escalated by the buyer: a case. ----
  ASSERT_EQ(Json("buyer-zheng", {"order", "deliver", order_name})["state"], "DELIVERED");
  nlohmann::json claim =
      Json("buyer-zheng", {"claim", "file", order_name, "--kind", "refund", "--fault-code",
                           "SCREEN", "--description", "屏幕出现绿线", "--id", "c-green"});
  ASSERT_EQ(claim.value("name", ""), "claims/c-green") << claim.dump();
  ASSERT_EQ(Json("seller-wu", {"claim", "respond", "c-green", "--decision", "reject", "--reason",
                               "人为损坏"})["state"],
            "REJECTED");
  ASSERT_EQ(Json("buyer-zheng", {"claim", "escalate", "c-green", "--reason", "并非人为损坏"})["state"],
            "ESCALATED");
  nlohmann::json escalated;
  ASSERT_TRUE(Eventually([&] {
    escalated = Cases("kind=CLAIM_ESCALATED");
    return escalated.size() == 1;
  })) << escalated.dump();
  EXPECT_EQ(escalated[0]["resource"], "claims/c-green");
  EXPECT_EQ(escalated[0]["subjects"][0]["subject"], kSeller);
  EXPECT_EQ(escalated[0]["region_code"], "350102");
}

INSTANTIATE_JOURNEY(CaseJourneyTest);

}  // namespace
}  // namespace market::testing
