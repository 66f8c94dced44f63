// The market supervisor's journey (issue 7), against a real marketd whose
// clock is shifted through --clock-offset-file: a buyer's claim the seller
// leaves unanswered escalates by itself after the 3-day reply deadline
// (CLAIM_REPLY_MISSED) and is upheld (CLAIM_UPHELD); a counterfeit listing is
// removed with a SERIOUS sanction that puts the seller on the blacklist; the
// supervisor's purposeful read shows in the seller's access log; after the
// 365-day minimum display period the seller applies for credit repair, the
// supervisor approves and the seller leaves the blacklist. The ledger
// verifies (consistently with earlier checkpoints) at the start, the middle
// and the end. Everything through the marketctl binary.
#include <cstdio>
#include <filesystem>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "tests/e2e/journey_fixture.h"

namespace market::testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kDay = 24 * 3600;
// Past the 3-day reply deadline of a claim.
constexpr int64_t kAfterReplyDeadline = 3 * kDay + 3600;
// Past the minimum display period of a SERIOUS record (365 days,
// docs/credit-policy-v1.md §1, DOMAIN.md §6), counted from the sanction.
constexpr int64_t kAfterSeriousMinimum = kAfterReplyDeadline + 365 * kDay + 3600;

class SupervisorJourneyTest : public JourneyTest {
 protected:
  std::vector<std::string> ExtraServerFlags() override {
    return {"--clock-offset-file", OffsetFile(), "--scheduler-period", "0.5"};
  }
  std::string OffsetFile() { return dir_ + "/clock-offset"; }
  // Replaces the offset file atomically, so marketd never reads it half written.
  void SetClockOffset(int64_t seconds) {
    std::string tmp = WriteFile("clock-offset.tmp", std::to_string(seconds) + "\n");
    std::filesystem::rename(tmp, OffsetFile());
  }
  // Tokens issued before a clock jump may have expired after it.
  void LogInAgain(const std::vector<std::string>& users) {
    for (const std::string& user : users) {
      RunResult r = user == "supervisor"
                        ? LoginSupervisorAgain()
                        : Ctl(user, {"login", "--subject", user, "--password-stdin"},
                              "password-" + user + "\n");
      ASSERT_EQ(r.exit_code, 0) << user << ": " << r.err;
    }
  }
  // The records of `user` (its own view), oldest first.
  nlohmann::json Records(const std::string& user) {
    RunResult r = Ctl(user, {"--output", "json", "credit", "records", "--all"});
    if (r.exit_code != 0) return nlohmann::json::array();
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_array() ? j : nlohmann::json::array();
  }
  // The first record of `type` in `records` (null when none).
  static nlohmann::json Find(const nlohmann::json& records, const std::string& type,
                             const std::string& reference = "") {
    for (const auto& r : records) {
      if (r.value("type", "") == type &&
          (reference.empty() || r.value("reference", "") == reference)) {
        return r;
      }
    }
    return nullptr;
  }
  // int64 fields are strings in proto JSON; zero values are omitted.
  static int64_t Int(const nlohmann::json& j, const std::string& key) {
    auto it = j.find(key);
    if (it == j.end()) return 0;
    if (it->is_number()) return it->get<int64_t>();
    if (it->is_string()) return std::stoll(it->get<std::string>());
    return 0;
  }
  bool Blacklisted(const std::string& subject) {
    RunResult r = Ctl("", {"--output", "json", "credit", "blacklist"});
    return r.exit_code == 0 && absl::StrContains(r.out, "\"subject\": \"" + subject + "\"");
  }
  void VerifyLedger(const std::string& when) {
    RunResult verify = Ctl("", {"ledger", "verify", "--state", dir_ + "/ledger-state.json",
                                  "--http-server", http_server_});
    EXPECT_EQ(verify.exit_code, 0) << when << ": " << verify.err;
    EXPECT_THAT(verify.out, HasSubstr("ledger verified")) << when;
  }
  std::string CreatePhone(const std::string& id, const std::string& title,
                          const std::string& imei) {
    nlohmann::json created =
        Json("seller-qian", {"listing", "create", "--market", "city-flea", "--id", id,
                             "--category", "PHONE", "--title", title, "--price", "2999.00",
                             "--condition", "9成新", "--imei", imei, "--brand", "Huawei",
                             "--model", "Mate 60 Pro", "--storage-gb", "512", "--data-wiped"});
    std::string name = created.value("name", "");
    EXPECT_EQ(name, "markets/city-flea/listings/" + id) << created.dump();
    EXPECT_EQ(Json("seller-qian", {"listing", "publish", name})["state"], "PUBLISHED");
    return name;
  }
};

