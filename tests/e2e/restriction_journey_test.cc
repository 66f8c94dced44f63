// Credit restrictions (issue 14, docs/restriction-policy-v1.md) through the
// marketctl binary against a real marketd and against the split deployment:
// a seller put on the black list can no longer publish or take new orders and
// its listings vanish from search, while an order placed before still
// completes and can be claimed against; after credit repair it publishes and
// shows in search again. A blacklisted buyer cannot order, a blacklisted
// operator's market cannot admit sellers, a blacklisted appraisal firm cannot
// file. A seller that earns the red list gets the 诚信商户 badge and facet.
// Every refusal is FAILED_PRECONDITION SUBJECT_BLACKLISTED naming the record.
#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "tests/e2e/journey_fixture.h"

namespace market::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kExitFailedPrecondition = 9;

// RFC 3339 in UTC, `days` from now.
std::string DaysFromNow(int days) {
  auto t = std::chrono::system_clock::now() + std::chrono::hours(24 * days);
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class RestrictionJourneyTest : public JourneyTest {
 protected:
  // The list copy behind search refreshes every half second.
  std::vector<std::string> ExtraServerFlags() override { return {"--scheduler-period", "0.5"}; }

  void SetUpMarket() {
    CreateAndLogin("city-op", {"--kind", "organization", "--role", "OPERATOR", "--display-name",
                               "城南二手市场管理处", "--credit-code", "91350100M000100Y43"});
    CreateAndLogin("seller-qian", {"--role", "SELLER", "--display-name", "钱七", "--id-number",
                                   "11010519491231002X"});
    ASSERT_EQ(Ctl("city-op", {"market", "create", "--id", "city-flea", "--display-name",
                              "城南二手市场", "--region", "350102", "--address", "鼓楼区南街 8 号"})
                  .exit_code,
              0);
    ASSERT_EQ(Ctl("city-op", {"market", "add-seller", "city-flea", "seller-qian"}).exit_code, 0);
  }
  // Creates a phone listing of `seller`; publishes it when `publish`.
  std::string Phone(const std::string& seller, const std::string& suffix,
                    const std::string& imei, bool publish = true) {
    const std::string id = "phone-" + suffix;
    nlohmann::json created =
        Json(seller, {"listing", "create", "--market", "city-flea", "--id", id, "--category",
                      "PHONE", "--title", "华为 Mate 60 Pro " + id, "--price", "2999.00",
                      "--condition", "9成新", "--imei", imei, "--brand", "Huawei", "--model",
                      "Mate 60 Pro", "--storage-gb", "512", "--data-wiped"});
    std::string name = created.value("name", "");
    EXPECT_EQ(name, "markets/city-flea/listings/" + id) << created.dump();
    if (publish) {
      EXPECT_EQ(Json(seller, {"listing", "publish", name})["state"], "PUBLISHED");
    }
    return name;
  }
  // A supervisor sanction against `subject` in `role`, occurred `days_ago`;
  // returns its ledger record name.
  std::string Sanction(const std::string& subject, const std::string& role,
                       const std::string& type, int days_ago, const std::string& event_id) {
    nlohmann::json r =
        Json("supervisor", {"credit", "record", "--subject", subject, "--role", role, "--type",
                            type, "--decision-document", "市监处〔2026〕" + event_id + "号",
                            "--reason", "confirmed by inspection", "--event-id", event_id,
                            "--occurred", DaysFromNow(-days_ago)});
    return r.value("name", "");
  }
  // Names of the listings SearchListings returns for `filter` in city-flea.
  std::vector<std::string> Search(const std::string& filter = "") {
    std::vector<std::string> args = {"listing", "search", "--market", "city-flea", "--all"};
    if (!filter.empty()) args.insert(args.end(), {"--filter", filter});
    std::vector<std::string> names;
    for (const auto& l : Json("", args)) names.push_back(l.value("name", ""));
    return names;
  }
  bool InSearch(const std::string& listing, const std::string& filter = "") {
    for (const std::string& n : Search(filter)) {
      if (n == listing) return true;
    }
    return false;
  }
  // Expects `r` to be the SUBJECT_BLACKLISTED refusal naming `subject` and `record`.
  static void ExpectBlacklisted(const RunResult& r, const std::string& subject,
                                const std::string& record) {
    EXPECT_EQ(r.exit_code, kExitFailedPrecondition) << r.err;
    EXPECT_THAT(r.err, HasSubstr("SUBJECT_BLACKLISTED"));
    EXPECT_THAT(r.err, HasSubstr(subject));
    EXPECT_THAT(r.err, HasSubstr(record));
  }
};

TEST_P(RestrictionJourneyTest, BlacklistedSellerIsRefusedHiddenAndRestoredByRepair) {
  SetUpMarket();
  CreateAndLogin("buyer-sun", {"--role", "BUYER", "--display-name", "孙八"});
  CreateAndLogin("buyer-li", {"--role", "BUYER", "--display-name", "李九"});
  const std::string sold = Phone("seller-qian", "a", "355383063760236");
  const std::string claimed = Phone("seller-qian", "b", "355383063760244");
  const std::string shown = Phone("seller-qian", "c", "355383063760251");
  const std::string draft = Phone("seller-qian", "d", "355383063760269", /*publish=*/false);
  // Two orders placed before the blacklisting.
  std::string order_sold = Json("buyer-sun", {"order", "place", sold}).value("name", "");
  std::string order_claimed = Json("buyer-sun", {"order", "place", claimed}).value("name", "");
  ASSERT_FALSE(order_sold.empty());
  ASSERT_FALSE(order_claimed.empty());
  EXPECT_TRUE(Eventually([&] { return InSearch(shown); }));

  // Counterfeit confirmed 366 days ago: blacklisted (SERIOUS records show for
  // 3 years) and already past the 1-year minimum, so repair is possible.
  const std::string record =
      Sanction("seller-qian", "SELLER", "COUNTERFEIT_CONFIRMED", 366, "restrict-1");
  ASSERT_THAT(record, HasSubstr("ledgers/main/records/"));
  EXPECT_EQ(Json("", {"credit", "profile", "seller-qian"}).value("blacklist_record", ""), record);

  ExpectBlacklisted(Ctl("seller-qian", {"listing", "publish", draft}), "subjects/seller-qian",
                    record);
  ExpectBlacklisted(Ctl("buyer-li", {"order", "place", shown}), "subjects/seller-qian", record);
  EXPECT_TRUE(Eventually([&] { return !InSearch(shown); })) << "blacklisted seller still shown";
  EXPECT_EQ(Json("seller-qian", {"listing", "get", draft})["state"], "DRAFT");

  // The orders placed before run to the end, and the buyer can claim.
  EXPECT_EQ(Json("buyer-sun", {"order", "deliver", order_sold})["state"], "DELIVERED");
  EXPECT_EQ(Json("buyer-sun", {"order", "complete", order_sold})["state"], "COMPLETED");
  EXPECT_EQ(Json("buyer-sun", {"order", "deliver", order_claimed})["state"], "DELIVERED");
  nlohmann::json claim =
      Json("buyer-sun", {"claim", "file", order_claimed, "--kind", "refund", "--fault-code",
                         "SCREEN", "--description", "屏幕出现绿线", "--id", "c-after"});
  EXPECT_EQ(claim.value("state", ""), "FILED") << claim.dump();

  // Credit repair lifts every restriction without anyone touching the listing service.
  std::string index = record.substr(std::string("ledgers/main/records/").size());
  nlohmann::json application =
      Json("seller-qian", {"credit", "repair", "apply", "--record", index, "--correction",
                           "已下架全部假冒商品并退款", "--fulfilment", "已缴清罚款",
                           "--commitment", "今后诚信经营"});
  ASSERT_EQ(application.value("state", ""), "PENDING") << application.dump();
  nlohmann::json approved =
      Json("supervisor", {"credit", "repair", "rule", application.value("name", ""),
                          "--approve", "--reason", "整改到位"});
  ASSERT_EQ(approved.value("state", ""), "APPROVED") << approved.dump();
  EXPECT_EQ(Json("seller-qian", {"listing", "publish", draft})["state"], "PUBLISHED");
  EXPECT_TRUE(Eventually([&] { return InSearch(shown) && InSearch(draft); }))
      << "repaired seller not back in search";
  nlohmann::json order = Json("buyer-li", {"order", "place", shown});
  EXPECT_EQ(order.value("state", ""), "PLACED") << order.dump();
}

TEST_P(RestrictionJourneyTest, BlacklistedBuyerOperatorAndFirmAreRefused) {
  SetUpMarket();
  CreateAndLogin("buyer-li", {"--role", "BUYER", "--display-name", "李九"});
  CreateAndLogin("seller-zhou", {"--role", "SELLER", "--display-name", "周十", "--id-number",
                                 "440524188001010014"});
  const std::string phone = Phone("seller-qian", "a", "355383063760236");

  // A buyer with confirmed fraud places no order.
  const std::string buyer_record = Sanction("buyer-li", "BUYER", "FRAUD_CONFIRMED", 1, "r-buyer");
  ExpectBlacklisted(Ctl("buyer-li", {"order", "place", phone}), "subjects/buyer-li",
                    buyer_record);

  // A market whose operator traded without a licence admits nobody.
  const std::string op_record =
      Sanction("city-op", "OPERATOR", "UNLICENSED_OPERATION", 1, "r-operator");
  ExpectBlacklisted(Ctl("city-op", {"market", "add-seller", "city-flea", "seller-zhou"}),
                    "subjects/city-op", op_record);
  nlohmann::json market = Json("city-op", {"market", "get", "city-flea"});
  EXPECT_THAT(market.dump(), Not(HasSubstr("seller-zhou")));

  // A blacklisted appraisal firm files no report, even signed correctly.
  CreateAndLogin("minjian", {"--kind", "organization", "--role", "APPRAISAL_FIRM",
                             "--display-name", "闽鉴二手商品鉴定有限公司", "--credit-code",
                             "91350102MA0000050N"});
  CreateAndLogin("appraiser-chen", {"--role", "APPRAISER", "--display-name", "陈鉴定",
                                    "--id-number", "110101199003070011", "--affiliation",
                                    "minjian"});
  const std::string pem = dir_ + "/minjian.pem";
  ASSERT_EQ(Ctl("minjian", {"appraisal", "keygen", "--out", pem}).exit_code, 0);
  const std::string firm_record =
      Sanction("minjian", "APPRAISAL_FIRM", "FRAUD_CONFIRMED", 1, "r-firm");
  nlohmann::json report = {
      {"report_number", "MJ-2026-0001"},
      {"firm", "firms/minjian"},
      {"firm_credit_code", "91350102MA0000050N"},
      {"appraiser", "subjects/appraiser-chen"},
      {"appraiser_qualification_number", "ZG-2026-0042"},
      {"listing", phone},
      {"category", "PHONE"},
      {"identifiers", {{"imei", "355383063760236"}, {"brand", "Huawei"}}},
      {"inspection_items", {{{"code", "battery"}, {"result", "NORMAL"}}}},
      {"grades",
       {{{"scheme", "phone-cosmetic-v1"}, {"version", 1}, {"level", "95新"}},
        {{"scheme", "phone-function-v1"}, {"version", 1}, {"level", "0"}}}},
      {"inspected_time", DaysFromNow(0)},
      {"valid_until", DaysFromNow(30)},
  };
  std::string path = WriteFile("report.json", report.dump(2));
  ExpectBlacklisted(Ctl("minjian", {"appraisal", "file", path, "--key",
                                    "firms/minjian/keys/k1", "--private-key", pem}),
                    "subjects/minjian", firm_record);
}

TEST_P(RestrictionJourneyTest, RedListedSellerGetsBadgeAndFacet) {
  SetUpMarket();
  CreateAndLogin("seller-zhou", {"--role", "SELLER", "--display-name", "周十", "--id-number",
                                 "440524188001010014"});
  ASSERT_EQ(Ctl("city-op", {"market", "add-seller", "city-flea", "seller-zhou"}).exit_code, 0);
  // Ten completed trades with ten buyers (the red list's distinct
  // counterparties) and fifteen commendations: 25 positives, score 650, level A.
  const char* kImeis[] = {"355383063760236", "355383063760244", "355383063760251",
                          "355383063760269", "355383063760277", "355383063760285",
                          "355383063760293", "355383063760301", "355383063760319",
                          "355383063760327"};
  for (int i = 0; i < 10; ++i) {
    std::string buyer = absl::StrCat("buyer-", i);
    CreateAndLogin(buyer, {"--role", "BUYER", "--display-name", absl::StrCat("买家", i)});
    std::string listing = Phone("seller-qian", absl::StrCat("t", i), kImeis[i]);
    std::string order = Json(buyer, {"order", "place", listing}).value("name", "");
    ASSERT_FALSE(order.empty());
    ASSERT_EQ(Json(buyer, {"order", "deliver", order})["state"], "DELIVERED");
    ASSERT_EQ(Json(buyer, {"order", "complete", order})["state"], "COMPLETED");
  }
  for (int i = 0; i < 15; ++i) {
    ASSERT_EQ(Ctl("supervisor", {"credit", "record", "--subject", "seller-qian", "--type",
                                 "COMMENDATION", "--reason", "诚信经营", "--event-id",
                                 absl::StrCat("commend-", i)})
                  .exit_code,
              0);
  }
  // The trades reach the ledger through the outbox.
  EXPECT_TRUE(Eventually(
      [&] { return Json("", {"credit", "profile", "seller-qian"}).value("redlisted", false); },
      30))
      << Json("", {"credit", "profile", "seller-qian"}).dump();
  const std::string trusted = Phone("seller-qian", "trusted", "355383063760335");
  const std::string other = Phone("seller-zhou", "other", "355383063760343");
  EXPECT_TRUE(Eventually([&] {
    return InSearch(trusted, "trusted_seller=true") && !InSearch(other, "trusted_seller=true");
  })) << Ctl("", {"--output", "json", "listing", "search", "--market", "city-flea", "--filter",
                  "trusted_seller=true"})
             .out;
  EXPECT_TRUE(InSearch(other));  // without the facet both show
  EXPECT_EQ(Json("", {"listing", "get", trusted}).value("seller_badge", ""), "诚信商户");
  EXPECT_EQ(Json("", {"listing", "get", other}).value("seller_badge", ""), "");
  bool badge_in_search = false;
  for (const auto& l : Json("", {"listing", "search", "--market", "city-flea", "--all"})) {
    if (l.value("name", "") == trusted) badge_in_search = l.value("seller_badge", "") == "诚信商户";
  }
  EXPECT_TRUE(badge_in_search);
}

}  // namespace

INSTANTIATE_JOURNEY(RestrictionJourneyTest);

}  // namespace market::testing
