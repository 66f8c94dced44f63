// The flea-market organizer's journey (issue 7): the bootstrap supervisor
// creates the operator; the operator creates a market, onboards two sellers
// and imports 200 listings from CSV; a buyer searches in Chinese, orders and
// takes delivery; the completed trade lands in both parties' credit records
// and the ledger still verifies. Everything through the marketctl binary.
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "tests/e2e/journey_fixture.h"

namespace market::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs once against marketd and once against the five single-service
// processes of deploy/multiprocess.sh.
class OrganizerJourneyTest : public JourneyTest {
 protected:
};

std::string Csv() {
  std::string csv =
      "seller,category,title,description,price.amount_fen,declared_condition.level,"
      "appliance.brand,appliance.model,appliance.serial_number,disclosed_defects\n";
  for (int i = 1; i <= 200; ++i) {
    const char* seller = i % 2 ? "subjects/seller-li" : "subjects/seller-wang";
    std::string title = i % 50 == 0 ? absl::StrCat("海尔双门冰箱 ", i) : absl::StrCat("美的电饭煲 ", i);
    absl::StrAppend(&csv, seller, ",APPLIANCE,", title, ",\"九成新, 功能正常\",", 10000 + i * 100,
                    ",9成新,", i % 50 == 0 ? "Haier" : "Midea", ",M-", i, ",SN-", i, ",",
                    i % 50 == 0 ? "门封条轻微老化" : "", "\n");
  }
  return csv;
}