TEST_P(SupervisorJourneyTest, EscalationSanctionBlacklistRepair) {
  SetClockOffset(0);
  const std::string seller = "subjects/seller-qian";
  const std::string supervisor = "subjects/supervisor";

  // ---- Set-up: operator, market, an admitted seller, a buyer. ----
  CreateAndLogin("city-op", {"--kind", "organization", "--role", "OPERATOR", "--display-name",
                             "城南二手市场管理处", "--credit-code", "91350100M000100Y43"});
  CreateAndLogin("seller-qian", {"--role", "SELLER", "--display-name", "钱七", "--id-number",
                                 "11010519491231002X"});
  CreateAndLogin("buyer-sun", {"--role", "BUYER", "--display-name", "孙八"});
  ASSERT_EQ(Ctl("city-op", {"market", "create", "--id", "city-flea", "--display-name",
                            "城南二手市场", "--region", "350102", "--address", "鼓楼区南街 8 号"})
                .exit_code,
            0);
  ASSERT_EQ(Ctl("city-op", {"market", "add-seller", "city-flea", "seller-qian"}).exit_code, 0);
  VerifyLedger("start");

  // ---- The seller lists two phones; the buyer buys the first. ----
  std::string phone = CreatePhone("mate60-a", "华为 Mate 60 Pro 512G", "355383063760236");
  std::string fake = CreatePhone("mate60-b", "华为 Mate 60 Pro 512G 全新原装", "355383063760244");
  nlohmann::json order = Json("buyer-sun", {"order", "place", phone});
  std::string order_name = order.value("name", "");
  ASSERT_FALSE(order_name.empty()) << order.dump();
  ASSERT_EQ(Json("buyer-sun", {"order", "deliver", order_name})["state"], "DELIVERED");

  // ---- The buyer files a claim; the seller stays silent. ----
  nlohmann::json claim =
      Json("buyer-sun", {"claim", "file", order_name, "--kind", "refund", "--fault-code", "SCREEN",
                         "--description", "屏幕出现绿线，触摸失灵", "--id", "c-screen"});
  ASSERT_EQ(claim.value("name", ""), "claims/c-screen") << claim.dump();
  EXPECT_EQ(claim["state"], "FILED");
  EXPECT_EQ(claim["seller"], seller);
  EXPECT_FALSE(claim.value("reply_deadline", "").empty());

  // Three days and an hour later the reply deadline has passed; the warranty
  // scheduler (every minute in marketd) escalates the claim by itself.
  SetClockOffset(kAfterReplyDeadline);
  LogInAgain({"supervisor", "seller-qian", "buyer-sun"});
  nlohmann::json escalated;
  EXPECT_TRUE(Eventually(
      [&] {
        escalated = Json("buyer-sun", {"claim", "get", "c-screen"});
        return escalated.value("state", "") == "ESCALATED";
      },
      90))
      << escalated.dump();
  EXPECT_EQ(escalated.value("auto_escalated", false), true);
  EXPECT_EQ(escalated.value("escalation_reason", ""), "REPLY_DEADLINE_MISSED");
  // Too late for the seller to answer now.
  RunResult late = Ctl("seller-qian", {"claim", "respond", "c-screen", "--decision", "accept"});
  EXPECT_EQ(late.exit_code, 9) << late.err;  // FAILED_PRECONDITION
  EXPECT_THAT(late.err, HasSubstr("CLAIM_NOT_FILED"));

  nlohmann::json missed;
  EXPECT_TRUE(Eventually([&] {
    missed = Find(Records("seller-qian"), "CLAIM_REPLY_MISSED", "claims/c-screen");
    return !missed.is_null();
  })) << Records("seller-qian").dump();
  if (!missed.is_null()) {
    EXPECT_EQ(missed["tier"], "MINOR");
    EXPECT_EQ(missed["subject"], seller);
  }

  // ---- The supervisor upholds the claim. ----
  nlohmann::json upheld = Json("supervisor", {"claim", "rule", "c-screen", "--outcome", "upheld",
                                              "--reason", "卖家逾期未答复，检测确认屏幕排线故障"});
  EXPECT_EQ(upheld["state"], "UPHELD") << upheld.dump();
  EXPECT_EQ(upheld.value("ruled_by", ""), supervisor);
  EXPECT_FALSE(upheld.value("resolve_deadline", "").empty());
  nlohmann::json claim_upheld;
  EXPECT_TRUE(Eventually([&] {
    claim_upheld = Find(Records("seller-qian"), "CLAIM_UPHELD", "claims/c-screen");
    return !claim_upheld.is_null();
  })) << Records("seller-qian").dump();
  if (!claim_upheld.is_null()) {
    EXPECT_EQ(claim_upheld["tier"], "GENERAL");
  }
  VerifyLedger("after the claim");

  // ---- A counterfeit listing is removed: SERIOUS, blacklisted. ----
  EXPECT_FALSE(Blacklisted(seller));
  nlohmann::json removed =
      Json("supervisor", {"listing", "remove", fake, "--cause", "COUNTERFEIT", "--reason",
                          "经鉴定为翻新机冒充全新原装"});
  EXPECT_EQ(removed["state"], "REMOVED") << removed.dump();
  EXPECT_EQ(removed.value("removal_cause", ""), "COUNTERFEIT");
  nlohmann::json counterfeit;
  ASSERT_TRUE(Eventually([&] {
    counterfeit = Find(Records("seller-qian"), "COUNTERFEIT_CONFIRMED", fake);
    return !counterfeit.is_null();
  })) << Records("seller-qian").dump();
  EXPECT_EQ(counterfeit["tier"], "SERIOUS");
  const int64_t counterfeit_index = Int(counterfeit, "index");
  EXPECT_TRUE(Eventually([&] { return Blacklisted(seller); }))
      << Ctl("", {"credit", "blacklist"}).out;
  nlohmann::json listed = Json("", {"credit", "blacklist"});
  for (const auto& e : listed) {
    if (e.value("subject", "") != seller) continue;
    EXPECT_EQ(e["reason_type"], "COUNTERFEIT_CONFIRMED") << e.dump();
    EXPECT_EQ(e.value("record", ""), absl::StrCat("ledgers/main/records/", counterfeit_index));
    EXPECT_EQ(e.value("display_name", ""), "钱七");
  }
  nlohmann::json public_profile = Json("", {"credit", "profile", "seller-qian"});
  EXPECT_EQ(public_profile.value("blacklisted", false), true) << public_profile.dump();
  EXPECT_EQ(public_profile["level"], "D");
  EXPECT_FALSE(public_profile.contains("score"));  // not for the public

  // Repair is not possible before the minimum display period (1 year).
  RunResult early = Ctl("seller-qian", {"credit", "repair", "apply", "--record",
                                        std::to_string(counterfeit_index), "--correction", "x",
                                        "--fulfilment", "x", "--commitment", "x"});
  EXPECT_EQ(early.exit_code, 9) << early.err;  // FAILED_PRECONDITION
  EXPECT_THAT(early.err, HasSubstr("MIN_DISPLAY_PERIOD_NOT_OVER"));

  // ---- The supervisor reads the seller's records with a purpose; the seller
  // sees that read in its access log. ----
  RunResult read = Ctl("supervisor", {"--output", "json", "credit", "records", "--subject",
                                      "seller-qian", "--purpose", "投诉核查 2026-118"});
  EXPECT_EQ(read.exit_code, 0) << read.err;
  EXPECT_THAT(read.out, HasSubstr("COUNTERFEIT_CONFIRMED"));
  RunResult no_purpose =
      Ctl("supervisor", {"credit", "records", "--subject", "seller-qian"});
  EXPECT_EQ(no_purpose.exit_code, 3) << no_purpose.err;  // INVALID_ARGUMENT
  nlohmann::json log = Json("seller-qian", {"credit", "access-log"});
  bool seen = false;
  for (const auto& e : log) {
    if (e.value("purpose", "") != "投诉核查 2026-118") continue;
    seen = true;
    EXPECT_EQ(e.value("reader", ""), supervisor);
    EXPECT_EQ(e.value("reader_role", ""), "SUPERVISOR");
    EXPECT_EQ(e.value("subject", ""), seller);
    EXPECT_EQ(e.value("method", ""), "ListRecords");
  }
  EXPECT_TRUE(seen) << log.dump();
  VerifyLedger("after the sanction");

  // ---- A year later: repair. ----
  SetClockOffset(kAfterSeriousMinimum);
  LogInAgain({"supervisor", "seller-qian"});
  EXPECT_TRUE(Blacklisted(seller)) << "a SERIOUS record is shown for up to 3 years";
  nlohmann::json application =
      Json("seller-qian",
           {"credit", "repair", "apply", "--record", std::to_string(counterfeit_index),
            "--correction", "已下架全部翻新机并向买家退款", "--fulfilment",
            "已缴清罚款 5000 元并赔偿买家", "--commitment", "本人承诺今后诚信经营，不再销售假冒商品"});
  EXPECT_EQ(application["state"], "PENDING") << application.dump();
  std::string application_name = application.value("name", "");
  ASSERT_THAT(application_name, HasSubstr("subjects/seller-qian/repairApplications/"));
  nlohmann::json approved =
      Json("supervisor", {"credit", "repair", "rule", application_name, "--approve", "--reason",
                          "整改到位，义务已履行", "--decision-document", "市监信修〔2027〕3号"});
  EXPECT_EQ(approved["state"], "APPROVED") << approved.dump();
  EXPECT_EQ(approved.value("ruled_by", ""), supervisor);
  std::string repair_record = approved.value("repair_record", "");
  EXPECT_THAT(repair_record, HasSubstr("ledgers/main/records/"));

  EXPECT_TRUE(Eventually([&] { return !Blacklisted(seller); }))
      << Ctl("", {"credit", "blacklist"}).out;
  public_profile = Json("", {"credit", "profile", "seller-qian"});
  EXPECT_EQ(public_profile.value("blacklisted", false), false) << public_profile.dump();
  EXPECT_EQ(Int(public_profile, "serious_count"), 0);
  nlohmann::json repaired = Find(Records("seller-qian"), "CREDIT_REPAIRED");
  ASSERT_FALSE(repaired.is_null()) << Records("seller-qian").dump();
  EXPECT_EQ(Int(repaired, "refers_to"), counterfeit_index);
  EXPECT_EQ(repaired["tier"], "SERIOUS");
  EXPECT_EQ(absl::StrCat("ledgers/main/records/", Int(repaired, "index")), repair_record);
  VerifyLedger("end");
}

}  // namespace

INSTANTIATE_JOURNEY(SupervisorJourneyTest);

}  // namespace market::testing