TEST_P(OrganizerJourneyTest, ImportSearchOrderDeliverCompleteAndCredit) {
  CreateAndLogin("east-op", {"--kind", "organization", "--role", "OPERATOR", "--display-name",
                             "东城跳蚤市场管理处", "--credit-code", "91350100M000100Y43"});
  CreateAndLogin("seller-li", {"--role", "SELLER", "--display-name", "李四", "--id-number",
                               "11010519491231002X"});
  CreateAndLogin("seller-wang", {"--role", "SELLER", "--display-name", "王五", "--id-number",
                                 "440524188001010014"});
  CreateAndLogin("buyer-zhao", {"--role", "BUYER", "--display-name", "赵六"});

  ASSERT_EQ(Ctl("east-op", {"market", "create", "--id", "east-flea", "--display-name",
                            "东城社区跳蚤市场", "--region", "350102", "--address",
                            "鼓楼区东街 1 号"})
                .exit_code,
            0);
  ASSERT_EQ(Ctl("east-op", {"market", "add-seller", "east-flea", "seller-li"}).exit_code, 0);
  ASSERT_EQ(Ctl("east-op", {"market", "add-seller", "east-flea", "seller-wang"}).exit_code, 0);

  std::string csv = WriteFile("listings.csv", Csv());
  RunResult import = Ctl("east-op", {"--output", "json", "listing", "import", csv, "--market",
                                     "east-flea", "--publish"});
  ASSERT_EQ(import.exit_code, 0) << import.err;
  EXPECT_EQ(import.err, "");  // stderr is no terminal: no progress bar, no per-batch lines
  nlohmann::json imported = nlohmann::json::parse(import.out, nullptr, false);
  EXPECT_EQ(imported.value("created_count", 0), 200);

  // The buyer, without knowing any id, searches in Chinese.
  nlohmann::json found = Json("buyer-zhao", {"listing", "search", "--query", "冰箱"});
  ASSERT_EQ(found.size(), 4u) << found.dump();
  std::string listing = found[0]["name"];
  EXPECT_THAT(std::string(found[0]["title"]), HasSubstr("冰箱"));
  // Prices typed in yuan are sent in fen; the table shows yuan.
  RunResult priced = Ctl("buyer-zhao", {"listing", "search", "--query", "冰箱", "--filter",
                                        "price>=200元 AND price<250.00元"});
  ASSERT_EQ(priced.exit_code, 0) << priced.err;
  EXPECT_THAT(priced.out, HasSubstr("200.00元"));
  EXPECT_THAT(priced.out, Not(HasSubstr("150.00元")));
  EXPECT_THAT(priced.out, Not(HasSubstr("250.00元")));
  RunResult bad_price = Ctl("buyer-zhao", {"listing", "search", "--filter", "price>=1.234元"});
  EXPECT_EQ(bad_price.exit_code, 64);
  EXPECT_THAT(bad_price.err, HasSubstr("--filter: \"price>=1.234元\": more than two decimals"));

  // Disclosed defects must be acknowledged.
  RunResult refused = Ctl("buyer-zhao", {"order", "place", listing});
  EXPECT_EQ(refused.exit_code, 9) << refused.err;  // FAILED_PRECONDITION
  EXPECT_THAT(refused.err, HasSubstr("DEFECTS_NOT_ACKNOWLEDGED"));
  nlohmann::json order = Json("buyer-zhao", {"order", "place", listing, "--ack-defects"});
  std::string order_name = order["name"];
  ASSERT_FALSE(order_name.empty());
  nlohmann::json reserved = Json("", {"listing", "get", listing});
  EXPECT_EQ(reserved["state"], "RESERVED");
  EXPECT_EQ(Json("buyer-zhao", {"order", "deliver", order_name})["state"], "DELIVERED");
  EXPECT_EQ(Json("buyer-zhao", {"order", "complete", order_name})["state"], "COMPLETED");
  EXPECT_EQ(Json("", {"listing", "get", listing})["state"], "SOLD");

  // The trade reaches the ledger through the outbox relay, for both parties.
  std::string seller = Json("", {"listing", "get", listing})["seller"];
  std::string seller_id = seller.substr(std::string("subjects/").size());
  for (const std::string& who : {std::string("buyer-zhao"), seller_id}) {
    EXPECT_TRUE(Eventually([&] {
      RunResult r = Ctl(who, {"--output", "json", "credit", "records"});
      return r.exit_code == 0 && absl::StrContains(r.out, "TRADE_COMPLETED") &&
             absl::StrContains(r.out, "\"reference\": \"" + order_name + "\"");
    })) << who << ": " << Ctl(who, {"credit", "records"}).out;
  }
  // The operator reads the records of a seller admitted to its market, with
  // a purpose that is logged; a seller of no market of its own stays closed.
  RunResult op_read = Ctl("east-op", {"--output", "json", "credit", "records", "--subject",
                                      seller_id, "--purpose", "市场季度检查"});
  EXPECT_EQ(op_read.exit_code, 0) << op_read.err;
  EXPECT_THAT(op_read.out, HasSubstr("TRADE_COMPLETED"));
  EXPECT_EQ(Ctl("east-op", {"credit", "records", "--subject", "buyer-zhao", "--purpose", "x"})
                .exit_code,
            7);  // PERMISSION_DENIED
  RunResult verify = Ctl("", {"ledger", "verify", "--state", dir_ + "/ledger-state.json",
                                  "--http-server", http_server_});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(verify.err, "");  // no progress bar off a terminal

  // The trade reaches the statistics ledger through the same relay (in the
  // split deployment: market-listing's outbox to market-stats); the operator
  // sees one completed order at its price in its market today (China time).
  const std::string today =
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 3600));
  const nlohmann::json price = Json("", {"listing", "get", listing})["price"]["amount_fen"];
  nlohmann::json row;
  EXPECT_TRUE(Eventually([&] {
    RunResult r = Ctl("east-op", {"--output", "json", "stats", "trade", "--period", "day",
                                  "--from", today});
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    if (r.exit_code != 0 || !j.is_object() || !j.contains("rows") || j["rows"].empty()) {
      return false;
    }
    row = j["rows"][0];
    return row.value("orders_completed", nlohmann::json()).dump() == "\"1\"";
  })) << Ctl("east-op", {"--output", "json", "stats", "trade", "--period", "day", "--from", today})
             .out;
  EXPECT_EQ(row.value("gross_fen", nlohmann::json()), price) << row.dump();

  // The item history shows listing and order; the public sees no parties.
  std::string item = Json("", {"listing", "get", listing})["item"];
  nlohmann::json history = Json("", {"item", "history", item});
  EXPECT_EQ(history.value("reduced_view", false), true);
  EXPECT_EQ(history["events"].size(), 2u);
}

INSTANTIATE_JOURNEY(OrganizerJourneyTest);

}  // namespace
}  // namespace market::testing
